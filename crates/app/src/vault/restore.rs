//! What a restore must not undo. A backup is older than the database it replaces: everything
//! said since — erasures, revoked tokens, disabled console users, restrictions and objections —
//! is read from the database being replaced (or from the record `integritet erasures` saved
//! beside a dump) and applied again to the restored one, so a restore never brings back a
//! person, a token, a user or a use of data that was stopped.

use std::collections::BTreeSet;

use integritet_domain::audit::AuditAction;
use integritet_domain::subject::SubjectId;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{Actor, Vault, VaultError};
use crate::store::{ErasureRecord, ObjectionRecord, Writes};
use crate::{tokens, users};

/// Everything a restore applies again; ids, names and times only, no personal data.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplayRecord {
    pub erasures: Vec<ErasureRecord>,
    #[serde(default)]
    pub revoked_tokens: Vec<RevokedToken>,
    #[serde(default)]
    pub disabled_users: Vec<DisabledUser>,
    #[serde(default)]
    pub restricted: Vec<SubjectId>,
    #[serde(default)]
    pub objections: Vec<SubjectObjection>,
    /// The end of the audit log when the record was written: a restored log that ends
    /// earlier lost entries, unless they are carried over.
    #[serde(default)]
    pub audit_head: Option<LogHead>,
}

/// Where an audit log ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogHead {
    pub seq: u64,
    /// The last entry's hash, in hex.
    pub hash: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevokedToken {
    pub id: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisabledUser {
    pub name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubjectObjection {
    pub subject: SubjectId,
    pub purpose: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

impl ReplayRecord {
    /// Reads a record as `integritet erasures` writes it; a plain list of erasures (what
    /// earlier versions wrote) is read too.
    pub fn from_json(text: &str) -> Result<ReplayRecord, serde_json::Error> {
        match serde_json::from_str::<ReplayRecord>(text) {
            Ok(record) => Ok(record),
            Err(error) => serde_json::from_str::<Vec<ErasureRecord>>(text)
                .map(|erasures| ReplayRecord {
                    erasures,
                    ..ReplayRecord::default()
                })
                .map_err(|_| error),
        }
    }

    /// Another record's entries added to this one's.
    pub fn extend(&mut self, other: ReplayRecord) {
        self.erasures.extend(other.erasures);
        self.revoked_tokens.extend(other.revoked_tokens);
        self.disabled_users.extend(other.disabled_users);
        self.restricted.extend(other.restricted);
        self.objections.extend(other.objections);
        if other.audit_head.as_ref().map(|h| h.seq) > self.audit_head.as_ref().map(|h| h.seq) {
            self.audit_head = other.audit_head;
        }
    }
}

/// What a replay applied again.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Replayed {
    pub erasures: u64,
    pub tokens_revoked: u64,
    pub users_disabled: u64,
    pub restrictions: u64,
    pub objections: u64,
    /// The entries of the replaced log (first and last seq) that the restored log does not
    /// hold: history the restore shortened, recorded in the log so that it is not lost
    /// silently.
    pub audit_entries_missing: Option<(u64, u64)>,
}

impl Vault {
    /// What this store would have a restore apply again.
    pub async fn replay_record(&self, actor: &Actor) -> Result<ReplayRecord, VaultError> {
        self.authorise_admin(actor, "list what a restore applies again")
            .await?;
        let say = self.store.restrictions_and_objections().await?;
        let audit_head = self.store.audit_head().await?.map(|(seq, hash)| LogHead {
            seq,
            hash: hash.to_hex(),
        });
        Ok(ReplayRecord {
            audit_head,
            erasures: self.store.erasures().await?,
            revoked_tokens: self
                .store
                .list_tokens()
                .await?
                .into_iter()
                .filter_map(|t| t.revoked_at.map(|at| RevokedToken { id: t.id, at }))
                .collect(),
            disabled_users: self
                .store
                .list_users()
                .await?
                .into_iter()
                .filter_map(|u| u.disabled_at.map(|at| DisabledUser { name: u.name, at }))
                .collect(),
            restricted: say.restricted,
            objections: say
                .objections
                .into_iter()
                .map(|(subject, o)| SubjectObjection {
                    subject,
                    purpose: o.purpose,
                    at: o.at,
                })
                .collect(),
        })
    }

    /// After a restore: applies `record` again to the restored store (only what it does not
    /// hold already), and notes the restore in the audit log with what was applied.
    pub async fn replay(
        &self,
        actor: &Actor,
        record: &ReplayRecord,
    ) -> Result<Replayed, VaultError> {
        self.authorise_admin(actor, "apply a restore's record again")
            .await?;
        let mut done = Replayed::default();
        // Before anything below adds to the log.
        let restored_end = self.store.audit_head().await?.map_or(0, |(seq, _)| seq);
        done.audit_entries_missing = record
            .audit_head
            .as_ref()
            .filter(|head| head.seq > restored_end)
            .map(|head| (restored_end + 1, head.seq));
        let mut erased = BTreeSet::new();
        for erasure in &record.erasures {
            if erased.insert(erasure.subject)
                && self.store.subject(erasure.subject).await?.is_some()
            {
                self.erase(actor, erasure.subject, "restore-replay").await?;
                done.erasures += 1;
            }
        }
        let now = self.clock.now();
        let version = self.policy.version.to_string();
        for token in &record.revoked_tokens {
            if tokens::revoke_token(
                self.store.as_ref(),
                &self.record_key,
                now,
                &actor.id(),
                &token.id,
                &version,
            )
            .await?
            {
                done.tokens_revoked += 1;
            }
        }
        for user in &record.disabled_users {
            if users::disable_user(
                self.store.as_ref(),
                &self.record_key,
                now,
                &actor.id(),
                &user.name,
                &version,
            )
            .await?
            {
                done.users_disabled += 1;
            }
        }
        for subject in record.restricted.iter().filter(|s| !erased.contains(s)) {
            let audit = self.draft(
                actor,
                AuditAction::Restricted,
                Some(*subject),
                None,
                vec![],
                Some("reason=restore-replay".into()),
            );
            let already = self
                .store
                .subject(*subject)
                .await?
                .is_none_or(|s| s.restricted);
            if !already
                && self
                    .store
                    .set_restricted(*subject, true, vec![audit])
                    .await?
            {
                done.restrictions += 1;
            }
        }
        for objection in record
            .objections
            .iter()
            .filter(|o| !erased.contains(&o.subject))
        {
            let audit = self.draft(
                actor,
                AuditAction::Objection,
                Some(objection.subject),
                Some(&objection.purpose),
                vec![],
                Some("reason=restore-replay".into()),
            );
            let record = self.store.subject(objection.subject).await?;
            let held = record
                .as_ref()
                .is_some_and(|s| s.objections.iter().any(|o| o.purpose == objection.purpose));
            // A replayed objection to marketing suppresses as the first one did.
            let suppress = match &record {
                Some(record) if !held && self.is_marketing_purpose(&objection.purpose) => {
                    self.suppression_entries(objection.subject, record, objection.at)?
                }
                _ => Vec::new(),
            };
            let added = !held
                && self
                    .store
                    .add_objection_suppressing(
                        objection.subject,
                        ObjectionRecord {
                            purpose: objection.purpose.clone(),
                            at: objection.at,
                        },
                        suppress,
                        vec![audit],
                    )
                    .await?;
            if added {
                done.objections += 1;
            }
        }
        let mut detail = format!(
            "erasures replayed={}; tokens revoked={}; users disabled={}; restrictions={}; objections={}",
            done.erasures,
            done.tokens_revoked,
            done.users_disabled,
            done.restrictions,
            done.objections
        );
        if let (Some((first, last)), Some(head)) = (done.audit_entries_missing, &record.audit_head)
        {
            detail.push_str(&format!(
                "; audit entries missing={first}..{last}; replaced head={}",
                head.hash
            ));
        }
        let note = self.draft(
            actor,
            AuditAction::Restore,
            None,
            None,
            vec![],
            Some(detail),
        );
        self.store.append_audit(vec![note]).await?;
        Ok(done)
    }
}
