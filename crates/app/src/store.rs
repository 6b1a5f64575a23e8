//! The storage interface. Every backend (SQLite, PostgreSQL) implements [`Store`] and passes
//! the same conformance suite ([`crate::conformance`]).
//!
//! Records here hold ciphertext, never plaintext personal data: encryption happens above, in
//! the [`crate::vault::Vault`]. Every method that changes data takes the audit entries that
//! describe the change and writes them in the same transaction, so the log and the data can
//! never disagree.

use std::fmt;
use std::path::Path;

use async_trait::async_trait;
use integritet_domain::audit::{AuditDraft, AuditEntry, ChainHash};
use integritet_domain::subject::{ArchiveRef, Provenance, SubjectId, SubjectKind, ValueId};
use time::{Date, OffsetDateTime};

/// A subject as stored: its wrapped data key and its encrypted values.
#[derive(Clone, PartialEq, Eq)]
pub struct SubjectRecord {
    pub id: SubjectId,
    pub kind: SubjectKind,
    pub created_at: OffsetDateTime,
    /// The subject's data key, wrapped by the key-encryption key.
    pub wrapped_key: Vec<u8>,
    /// Art. 18: processing restricted to storage and legal claims.
    pub restricted: bool,
    /// Art. 21: purposes the subject objected to, which are refused for this subject.
    pub objections: Vec<ObjectionRecord>,
    pub values: Vec<ValueRecord>,
    pub activities: Vec<ActivityRecord>,
}

/// A subject's objection to one purpose (Art. 21).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectionRecord {
    pub purpose: String,
    pub at: OffsetDateTime,
}

/// A policy version the system enforced, with the text it was loaded from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyVersionRecord {
    /// The version id, `pv1-…` (BLAKE3 of the normalised policy).
    pub version: String,
    /// When the system first enforced it.
    pub activated_at: OffsetDateTime,
    /// The policy file's text as loaded.
    pub source: String,
}

impl fmt::Debug for SubjectRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SubjectRecord")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("values", &self.values.len())
            .field("activities", &self.activities.len())
            .finish_non_exhaustive()
    }
}

/// One encrypted value.
#[derive(Clone, PartialEq, Eq)]
pub struct ValueRecord {
    pub id: ValueId,
    pub category: String,
    /// AEAD ciphertext; the associated data binds subject id and category.
    pub ciphertext: Vec<u8>,
    pub provenance: Provenance,
    pub collected_at: OffsetDateTime,
    /// Purposes of the policy the value was collected for.
    pub purposes: Vec<String>,
    /// The policy version in force when the value was collected or last changed.
    pub policy_version: String,
}

impl fmt::Debug for ValueRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ValueRecord")
            .field("id", &self.id)
            .field("category", &self.category)
            .field("purposes", &self.purposes)
            .finish_non_exhaustive()
    }
}

/// A keyed blind-index token pointing at one value, for exact-match lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexEntry {
    /// The lookup kind, e.g. `email` (a category name).
    pub kind: String,
    pub token: [u8; 32],
    pub value: ValueId,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityRecord {
    pub kind: String,
    pub at: OffsetDateTime,
}

/// A new subject with its values, index entries and first activities.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSubject {
    pub record: SubjectRecord,
    pub index: Vec<IndexEntry>,
}

/// Values kept only because a law requires it: sealed under their own key, without index,
/// found only by reference.
#[derive(Clone, PartialEq, Eq)]
pub struct ArchiveRecord {
    pub reference: ArchiveRef,
    pub created_at: OffsetDateTime,
    /// The day after which the entry is shredded.
    pub shred_after: Date,
    pub purposes: Vec<String>,
    pub categories: Vec<String>,
    /// The entry's key, wrapped under the archive key of its shred day.
    pub wrapped_key: Vec<u8>,
    /// The sealed bundle (subject id and values).
    pub ciphertext: Vec<u8>,
    pub policy_version: String,
}

impl fmt::Debug for ArchiveRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ArchiveRecord")
            .field("reference", &self.reference)
            .field("shred_after", &self.shred_after)
            .field("categories", &self.categories)
            .finish_non_exhaustive()
    }
}

/// Proof that a subject was erased: no personal data, only what kind of data went where.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ErasureRecord {
    pub subject: SubjectId,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Categories whose values were destroyed.
    pub erased: Vec<String>,
    /// Categories moved to the archive because a legal obligation still holds them.
    pub archived: Vec<String>,
    /// Why: `request`, `retention`, `restore-replay`, …
    pub reason: String,
}

