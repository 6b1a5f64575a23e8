//! Rectification (Art. 16): a value replaced, the old plaintext kept nowhere.

use std::collections::BTreeSet;

use integritet_domain::audit::AuditAction;
use integritet_domain::personal::PersonalValue;
use integritet_domain::subject::{SubjectId, ValueId};

use super::{Actor, NewValue, Vault, VaultError};
use crate::store::Writes;

impl Vault {
    /// Rectification (Art. 16): the value is replaced, the old plaintext is not kept anywhere.
    pub async fn rectify(
        &self,
        actor: &Actor,
        subject: SubjectId,
        value_id: ValueId,
        new_value: PersonalValue,
    ) -> Result<Rectified, VaultError> {
        let record = self
            .store
            .subject(subject)
            .await?
            .ok_or(VaultError::NotFound { what: "subject" })?;
        let old = record
            .values
            .iter()
            .find(|v| v.id == value_id)
            .ok_or(VaultError::NotFound { what: "value" })?;
        let held: BTreeSet<&str> = old.purposes.iter().map(String::as_str).collect();
        self.authorise_any(actor, &held, Some(subject), "rectify this value")
            .await?;
        self.rectify_authorised(actor, &record, value_id, new_value)
            .await
    }

    /// A rectification the caller authorised already: staff by the value's purposes, a
    /// rectification request by whoever handles requests.
    pub(super) async fn rectify_authorised(
        &self,
        actor: &Actor,
        record: &crate::store::SubjectRecord,
        value_id: ValueId,
        new_value: PersonalValue,
    ) -> Result<Rectified, VaultError> {
        let subject = record.id;
        let old = record
            .values
            .iter()
            .find(|v| v.id == value_id)
            .ok_or(VaultError::NotFound { what: "value" })?;
        self.check_not_restricted(actor, record, "a rectification")
            .await?;
        let key = self.open_key(record)?;
        // The new value inherits the old one's purposes: they must be the ones written, not
        // widened in the database and then laundered by the re-encryption.
        let checked = self.open_value(subject, &key, old).map(drop);
        self.audit_integrity(actor, checked).await?;
        let now = self.clock.now();
        let (new_record, entry) = self.seal_value(
            "value",
            subject,
            &key,
            NewValue {
                category: old.category.clone(),
                value: new_value,
                provenance: old.provenance,
                purposes: old.purposes.clone(),
                collected_at: Some(now),
            },
            now,
            now.date(),
        )?;
        let new_id = new_record.id;
        let audit = self.draft(
            actor,
            AuditAction::Update,
            Some(subject),
            None,
            vec![old.category.clone()],
            Some("rectification".into()),
        );
        let replaced = self
            .store
            .replace_value(
                subject,
                value_id,
                new_record,
                entry.into_iter().collect(),
                vec![audit],
            )
            .await?;
        if !replaced {
            return Err(VaultError::NotFound { what: "value" });
        }
        let notify = self
            .disclosed_to(subject, std::slice::from_ref(&old.category))
            .await?;
        Ok(Rectified { id: new_id, notify })
    }
}

/// A rectified value: its new id, and whom to tell of the correction.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Rectified {
    pub id: ValueId,
    /// The recipients the old value's category was disclosed to, who must be told of the
    /// rectification (Art. 19), by their policy ids.
    pub notify: Vec<String>,
}
