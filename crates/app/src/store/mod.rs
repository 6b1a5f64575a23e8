//! The storage interface, split by capability. Every backend (SQLite, PostgreSQL) implements
//! each capability trait and passes the same conformance suite ([`crate::conformance`]).
//!
//! - Reads are one trait per capability: [`SubjectStore`], [`ArchiveStore`], [`AuditStore`],
//!   [`KeyStore`], [`TokenStore`], [`UserStore`], [`PolicyStore`], and [`Maintenance`].
//! - Every change goes through one door, [`UnitOfWork::commit`], as a [`Change`] with the audit
//!   entries that describe it, which the store writes in the same transaction: the log and the
//!   data never disagree. [`Writes`] names the everyday changes for callers.
//! - [`Store`] is all of them; the vault holds an `Arc<dyn Store>`.
//!
//! A new capability adds its read trait here, its variant of [`Change`], and its conformance
//! module; each backend implements both once.

mod chain_key;
mod change;
pub mod group;
mod meter;
mod records;

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use integritet_domain::audit::{
    AuditAction, AuditDraft, AuditEntry, ChainHash, ChainKey, ChainLink,
};
use integritet_domain::subject::{ArchiveRef, SubjectId, ValueId};
use time::{Date, OffsetDateTime};

pub use chain_key::ChainKeySlot;
pub use change::{
    ArchiveChange, Change, ConsentChange, HoldChange, Job, KeyChange, MarketingChange, Outcome,
    PolicyChange, RequestChange, SubjectChange, TokenChange, UserChange,
};
pub use meter::{Meter, StoreObserver};
pub use records::*;

/// Every trait of the store, to bring their methods into scope at once:
/// `use integritet_app::store::prelude::*;`.
pub mod prelude {
    pub use super::{
        ArchiveStore, AuditStore, ConsentStore, HoldStore, JobStore, KeyStore, Maintenance,
        MarketingStore, PolicyStore, RequestStore, Store, SubjectStore, SuppressionStore,
        TokenStore, UnitOfWork, UserStore, Writes,
    };
}

/// Subjects as stored, and the erasure records of those that are gone.
#[async_trait]
pub trait SubjectStore: Send + Sync {
    /// A subject with all its values and activities, or `None` when there is none (or it was
    /// erased).
    async fn subject(&self, id: SubjectId) -> Result<Option<SubjectRecord>, StoreError>;

    /// Up to `limit` whole subjects in id order, starting after `after`: how a sweep walks
    /// every subject. Each subject is read as of one moment.
    async fn subjects_after(
        &self,
        after: Option<SubjectId>,
        limit: u32,
    ) -> Result<Vec<SubjectRecord>, StoreError>;

    /// Subjects whose index has `token` under `kind`.
    async fn lookup(&self, kind: &str, token: &[u8; 32]) -> Result<Vec<SubjectId>, StoreError>;

    /// Whether an erasure of this subject is recorded.
    async fn is_erased(&self, subject: SubjectId) -> Result<bool, StoreError>;

    /// Every erasure record, oldest first.
    async fn erasures(&self) -> Result<Vec<ErasureRecord>, StoreError>;

    /// Every subject whose processing is restricted, and every objection, by subject id
    /// (what a restore must apply again).
    async fn restrictions_and_objections(&self) -> Result<SubjectsSay, StoreError>;
}

/// What subjects have said about the use of their data: restrictions (Art. 18) and
/// objections (Art. 21), by subject id only.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubjectsSay {
    pub restricted: Vec<SubjectId>,
    pub objections: Vec<(SubjectId, ObjectionRecord)>,
}

/// The archive: read only by reference.
#[async_trait]
pub trait ArchiveStore: Send + Sync {
    /// One archive entry by its reference.
    async fn archive_entry(
        &self,
        reference: &ArchiveRef,
    ) -> Result<Option<ArchiveRecord>, StoreError>;

    /// References of archive entries whose shred day is before `today`.
    async fn archive_due(&self, today: Date) -> Result<Vec<ArchiveRef>, StoreError>;

    /// Whether the archive holds any entry (at start-up, to know whether the archive's keys
    /// must exist already). A backend overrides this with a query that stops at the first.
    async fn has_archive_entries(&self) -> Result<bool, StoreError> {
        Ok(!self.archive_due(Date::MAX).await?.is_empty())
    }
}