/// A staff API token as stored: never the secret, only its hash.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenRecord {
    /// The short public id, e.g. `tok_3f2a9c1e`: what lists, revocation and audit entries name.
    pub id: String,
    /// BLAKE3 of the secret; the secret itself is shown once and never stored.
    pub hash: [u8; 32],
    /// The policy role the token acts as.
    pub role: String,
    pub label: Option<String>,
    pub created_at: OffsetDateTime,
    pub expires_at: Option<OffsetDateTime>,
    pub revoked_at: Option<OffsetDateTime>,
}

impl fmt::Debug for TokenRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenRecord")
            .field("id", &self.id)
            .field("role", &self.role)
            .field("label", &self.label)
            .field("created_at", &self.created_at)
            .field("expires_at", &self.expires_at)
            .field("revoked_at", &self.revoked_at)
            .finish_non_exhaustive()
    }
}

/// A console user as stored: the password only as an argon2id PHC string.
#[derive(Clone, PartialEq, Eq)]
pub struct UserRecord {
    /// The login name (lower case), also the actor id's suffix: `user:<name>`.
    pub name: String,
    /// A role of the policy, or `admin`.
    pub role: String,
    /// `$argon2id$v=19$m=…,t=…,p=…$salt$hash`.
    pub password_hash: String,
    pub created_at: OffsetDateTime,
    pub disabled_at: Option<OffsetDateTime>,
    /// Failed logins in a row since the last success or the end of the last lockout.
    pub failed_logins: u32,
    /// Logins are refused until then.
    pub locked_until: Option<OffsetDateTime>,
}

impl fmt::Debug for UserRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserRecord")
            .field("name", &self.name)
            .field("role", &self.role)
            .field("created_at", &self.created_at)
            .field("disabled_at", &self.disabled_at)
            .field("failed_logins", &self.failed_logins)
            .field("locked_until", &self.locked_until)
            .finish_non_exhaustive()
    }
}

/// A console session as stored: only the BLAKE3 hash of its secret, which lives in the
/// browser's cookie.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub hash: [u8; 32],
    /// The user's login name.
    pub user: String,
    pub created_at: OffsetDateTime,
    /// The last request seen with the session (kept to the minute), for the idle timeout.
    pub last_seen_at: OffsetDateTime,
}

impl fmt::Debug for SessionRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionRecord")
            .field("user", &self.user)
            .field("created_at", &self.created_at)
            .field("last_seen_at", &self.last_seen_at)
            .finish_non_exhaustive()
    }
}

/// When failed logins lock an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutRule {
    /// Failed logins in a row that lock the account.
    pub max_failures: u32,
    /// How long a lockout lasts.
    pub duration: time::Duration,
}

/// A failed login as counted by the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginFailure {
    /// Failed logins in a row, this one included.
    pub failures: u32,
    /// Set when the account is locked.
    pub locked_until: Option<OffsetDateTime>,
    /// Whether this failure is the one that locked it.
    pub locked_now: bool,
}

/// The store's own failures. "Not found" is not an error: methods return `Option`/`bool`.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be reached or refused the operation.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// Stored data is not as written (a damaged row, a broken migration).
    #[error("stored data is damaged: {0}")]
    Corrupt(String),
    /// Two writers raced; the operation may be retried.
    #[error("a concurrent change conflicted: {0}")]
    Conflict(String),
    /// The backend cannot do this (e.g. online backup on PostgreSQL).
    #[error("{0}")]
    Unsupported(String),
}

/// One page of the wrapped data keys, for key rotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrappedKeyRow {
    pub subject: SubjectId,
    pub wrapped_key: Vec<u8>,
}

/// Counts for summaries and benchmarks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StoreCounts {
    pub subjects: u64,
    pub values: u64,
    pub index_entries: u64,
    pub archive_entries: u64,
    pub erasures: u64,
    pub audit_entries: u64,
}

#[async_trait]
pub trait Store: Send + Sync + fmt::Debug {
    /// Which backend: `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;

    /// Inserts subjects with their values, index entries and activities, and the audit entries,
    /// in one transaction.
    async fn insert_subjects(
        &self,
        subjects: Vec<NewSubject>,
        audit: Vec<AuditDraft>,
    ) -> Result<(), StoreError>;

    /// A subject with all its values and activities, or `None` when there is none (or it was
    /// erased).
    async fn subject(&self, id: SubjectId) -> Result<Option<SubjectRecord>, StoreError>;

