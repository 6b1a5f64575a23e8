//! The record of processing activities of GDPR Art. 30(1), one record per purpose, as CSV (for
//! a spreadsheet) and as JSON with W3C DPV terms (for other tools).

use integritet_domain::policy::{
    Lang, LegalBasis, Policy, PolicyVersion, PostalAddress, Purpose, Recipient, RecipientKind,
    Retention, Storage, Text,
};
use serde_json::{Value, json};

use crate::notice::retention_text;
use crate::texts::Texts;

/// Why the register could not be written.
#[derive(Debug, thiserror::Error)]
pub enum RopaError {
    #[error("could not write the register as CSV: {0}")]
    Csv(#[from] csv::Error),
    #[error("could not finish the CSV register: {0}")]
    Finish(String),
}

/// The CSV columns, in order.
const COLUMNS: [&str; 33] = [
    "Policy version",
    "Controller",
    "Organisation number",
    "Controller e-mail",
    "Controller phone",
    "Controller postal address",
    "Data protection officer",
    "Purpose ID",
    "Purpose",
    "Purpose (Swedish)",
    "Purpose description",
    "Purpose DPV",
    "Legal basis",
    "Legal basis article",
    "Legal basis DPV",
    "Law",
    "Legitimate interest",
    "Data subjects",
    "Data subjects DPV",
    "Personal data",
    "Personal data DPV",
    "Special categories (Art. 9/10)",
    "Recipients",
    "Recipients DPV",
    "Third-country transfers",
    "Retention rule",
    "Retention",
    "Storage",
    "Marketing channels",
    "Profiling",
    "Personalised offers",
    "Security measures (Art. 32(1))",
    "Supervisory authority",
];

const JOIN: &str = "; ";

/// The register as CSV: a header row, then one row per purpose; multi-valued cells are joined
/// with "; ". Labels are in English.
pub fn render_ropa_csv(policy: &Policy, version: &PolicyVersion) -> Result<String, RopaError> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(COLUMNS)?;
    let controller = &policy.controller;
    let dpo = controller
        .dpo
        .as_ref()
        .map(|d| {
            let mut s = format!("{} <{}>", d.name, d.email);
            if let Some(phone) = &d.phone {
                s.push_str(&format!(", {phone}"));
            }
            s
        })
        .unwrap_or_default();
    let security = policy
        .security
        .measures
        .iter()
        .map(|m| m.en.trim().to_owned())
        .collect::<Vec<_>>()
        .join(JOIN);
    let authority = format!(
        "{} ({})",
        controller.supervisory_authority.name, controller.supervisory_authority.website
    );
    for (id, p) in &policy.purposes {
        let recipients = recipients_of(policy, id);
        let basis = p.legal_basis;
        let record: Vec<String> = vec![
            version.as_str().to_owned(),
            controller.name.clone(),
            controller.org_number.clone(),
            controller.email.clone(),
            controller.phone.clone().unwrap_or_default(),
            address_line(&controller.postal_address),
            dpo.clone(),
            id.clone(),
            p.label.en.clone(),
            p.label.sv.clone(),
            p.description.en.clone(),
            p.dpv.clone(),
            basis
                .map(|b| Texts::for_lang(Lang::En).basis_name(b).to_owned())
                .unwrap_or_default(),
            basis.map(|b| b.article().to_owned()).unwrap_or_default(),
            basis.map(|b| b.dpv().to_owned()).unwrap_or_default(),
            p.law.clone().unwrap_or_default(),
            p.legitimate_interest
                .as_ref()
                .map(|i| i.en.clone())
                .unwrap_or_default(),
            p.data_subjects
                .iter()
                .map(|s| subject_label(policy, s))
                .collect::<Vec<_>>()
                .join(JOIN),
            p.data_subjects
                .iter()
                .map(|s| policy.data_subjects.get(s).map_or("", |g| g.dpv.as_str()))
                .collect::<Vec<_>>()
                .join(JOIN),
            p.categories
                .iter()
                .map(|c| category_label(policy, c))
                .collect::<Vec<_>>()
                .join(JOIN),
            p.categories
                .iter()
                .map(|c| policy.categories.get(c).map_or("", |c| c.dpv.as_str()))
                .collect::<Vec<_>>()
                .join(JOIN),
            special_categories(policy, p),
            recipients
                .iter()
                .map(|(_, r)| recipient_summary(r))
                .collect::<Vec<_>>()
                .join(JOIN),
            recipients
                .iter()
                .map(|(_, r)| r.dpv.clone())
                .collect::<Vec<_>>()
                .join(JOIN),
            transfers(&recipients),
            retention_rule(p.retention.as_ref()),
            crate::words::upper_first(&retention_text(policy, p, Lang::En)),
            storage(p.storage).to_owned(),
            p.marketing_channels
                .iter()
                .map(|c| c.as_str())
                .collect::<Vec<_>>()
                .join(JOIN),
            yes_no(p.profiling).to_owned(),
            yes_no(p.personalised_offers).to_owned(),
            security.clone(),
            authority.clone(),
        ];
        writer.write_record(&record)?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| RopaError::Finish(e.error().to_string()))?;
    String::from_utf8(bytes).map_err(|e| RopaError::Finish(e.to_string()))
}