/// The audit log as written.
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Audit entries with `after < seq <= until`, in order, at most `limit`.
    async fn audit_entries(
        &self,
        after: u64,
        until: u64,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError>;

    /// The links of the entries with `after < seq <= until`, in order, at most `limit`: what
    /// each entry records and the hash its stored content gives, computed as the rows are read
    /// so that verifying copies no row into owned strings.
    async fn audit_links(
        &self,
        after: u64,
        until: u64,
        limit: u32,
    ) -> Result<Vec<ChainLink>, StoreError>;

    /// The last entry's seq and hash as recorded beside the log.
    async fn audit_head(&self) -> Result<Option<(u64, ChainHash)>, StoreError>;

    /// The entry of `action` with the highest seq at most `until` (the last signed checkpoint,
    /// say), if any.
    async fn last_audit_entry(
        &self,
        action: AuditAction,
        until: u64,
    ) -> Result<Option<AuditEntry>, StoreError>;

    /// Every disclosure of `subject`'s data recorded in the log, oldest first (what an
    /// access report lists as its recipients, Art. 15(1)(c)).
    async fn disclosures_of(&self, subject: SubjectId) -> Result<Vec<AuditEntry>, StoreError>;

    /// Chains and verifies entries under `key` from now on. Set once, right after opening;
    /// until then entries are hashed unkeyed.
    fn use_chain_key(&self, key: ChainKey) -> Result<(), StoreError>;
}

/// The marketing suppression list.
#[async_trait]
pub trait SuppressionStore: Send + Sync {
    /// Whether the keyed hash `hash` of a value of `kind` is on the list.
    async fn is_suppressed(&self, kind: &str, hash: &[u8; 32]) -> Result<bool, StoreError>;
}

/// Data subjects' requests.
#[async_trait]
pub trait RequestStore: Send + Sync {
    /// One request by id.
    async fn request(&self, id: uuid::Uuid) -> Result<Option<RequestRow>, StoreError>;

    /// Every request, the one due first first.
    async fn list_requests(&self) -> Result<Vec<RequestRow>, StoreError>;
}

/// Cookie consent records.
#[async_trait]
pub trait ConsentStore: Send + Sync {
    /// One record by id.
    async fn consent_record(&self, id: uuid::Uuid) -> Result<Option<ConsentRow>, StoreError>;

    /// Up to `limit` records made at or after `since`, oldest first; `after` continues a
    /// listing after the record of that time and id.
    async fn consent_records(
        &self,
        since: time::OffsetDateTime,
        after: Option<(time::OffsetDateTime, uuid::Uuid)>,
        limit: u32,
    ) -> Result<Vec<ConsentRow>, StoreError>;
}

/// Marketing: the NIX-Telefon register and spent unsubscribe links.
#[async_trait]
pub trait MarketingStore: Send + Sync {
    /// Whether the keyed hash of a normalised phone number is in the NIX register.
    async fn is_nix_listed(&self, hash: &[u8; 32]) -> Result<bool, StoreError>;

    /// How many numbers the NIX register holds.
    async fn nix_entries(&self) -> Result<u64, StoreError>;

    /// The spent link with this id, if it was used or revoked.
    async fn spent_link(&self, id: [u8; 16]) -> Result<Option<SpentLink>, StoreError>;
}

/// Legal holds on subjects.
#[async_trait]
pub trait HoldStore: Send + Sync {
    /// Every legal hold, released ones included.
    async fn legal_holds(&self) -> Result<Vec<HoldRow>, StoreError>;
}

/// Daily jobs (the retention sweep) that one server at a time runs, once a day, however many
/// share the store.
#[async_trait]
pub trait JobStore: Send + Sync {
    /// Takes the job `name` for `day`: `None` when another process holds it now or it is done
    /// for `day` already. The job is done for `day` once [`DailyJob::done`] returns; a job
    /// dropped before that (a failure, a crash) is free for the next try.
    async fn take_daily_job(
        &self,
        name: &str,
        day: Date,
    ) -> Result<Option<Box<dyn DailyJob>>, StoreError>;
}

/// A daily job taken by this process (see [`JobStore::take_daily_job`]).
#[async_trait]
pub trait DailyJob: Send {
    /// Records the job done for its day and lets it go.
    async fn done(self: Box<Self>) -> Result<(), StoreError>;
}