    /// Subjects whose index has `token` under `kind`.
    async fn lookup(&self, kind: &str, token: &[u8; 32]) -> Result<Vec<SubjectId>, StoreError>;

    /// Replaces one value (rectification): the old ciphertext and its index entries are gone
    /// afterwards. Returns false when the subject has no such value.
    async fn replace_value(
        &self,
        subject: SubjectId,
        old: ValueId,
        new: ValueRecord,
        index: Vec<IndexEntry>,
        audit: Vec<AuditDraft>,
    ) -> Result<bool, StoreError>;

    /// Adds values to an existing subject. Returns false when there is no such subject.
    async fn add_values(
        &self,
        subject: SubjectId,
        values: Vec<ValueRecord>,
        index: Vec<IndexEntry>,
        audit: Vec<AuditDraft>,
    ) -> Result<bool, StoreError>;

    /// Records activity events. Returns false when there is no such subject.
    async fn add_activities(
        &self,
        subject: SubjectId,
        activities: Vec<ActivityRecord>,
        audit: Vec<AuditDraft>,
    ) -> Result<bool, StoreError>;

    /// Writes audit entries on their own (reads, lookups, refusals, exports).
    async fn append_audit(&self, audit: Vec<AuditDraft>) -> Result<(), StoreError>;

    /// Erases a subject: values, index entries, activities and the wrapped key go; `archive`
    /// entries are stored; the erasure record is kept. Returns false when there was no such
    /// subject (the erasure record is still written, so a replay is idempotent).
    async fn erase_subject(
        &self,
        erasure: ErasureRecord,
        archive: Vec<ArchiveRecord>,
        audit: Vec<AuditDraft>,
    ) -> Result<bool, StoreError>;

    /// Whether an erasure of this subject is recorded.
    async fn is_erased(&self, subject: SubjectId) -> Result<bool, StoreError>;

    /// Every erasure record, oldest first.
    async fn erasures(&self) -> Result<Vec<ErasureRecord>, StoreError>;

    /// One archive entry by its reference.
    async fn archive_entry(
        &self,
        reference: &ArchiveRef,
    ) -> Result<Option<ArchiveRecord>, StoreError>;

    /// References of archive entries whose shred day is before `today`.
    async fn archive_due(&self, today: Date) -> Result<Vec<ArchiveRef>, StoreError>;

    /// Deletes archive entries (their ciphertext and wrapped key) with their audit entries.
    async fn shred_archive(
        &self,
        references: Vec<ArchiveRef>,
        audit: Vec<AuditDraft>,
    ) -> Result<u64, StoreError>;

    /// Wrapped data keys ordered by subject id, after `after`, at most `limit`.
    async fn wrapped_keys(
        &self,
        after: Option<SubjectId>,
        limit: u32,
    ) -> Result<Vec<WrappedKeyRow>, StoreError>;

    /// Replaces wrapped data keys (after a key rotation).
    async fn rewrap_keys(
        &self,
        rows: Vec<WrappedKeyRow>,
        audit: Vec<AuditDraft>,
    ) -> Result<(), StoreError>;

    /// Audit entries with `seq > after`, in order, at most `limit`.
    async fn audit_entries(&self, after: u64, limit: u32) -> Result<Vec<AuditEntry>, StoreError>;

    /// The last entry's seq and hash as recorded beside the log.
    async fn audit_head(&self) -> Result<Option<(u64, ChainHash)>, StoreError>;

    async fn counts(&self) -> Result<StoreCounts, StoreError>;

    /// A consistent copy of the whole store at `dest`, taken while the store stays usable.
    async fn backup_to(&self, dest: &Path) -> Result<(), StoreError>;

    /// Stores a new staff token with its audit entries. A token whose id or hash is already
    /// stored is refused with [`StoreError::Conflict`].
    async fn insert_token(
        &self,
        token: TokenRecord,
        audit: Vec<AuditDraft>,
    ) -> Result<(), StoreError>;

    /// The token whose secret hashes to `hash`, revoked or expired ones included (the caller
    /// decides), or `None`.
    async fn token_by_hash(&self, hash: &[u8; 32]) -> Result<Option<TokenRecord>, StoreError>;

    /// Every token, oldest first.
    async fn list_tokens(&self) -> Result<Vec<TokenRecord>, StoreError>;

