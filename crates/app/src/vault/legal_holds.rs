//! Legal holds: staff stop the erasure of a subject's data for a dispute (Art. 17(3)(e)), with
//! a reason and an end date. While a hold is in force neither the sweep nor an erasure request
//! removes anything of the subject; the sweep reports what the hold keeps.
//!
//! A hold is sealed under the record key and bound to its id and subject: one planted or
//! edited in the database does not open, is refused and audited, and holds nothing.

use std::collections::BTreeMap;

use integritet_domain::audit::AuditAction;
use integritet_domain::retention::Hold;
use integritet_domain::subject::SubjectId;
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::{Actor, Vault, VaultError};
use crate::store::{HoldRow, StoreError, Writes};

/// The table a hold's record is sealed for.
const SEALED_FOR: &str = "legal_holds";

time::serde::format_description!(day, Date, "[year]-[month]-[day]");

/// A legal hold on a subject.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LegalHold {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub id: Uuid,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub subject: SubjectId,
    /// Why, without personal data (it is in the audit log too), e.g. "tvist om faktura 7000".
    pub reason: String,
    /// The last day the hold is in force.
    #[serde(with = "day")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub until: Date,
    /// Who set it (`user:<name>`, `token:<id>`, `cli:<login>`).
    pub set_by: String,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub set_at: OffsetDateTime,
    /// Who released it early, and when.
    pub released: Option<Release>,
}

/// An early end of a hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Release {
    pub by: String,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub at: OffsetDateTime,
}

impl LegalHold {
    /// Whether the hold stops erasure on `today`.
    pub fn in_force_on(&self, today: Date) -> bool {
        self.released.is_none() && self.until >= today
    }
}

impl Vault {
    /// Sets a legal hold on a subject until `until` (inclusive), for `reason`; audited.
    pub async fn set_legal_hold(
        &self,
        actor: &Actor,
        subject: SubjectId,
        reason: &str,
        until: Date,
    ) -> Result<LegalHold, VaultError> {
        self.authorise_request_handling(actor, "set a legal hold")
            .await?;
        let reason = super::archive::check_reason(reason)?.to_owned();
        let now = self.clock.now();
        if until < now.date() {
            return Err(VaultError::invalid(
                "until",
                "in_the_past",
                format!(
                    "a hold until {until} would already be over: give its last day, today ({}) or later",
                    now.date()
                ),
            ));
        }
        if self.store.subject(subject).await?.is_none() {
            return Err(VaultError::NotFound { what: "subject" });
        }
        let hold = LegalHold {
            id: uuid::Builder::from_random_bytes(self.random::<16>()).into_uuid(),
            subject,
            reason,
            until,
            set_by: actor.id(),
            set_at: now,
            released: None,
        };
        self.write_hold(actor, &hold, "set").await?;
        Ok(hold)
    }

    /// Releases a hold before its day; audited.
    pub async fn release_legal_hold(
        &self,
        actor: &Actor,
        id: Uuid,
    ) -> Result<LegalHold, VaultError> {
        self.authorise_request_handling(actor, "release a legal hold")
            .await?;
        let mut hold = self
            .legal_holds(actor)
            .await?
            .into_iter()
            .find(|h| h.id == id)
            .ok_or(VaultError::NotFound { what: "legal hold" })?;
        if hold.released.is_some() {
            return Err(VaultError::invalid(
                "id",
                "already_released",
                "this hold was released already",
            ));
        }
        hold.released = Some(Release {
            by: actor.id(),
            at: self.clock.now(),
        });
        self.write_hold(actor, &hold, "released").await?;
        Ok(hold)
    }

    /// Every genuine hold, released ones included. A hold that does not open was planted or
    /// edited in the database: it is left out and audited.
    pub async fn legal_holds(&self, actor: &Actor) -> Result<Vec<LegalHold>, VaultError> {
        self.authorise_request_handling(actor, "list legal holds")
            .await?;
        self.genuine_holds(actor).await
    }

    /// The holds in force today, by subject, as the retention engine takes them.
    pub(super) async fn holds_in_force(
        &self,
        actor: &Actor,
    ) -> Result<BTreeMap<SubjectId, Vec<Hold>>, VaultError> {
        let today = self.clock.today();
        let mut by_subject: BTreeMap<SubjectId, Vec<Hold>> = BTreeMap::new();
        for hold in self.genuine_holds(actor).await? {
            if hold.in_force_on(today) {
                by_subject
                    .entry(hold.subject)
                    .or_default()
                    .push(Hold::Legal { until: hold.until });
            }
        }
        Ok(by_subject)
    }

    /// The hold in force on `subject` today that ends last, if any.
    pub(super) async fn hold_on(
        &self,
        actor: &Actor,
        subject: SubjectId,
    ) -> Result<Option<Date>, VaultError> {
        let holds = self.holds_in_force(actor).await?;
        Ok(holds.get(&subject).and_then(|holds| {
            holds
                .iter()
                .filter_map(|h| match h {
                    Hold::Legal { until } => Some(*until),
                    Hold::Restricted => None,
                })
                .max()
        }))
    }

    async fn genuine_holds(&self, actor: &Actor) -> Result<Vec<LegalHold>, VaultError> {
        let mut holds = Vec::new();
        let mut refused = Vec::new();
        for row in self.store.legal_holds().await? {
            match self.open_hold(&row) {
                Some(hold) => holds.push(hold),
                None => refused.push(self.draft(
                    actor,
                    AuditAction::IntegrityViolation,
                    None,
                    None,
                    Vec::new(),
                    Some(format!("table=legal_holds; hold={}; refused=read", row.id)),
                )),
            }
        }
        if !refused.is_empty() {
            self.store.append_audit(refused).await?;
        }
        Ok(holds)
    }

    /// Whether a stored hold is one this installation wrote, unchanged.
    pub(super) fn hold_is_sealed(&self, row: &HoldRow) -> bool {
        self.open_hold(row).is_some()
    }

    fn open_hold(&self, row: &HoldRow) -> Option<LegalHold> {
        let plain = self
            .record_key
            .open(SEALED_FOR, &hold_aad(row.id, row.subject), &row.sealed)
            .ok()?;
        let hold: LegalHold = serde_json::from_slice(&plain).ok()?;
        (hold.id == row.id && hold.subject == row.subject).then_some(hold)
    }

    async fn write_hold(
        &self,
        actor: &Actor,
        hold: &LegalHold,
        event: &str,
    ) -> Result<(), VaultError> {
        let plain = zeroize::Zeroizing::new(serde_json::to_vec(hold).map_err(|e| {
            VaultError::Store(StoreError::Corrupt(format!(
                "a legal hold could not be encoded: {e}"
            )))
        })?);
        let aad = hold_aad(hold.id, hold.subject);
        let sealed = self.with_rng(|rng| self.record_key.seal(SEALED_FOR, &aad, &plain, rng))?;
        let audit = self.draft(
            actor,
            AuditAction::LegalHold,
            Some(hold.subject),
            None,
            Vec::new(),
            Some(format!(
                "hold={}; event={event}; until={}; reason={}",
                hold.id, hold.until, hold.reason
            )),
        );
        let row = HoldRow {
            id: hold.id,
            subject: hold.subject,
            sealed,
        };
        self.store.put_legal_hold(row, vec![audit]).await?;
        Ok(())
    }
}

/// What a hold's seal is bound to: its id and its subject.
fn hold_aad(id: Uuid, subject: SubjectId) -> Vec<u8> {
    let mut aad = id.as_bytes().to_vec();
    aad.extend_from_slice(subject.as_bytes());
    aad
}