/// The wrapped data keys, for key rotation.
#[async_trait]
pub trait KeyStore: Send + Sync {
    /// Wrapped data keys ordered by subject id, after `after`, at most `limit`.
    async fn wrapped_keys(
        &self,
        after: Option<SubjectId>,
        limit: u32,
    ) -> Result<Vec<WrappedKeyRow>, StoreError>;
}

/// Staff API tokens.
#[async_trait]
pub trait TokenStore: Send + Sync {
    /// The token whose secret hashes to `hash`, revoked or expired ones included (the caller
    /// decides), or `None`.
    async fn token_by_hash(&self, hash: &[u8; 32]) -> Result<Option<TokenRecord>, StoreError>;

    /// Every token, oldest first.
    async fn list_tokens(&self) -> Result<Vec<TokenRecord>, StoreError>;
}

/// Console users and their sessions (see `crate::users`).
#[async_trait]
pub trait UserStore: Send + Sync {
    /// The user with this login name, disabled ones included, or `None`.
    async fn user(&self, name: &str) -> Result<Option<UserRecord>, StoreError>;

    /// Every user, oldest first.
    async fn list_users(&self) -> Result<Vec<UserRecord>, StoreError>;

    /// The session whose secret hashes to `hash`, with its user, or `None`.
    async fn session(
        &self,
        hash: &[u8; 32],
    ) -> Result<Option<(SessionRecord, UserRecord)>, StoreError>;
}

/// The policy versions the system enforced.
#[async_trait]
pub trait PolicyStore: Send + Sync {
    /// Every policy version enforced, oldest first.
    async fn policy_versions(&self) -> Result<Vec<PolicyVersionRecord>, StoreError>;
}

/// Running the store itself.
#[async_trait]
pub trait Maintenance: Send + Sync {
    /// Which backend: `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;

    /// Whether the database answers (for `/readyz`).
    async fn ping(&self) -> Result<(), StoreError>;

    /// Counts for summaries and benchmarks.
    async fn counts(&self) -> Result<StoreCounts, StoreError>;

    /// A consistent copy of the whole store at `dest`, taken while the store stays usable.
    async fn backup_to(&self, dest: &Path) -> Result<(), StoreError>;

    /// Reports every operation from now on to `observer` (one observer per store; a second is
    /// ignored).
    fn observe(&self, observer: Arc<dyn StoreObserver>);
}

/// The one way to change a store.
#[async_trait]
pub trait UnitOfWork: Send + Sync {
    /// Applies `change` and writes `audit` onto the chain, atomically, and says what happened.
    /// When the change finds nothing to change ([`Outcome::Nothing`]) nothing is written, not
    /// even the audit entries. The write is durable when this returns.
    async fn commit(&self, change: Change, audit: Vec<AuditDraft>) -> Result<Outcome, StoreError>;
}

/// Everything a backend offers.
pub trait Store:
    SubjectStore
    + ArchiveStore
    + AuditStore
    + KeyStore
    + TokenStore
    + UserStore
    + PolicyStore
    + RequestStore
    + HoldStore
    + JobStore
    + SuppressionStore
    + MarketingStore
    + ConsentStore
    + Maintenance
    + UnitOfWork
    + fmt::Debug
{
}

impl<T> Store for T where
    T: SubjectStore
        + ArchiveStore
        + AuditStore
        + KeyStore
        + TokenStore
        + UserStore
        + PolicyStore
        + RequestStore
        + HoldStore
        + JobStore
        + SuppressionStore
        + MarketingStore
        + ConsentStore
        + Maintenance
        + UnitOfWork
        + fmt::Debug
{
}

/// The everyday changes by name, each one [`UnitOfWork::commit`] of its [`Change`]. Written
/// once here for every store.
#[async_trait]
pub trait Writes: UnitOfWork {
    /// Inserts subjects with their values, index entries and activities.
    async fn insert_subjects(
        &self,
        subjects: Vec<NewSubject>,
        audit: Vec<AuditDraft>,
    ) -> Result<(), StoreError> {
        self.commit(Change::Subjects(SubjectChange::Insert(subjects)), audit)
            .await
            .map(drop)
    }

    /// Writes audit entries on their own (reads, lookups, refusals, exports).
    async fn append_audit(&self, audit: Vec<AuditDraft>) -> Result<(), StoreError> {
        if audit.is_empty() {
            return Ok(());
        }
        self.commit(Change::Audit, audit).await.map(drop)
    }