/// The register as JSON: `{ "policy_version", "controller", "prefixes", "records": [...] }`,
/// one record per purpose, with DPV terms for purposes, legal bases, data subjects, personal
/// data and recipients.
pub fn render_ropa_json(policy: &Policy, version: &PolicyVersion) -> Value {
    let c = &policy.controller;
    let authority = &c.supervisory_authority;
    let security: Vec<Value> = policy.security.measures.iter().map(text_json).collect();
    let records: Vec<Value> = policy
        .purposes
        .iter()
        .map(|(id, p)| {
            let recipients = recipients_of(policy, id);
            json!({
                "policy_version": version.as_str(),
                "purpose": {
                    "id": id,
                    "label": text_json(&p.label),
                    "description": text_json(&p.description),
                    "dpv": p.dpv,
                },
                "legal_basis": p.legal_basis.map(basis_json),
                "law": p.law,
                "legitimate_interest": p.legitimate_interest.as_ref().map(text_json),
                "data_subjects": p.data_subjects.iter().map(|s| {
                    let group = policy.data_subjects.get(s);
                    json!({
                        "id": s,
                        "label": group.map(|g| text_json(&g.label)),
                        "dpv": group.map(|g| g.dpv.as_str()),
                    })
                }).collect::<Vec<_>>(),
                "personal_data": p.categories.iter().map(|cat| {
                    let category = policy.categories.get(cat);
                    json!({
                        "id": cat,
                        "label": category.map(|c| text_json(&c.label)),
                        "dpv": category.map(|c| c.dpv.as_str()),
                        "special": category.is_some_and(|c| c.special),
                    })
                }).collect::<Vec<_>>(),
                "special_categories": p.categories.iter().any(|cat| {
                    policy.categories.get(cat).is_some_and(|c| c.special)
                }),
                "recipients": recipients.iter().map(|(rid, r)| json!({
                    "id": rid,
                    "label": text_json(&r.label),
                    "kind": r.kind.as_str(),
                    "dpv": r.dpv,
                    "condition": r.condition.as_ref().map(text_json),
                    "categories": r.categories,
                    "third_countries": r.third_countries,
                })).collect::<Vec<_>>(),
                "third_country_transfers": recipients.iter()
                    .filter(|(_, r)| !r.third_countries.is_empty())
                    .map(|(rid, r)| json!({ "recipient": rid, "countries": r.third_countries }))
                    .collect::<Vec<_>>(),
                "retention": {
                    "rule": retention_json(p.retention.as_ref()),
                    "text": {
                        "sv": retention_text(policy, p, Lang::Sv),
                        "en": retention_text(policy, p, Lang::En),
                    },
                },
                "storage": storage(p.storage),
                "marketing_channels": p.marketing_channels.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
                "profiling": p.profiling,
                "personalised_offers": p.personalised_offers,
                "security_measures": security,
            })
        })
        .collect();
    json!({
        "policy_version": version.as_str(),
        "controller": {
            "name": c.name,
            "org_number": c.org_number,
            "email": c.email,
            "phone": c.phone,
            "website": c.website,
            "postal_address": address_json(&c.postal_address),
            "dpo": c.dpo.as_ref().map(|d| json!({
                "name": d.name,
                "email": d.email,
                "phone": d.phone,
            })),
            "supervisory_authority": {
                "name": authority.name,
                "website": authority.website,
                "email": authority.email,
                "postal_address": authority.postal_address.as_ref().map(address_json),
            },
        },
        "prefixes": {
            "dpv": "https://w3id.org/dpv#",
            "pd": "https://w3id.org/dpv/pd#",
            "dpv-pd": "https://w3id.org/dpv/pd#",
            "eu-gdpr": "https://w3id.org/dpv/legal/eu/gdpr#",
        },
        "records": records,
    })
}

fn recipients_of<'a>(policy: &'a Policy, purpose: &str) -> Vec<(&'a String, &'a Recipient)> {
    policy
        .recipients
        .iter()
        .filter(|(_, r)| r.purposes.iter().any(|p| p == purpose))
        .collect()
}

