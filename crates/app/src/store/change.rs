//! Every change a store can make, as data. A change travels with the audit entries that
//! describe it to [`super::UnitOfWork::commit`], which each backend implements once: begin,
//! apply the change, write the entries onto the chain, commit — or write nothing at all when
//! the change found nothing to change.
//!
//! A capability that needs to change something adds its own variant here (one enum per
//! capability) and each backend adds the code that applies it; nothing else changes.

use integritet_domain::audit::AuditDraft;
use integritet_domain::subject::{ArchiveRef, SubjectId, ValueId};
use time::OffsetDateTime;

use super::records::{
    ActivityRecord, ArchiveRecord, ConsentRow, ErasureRecord, HoldRow, IndexEntry, LockoutRule,
    LoginFailure, NewSubject, ObjectionRecord, PolicyVersionRecord, RequestRow, SessionRecord,
    SpentLink, SuppressionEntry, TokenRecord, UserRecord, ValueRecord, WrappedKeyRow,
};

/// One change, applied atomically with its audit entries.
#[derive(Debug, Clone)]
pub enum Change {
    /// Nothing but the audit entries (reads, lookups, refusals, exports, notes).
    Audit,
    Subjects(SubjectChange),
    Archive(ArchiveChange),
    Keys(KeyChange),
    Tokens(TokenChange),
    Users(UserChange),
    Policy(PolicyChange),
    Requests(RequestChange),
    Holds(HoldChange),
    Marketing(MarketingChange),
    Consent(ConsentChange),
    /// Entries of another copy of this log, appended as they are (same seq and hashes): a
    /// restore carries over what was written after its backup. They must continue this log's
    /// head exactly, or nothing is written and the change fails with `Conflict`.
    /// [`Outcome::Count`] says how many. A backend that cannot carry says `Unsupported`.
    CarryAudit(Vec<integritet_domain::audit::AuditEntry>),
}

/// Subjects, their values, activities and the subject's own say over them.
#[derive(Debug, Clone)]
pub enum SubjectChange {
    /// New subjects with their values, index entries and first activities.
    Insert(Vec<NewSubject>),
    /// Rectification: the old value and its index entries go, the new one comes. Nothing when
    /// the subject has no such value.
    ReplaceValue {
        subject: SubjectId,
        old: ValueId,
        new: ValueRecord,
        index: Vec<IndexEntry>,
    },
    /// Values added to an existing subject; nothing when there is no such subject.
    AddValues {
        subject: SubjectId,
        values: Vec<ValueRecord>,
        index: Vec<IndexEntry>,
    },
    /// Activity events; nothing when there is no such subject.
    AddActivities {
        subject: SubjectId,
        activities: Vec<ActivityRecord>,
    },
    /// Art. 18; nothing when there is no such subject.
    SetRestricted {
        subject: SubjectId,
        restricted: bool,
    },
    /// Art. 21; an objection to the same purpose keeps its first time. Nothing when there is
    /// no such subject.
    AddObjection {
        subject: SubjectId,
        objection: ObjectionRecord,
        /// Entries for the suppression list, written with the objection (an objection to
        /// direct marketing), kept after the subject is erased.
        suppress: Vec<SuppressionEntry>,
    },
    /// Nothing when the subject had no objection to the purpose.
    WithdrawObjection { subject: SubjectId, purpose: String },
    /// Values, index entries, activities and the wrapped key go; the archive entries are
    /// stored and the erasure record kept — even when the subject is gone already, so that a
    /// replay is idempotent ([`Outcome::Erased`] tells whether it was there).
    ///
    /// `planned` is the subject's values as the erasure was planned from: when the subject
    /// holds any other set (a value added or rectified meanwhile), nothing is written and the
    /// change fails with `StoreError::Conflict`, so the caller plans again and no value escapes
    /// the archive rules. `None` erases whatever is there (a replay).
    Erase {
        erasure: ErasureRecord,
        archive: Vec<ArchiveRecord>,
        planned: Option<Vec<ValueId>>,
    },
    /// Retention: `values` and their index entries go, `archive` is stored; the subject stays
    /// for what it still holds. When the subject's values are no longer `planned` (one added
    /// or rectified meanwhile), nothing is written and the change fails with
    /// `StoreError::Conflict`; nothing when there is no such subject.
    RemoveValues {
        subject: SubjectId,
        values: Vec<ValueId>,
        archive: Vec<ArchiveRecord>,
        planned: Vec<ValueId>,
    },
}

