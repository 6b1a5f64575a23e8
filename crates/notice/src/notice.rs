//! Builds the privacy notice as one [`Document`] from the policy.
//!
//! The sections follow the seed notice: general, controller, which data and why, legal basis and
//! retention, recipients, security, cookies, rights, direct marketing, contact details.

use std::collections::HashSet;

use integritet_domain::policy::{
    CookieConsent, Lang, LegalBasis, MarketingChannel, Policy, PolicyVersion, PostalAddress,
    Purpose, Recipient, Retention, Storage,
};

use crate::doc::{Block, Document, Inline, Section, Table, clean, is_safe_href};
use crate::texts::{Texts, country_name};
use crate::words::{
    fill, fill_str, join_and, join_or, lower_first, months, purposes_phrase, quoted, upper_first,
    without_final_period,
};

/// Builds the notice in one language.
pub(crate) fn build(policy: &Policy, version: &PolicyVersion, lang: Lang) -> Document {
    let b = Builder {
        policy,
        lang,
        t: Texts::for_lang(lang),
    };
    let mut ids = Ids::default();
    let sections = vec![
        b.general(),
        b.controller(),
        b.data(),
        b.legal_basis(&mut ids),
        b.recipients(&mut ids),
        b.security(),
        b.cookies(&mut ids),
        b.rights(),
        b.direct_marketing(),
        b.contact(),
    ];
    Document {
        lang,
        title: fill_str(
            b.t.title,
            &[("controller", &clean(&policy.controller.name))],
        ),
        toc_heading: b.t.toc_heading.to_owned(),
        sections,
        footer: vec![Block::Paragraph(fill(
            b.t.footer_version,
            &[("version", vec![Inline::Code(version.as_str().to_owned())])],
        ))],
    }
}

struct Builder<'a> {
    policy: &'a Policy,
    lang: Lang,
    t: &'static Texts,
}

/// Hands out unique, ASCII anchor ids for subsections made from policy keys.
#[derive(Default)]
struct Ids {
    used: HashSet<String>,
}

impl Ids {
    fn make(&mut self, prefix: &str, key: &str) -> String {
        let slug: String = key
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .collect();
        let base = format!("{prefix}-{}", slug.trim_matches('-'));
        let mut id = base.clone();
        let mut n = 2;
        while !self.used.insert(id.clone()) {
            id = format!("{base}-{n}");
            n += 1;
        }
        id
    }
}

pub(crate) fn text(s: impl Into<String>) -> Vec<Inline> {
    vec![Inline::text(s)]
}

pub(crate) fn para(inlines: Vec<Inline>) -> Block {
    Block::Paragraph(inlines)
}

pub(crate) fn para_text(s: impl Into<String>) -> Block {
    Block::Paragraph(text(s))
}

/// Joins sentences (already complete) into one paragraph.
fn sentences(parts: Vec<Vec<Inline>>) -> Block {
    let mut out: Vec<Inline> = Vec::new();
    for (i, part) in parts.into_iter().filter(|p| !p.is_empty()).enumerate() {
        if i > 0 {
            out.push(Inline::text(" "));
        }
        out.extend(part);
    }
    Block::Paragraph(merge_text(out))
}

fn merge_text(inlines: Vec<Inline>) -> Vec<Inline> {
    let mut out: Vec<Inline> = Vec::new();
    for inline in inlines {
        match (out.last_mut(), inline) {
            (Some(Inline::Text(last)), Inline::Text(t)) => last.push_str(&t),
            (_, other) => out.push(other),
        }
    }
    out
}

pub(crate) fn section(id: &str, heading: &str, blocks: Vec<Block>) -> Section {
    Section {
        id: id.to_owned(),
        heading: heading.to_owned(),
        blocks,
        subsections: Vec::new(),
    }
}

/// A link to a web address from the policy, or plain text when it is not an http(s) address.
fn web_link(url: &str) -> Vec<Inline> {
    let url = clean(url);
    if is_safe_href(&url) {
        vec![Inline::Link {
            text: url.clone(),
            href: url,
        }]
    } else {
        text(url)
    }
}

fn mail_link(email: &str) -> Vec<Inline> {
    let email = clean(email);
    vec![Inline::Link {
        text: email.clone(),
        href: format!("mailto:{email}"),
    }]
}