fn subject_label(policy: &Policy, id: &str) -> String {
    policy
        .data_subjects
        .get(id)
        .map_or_else(|| id.to_owned(), |g| g.label.en.clone())
}

fn category_label(policy: &Policy, id: &str) -> String {
    policy
        .categories
        .get(id)
        .map_or_else(|| id.to_owned(), |c| c.label.en.clone())
}

fn special_categories(policy: &Policy, p: &Purpose) -> String {
    let special: Vec<String> = p
        .categories
        .iter()
        .filter(|c| policy.categories.get(*c).is_some_and(|c| c.special))
        .map(|c| category_label(policy, c))
        .collect();
    if special.is_empty() {
        "none".to_owned()
    } else {
        special.join(JOIN)
    }
}

fn kind_words(kind: RecipientKind) -> &'static str {
    match kind {
        RecipientKind::Processor => "processor",
        RecipientKind::IndependentController => "independent controller",
        RecipientKind::Authority => "public authority",
    }
}

/// "Label (kind, condition)".
fn recipient_summary(r: &Recipient) -> String {
    match &r.condition {
        Some(condition) => format!(
            "{} ({}, {})",
            r.label.en,
            kind_words(r.kind),
            condition.en.trim()
        ),
        None => format!("{} ({})", r.label.en, kind_words(r.kind)),
    }
}

fn transfers(recipients: &[(&String, &Recipient)]) -> String {
    let transfers: Vec<String> = recipients
        .iter()
        .filter(|(_, r)| !r.third_countries.is_empty())
        .map(|(_, r)| format!("{}: {}", r.label.en, r.third_countries.join(", ")))
        .collect();
    if transfers.is_empty() {
        "none".to_owned()
    } else {
        transfers.join(JOIN)
    }
}

/// The retention rule in a compact, machine-readable form, e.g.
/// `after_last_activity months=36 activities=purchase,support_contact`.
fn retention_rule(retention: Option<&Retention>) -> String {
    match retention {
        None => String::new(),
        Some(Retention::AfterLastActivity { months, activities }) => format!(
            "after_last_activity months={months} activities={}",
            activities.join(",")
        ),
        Some(Retention::FixedPeriod { months }) => format!("fixed_period months={months}"),
        Some(Retention::Bokforingslagen) => "bokforingslagen".to_owned(),
        Some(Retention::UntilConsentWithdrawn) => "until_consent_withdrawn".to_owned(),
        Some(Retention::AsRequiredBy { law, months }) => {
            let mut s = "as_required_by".to_owned();
            if let Some(months) = months {
                s.push_str(&format!(" months={months}"));
            }
            if let Some(law) = law {
                s.push_str(&format!(" law=\"{law}\""));
            }
            s
        }
    }
}

fn retention_json(retention: Option<&Retention>) -> Value {
    match retention {
        None => Value::Null,
        Some(Retention::AfterLastActivity { months, activities }) => json!({
            "rule": "after_last_activity", "months": months, "activities": activities,
        }),
        Some(Retention::FixedPeriod { months }) => {
            json!({ "rule": "fixed_period", "months": months })
        }
        Some(Retention::Bokforingslagen) => json!({
            "rule": "bokforingslagen", "law": "Bokföringslagen (1999:1078) 7 kap. 2 §",
        }),
        Some(Retention::UntilConsentWithdrawn) => json!({ "rule": "until_consent_withdrawn" }),
        Some(Retention::AsRequiredBy { law, months }) => json!({
            "rule": "as_required_by", "law": law, "months": months,
        }),
    }
}

fn basis_json(basis: LegalBasis) -> Value {
    json!({
        "id": basis.as_str(),
        "article": basis.article(),
        "dpv": basis.dpv(),
        "label": {
            "sv": Texts::for_lang(Lang::Sv).basis_name(basis),
            "en": Texts::for_lang(Lang::En).basis_name(basis),
        },
    })
}

fn storage(storage: Storage) -> &'static str {
    match storage {
        Storage::Live => "live",
        Storage::Archive => "archive",
    }
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

fn text_json(text: &Text) -> Value {
    json!({ "sv": text.sv, "en": text.en })
}

fn address_line(a: &PostalAddress) -> String {
    format!("{}, {} {}, {}", a.street, a.postal_code, a.city, a.country)
}

fn address_json(a: &PostalAddress) -> Value {
    json!({
        "street": a.street,
        "postal_code": a.postal_code,
        "city": a.city,
        "country": a.country,
    })
}
