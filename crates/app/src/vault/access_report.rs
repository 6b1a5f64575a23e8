//! The Art. 15 access report: every value held about a person with its source, each purpose
//! that holds it with its legal basis and the day it is kept until as things stand, every
//! recorded disclosure to a recipient, and what the person has said (restriction, objections).
//! The dates come from the same retention engine the sweep runs on.

use std::collections::BTreeMap;

use integritet_domain::audit::AuditAction;
use integritet_domain::report::{AccessReport, ReportedDisclosure, ReportedPurpose, ReportedValue};
use integritet_domain::retention::{self, PurposeEnd};
use integritet_domain::subject::SubjectId;
use time::Date;

use super::sweep::{subject_facts, value_facts};
use super::{Actor, Vault, VaultError, distinct};
use crate::store::Writes;

impl Vault {
    /// The access report of one subject (Art. 15); audited as an export.
    pub async fn access_report(
        &self,
        actor: &Actor,
        id: SubjectId,
    ) -> Result<AccessReport, VaultError> {
        self.authorise_request(actor, id, "make a subject's access report")
            .await?;
        let (record, opened) = self.open_whole_subject(actor, id).await?;

        // Until when each purpose keeps what it holds: the latest end among its values, open
        // when any of them has no end yet.
        let facts = subject_facts(&record, Vec::new());
        let mut purposes: BTreeMap<String, (Vec<String>, Option<Option<Date>>)> = BTreeMap::new();
        for value in &record.values {
            for purpose in &value.purposes {
                let end = match retention::purpose_end(
                    self.rules(),
                    purpose,
                    &value_facts(value),
                    &facts,
                ) {
                    PurposeEnd::NotHeld => continue,
                    PurposeEnd::Until(day) => Some(day),
                    PurposeEnd::Open => None,
                };
                let entry = purposes.entry(purpose.clone()).or_default();
                entry.0.push(value.category.clone());
                entry.1 = Some(match (entry.1, end) {
                    (None, end) => end,
                    (Some(None), _) | (_, None) => None,
                    (Some(Some(a)), Some(b)) => Some(a.max(b)),
                });
            }
        }
        // In the policy's order, as the notice lists them.
        let purposes = self
            .rules()
            .purposes
            .keys()
            .filter_map(|p| {
                purposes.remove(p).map(|(categories, end)| ReportedPurpose {
                    purpose: p.clone(),
                    categories: distinct(categories.into_iter()),
                    kept_until: end.flatten(),
                })
            })
            .collect();

        let disclosures = self
            .store
            .disclosures_of(id)
            .await?
            .into_iter()
            .map(|entry| ReportedDisclosure {
                at: entry.draft.at,
                recipient: recipient_of(entry.draft.detail.as_deref()),
                purpose: entry.draft.purpose,
                categories: entry.draft.categories,
            })
            .collect();

        let categories = distinct(opened.iter().map(|v| v.category.clone()));
        let audit = self.draft(
            actor,
            AuditAction::Export,
            Some(id),
            None,
            categories,
            Some("access_report".into()),
        );
        self.store.append_audit(vec![audit]).await?;
        Ok(AccessReport {
            subject: id,
            generated_at: self.clock.now(),
            policy_version: self.policy.version.to_string(),
            values: opened
                .into_iter()
                .map(|v| ReportedValue {
                    category: v.category,
                    value: v.value,
                    provenance: v.provenance,
                    collected_at: v.collected_at,
                    purposes: v.purposes,
                })
                .collect(),
            purposes,
            disclosures,
            restricted: record.restricted,
            objections: record
                .objections
                .iter()
                .map(|o| o.purpose.clone())
                .collect(),
        })
    }
}

impl Vault {
    /// The recipients the subject's data in any of `categories` (all, when empty) was
    /// disclosed to, by their policy ids: whom a rectification or an erasure must be told of
    /// (Art. 19).
    pub async fn recipients_to_notify(
        &self,
        actor: &Actor,
        subject: SubjectId,
        categories: &[String],
    ) -> Result<Vec<String>, VaultError> {
        self.authorise_request(actor, subject, "list whom to tell of a change")
            .await?;
        self.disclosed_to(subject, categories).await
    }

    /// [`Vault::recipients_to_notify`], for use cases that authorised their caller already.
    pub(super) async fn disclosed_to(
        &self,
        subject: SubjectId,
        categories: &[String],
    ) -> Result<Vec<String>, VaultError> {
        let disclosures = self.store.disclosures_of(subject).await?;
        Ok(distinct(
            disclosures
                .into_iter()
                .filter(|entry| {
                    categories.is_empty()
                        || entry
                            .draft
                            .categories
                            .iter()
                            .any(|c| categories.contains(c))
                })
                .map(|entry| recipient_of(entry.draft.detail.as_deref())),
        ))
    }
}

/// The recipient a disclosure entry names (`recipient=<id>; …`).
fn recipient_of(detail: Option<&str>) -> String {
    detail
        .and_then(|d| {
            d.split("; ")
                .find_map(|part| part.strip_prefix("recipient="))
        })
        .unwrap_or("unknown")
        .to_owned()
}
