//! Builds the Art. 15 access report as one [`Document`], the structure the notice is built as,
//! so it renders to the same accessible, printable HTML (and Markdown), and ends with the
//! notice's own sections on rights, the complaint to the supervisory authority, and contact.

use integritet_domain::policy::{Lang, LegalBasis, Policy, PolicyVersion, Retention};
use integritet_domain::report::AccessReport;

use crate::doc::{Block, Document, Inline, Section, Table, clean};
use crate::notice::{para, para_text, rights_and_contact, section, text};
use crate::report_texts::ReportTexts;
use crate::texts::Texts;
use crate::words::{fill, fill_str, join_and};

pub(crate) fn build(
    policy: &Policy,
    version: &PolicyVersion,
    report: &AccessReport,
    lang: Lang,
) -> Document {
    let b = Builder {
        policy,
        lang,
        t: Texts::for_lang(lang),
        r: ReportTexts::for_lang(lang),
        report,
    };
    let mut sections = vec![
        b.about(),
        b.data(),
        b.why_and_how_long(),
        b.recipients(),
        b.say(),
    ];
    sections.extend(rights_and_contact(policy, lang));
    Document {
        lang,
        title: fill_str(
            b.r.title,
            &[("controller", &clean(&policy.controller.name))],
        ),
        toc_heading: b.r.toc_heading.to_owned(),
        sections,
        footer: vec![Block::Paragraph(fill(
            b.r.footer,
            &[("version", vec![Inline::Code(version.as_str().to_owned())])],
        ))],
    }
}

struct Builder<'a> {
    policy: &'a Policy,
    lang: Lang,
    t: &'static Texts,
    r: &'static ReportTexts,
    report: &'a AccessReport,
}