    /// Replaces one value (rectification); false when the subject has no such value.
    async fn replace_value(
        &self,
        subject: SubjectId,
        old: ValueId,
        new: ValueRecord,
        index: Vec<IndexEntry>,
        audit: Vec<AuditDraft>,
    ) -> Result<bool, StoreError> {
        let change = SubjectChange::ReplaceValue {
            subject,
            old,
            new,
            index,
        };
        changed(self.commit(Change::Subjects(change), audit).await)
    }

    /// Adds values to an existing subject; false when there is no such subject.
    async fn add_values(
        &self,
        subject: SubjectId,
        values: Vec<ValueRecord>,
        index: Vec<IndexEntry>,
        audit: Vec<AuditDraft>,
    ) -> Result<bool, StoreError> {
        let change = SubjectChange::AddValues {
            subject,
            values,
            index,
        };
        changed(self.commit(Change::Subjects(change), audit).await)
    }

    /// Records activity events; false when there is no such subject.
    async fn add_activities(
        &self,
        subject: SubjectId,
        activities: Vec<ActivityRecord>,
        audit: Vec<AuditDraft>,
    ) -> Result<bool, StoreError> {
        let change = SubjectChange::AddActivities {
            subject,
            activities,
        };
        changed(self.commit(Change::Subjects(change), audit).await)
    }

    /// Erases a subject, stores `archive` and keeps the erasure record; false when there was
    /// no such subject (the record and the audit entries are written all the same). With
    /// `planned`, a `Conflict` when the subject's values are no longer those (see
    /// [`SubjectChange::Erase`]).
    async fn erase_subject(
        &self,
        erasure: ErasureRecord,
        archive: Vec<ArchiveRecord>,
        planned: Option<Vec<ValueId>>,
        audit: Vec<AuditDraft>,
    ) -> Result<bool, StoreError> {
        let change = SubjectChange::Erase {
            erasure,
            archive,
            planned,
        };
        match self.commit(Change::Subjects(change), audit).await? {
            Outcome::Erased { existed } => Ok(existed),
            // Planned, and erased by someone else meanwhile: nothing written.
            Outcome::Nothing => Ok(false),
            other => Err(unexpected(other)),
        }
    }

    /// Replaces the NIX register; how many distinct numbers it now holds.
    async fn replace_nix(
        &self,
        hashes: Vec<[u8; 32]>,
        audit: Vec<AuditDraft>,
    ) -> Result<u64, StoreError> {
        match self
            .commit(
                Change::Marketing(MarketingChange::ReplaceNix(hashes)),
                audit,
            )
            .await?
        {
            Outcome::Count(n) => Ok(n),
            other => Err(unexpected(other)),
        }
    }

    /// Puts entries on the suppression list with no subject; false when all were there
    /// (nothing is written then, not even the audit entries).
    async fn suppress(
        &self,
        entries: Vec<SuppressionEntry>,
        audit: Vec<AuditDraft>,
    ) -> Result<bool, StoreError> {
        self.commit(Change::Marketing(MarketingChange::Suppress(entries)), audit)
            .await
            .map(|outcome| outcome.changed())
    }

    /// Records a link as used or revoked; false when it was spent already.
    async fn spend_link(
        &self,
        link: SpentLink,
        audit: Vec<AuditDraft>,
    ) -> Result<bool, StoreError> {
        self.commit(Change::Marketing(MarketingChange::SpendLink(link)), audit)
            .await
            .map(|outcome| outcome.changed())
    }

    /// Keeps a consent record; false when one with its id is there.
    async fn record_consent(
        &self,
        row: ConsentRow,
        audit: Vec<AuditDraft>,
    ) -> Result<bool, StoreError> {
        self.commit(Change::Consent(ConsentChange::Record(row)), audit)
            .await
            .map(|outcome| outcome.changed())
    }

    /// Stores a legal hold, or replaces the one with its id.
    async fn put_legal_hold(&self, row: HoldRow, audit: Vec<AuditDraft>) -> Result<(), StoreError> {
        self.commit(Change::Holds(HoldChange::Put(row)), audit)
            .await
            .map(drop)
    }

