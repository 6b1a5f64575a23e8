//! Reading personal data: for one purpose, by exact value, the subject's own copy, and the
//! record of a disclosure. Every read is audited before any value leaves.

use std::collections::BTreeSet;

use integritet_domain::audit::AuditAction;
use integritet_domain::personal::PersonalValue;
use integritet_domain::subject::SubjectId;
use integritet_domain::value;

use super::{Actor, LookupKind, SubjectView, ValueView, Vault, VaultError, distinct, view};
use crate::store::Writes;

impl Vault {
    /// Reads a subject for one purpose: only values collected for that purpose, of the
    /// categories it lists.
    pub async fn read(
        &self,
        actor: &Actor,
        id: SubjectId,
        purpose: &str,
    ) -> Result<SubjectView, VaultError> {
        self.authorise(actor, purpose, Some(id)).await?;
        let record = self
            .store
            .subject(id)
            .await?
            .ok_or(VaultError::NotFound { what: "subject" })?;
        self.check_subject_allows(actor, &record, purpose).await?;
        let listed: BTreeSet<&str> = self
            .rules()
            .purposes
            .get(purpose)
            .map(|p| p.categories.iter().map(String::as_str).collect())
            .unwrap_or_default();
        let key = self.open_key(&record)?;
        let opened = record
            .values
            .iter()
            .filter(|value| {
                listed.contains(value.category.as_str())
                    && value.purposes.iter().any(|p| p == purpose)
            })
            .map(|value| self.open_value(id, &key, value))
            .collect::<Result<Vec<_>, _>>();
        let values = self.audit_integrity(actor, opened).await?;
        let categories = distinct(values.iter().map(|v| v.category.clone()));
        // Only the activities this purpose's retention counts: a read for marketing does not
        // see every login and support contact.
        let counted = self.activities_counted_by(purpose);
        let mut record = record;
        record
            .activities
            .retain(|a| counted.contains(a.kind.as_str()));
        let audit = self.draft(
            actor,
            AuditAction::Read,
            Some(id),
            Some(purpose),
            categories,
            None,
        );
        // The entry is written before any value leaves: a read that cannot be audited fails.
        self.store.append_audit(vec![audit]).await?;
        Ok(view(record, Some(purpose.to_owned()), values))
    }

    /// Records that a subject's data was disclosed to a recipient of the policy (P6). The
    /// recipient must be declared for the purpose and the categories; the entry in the audit
    /// log names recipient, purpose, categories and legal basis, so it appears in the
    /// subject's access report.
    pub async fn record_disclosure(
        &self,
        actor: &Actor,
        subject: SubjectId,
        recipient_id: &str,
        purpose: &str,
        categories: &[String],
    ) -> Result<(), VaultError> {
        self.authorise(actor, purpose, Some(subject)).await?;
        let policy = self.rules();
        let recipient = policy.recipients.get(recipient_id).ok_or_else(|| {
            VaultError::invalid(
                "recipient",
                "unknown_recipient",
                format!(
                    "the policy declares no such recipient; use one of: {}",
                    policy
                        .recipients
                        .keys()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })?;
        if !recipient.purposes.iter().any(|p| p == purpose) {
            return Err(VaultError::invalid(
                "purpose",
                "recipient_not_for_purpose",
                format!(
                    "the policy does not disclose to {recipient_id:?} for the purpose {purpose:?}"
                ),
            ));
        }
        if categories.is_empty() {
            return Err(VaultError::invalid(
                "categories",
                "no_categories",
                "name the categories that were disclosed",
            ));
        }
        for (i, category) in categories.iter().enumerate() {
            if !recipient.categories.contains(category) {
                // Not the category sent: it may be anything, personal data included.
                return Err(VaultError::invalid(
                    format!("categories[{i}]"),
                    "category_not_disclosed",
                    format!(
                        "the policy does not disclose this category to {recipient_id:?}; it \
                         discloses: {}",
                        recipient.categories.join(", ")
                    ),
                ));
            }
        }
        let Some(record) = self.store.subject(subject).await? else {
            return Err(VaultError::NotFound { what: "subject" });
        };
        self.check_subject_allows(actor, &record, purpose).await?;
        let basis = policy
            .purposes
            .get(purpose)
            .and_then(|p| p.legal_basis)
            .map(|b| b.as_str())
            .unwrap_or("none");
        let audit = self.draft(
            actor,
            AuditAction::Disclosure,
            Some(subject),
            Some(purpose),
            distinct(categories.iter().cloned()),
            Some(format!(
                "recipient={recipient_id}; kind={}; basis={basis}",
                recipient.kind.as_str()
            )),
        );
        self.store.append_audit(vec![audit]).await?;
        Ok(())
    }

    /// Every value and activity of a subject (the subject's own copy, Art. 15), audited as an
    /// export.
    pub async fn export(&self, actor: &Actor, id: SubjectId) -> Result<SubjectView, VaultError> {
        self.authorise_request(actor, id, "export a subject's full copy")
            .await?;
        let (record, values) = self.open_whole_subject(actor, id).await?;
        let categories = distinct(values.iter().map(|v| v.category.clone()));
        let audit = self.draft(actor, AuditAction::Export, Some(id), None, categories, None);
        self.store.append_audit(vec![audit]).await?;
        Ok(view(record, None, values))
    }

    /// Finds subjects by an exact value. The result is ids only; reading them is a separate,
    /// purpose-bound step.
    pub async fn lookup(
        &self,
        actor: &Actor,
        kind: LookupKind,
        raw: &PersonalValue,
        purpose: &str,
    ) -> Result<Vec<SubjectId>, VaultError> {
        self.authorise_lookup(actor, kind, purpose).await?;
        let normalised = value::normalise(kind.value_kind(), raw.expose(), self.clock.today())
            .map_err(|e| VaultError::Invalid {
                field: "value".into(),
                code: e.code,
                message: e.message,
            })?;
        let token = self.index_key.index(kind.as_str(), normalised.as_bytes());
        let matched = self.store.lookup(kind.as_str(), &token).await?;
        // A subject who restricted processing or objected to this purpose is not found for
        // it, as a read for it would be refused.
        let mut found = Vec::with_capacity(matched.len());
        for id in &matched {
            if let Some(record) = self.store.subject(*id).await?
                && self.subject_allows(&record, purpose)
            {
                found.push(*id);
            }
        }
        let withheld = matched.len() - found.len();
        let audit = self.draft(
            actor,
            AuditAction::Lookup,
            None,
            Some(purpose),
            vec![kind.as_str().to_owned()],
            Some(if withheld == 0 {
                format!("matches={}", found.len())
            } else {
                format!("matches={}; withheld={withheld}", found.len())
            }),
        );
        self.store.append_audit(vec![audit]).await?;
        Ok(found)
    }
}

impl Vault {
    /// A subject's record with every value opened; a value that does not authenticate fails
    /// the whole read, and is audited (the full copy and the access report must be whole).
    pub(super) async fn open_whole_subject(
        &self,
        actor: &Actor,
        id: SubjectId,
    ) -> Result<(crate::store::SubjectRecord, Vec<ValueView>), VaultError> {
        let record = self
            .store
            .subject(id)
            .await?
            .ok_or(VaultError::NotFound { what: "subject" })?;
        let key = self.open_key(&record)?;
        let opened = record
            .values
            .iter()
            .map(|v| self.open_value(id, &key, v))
            .collect::<Result<Vec<_>, _>>();
        let values = self.audit_integrity(actor, opened).await?;
        Ok((record, values))
    }
}
