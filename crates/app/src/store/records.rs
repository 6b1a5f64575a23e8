//! What the stores keep, as records. They hold ciphertext, keyed tokens, ids and names, never
//! plaintext personal data: encryption happens above, in the [`crate::vault::Vault`].

use std::fmt;

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
    /// The keyed hash of the secret ([`crate::tokens::hash_secret`]); the secret itself is
    /// shown once and never stored.
    pub hash: [u8; 32],
    /// The policy role the token acts as.
    pub role: String,
    pub label: Option<String>,
    pub created_at: OffsetDateTime,
    pub expires_at: Option<OffsetDateTime>,
    pub revoked_at: Option<OffsetDateTime>,
    /// [`crate::tokens::token_mac`] of the fields above: a row edited in the database fails it.
    pub mac: [u8; 32],
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
    /// [`crate::users::user_mac`] of name, role, password hash, creation and disabling (not of
    /// the failure count, which every failed login changes).
    pub mac: [u8; 32],
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

/// A console session as stored: only the keyed hash of its secret, which lives in the
/// browser's cookie.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub hash: [u8; 32],
    /// The user's login name.
    pub user: String,
    pub created_at: OffsetDateTime,
    /// The last request seen with the session (kept to the minute), for the idle timeout.
    pub last_seen_at: OffsetDateTime,
    /// [`crate::users::session_mac`] of hash, user and start: a session moved to another user
    /// in the database fails it.
    pub mac: [u8; 32],
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
#[derive(Debug, Clone, thiserror::Error)]
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

/// A data subject's request as stored: the record sealed under the record key
/// ([`integritet_crypto::RecordKey::seal`], bound to its id) and, in the clear beside it, what
/// listing by deadline needs — no personal data. `version` grows by one with every change, so
/// two staff members changing one request at once cannot overwrite each other.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRow {
    pub id: uuid::Uuid,
    /// The state's name (`received`, `in_progress`, …).
    pub state: String,
    pub received_at: OffsetDateTime,
    pub due: Date,
    pub sealed: Vec<u8>,
    pub version: u64,
}

/// A legal hold as stored: the hold (reason, end date, who set and released it) sealed under
/// the record key and bound to its id and subject; beside it only the subject, for reading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoldRow {
    pub id: uuid::Uuid,
    pub subject: SubjectId,
    pub sealed: Vec<u8>,
}

/// An entry of the marketing suppression list: the keyed hash of a normalised e-mail address or
/// phone number (`kind` names which), never the value or the subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuppressionEntry {
    pub kind: String,
    pub hash: [u8; 32],
    pub at: OffsetDateTime,
}

/// A cookie consent record as stored: the decision sealed under the record key, bound to its
/// id; beside it only its time, for export by period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentRow {
    pub id: uuid::Uuid,
    pub at: OffsetDateTime,
    pub sealed: Vec<u8>,
}

/// An unsubscribe link that was used or revoked, named by the random id sealed inside it; the
/// MAC (under the record key) binds id, time and reason, so a planted row is told apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpentLink {
    pub id: [u8; 16],
    pub at: OffsetDateTime,
    /// `used` or `revoked`.
    pub reason: String,
    /// Kept as read: a MAC of the wrong length fails the check like a wrong one.
    pub mac: Vec<u8>,
}