#[derive(Debug, Clone)]
pub enum ArchiveChange {
    /// Deletes archive entries; [`Outcome::Count`] says how many were there.
    Shred(Vec<ArchiveRef>),
    /// Writes the entries sealed on `created_on` again, together and in a random order, so
    /// that nothing the database keeps about how a row was written (PostgreSQL's transaction
    /// id and physical position) ties an entry to the erasure that made it.
    /// [`Outcome::Count`] says how many; a backend whose rows give nothing away counts none.
    Reshuffle { created_on: time::Date },
}

#[derive(Debug, Clone)]
pub enum KeyChange {
    /// Replaces wrapped data keys after a key rotation (subjects erased meanwhile are skipped).
    Rewrap(Vec<WrappedKeyRow>),
}

#[derive(Debug, Clone)]
pub enum TokenChange {
    /// A token whose id or hash is stored already is refused with `StoreError::Conflict`.
    Insert(TokenRecord),
    /// Sets the revocation time and the row's new MAC; nothing when there is no such token or
    /// it is revoked already.
    Revoke {
        id: String,
        at: OffsetDateTime,
        mac: [u8; 32],
    },
}

#[derive(Debug, Clone)]
pub enum UserChange {
    /// A name already taken is refused with `StoreError::Conflict`.
    Insert(UserRecord),
    /// Disables the user (with the row's new MAC) and deletes its sessions; nothing when there
    /// is no such user or it is disabled already.
    Disable {
        name: String,
        at: OffsetDateTime,
        mac: [u8; 32],
    },
    /// Counts a failed login of an enabled user, atomically, so that servers sharing the
    /// database agree: the count restarts at 1 after a lockout has ended, and reaching
    /// `rule.max_failures` locks the account until `at + rule.duration`. `lock_audit` is
    /// written too when this failure locked the account. Nothing when there is no such enabled
    /// user.
    LoginFailure {
        name: String,
        at: OffsetDateTime,
        rule: LockoutRule,
        lock_audit: Vec<AuditDraft>,
    },
    /// Resets the user's failed-login count and stores the session; nothing when the user is
    /// missing, disabled, or locked at the session's start. With `past_lock` (a login from a
    /// browser the account is known on) a lock does not stop the session, and stays in place
    /// for everyone else.
    StartSession {
        session: SessionRecord,
        past_lock: bool,
    },
    /// Moves a session's last-seen time forward (never back); nothing when there is none.
    TouchSession { hash: [u8; 32], at: OffsetDateTime },
    /// Nothing when there is no such session.
    EndSession { hash: [u8; 32] },
    /// Deletes sessions last seen before `idle_before` or created before `created_before`;
    /// [`Outcome::Count`] says how many.
    PurgeSessions {
        idle_before: OffsetDateTime,
        created_before: OffsetDateTime,
    },
}

/// Data subjects' requests.
#[derive(Debug, Clone)]
pub enum RequestChange {
    /// Writes `row`: a new request when `replaces` is `None` (`Conflict` when its id is
    /// taken), else the one at version `replaces` — nothing when it has moved on since.
    Put {
        row: RequestRow,
        replaces: Option<u64>,
    },
}

/// Legal holds.
#[derive(Debug, Clone)]
pub enum HoldChange {
    /// Stores a hold, or replaces the one with its id (a release).
    Put(HoldRow),
}

/// Marketing: the NIX-Telefon register, opt-outs of people the shop may not hold, spent
/// unsubscribe links.
#[derive(Debug, Clone)]
pub enum MarketingChange {
    /// Replaces the whole NIX register with these keyed hashes; [`Outcome::Count`] says how
    /// many distinct numbers it now holds.
    ReplaceNix(Vec<[u8; 32]>),
    /// Puts entries on the suppression list with no subject; nothing when all were there.
    Suppress(Vec<SuppressionEntry>),
    /// Records a link as used or revoked; nothing when it was spent already.
    SpendLink(SpentLink),
}

/// Cookie consent records.
#[derive(Debug, Clone)]
pub enum ConsentChange {
    /// Keeps a record; nothing when one with its id is there.
    Record(ConsentRow),
}

#[derive(Debug, Clone)]
pub enum PolicyChange {
    /// Records a policy version the first time it is enforced; nothing when it is known.
    Record(PolicyVersionRecord),
}

/// What a committed change did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The change was made and its audit entries written.
    Done,
    /// There was nothing to change: nothing was written, not even the audit entries.
    Nothing,
    /// The change was made to this many rows (possibly none), with its audit entries.
    Count(u64),
    /// An erasure was recorded, with its audit entries; whether the subject was still there.
    Erased { existed: bool },
    /// A failed login was counted, with its audit entries.
    LoginFailure(LoginFailure),
}

