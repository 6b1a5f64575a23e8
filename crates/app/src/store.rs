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
    pub values: Vec<ValueRecord>,
    pub activities: Vec<ActivityRecord>,
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
}