    /// Marks a token revoked at `at`, with its audit entries. Returns false when there is no
    /// such token or it was already revoked; then nothing changes and nothing is audited.
    async fn revoke_token(
        &self,
        id: &str,
        at: OffsetDateTime,
        audit: Vec<AuditDraft>,
    ) -> Result<bool, StoreError>;

    /// Whether the database answers (for `/readyz`).
    async fn ping(&self) -> Result<(), StoreError>;

    /// Sets or lifts a subject's restriction of processing (Art. 18); false when there is no
    /// such subject (and then nothing is written).
    async fn set_restricted(
        &self,
        subject: SubjectId,
        restricted: bool,
        audit: Vec<AuditDraft>,
    ) -> Result<bool, StoreError>;

    /// Records an objection (Art. 21); an existing objection to the same purpose keeps its
    /// first time. False when there is no such subject.
    async fn add_objection(
        &self,
        subject: SubjectId,
        objection: ObjectionRecord,
        audit: Vec<AuditDraft>,
    ) -> Result<bool, StoreError>;

    /// Removes an objection; false when the subject had none to that purpose.
    async fn withdraw_objection(
        &self,
        subject: SubjectId,
        purpose: &str,
        audit: Vec<AuditDraft>,
    ) -> Result<bool, StoreError>;

    /// Records a policy version the first time it is enforced, with `audit`; false (and nothing
    /// written) when the version is known already.
    async fn record_policy_version(
        &self,
        record: PolicyVersionRecord,
        audit: Vec<AuditDraft>,
    ) -> Result<bool, StoreError>;

    /// Every policy version enforced, oldest first.
    async fn policy_versions(&self) -> Result<Vec<PolicyVersionRecord>, StoreError>;

    // Console users and sessions (see `crate::users`).

    /// Stores a new console user with its audit entries. A name already taken is refused with
    /// [`StoreError::Conflict`].
    async fn insert_user(&self, user: UserRecord, audit: Vec<AuditDraft>)
    -> Result<(), StoreError>;

    /// The user with this login name, disabled ones included, or `None`.
    async fn user(&self, name: &str) -> Result<Option<UserRecord>, StoreError>;

    /// Every user, oldest first.
    async fn list_users(&self) -> Result<Vec<UserRecord>, StoreError>;

    /// Disables a user at `at` and deletes its sessions, with the audit entries. False when
    /// there is no such user or it is disabled already; then nothing changes.
    async fn disable_user(
        &self,
        name: &str,
        at: OffsetDateTime,
        audit: Vec<AuditDraft>,
    ) -> Result<bool, StoreError>;

    /// Counts a failed login of an enabled user at `at`, atomically, so that servers sharing
    /// the database agree: the count restarts at 1 after a lockout has ended, and reaching
    /// `rule.max_failures` locks the account until `at + rule.duration`. Writes `audit`, and
    /// `lock_audit` too when this failure locked the account. `None` (and nothing written)
    /// when there is no such enabled user.
    async fn record_login_failure(
        &self,
        name: &str,
        at: OffsetDateTime,
        rule: LockoutRule,
        audit: Vec<AuditDraft>,
        lock_audit: Vec<AuditDraft>,
    ) -> Result<Option<LoginFailure>, StoreError>;

    /// Starts a session after a successful login: resets the user's failed-login count and
    /// stores the session, with the audit entries. False (and nothing written) when the user
    /// is missing, disabled, or locked at `session.created_at`.
    async fn start_session(
        &self,
        session: SessionRecord,
        audit: Vec<AuditDraft>,
    ) -> Result<bool, StoreError>;

    /// The session whose secret hashes to `hash`, with its user, or `None`.
    async fn session(
        &self,
        hash: &[u8; 32],
    ) -> Result<Option<(SessionRecord, UserRecord)>, StoreError>;

    /// Moves a session's last-seen time to `at`; false when there is no such session.
    async fn touch_session(&self, hash: &[u8; 32], at: OffsetDateTime) -> Result<bool, StoreError>;

    /// Deletes a session, with the audit entries; false (and nothing audited) when there is
    /// none.
    async fn end_session(
        &self,
        hash: &[u8; 32],
        audit: Vec<AuditDraft>,
    ) -> Result<bool, StoreError>;

    /// Deletes the sessions last seen before `idle_before` or created before
    /// `created_before` (expired ones); returns how many.
    async fn purge_sessions(
        &self,
        idle_before: OffsetDateTime,
        created_before: OffsetDateTime,
    ) -> Result<u64, StoreError>;
}
