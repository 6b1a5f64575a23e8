//! Data subjects' requests that limit processing — restriction (Art. 18) and objection
//! (Art. 21) — and the history of the policy the vault enforces.

use integritet_domain::audit::AuditAction;
use integritet_domain::policy::LegalBasis;
use integritet_domain::subject::SubjectId;
use serde::Serialize;
use time::OffsetDateTime;

use super::{Actor, Vault, VaultError};
use crate::store::{ObjectionRecord, PolicyVersionRecord, Writes};

/// One policy version the system has enforced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PolicyHistoryEntry {
    pub version: String,
    #[serde(with = "time::serde::rfc3339")]
    pub activated_at: OffsetDateTime,
    /// Whether this is the version in force now.
    pub current: bool,
}

impl Vault {
    /// Restricts processing of a subject (Art. 18(1)), or lifts the restriction. While
    /// restricted, the subject's data is only stored and served for purposes under a legal
    /// obligation.
    pub async fn set_restricted(
        &self,
        actor: &Actor,
        subject: SubjectId,
        restricted: bool,
    ) -> Result<(), VaultError> {
        let what = if restricted {
            "restrict processing"
        } else {
            "lift a restriction"
        };
        self.authorise_request(actor, subject, what).await?;
        let action = if restricted {
            AuditAction::Restricted
        } else {
            AuditAction::RestrictionLifted
        };
        let audit = self.draft(actor, action, Some(subject), None, vec![], None);
        if !self
            .store
            .set_restricted(subject, restricted, vec![audit])
            .await?
        {
            return Err(VaultError::NotFound { what: "subject" });
        }
        Ok(())
    }

    /// Records a subject's objection to a purpose (Art. 21). It applies to purposes based on
    /// legitimate interest or a public task, and always to direct marketing (Art. 21(2)); from
    /// then on the purpose is refused for this subject.
    pub async fn object(
        &self,
        actor: &Actor,
        subject: SubjectId,
        purpose: &str,
    ) -> Result<(), VaultError> {
        self.known_purpose("purpose", purpose)?;
        let entry = self.rules().purposes.get(purpose);
        let basis = entry.and_then(|p| p.legal_basis);
        let marketing = self.is_marketing_purpose(purpose);
        let objectable = marketing
            || matches!(
                basis,
                Some(LegalBasis::LegitimateInterest | LegalBasis::PublicTask)
            );
        if !objectable {
            let hint = match basis {
                Some(LegalBasis::Consent) => {
                    "it rests on consent: record the withdrawal of consent instead"
                }
                _ => {
                    "the right to object covers only legitimate interest, public task and direct marketing (GDPR Art. 21)"
                }
            };
            return Err(VaultError::invalid(
                "purpose",
                "not_objectable",
                format!(
                    "an objection to {purpose:?} (basis: {}) cannot be recorded: {hint}",
                    basis.map(|b| b.as_str()).unwrap_or("none")
                ),
            ));
        }
        self.authorise_request(actor, subject, "record an objection")
            .await?;
        let now = self.clock.now();
        let audit = self.draft(
            actor,
            AuditAction::Objection,
            Some(subject),
            Some(purpose),
            vec![],
            None,
        );
        let objection = ObjectionRecord {
            purpose: purpose.to_owned(),
            at: now,
        };
        // An objection to direct marketing is absolute (Art. 21(3)): the person's addresses
        // and numbers go on the suppression list with it, and stay there after an erasure.
        let suppress = if marketing {
            match self.store.subject(subject).await? {
                Some(record) => self.suppression_entries(subject, &record, now)?,
                None => return Err(VaultError::NotFound { what: "subject" }),
            }
        } else {
            Vec::new()
        };
        if !self
            .store
            .add_objection_suppressing(subject, objection, suppress, vec![audit])
            .await?
        {
            return Err(VaultError::NotFound { what: "subject" });
        }
        Ok(())
    }

    /// Withdraws an objection the subject made earlier.
    pub async fn withdraw_objection(
        &self,
        actor: &Actor,
        subject: SubjectId,
        purpose: &str,
    ) -> Result<(), VaultError> {
        self.known_purpose("purpose", purpose)?;
        self.authorise_request(actor, subject, "withdraw an objection")
            .await?;
        let audit = self.draft(
            actor,
            AuditAction::ObjectionWithdrawn,
            Some(subject),
            Some(purpose),
            vec![],
            None,
        );
        if !self
            .store
            .withdraw_objection(subject, purpose, vec![audit])
            .await?
        {
            return Err(VaultError::NotFound { what: "objection" });
        }
        Ok(())
    }

    /// Records the policy in force, with its text, the first time it is enforced (audited as
    /// `policy_activated`). Returns whether it was new.
    pub async fn activate_policy(&self, actor: &Actor) -> Result<bool, VaultError> {
        let version = self.policy.version.to_string();
        let audit = self.draft(
            actor,
            AuditAction::PolicyActivated,
            None,
            None,
            vec![],
            Some(format!("version={version}")),
        );
        let record = PolicyVersionRecord {
            version,
            activated_at: self.clock.now(),
            source: self.policy.source.text().to_owned(),
        };
        Ok(self
            .store
            .record_policy_version(record, vec![audit])
            .await?)
    }

    /// Every policy version enforced, oldest first.
    pub async fn policy_history(&self) -> Result<Vec<PolicyHistoryEntry>, VaultError> {
        let current = self.policy.version.as_str();
        Ok(self
            .store
            .policy_versions()
            .await?
            .into_iter()
            .map(|r| PolicyHistoryEntry {
                current: r.version == current,
                version: r.version,
                activated_at: r.activated_at,
            })
            .collect())
    }

    /// The text of an enforced policy version, to show what rules applied on a given day.
    pub async fn policy_source(&self, version: &str) -> Result<String, VaultError> {
        self.store
            .policy_versions()
            .await?
            .into_iter()
            .find(|r| r.version == version)
            .map(|r| r.source)
            .ok_or(VaultError::NotFound {
                what: "policy version",
            })
    }
}