impl Outcome {
    /// Whether anything was written.
    pub fn changed(self) -> bool {
        !matches!(self, Outcome::Nothing)
    }
}

impl Change {
    /// The operation's name, for metrics and error messages.
    pub fn operation(&self) -> &'static str {
        match self {
            Change::Audit => "append_audit",
            Change::Subjects(change) => match change {
                SubjectChange::Insert(_) => "insert_subjects",
                SubjectChange::ReplaceValue { .. } => "replace_value",
                SubjectChange::AddValues { .. } => "add_values",
                SubjectChange::AddActivities { .. } => "add_activities",
                SubjectChange::SetRestricted { .. } => "set_restricted",
                SubjectChange::AddObjection { .. } => "add_objection",
                SubjectChange::WithdrawObjection { .. } => "withdraw_objection",
                SubjectChange::Erase { .. } => "erase_subject",
                SubjectChange::RemoveValues { .. } => "remove_values",
            },
            Change::Archive(ArchiveChange::Shred(_)) => "shred_archive",
            Change::Archive(ArchiveChange::Reshuffle { .. }) => "reshuffle_archive",
            Change::Keys(KeyChange::Rewrap(_)) => "rewrap_keys",
            Change::Tokens(change) => match change {
                TokenChange::Insert(_) => "insert_token",
                TokenChange::Revoke { .. } => "revoke_token",
            },
            Change::Users(change) => match change {
                UserChange::Insert(_) => "insert_user",
                UserChange::Disable { .. } => "disable_user",
                UserChange::LoginFailure { .. } => "record_login_failure",
                UserChange::StartSession { .. } => "start_session",
                UserChange::TouchSession { .. } => "touch_session",
                UserChange::EndSession { .. } => "end_session",
                UserChange::PurgeSessions { .. } => "purge_sessions",
            },
            Change::Policy(PolicyChange::Record(_)) => "record_policy_version",
            Change::Requests(RequestChange::Put { .. }) => "put_request",
            Change::Holds(HoldChange::Put(_)) => "put_legal_hold",
            Change::Marketing(change) => match change {
                MarketingChange::ReplaceNix(_) => "replace_nix",
                MarketingChange::Suppress(_) => "suppress",
                MarketingChange::SpendLink(_) => "spend_link",
            },
            Change::Consent(ConsentChange::Record(_)) => "record_consent",
            Change::CarryAudit(_) => "carry_audit",
        }
    }

    /// Rows the change writes, roughly: what a group commit weighs to keep its transactions a
    /// sensible size.
    pub fn weight(&self) -> usize {
        match self {
            Change::Subjects(SubjectChange::Insert(subjects)) => subjects
                .iter()
                .map(|s| 1 + s.record.values.len() + s.index.len() + s.record.activities.len())
                .sum(),
            Change::Subjects(SubjectChange::AddValues { values, index, .. }) => {
                values.len() + index.len()
            }
            Change::Subjects(SubjectChange::Erase { archive, .. }) => 1 + archive.len(),
            Change::Subjects(SubjectChange::RemoveValues {
                values, archive, ..
            }) => values.len() + archive.len(),
            Change::Archive(ArchiveChange::Shred(references)) => references.len(),
            Change::Keys(KeyChange::Rewrap(rows)) => rows.len(),
            Change::CarryAudit(entries) => entries.len(),
            _ => 1,
        }
    }
}

/// A change with the audit entries that describe it: one caller's unit of work.
#[derive(Debug, Clone)]
pub struct Job {
    pub change: Change,
    pub audit: Vec<AuditDraft>,
}

impl Job {
    /// The audit entries to chain once the change has been applied with `outcome`: none when
    /// nothing changed, the lockout's entries too when this failure locked the account.
    pub fn audit_after(&self, outcome: Outcome) -> impl Iterator<Item = &AuditDraft> {
        let lock: &[AuditDraft] = match (&self.change, outcome) {
            (
                Change::Users(UserChange::LoginFailure { lock_audit, .. }),
                Outcome::LoginFailure(failure),
            ) if failure.locked_now => lock_audit,
            _ => &[],
        };
        let own: &[AuditDraft] = if outcome.changed() { &self.audit } else { &[] };
        own.iter().chain(lock.iter())
    }

    /// Rows the job writes, audit entries included.
    pub fn weight(&self) -> usize {
        self.change.weight() + self.audit.len()
    }
}