impl Builder<'_> {
    fn category(&self, id: &str) -> String {
        self.policy
            .categories
            .get(id)
            .map_or_else(|| id.to_owned(), |c| clean(c.label.get(self.lang)))
    }

    fn purpose(&self, id: &str) -> String {
        self.policy
            .purposes
            .get(id)
            .map_or_else(|| id.to_owned(), |p| clean(p.label.get(self.lang)))
    }

    fn purpose_list(&self, ids: &[String]) -> String {
        let labels: Vec<String> = ids.iter().map(|p| self.purpose(p)).collect();
        join_and(self.t, &labels)
    }

    fn about(&self) -> Section {
        let controller = clean(&self.policy.controller.name);
        let date = self.report.generated_at.date().to_string();
        section(
            "about",
            self.r.about_heading,
            vec![
                para(fill(
                    self.r.about,
                    &[("controller", text(controller)), ("date", text(date))],
                )),
                para(fill(
                    self.r.about_reference,
                    &[(
                        "subject",
                        vec![Inline::Code(self.report.subject.to_string())],
                    )],
                )),
                para_text(self.r.about_copy),
            ],
        )
    }

    fn data(&self) -> Section {
        let r = self.r;
        if self.report.values.is_empty() {
            return section("data", r.data_heading, vec![para_text(r.data_none)]);
        }
        let rows = self
            .report
            .values
            .iter()
            .map(|v| {
                vec![
                    text(self.category(&v.category)),
                    text(v.value.expose()),
                    text(r.source(v.provenance)),
                    text(v.collected_at.date().to_string()),
                    text(self.purpose_list(&v.purposes)),
                ]
            })
            .collect();
        section(
            "data",
            r.data_heading,
            vec![Block::Table(Table {
                caption: r.data_caption.to_owned(),
                columns: [
                    r.col_category,
                    r.col_value,
                    r.col_source,
                    r.col_collected,
                    r.col_purposes,
                ]
                .map(str::to_owned)
                .to_vec(),
                rows,
            })],
        )
    }

    fn purposes_table(&self) -> Block {
        let r = self.r;
        let rows = self
            .report
            .purposes
            .iter()
            .map(|held| {
                let purpose = self.policy.purposes.get(&held.purpose);
                let mut basis = purpose
                    .and_then(|p| p.legal_basis)
                    .map(|b| self.t.basis_name(b).to_owned())
                    .unwrap_or_default();
                if let Some(p) = purpose {
                    match (p.legal_basis, &p.law, &p.legitimate_interest) {
                        (Some(LegalBasis::LegalObligation), Some(law), _) => {
                            basis.push_str(&format!(
                                ", {}",
                                fill_str(r.law, &[("law", &clean(law))])
                            ));
                        }
                        (Some(LegalBasis::LegitimateInterest), _, Some(interest)) => {
                            basis.push_str(&format!(
                                ", {}",
                                fill_str(
                                    r.interest,
                                    &[("interest", &clean(interest.get(self.lang)))]
                                )
                            ));
                        }
                        _ => {}
                    }
                }
                let until = match (held.kept_until, purpose.and_then(|p| p.retention.as_ref())) {
                    (Some(day), _) => day.to_string(),
                    (None, Some(Retention::UntilConsentWithdrawn)) => {
                        r.until_consent_withdrawn.to_owned()
                    }
                    (None, _) => r.no_end_yet.to_owned(),
                };
                let categories: Vec<String> =
                    held.categories.iter().map(|c| self.category(c)).collect();
                vec![
                    text(self.purpose(&held.purpose)),
                    text(basis),
                    text(join_and(self.t, &categories)),
                    text(until),
                ]
            })
            .collect();
        Block::Table(Table {
            caption: r.purposes_caption.to_owned(),
            columns: [r.col_purpose, r.col_basis, r.col_data, r.col_kept_until]
                .map(str::to_owned)
                .to_vec(),
            rows,
        })
    }

    fn why_and_how_long(&self) -> Section {
        let mut blocks = Vec::new();
        if !self.report.purposes.is_empty() {
            blocks.push(self.purposes_table());
        }
        blocks.push(para_text(self.r.purposes_note));
        section("purposes", self.r.purposes_heading, blocks)
    }

    fn recipients(&self) -> Section {
        let r = self.r;
        let held: Vec<&String> = self.report.purposes.iter().map(|p| &p.purpose).collect();
        let recipients: Vec<Vec<Inline>> = self
            .policy
            .recipients
            .values()
            .filter(|rec| rec.purposes.iter().any(|p| held.contains(&p)))
            .map(|rec| {
                text(format!(
                    "{} ({})",
                    clean(rec.label.get(self.lang)),
                    self.t.recipient_kind(rec.kind)
                ))
            })
            .collect();
        let mut blocks = if recipients.is_empty() {
            vec![para_text(r.recipients_none)]
        } else {
            vec![para_text(r.recipients_intro), Block::List(recipients)]
        };
        if self.report.disclosures.is_empty() {
            blocks.push(para_text(r.disclosures_none));
        } else {
            let rows = self
                .report
                .disclosures
                .iter()
                .map(|d| {
                    let recipient = self.policy.recipients.get(&d.recipient).map_or_else(
                        || d.recipient.clone(),
                        |rec| clean(rec.label.get(self.lang)),
                    );
                    let categories: Vec<String> =
                        d.categories.iter().map(|c| self.category(c)).collect();
                    vec![
                        text(d.at.date().to_string()),
                        text(recipient),
                        text(
                            d.purpose
                                .as_deref()
                                .map(|p| self.purpose(p))
                                .unwrap_or_default(),
                        ),
                        text(join_and(self.t, &categories)),
                    ]
                })
                .collect();
            blocks.push(Block::Table(Table {
                caption: r.disclosures_caption.to_owned(),
                columns: [r.col_date, r.col_recipient, r.col_purpose, r.col_data]
                    .map(str::to_owned)
                    .to_vec(),
                rows,
            }));
        }
        section("recipients", r.recipients_heading, blocks)
    }

    fn say(&self) -> Section {
        let r = self.r;
        let mut blocks = Vec::new();
        if self.report.restricted {
            blocks.push(para_text(r.restricted));
        }
        if !self.report.objections.is_empty() {
            blocks.push(para(fill(
                r.objected,
                &[("purposes", text(self.purpose_list(&self.report.objections)))],
            )));
        }
        if blocks.is_empty() {
            blocks.push(para_text(r.said_nothing));
        }
        section("your-say", r.say_heading, blocks)
    }
}