    /// Removes `values` from a subject and stores `archive` (retention); false when there is
    /// no such subject. A `Conflict` when its values are no longer `planned` (see
    /// [`SubjectChange::RemoveValues`]).
    async fn remove_values(
        &self,
        subject: SubjectId,
        values: Vec<ValueId>,
        archive: Vec<ArchiveRecord>,
        planned: Vec<ValueId>,
        audit: Vec<AuditDraft>,
    ) -> Result<bool, StoreError> {
        let change = SubjectChange::RemoveValues {
            subject,
            values,
            archive,
            planned,
        };
        changed(self.commit(Change::Subjects(change), audit).await)
    }

    /// Sets or lifts a subject's restriction (Art. 18); false when there is no such subject.
    async fn set_restricted(
        &self,
        subject: SubjectId,
        restricted: bool,
        audit: Vec<AuditDraft>,
    ) -> Result<bool, StoreError> {
        let change = SubjectChange::SetRestricted {
            subject,
            restricted,
        };
        changed(self.commit(Change::Subjects(change), audit).await)
    }

    /// Records an objection (Art. 21); false when there is no such subject.
    async fn add_objection(
        &self,
        subject: SubjectId,
        objection: ObjectionRecord,
        audit: Vec<AuditDraft>,
    ) -> Result<bool, StoreError> {
        self.add_objection_suppressing(subject, objection, Vec::new(), audit)
            .await
    }

    /// Records an objection and puts `suppress` on the suppression list, in one transaction;
    /// false (and nothing written) when there is no such subject.
    async fn add_objection_suppressing(
        &self,
        subject: SubjectId,
        objection: ObjectionRecord,
        suppress: Vec<SuppressionEntry>,
        audit: Vec<AuditDraft>,
    ) -> Result<bool, StoreError> {
        let change = SubjectChange::AddObjection {
            subject,
            objection,
            suppress,
        };
        changed(self.commit(Change::Subjects(change), audit).await)
    }

    /// Removes an objection; false when the subject had none to that purpose.
    async fn withdraw_objection(
        &self,
        subject: SubjectId,
        purpose: &str,
        audit: Vec<AuditDraft>,
    ) -> Result<bool, StoreError> {
        let change = SubjectChange::WithdrawObjection {
            subject,
            purpose: purpose.to_owned(),
        };
        changed(self.commit(Change::Subjects(change), audit).await)
    }

    /// Deletes archive entries; how many there were.
    async fn shred_archive(
        &self,
        references: Vec<ArchiveRef>,
        audit: Vec<AuditDraft>,
    ) -> Result<u64, StoreError> {
        let change = Change::Archive(ArchiveChange::Shred(references));
        count(self.commit(change, audit).await)
    }

    /// Writes the archive entries sealed on `created_on` again in a random order (see
    /// [`ArchiveChange::Reshuffle`]); how many.
    async fn reshuffle_archive(&self, created_on: Date) -> Result<u64, StoreError> {
        let change = Change::Archive(ArchiveChange::Reshuffle { created_on });
        count(self.commit(change, Vec::new()).await)
    }

    /// Replaces wrapped data keys (after a key rotation).
    async fn rewrap_keys(
        &self,
        rows: Vec<WrappedKeyRow>,
        audit: Vec<AuditDraft>,
    ) -> Result<(), StoreError> {
        self.commit(Change::Keys(KeyChange::Rewrap(rows)), audit)
            .await
            .map(drop)
    }

    /// Stores a new staff token; an id or hash already stored is a `Conflict`.
    async fn insert_token(
        &self,
        token: TokenRecord,
        audit: Vec<AuditDraft>,
    ) -> Result<(), StoreError> {
        self.commit(Change::Tokens(TokenChange::Insert(token)), audit)
            .await
            .map(drop)
    }

    /// Marks a token revoked at `at`; false when there is no such token or it was revoked.
    async fn revoke_token(
        &self,
        id: &str,
        at: OffsetDateTime,
        mac: [u8; 32],
        audit: Vec<AuditDraft>,
    ) -> Result<bool, StoreError> {
        let change = TokenChange::Revoke {
            id: id.to_owned(),
            at,
            mac,
        };
        changed(self.commit(Change::Tokens(change), audit).await)
    }

    /// Appends another copy's entries as they are (see [`Change::CarryAudit`]); how many.
    async fn carry_audit(&self, entries: Vec<AuditEntry>) -> Result<u64, StoreError> {
        count(self.commit(Change::CarryAudit(entries), Vec::new()).await)
    }

