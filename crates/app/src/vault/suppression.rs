//! The marketing suppression list (Art. 21(3)): an objection to direct marketing puts the
//! person's e-mail addresses and phone numbers on it as keyed hashes of their normalised form,
//! with no subject id, so it outlives an erasure — a person erased and later imported again is
//! still not marketed to. Suppression stops marketing only, never a receipt or an order
//! confirmation.

use integritet_domain::personal::PersonalValue;
use integritet_domain::policy::ValueKind;
use integritet_domain::subject::SubjectId;
use integritet_domain::value;
use time::OffsetDateTime;

use super::{Actor, LookupKind, Vault, VaultError};
use crate::store::{SubjectRecord, SuppressionEntry};

impl Vault {
    /// Whether `raw` (an e-mail address or phone number as written) is on the suppression list.
    pub async fn is_suppressed(
        &self,
        actor: &Actor,
        kind: LookupKind,
        raw: &PersonalValue,
    ) -> Result<bool, VaultError> {
        self.authorise_request_handling(actor, "read the suppression list")
            .await?;
        let Some(kind) = suppressed_kind(kind.value_kind()) else {
            return Err(VaultError::invalid(
                "kind",
                "not_suppressible",
                "the suppression list holds e-mail addresses and phone numbers only",
            ));
        };
        let normalised = value::normalise(kind, raw.expose(), self.clock.today()).map_err(|e| {
            VaultError::Invalid {
                field: "value".into(),
                code: e.code,
                message: e.message,
            }
        })?;
        let (name, hash) = self.suppression_hash(kind, &normalised);
        Ok(self.store.is_suppressed(name, &hash).await?)
    }

    /// Whether `purpose` is direct marketing: it names marketing channels or is DPV's
    /// `DirectMarketing`.
    pub(super) fn is_marketing_purpose(&self, purpose: &str) -> bool {
        self.rules().purposes.get(purpose).is_some_and(|p| {
            !p.marketing_channels.is_empty() || p.dpv.eq_ignore_ascii_case("dpv:DirectMarketing")
        })
    }

    /// The suppression entries of a subject's e-mail addresses and phone numbers.
    pub(super) fn suppression_entries(
        &self,
        subject: SubjectId,
        record: &SubjectRecord,
        at: OffsetDateTime,
    ) -> Result<Vec<SuppressionEntry>, VaultError> {
        let key = self.open_key(record)?;
        let mut entries = Vec::new();
        for stored in &record.values {
            let Some(kind) = self
                .rules()
                .categories
                .get(&stored.category)
                .and_then(|c| suppressed_kind(c.kind))
            else {
                continue;
            };
            // Stored values are normalised already.
            let opened = self.open_value(subject, &key, stored)?;
            let (name, hash) = self.suppression_hash(kind, opened.value.expose());
            entries.push(SuppressionEntry {
                kind: name.to_owned(),
                hash,
                at,
            });
        }
        Ok(entries)
    }

    pub(super) fn suppression_hash(
        &self,
        kind: ValueKind,
        normalised: &str,
    ) -> (&'static str, [u8; 32]) {
        let name = match kind {
            ValueKind::Phone => "phone",
            _ => "email",
        };
        (
            name,
            self.record_key
                .secret_hash(&format!("suppression-{name}"), normalised.as_bytes()),
        )
    }
}

fn suppressed_kind(kind: ValueKind) -> Option<ValueKind> {
    matches!(kind, ValueKind::Email | ValueKind::Phone).then_some(kind)
}
