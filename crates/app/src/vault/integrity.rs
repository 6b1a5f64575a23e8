//! `store verify`: every row that grants access or holds personal data checked against what
//! this installation wrote, so that an edit made in the database is found before anyone meets
//! it. Tokens and users by their MAC, values by authenticating their ciphertext (which binds
//! subject, category, purposes, collection time and provenance), data keys by unwrapping them.

use integritet_crypto::value_blob_version;
use integritet_domain::audit::AuditAction;
use integritet_domain::subject::{SubjectId, ValueId};

use super::{Actor, Vault, VaultError};
use crate::store::Writes;
use crate::tokens::token_is_sealed;
use crate::users::user_is_sealed;

/// Subjects read per page.
const PAGE: u32 = 500;

/// What `store verify` found. Rows are named by id, never by content.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct IntegrityReport {
    pub tokens_checked: u64,
    /// Ids of tokens whose row fails its MAC (edited, planted, or from before MACs).
    pub tokens_refused: Vec<String>,
    pub users_checked: u64,
    /// Login names of users whose row fails its MAC.
    pub users_refused: Vec<String>,
    pub subjects_checked: u64,
    /// Subjects whose data key does not unwrap under the key ring.
    pub keys_refused: Vec<SubjectId>,
    pub values_checked: u64,
    /// Values whose ciphertext does not authenticate with what is stored beside it.
    pub values_refused: Vec<(SubjectId, ValueId)>,
    pub holds_checked: u64,
    /// Ids of legal holds whose row does not open (planted, edited or moved to another
    /// subject): they hold nothing.
    pub holds_refused: Vec<String>,
    /// Values written before purposes were bound into the ciphertext (format version 1):
    /// readable, but their purposes could be edited unnoticed. Rectifying one rebinds it.
    pub values_unbound: u64,
}

impl IntegrityReport {
    /// Whether everything checked is as written.
    pub fn is_whole(&self) -> bool {
        self.tokens_refused.is_empty()
            && self.users_refused.is_empty()
            && self.keys_refused.is_empty()
            && self.values_refused.is_empty()
            && self.holds_refused.is_empty()
    }

    fn refusals(&self) -> usize {
        self.tokens_refused.len()
            + self.users_refused.len()
            + self.keys_refused.len()
            + self.values_refused.len()
            + self.holds_refused.len()
    }
}

impl Vault {
    /// Checks every token, user, data key and value; audited with what was found (counts and
    /// ids only). For the operator and the administrator.
    pub async fn verify_integrity(&self, actor: &Actor) -> Result<IntegrityReport, VaultError> {
        self.authorise_admin(actor, "verify the store's integrity")
            .await?;
        let mut report = IntegrityReport::default();
        for token in self.store.list_tokens().await? {
            report.tokens_checked += 1;
            if !token_is_sealed(&self.record_key, &token) {
                report.tokens_refused.push(token.id);
            }
        }
        for user in self.store.list_users().await? {
            report.users_checked += 1;
            if !user_is_sealed(&self.record_key, &user) {
                report.users_refused.push(user.name);
            }
        }
        for row in self.store.legal_holds().await? {
            report.holds_checked += 1;
            if !self.hold_is_sealed(&row) {
                report.holds_refused.push(row.id.to_string());
            }
        }
        let mut after = None;
        loop {
            let page = self.store.wrapped_keys(after, PAGE).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.subject);
            for row in page {
                // Erased since the page was read: nothing left to check.
                let Some(record) = self.store.subject(row.subject).await? else {
                    continue;
                };
                report.subjects_checked += 1;
                let key = match self.open_key(&record) {
                    Ok(key) => key,
                    Err(VaultError::Crypto(_)) => {
                        report.keys_refused.push(record.id);
                        continue;
                    }
                    Err(other) => return Err(other),
                };
                for value in &record.values {
                    report.values_checked += 1;
                    if value_blob_version(&value.ciphertext)
                        == Some(integritet_crypto::UNBOUND_VALUE_BLOB_VERSION)
                    {
                        report.values_unbound += 1;
                    }
                    match self.open_value(record.id, &key, value) {
                        Ok(_) => {}
                        Err(VaultError::Integrity { .. } | VaultError::Crypto(_)) => {
                            report.values_refused.push((record.id, value.id));
                        }
                        Err(other) => return Err(other),
                    }
                }
            }
        }
        let detail = format!(
            "tokens={}; users={}; holds={}; subjects={}; values={}; unbound={}; refused={}",
            report.tokens_checked,
            report.users_checked,
            report.holds_checked,
            report.subjects_checked,
            report.values_checked,
            report.values_unbound,
            report.refusals()
        );
        let action = if report.is_whole() {
            AuditAction::IntegrityChecked
        } else {
            AuditAction::IntegrityViolation
        };
        let entry = self.draft(actor, action, None, None, Vec::new(), Some(detail));
        self.store.append_audit(vec![entry]).await?;
        Ok(report)
    }
}