    /// Records a policy version the first time it is enforced; false when it is known.
    async fn record_policy_version(
        &self,
        record: PolicyVersionRecord,
        audit: Vec<AuditDraft>,
    ) -> Result<bool, StoreError> {
        changed(
            self.commit(Change::Policy(PolicyChange::Record(record)), audit)
                .await,
        )
    }

    /// Stores a new console user; a name already taken is a `Conflict`.
    async fn insert_user(
        &self,
        user: UserRecord,
        audit: Vec<AuditDraft>,
    ) -> Result<(), StoreError> {
        self.commit(Change::Users(UserChange::Insert(user)), audit)
            .await
            .map(drop)
    }

    /// Disables a user and ends its sessions; false when there is no such enabled user.
    async fn disable_user(
        &self,
        name: &str,
        at: OffsetDateTime,
        mac: [u8; 32],
        audit: Vec<AuditDraft>,
    ) -> Result<bool, StoreError> {
        let change = UserChange::Disable {
            name: name.to_owned(),
            at,
            mac,
        };
        changed(self.commit(Change::Users(change), audit).await)
    }

    /// Counts a failed login (see [`UserChange::LoginFailure`]); `None` when there is no such
    /// enabled user.
    async fn record_login_failure(
        &self,
        name: &str,
        at: OffsetDateTime,
        rule: LockoutRule,
        audit: Vec<AuditDraft>,
        lock_audit: Vec<AuditDraft>,
    ) -> Result<Option<LoginFailure>, StoreError> {
        let change = UserChange::LoginFailure {
            name: name.to_owned(),
            at,
            rule,
            lock_audit,
        };
        match self.commit(Change::Users(change), audit).await? {
            Outcome::LoginFailure(failure) => Ok(Some(failure)),
            Outcome::Nothing => Ok(None),
            other => Err(unexpected(other)),
        }
    }

    /// Starts a session after a successful login; false when the user is missing, disabled or
    /// locked (unless `past_lock`: a browser the account is known on).
    async fn start_session(
        &self,
        session: SessionRecord,
        past_lock: bool,
        audit: Vec<AuditDraft>,
    ) -> Result<bool, StoreError> {
        changed(
            self.commit(
                Change::Users(UserChange::StartSession { session, past_lock }),
                audit,
            )
            .await,
        )
    }

    /// Moves a session's last-seen time to `at`; false when there is no such session.
    async fn touch_session(&self, hash: &[u8; 32], at: OffsetDateTime) -> Result<bool, StoreError> {
        let change = UserChange::TouchSession { hash: *hash, at };
        changed(self.commit(Change::Users(change), Vec::new()).await)
    }

    /// Deletes a session; false (and nothing audited) when there is none.
    async fn end_session(
        &self,
        hash: &[u8; 32],
        audit: Vec<AuditDraft>,
    ) -> Result<bool, StoreError> {
        let change = UserChange::EndSession { hash: *hash };
        changed(self.commit(Change::Users(change), audit).await)
    }

    /// Deletes expired sessions; how many.
    async fn purge_sessions(
        &self,
        idle_before: OffsetDateTime,
        created_before: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        let change = UserChange::PurgeSessions {
            idle_before,
            created_before,
        };
        count(self.commit(Change::Users(change), Vec::new()).await)
    }

    /// Writes a request (new when `replaces` is `None`); false when it changed meanwhile.
    async fn put_request(
        &self,
        row: RequestRow,
        replaces: Option<u64>,
        audit: Vec<AuditDraft>,
    ) -> Result<bool, StoreError> {
        let change = RequestChange::Put { row, replaces };
        changed(self.commit(Change::Requests(change), audit).await)
    }
}

impl<T: UnitOfWork + ?Sized> Writes for T {}

fn changed(outcome: Result<Outcome, StoreError>) -> Result<bool, StoreError> {
    outcome.map(Outcome::changed)
}

fn count(outcome: Result<Outcome, StoreError>) -> Result<u64, StoreError> {
    match outcome? {
        Outcome::Count(n) => Ok(n),
        Outcome::Nothing => Ok(0),
        other => Err(unexpected(other)),
    }
}

/// A backend answered a change with an outcome that change cannot have: a bug in the backend.
fn unexpected(outcome: Outcome) -> StoreError {
    StoreError::Corrupt(format!(
        "the store answered a change with an outcome it cannot have ({outcome:?}); this is a bug \
         in the storage backend"
    ))
}