impl Builder<'_> {
    fn controller_name(&self) -> String {
        clean(&self.policy.controller.name)
    }

    fn category_label(&self, id: &str) -> String {
        self.policy
            .categories
            .get(id)
            .map_or_else(|| id.to_owned(), |c| clean(c.label.get(self.lang)))
    }

    fn purpose_label(&self, id: &str) -> String {
        self.policy
            .purposes
            .get(id)
            .map_or_else(|| id.to_owned(), |p| clean(p.label.get(self.lang)))
    }

    fn subject_label(&self, id: &str) -> String {
        self.policy
            .data_subjects
            .get(id)
            .map_or_else(|| id.to_owned(), |s| clean(s.label.get(self.lang)))
    }

    fn activity_label(&self, id: &str) -> String {
        self.policy
            .activities
            .get(id)
            .map_or_else(|| id.to_owned(), |a| clean(a.label.get(self.lang)))
    }

    /// Category labels as they read mid-sentence.
    fn category_list(&self, ids: &[String]) -> String {
        let labels: Vec<String> = ids
            .iter()
            .map(|id| lower_first(&self.category_label(id)))
            .collect();
        join_and(self.t, &labels)
    }

    fn purposes_phrase(&self, ids: &[&String]) -> String {
        let labels: Vec<String> = ids.iter().map(|id| self.purpose_label(id)).collect();
        purposes_phrase(self.t, &labels)
    }

    /// A law's name as it reads mid-sentence in this language.
    fn law_name(&self, law: &str) -> String {
        let law = clean(law);
        if self.t.lowercase_law_names {
            lower_first(&law)
        } else {
            law
        }
    }

    fn address_line(&self, address: &PostalAddress, name: Option<&str>) -> String {
        let mut parts: Vec<String> = Vec::new();
        if let Some(name) = name {
            parts.push(clean(name));
        }
        parts.push(clean(&address.street));
        parts.push(format!(
            "{} {}",
            clean(&address.postal_code),
            clean(&address.city)
        ));
        let country = address.country.trim();
        // A Swedish reader needs no "Sverige" on a Swedish address; anyone else does.
        let home = self.lang == Lang::Sv && country.eq_ignore_ascii_case("SE");
        if !home && !country.is_empty() {
            parts.push(country_name(self.lang, country));
        }
        parts.join(", ")
    }

    // --- Sections --------------------------------------------------------------------------

    fn general(&self) -> Section {
        let t = self.t;
        let groups: Vec<Vec<Inline>> = self
            .policy
            .data_subjects
            .values()
            .map(|g| text(clean(g.label.get(self.lang))))
            .collect();
        let mut blocks = vec![para(fill(
            t.general_intro,
            &[("controller", text(self.controller_name()))],
        ))];
        if !groups.is_empty() {
            blocks.push(Block::List(groups));
        }
        blocks.push(para_text(t.general_matters));
        blocks.push(para_text(t.general_ask));
        section("general", t.general_heading, blocks)
    }

    fn controller(&self) -> Section {
        let t = self.t;
        let c = &self.policy.controller;
        let mut blocks = vec![para(fill(
            t.controller_text,
            &[
                ("controller", text(self.controller_name())),
                ("org_number", text(clean(&c.org_number))),
            ],
        ))];
        if let Some(dpo) = &c.dpo {
            blocks.push(para(fill(
                t.controller_dpo,
                &[
                    ("dpo", text(clean(&dpo.name))),
                    ("email", mail_link(&dpo.email)),
                ],
            )));
        }
        section("controller", t.controller_heading, blocks)
    }

    fn data(&self) -> Section {
        let t = self.t;
        let categories: Vec<Vec<Inline>> = self
            .policy
            .categories
            .values()
            .map(|c| {
                let mut label = clean(c.label.get(self.lang));
                if c.special {
                    label.push_str(t.special_category_marker);
                }
                text(label)
            })
            .collect();
        let purposes: Vec<Vec<Inline>> = self
            .policy
            .purposes
            .values()
            .map(|p| {
                let label = clean(p.label.get(self.lang));
                let label = if label.ends_with(['.', '?', '!']) {
                    label
                } else {
                    format!("{label}.")
                };
                vec![
                    Inline::Strong(label),
                    Inline::text(format!(" {}", clean(p.description.get(self.lang)))),
                ]
            })
            .collect();
        let mut blocks = vec![para_text(t.data_categories_intro)];
        blocks.push(Block::List(categories));
        blocks.push(para_text(t.data_purposes_intro));
        blocks.push(Block::List(purposes));
        blocks.push(para_text(t.data_purposes_outro));
        section("data", t.data_heading, blocks)
    }

    fn legal_basis(&self, ids: &mut Ids) -> Section {
        let t = self.t;
        let rows = self
            .policy
            .purposes
            .values()
            .map(|p| {
                let basis = match p.legal_basis {
                    Some(basis) => format!(
                        "{} ({})",
                        t.basis_name(basis),
                        fill_str(t.article_short, &[("letter", &basis_letter(basis))])
                    ),
                    None => "–".to_owned(),
                };
                vec![
                    text(clean(p.label.get(self.lang))),
                    text(basis),
                    text(upper_first(&self.retention_phrase(p))),
                ]
            })
            .collect();
        let mut blocks = vec![
            para_text(t.basis_intro),
            Block::Table(Table {
                caption: t.basis_table_caption.to_owned(),
                columns: vec![
                    t.basis_table_purpose.to_owned(),
                    t.basis_table_basis.to_owned(),
                    t.basis_table_retention.to_owned(),
                ],
                rows,
            }),
        ];
        if self.no_sensitive_data_or_profiling_under_legitimate_interest() {
            blocks.push(para_text(t.basis_no_sensitive_no_profiling));
        }
        let mut s = section("legal-basis", t.basis_heading, blocks);
        s.subsections = self
            .policy
            .purposes
            .iter()
            .map(|(key, p)| Section {
                id: ids.make("purpose", key),
                heading: clean(p.label.get(self.lang)),
                blocks: self.purpose_blocks(p),
                subsections: Vec::new(),
            })
            .collect();
        s
    }

    /// True when some purpose rests on legitimate interest and none of them uses special
    /// categories or profiles (the seed's promise, stated only when the policy keeps it).
    fn no_sensitive_data_or_profiling_under_legitimate_interest(&self) -> bool {
        let mut li = self
            .policy
            .purposes
            .values()
            .filter(|p| p.legal_basis == Some(LegalBasis::LegitimateInterest))
            .peekable();
        li.peek().is_some()
            && li.all(|p| {
                !p.profiling
                    && !p.personalised_offers
                    && p.categories.iter().all(|c| {
                        self.policy
                            .categories
                            .get(c)
                            .is_none_or(|category| !category.special)
                    })
            })
    }

    fn purpose_blocks(&self, p: &Purpose) -> Vec<Block> {
        let t = self.t;
        let mut blocks = Vec::new();
        if !p.data_subjects.is_empty() {
            let subjects: Vec<String> = p
                .data_subjects
                .iter()
                .map(|s| lower_first(&self.subject_label(s)))
                .collect();
            blocks.push(para(fill(
                t.basis_subjects,
                &[("subjects", text(join_and(t, &subjects)))],
            )));
        }
        if !p.categories.is_empty() {
            blocks.push(para_text(t.basis_categories_intro));
            blocks.push(Block::List(
                p.categories
                    .iter()
                    .map(|c| text(self.category_label(c)))
                    .collect(),
            ));
        }
        blocks.extend(self.basis_blocks(p));

        let mut extra: Vec<Vec<Inline>> = Vec::new();
        if !p.marketing_channels.is_empty() {
            let channels: Vec<String> = p
                .marketing_channels
                .iter()
                .map(|c| t.channel(*c).to_owned())
                .collect();
            extra.push(fill(
                t.marketing_channels,
                &[("channels", text(join_and(t, &channels)))],
            ));
        }
        if p.personalised_offers {
            extra.push(text(t.personalised_offers));
        }
        if p.profiling {
            extra.push(text(t.profiling));
        }
        if !extra.is_empty() {
            blocks.push(sentences(extra));
        }

        let mut retention = vec![fill(
            t.retention_sentence,
            &[("retention", text(self.retention_phrase(p)))],
        )];
        if p.storage == Storage::Archive {
            retention.push(text(t.storage_archive));
        }
        blocks.push(sentences(retention));
        blocks
    }

    fn basis_blocks(&self, p: &Purpose) -> Vec<Block> {
        let t = self.t;
        let Some(basis) = p.legal_basis else {
            return vec![para_text(t.basis_missing)];
        };
        let article = text(fill_str(t.article, &[("letter", &basis_letter(basis))]));
        let with_article = |template: &str| fill(template, &[("article", article.clone())]);
        let mut blocks = Vec::new();
        match basis {
            LegalBasis::Contract => blocks.push(para(with_article(t.basis_contract))),
            LegalBasis::Consent => blocks.push(para(with_article(t.basis_consent))),
            LegalBasis::VitalInterests => blocks.push(para(with_article(t.basis_vital_interests))),
            LegalBasis::PublicTask => {
                blocks.push(para(with_article(t.basis_public_task)));
                blocks.push(para_text(t.objection_general));
            }
            LegalBasis::LegalObligation => {
                let sentence = match &p.law {
                    Some(law) => fill(
                        t.basis_legal_obligation_with_law,
                        &[
                            ("article", article.clone()),
                            ("law", text(self.law_name(law))),
                        ],
                    ),
                    None => with_article(t.basis_legal_obligation_without_law),
                };
                blocks.push(para(sentence));
            }
            LegalBasis::LegitimateInterest => {
                let mut parts = vec![with_article(t.basis_legitimate_interest)];
                if let Some(interest) = &p.legitimate_interest {
                    parts.push(self.interest_sentence(&clean(interest.get(self.lang))));
                }
                blocks.push(sentences(parts));
                let is_marketing =
                    !p.marketing_channels.is_empty() || p.dpv.trim() == "dpv:DirectMarketing";
                blocks.push(para_text(if is_marketing {
                    t.objection_marketing
                } else {
                    t.objection_general
                }));
            }
        }
        if basis != LegalBasis::LegalObligation
            && let Some(law) = &p.law
        {
            blocks.push(para(fill(
                t.basis_other_law,
                &[("law", text(self.law_name(law)))],
            )));
        }
        blocks
    }

    /// "Vi har ett berättigat intresse av att …" when the interest reads as a verb phrase,
    /// otherwise the interest quoted as the policy words it.
    fn interest_sentence(&self, interest: &str) -> Vec<Inline> {
        let lower = lower_first(interest);
        let flows = match self.lang {
            Lang::Sv => lower.starts_with("att "),
            Lang::En => lower
                .split_whitespace()
                .next()
                .is_some_and(|w| w.len() > 4 && w.ends_with("ing")),
        };
        if flows {
            fill(
                self.t.legitimate_interest_flowing,
                &[("interest", text(without_final_period(&lower)))],
            )
        } else {
            fill(
                self.t.legitimate_interest_quoted,
                &[("interest", text(interest))],
            )
        }
    }

    /// How long a purpose keeps its data, as a phrase that fits after "Lagringstid:".
    fn retention_phrase(&self, p: &Purpose) -> String {
        let t = self.t;
        match &p.retention {
            None => t.retention_missing.to_owned(),
            Some(Retention::AfterLastActivity {
                months: n,
                activities,
            }) => {
                let m = months(t, *n);
                if activities.is_empty() {
                    fill_str(t.retention_after_last_activity, &[("months", &m)])
                } else {
                    let labels: Vec<String> =
                        activities.iter().map(|a| self.activity_label(a)).collect();
                    fill_str(
                        t.retention_after_last_activity_examples,
                        &[("months", &m), ("activities", &join_or(t, &labels))],
                    )
                }
            }
            Some(Retention::FixedPeriod { months: n }) => {
                fill_str(t.retention_fixed_period, &[("months", &months(t, *n))])
            }
            Some(Retention::Bokforingslagen) => t.retention_bokforingslagen.to_owned(),
            Some(Retention::UntilConsentWithdrawn) => {
                t.retention_until_consent_withdrawn.to_owned()
            }
            Some(Retention::AsRequiredBy { law, months: n }) => {
                match (law.as_deref().map(|l| self.law_name(l)), n) {
                    (Some(law), Some(n)) => fill_str(
                        t.retention_law_and_months,
                        &[("months", &months(t, *n)), ("law", &law)],
                    ),
                    (Some(law), None) => fill_str(t.retention_law_only, &[("law", &law)]),
                    (None, Some(n)) => {
                        fill_str(t.retention_months_only, &[("months", &months(t, *n))])
                    }
                    (None, None) => t.retention_as_law_requires.to_owned(),
                }
            }
        }
    }

    fn recipients(&self, ids: &mut Ids) -> Section {
        let t = self.t;
        let recipients = &self.policy.recipients;
        let blocks = vec![sentences(vec![
            text(t.recipients_never_sold),
            text(if recipients.is_empty() {
                t.recipients_none
            } else {
                t.recipients_intro
            }),
        ])];
        let mut s = section("recipients", t.recipients_heading, blocks);
        s.subsections = recipients
            .iter()
            .map(|(key, r)| Section {
                id: ids.make("recipient", key),
                heading: clean(r.label.get(self.lang)),
                blocks: self.recipient_blocks(r),
                subsections: Vec::new(),
            })
            .collect();
        s
    }

    fn recipient_blocks(&self, r: &Recipient) -> Vec<Block> {
        let t = self.t;
        let mut blocks = Vec::new();
        let mut who = vec![text(t.recipient_kind(r.kind))];
        if let Some(description) = &r.description {
            who.push(text(clean(description.get(self.lang))));
        }
        blocks.push(sentences(who));

        let mut what = Vec::new();
        if let Some(condition) = &r.condition {
            what.push(fill(
                t.recipient_condition,
                &[(
                    "condition",
                    text(without_final_period(&clean(condition.get(self.lang)))),
                )],
            ));
        }
        if !r.categories.is_empty() {
            what.push(fill(
                t.recipient_categories,
                &[("categories", text(self.category_list(&r.categories)))],
            ));
        }
        if !r.purposes.is_empty() {
            let purposes: Vec<&String> = r.purposes.iter().collect();
            what.push(fill(
                t.recipient_purposes,
                &[("purposes", text(self.purposes_phrase(&purposes)))],
            ));
        }
        if !what.is_empty() {
            blocks.push(sentences(what));
        }

        if r.third_countries.is_empty() {
            blocks.push(para_text(t.recipient_within_eea));
        } else {
            let countries: Vec<String> = r
                .third_countries
                .iter()
                .map(|c| country_name(self.lang, c))
                .collect();
            blocks.push(sentences(vec![
                fill(
                    t.recipient_third_countries,
                    &[("countries", text(join_and(t, &countries)))],
                ),
                text(t.recipient_safeguards),
            ]));
        }
        blocks
    }

    fn security(&self) -> Section {
        let t = self.t;
        let mut blocks = vec![para_text(t.security_intro)];
        let measures: Vec<Vec<Inline>> = self
            .policy
            .security
            .measures
            .iter()
            .map(|m| text(clean(m.get(self.lang))))
            .collect();
        if !measures.is_empty() {
            blocks.push(Block::List(measures));
        }
        section("security", t.security_heading, blocks)
    }

    fn cookies(&self, ids: &mut Ids) -> Section {
        let t = self.t;
        let cookies = &self.policy.cookies;
        let mut blocks = vec![
            para(fill(
                t.cookies_intro,
                &[("website", web_link(&self.policy.controller.website))],
            )),
            para_text(t.cookies_what_is),
        ];
        let mut consent = vec![
            text(t.cookies_law),
            text(match cookies.consent {
                CookieConsent::OptIn => t.cookies_opt_in,
                CookieConsent::ImpliedByUse => t.cookies_implied_by_use,
            }),
        ];
        if cookies.honour_gpc {
            consent.push(text(t.cookies_gpc));
        }
        if let Some(n) = cookies.consent_valid_months {
            consent.push(fill(
                t.cookies_valid_months,
                &[("months", text(months(t, n)))],
            ));
        }
        blocks.push(sentences(consent));
        if !cookies.categories.is_empty() {
            blocks.push(para_text(t.cookies_categories_intro));
        }
        let mut s = section("cookies", t.cookies_heading, blocks);
        s.subsections = cookies
            .categories
            .iter()
            .map(|(key, c)| {
                let label = clean(c.label.get(self.lang));
                let mut blocks = vec![para_text(clean(c.description.get(self.lang)))];
                if c.cookies.is_empty() {
                    blocks.push(para_text(t.cookies_category_empty));
                } else {
                    blocks.push(Block::Table(Table {
                        caption: fill_str(
                            t.cookies_table_caption,
                            &[("category", &quoted(t, &label))],
                        ),
                        columns: vec![
                            t.cookies_table_name.to_owned(),
                            t.cookies_table_provider.to_owned(),
                            t.cookies_table_duration.to_owned(),
                        ],
                        rows: c
                            .cookies
                            .iter()
                            .map(|cookie| {
                                vec![
                                    vec![Inline::Code(clean(&cookie.name))],
                                    text(clean(&cookie.provider)),
                                    text(upper_first(&clean(cookie.duration.get(self.lang)))),
                                ]
                            })
                            .collect(),
                    }));
                }
                Section {
                    id: ids.make("cookies", key),
                    heading: label,
                    blocks,
                    subsections: Vec::new(),
                }
            })
            .collect();
        s
    }

    fn purposes_where(&self, keep: impl Fn(LegalBasis) -> bool) -> Vec<&String> {
        self.policy
            .purposes
            .iter()
            .filter(|(_, p)| p.legal_basis.is_some_and(&keep))
            .map(|(id, _)| id)
            .collect()
    }

    fn rights(&self) -> Section {
        let t = self.t;
        let policy = self.policy;
        let right = |name: &str, parts: Vec<Vec<Inline>>| -> Vec<Inline> {
            let mut item = vec![Inline::Strong(format!("{name}.")), Inline::text(" ")];
            if let Block::Paragraph(inlines) = sentences(parts) {
                item.extend(inlines);
            }
            merge_text(item)
        };
        let applies = |template: &str, ids: &[&String]| -> Vec<Inline> {
            fill(template, &[("purposes", text(self.purposes_phrase(ids)))])
        };

        let mut items = vec![
            right(t.right_access_name, vec![text(t.right_access)]),
            right(
                t.right_rectification_name,
                vec![text(t.right_rectification)],
            ),
        ];

        let mut erasure = vec![text(t.right_erasure)];
        let kept_by_law = self.purposes_where(|b| !b.allows_erasure());
        if !kept_by_law.is_empty() {
            erasure.push(applies(t.right_erasure_not_for, &kept_by_law));
        }
        items.push(right(t.right_erasure_name, erasure));
        items.push(right(
            t.right_restriction_name,
            vec![text(t.right_restriction)],
        ));

        let objectable = self.purposes_where(LegalBasis::allows_objection);
        let mut objection = vec![text(t.right_objection)];
        objection.push(if objectable.is_empty() {
            text(t.right_objection_none)
        } else {
            applies(t.right_objection_applies, &objectable)
        });
        items.push(right(t.right_objection_name, objection));

        let portable = self.purposes_where(LegalBasis::allows_portability);
        let mut portability = vec![text(t.right_portability)];
        portability.push(if portable.is_empty() {
            text(t.right_portability_none)
        } else {
            applies(t.right_portability_applies, &portable)
        });
        items.push(right(t.right_portability_name, portability));

        let consented = self.purposes_where(|b| b == LegalBasis::Consent);
        let cookie_consent = policy.cookies.consent == CookieConsent::OptIn
            && policy
                .cookies
                .categories
                .values()
                .any(|c| !c.strictly_necessary);
        if !consented.is_empty() || cookie_consent {
            let mut withdraw = vec![text(t.right_withdraw)];
            if !consented.is_empty() {
                withdraw.push(applies(t.right_withdraw_applies, &consented));
            }
            if cookie_consent {
                withdraw.push(text(t.right_withdraw_cookies));
            }
            items.push(right(t.right_withdraw_name, withdraw));
        }

        let mut intro = vec![text(t.rights_intro)];
        if let Some(url) = &policy.requests.portal_url {
            intro.push(fill(t.rights_portal, &[("url", web_link(url))]));
        }

        let authority = &policy.controller.supervisory_authority;
        let mut authority_items = vec![fill(
            t.complaint_website,
            &[("website", web_link(&authority.website))],
        )];
        if let Some(email) = &authority.email {
            authority_items.push(fill(t.complaint_email, &[("email", mail_link(email))]));
        }
        if let Some(address) = &authority.postal_address {
            authority_items.push(fill(
                t.complaint_postal_address,
                &[("address", text(self.address_line(address, None)))],
            ));
        }

        let blocks = vec![
            sentences(intro),
            Block::List(items),
            para_text(t.rights_deadline),
            para(fill(
                t.rights_read_more,
                &[(
                    "link",
                    vec![Inline::Link {
                        text: t.rights_gdpr_link_text.to_owned(),
                        href: t.rights_gdpr_url.to_owned(),
                    }],
                )],
            )),
            sentences(vec![
                text(t.complaint_contact_us),
                fill(
                    t.complaint_authority,
                    &[("authority", text(clean(&authority.name)))],
                ),
            ]),
            Block::List(authority_items),
        ];
        section("rights", t.rights_heading, blocks)
    }

    fn direct_marketing(&self) -> Section {
        let t = self.t;
        let mut channels: Vec<MarketingChannel> = Vec::new();
        for p in self.policy.purposes.values() {
            for c in &p.marketing_channels {
                if !channels.contains(c) {
                    channels.push(*c);
                }
            }
        }
        if channels.is_empty() {
            return section(
                "direct-marketing",
                t.marketing_heading,
                vec![para_text(t.marketing_none)],
            );
        }
        let words: Vec<String> = channels.iter().map(|c| t.channel(*c).to_owned()).collect();
        let opt_out = &self.policy.requests.marketing_opt_out;
        let mut how = vec![fill(
            t.marketing_opt_out,
            &[("email", mail_link(&opt_out.email))],
        )];
        if !opt_out.required_details.is_empty() {
            let template = if opt_out.required_details.len() == 1 {
                t.marketing_details_one
            } else {
                t.marketing_details_many
            };
            how.push(fill(
                template,
                &[(
                    "details",
                    text(self.category_list(&opt_out.required_details)),
                )],
            ));
        }
        if opt_out.link_in_every_message {
            how.push(text(t.marketing_link));
        }
        let blocks = vec![
            para(fill(
                t.marketing_intro,
                &[("channels", text(join_and(t, &words)))],
            )),
            sentences(how),
            para_text(t.marketing_suppression),
        ];
        section("direct-marketing", t.marketing_heading, blocks)
    }

    fn contact(&self) -> Section {
        let t = self.t;
        let c = &self.policy.controller;
        let requests = &self.policy.requests;
        let mut items = vec![fill(t.contact_email, &[("email", mail_link(&c.email))])];
        if clean(&requests.email) != clean(&c.email) {
            items.push(fill(
                t.contact_requests_email,
                &[("email", mail_link(&requests.email))],
            ));
        }
        if let Some(phone) = &c.phone {
            items.push(fill(t.contact_phone, &[("phone", text(clean(phone)))]));
        }
        items.push(fill(
            t.contact_postal_address,
            &[(
                "address",
                text(self.address_line(&c.postal_address, Some(&c.name))),
            )],
        ));
        items.push(fill(
            t.contact_website,
            &[("website", web_link(&c.website))],
        ));
        if let Some(url) = &requests.portal_url {
            items.push(fill(t.contact_portal, &[("url", web_link(url))]));
        }
        if let Some(dpo) = &c.dpo {
            let mut dpo_inlines = text(format!("{}, ", clean(&dpo.name)));
            dpo_inlines.extend(mail_link(&dpo.email));
            if let Some(phone) = &dpo.phone {
                dpo_inlines.push(Inline::text(format!(", {}", clean(phone))));
            }
            items.push(fill(t.contact_dpo, &[("dpo", dpo_inlines)]));
        }

        let mut blocks = vec![
            para(fill(
                t.contact_intro,
                &[
                    ("controller", text(self.controller_name())),
                    ("org_number", text(clean(&c.org_number))),
                ],
            )),
            Block::List(items),
        ];
        let mut how = Vec::new();
        if requests.postal {
            how.push(text(t.contact_postal_requests));
        }
        how.push(text(clean(requests.identity_verification.get(self.lang))));
        how.push(text(clean(requests.response_channel.get(self.lang))));
        blocks.push(sentences(how));
        section("contact", t.contact_heading, blocks)
    }
}

fn basis_letter(basis: LegalBasis) -> String {
    crate::texts::basis_letter(basis).to_string()
}

/// The notice's sections on the person's rights (with the complaint to the supervisory
/// authority) and on how to reach the controller: the access report ends with the same words.
pub(crate) fn rights_and_contact(policy: &Policy, lang: Lang) -> Vec<Section> {
    let b = Builder {
        policy,
        lang,
        t: Texts::for_lang(lang),
    };
    vec![b.rights(), b.contact()]
}

/// How long a purpose keeps its data, as a phrase in one language (for the register).
pub(crate) fn retention_text(policy: &Policy, purpose: &Purpose, lang: Lang) -> String {
    Builder {
        policy,
        lang,
        t: Texts::for_lang(lang),
    }
    .retention_phrase(purpose)
}
