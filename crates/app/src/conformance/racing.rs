//! A store that replays a race on cue: it holds back the next change of a kind and commits it
//! just before the next change of another kind, the worst moment for the second. Scenarios use
//! it to show that a use case stays correct when another writer lands between its read and
//! its commit.

use std::fmt;
use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use integritet_domain::audit::{
    AuditAction, AuditDraft, AuditEntry, ChainHash, ChainKey, ChainLink,
};
use integritet_domain::subject::{ArchiveRef, SubjectId};
use time::Date;

use crate::store::{
    ArchiveRecord, ArchiveStore, AuditStore, Change, ErasureRecord, KeyStore, Maintenance, Outcome,
    PolicyStore, PolicyVersionRecord, SessionRecord, Store, StoreCounts, StoreError, StoreObserver,
    SubjectChange, SubjectRecord, SubjectStore, TokenRecord, TokenStore, UnitOfWork, UserRecord,
    UserStore, WrappedKeyRow,
};

/// Which changes the race is between.
type Picks = fn(&Change) -> bool;

/// Wraps a store; see the module docs.
pub struct RacingStore {
    inner: Arc<dyn Store>,
    /// What to hold back, what to let it in front of, and the held change.
    race: Mutex<Option<Race>>,
}

struct Race {
    hold: Picks,
    before: Picks,
    held: Option<(Change, Vec<AuditDraft>)>,
}

impl RacingStore {
    pub fn new(inner: Arc<dyn Store>) -> RacingStore {
        RacingStore {
            inner,
            race: Mutex::new(None),
        }
    }

    /// The next change that `hold` picks is answered as done but kept back, and committed just
    /// before the next change that `before` picks.
    pub fn race(&self, hold: Picks, before: Picks) {
        *self.lock() = Some(Race {
            hold,
            before,
            held: None,
        });
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Race>> {
        self.race.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Picks values added to a subject.
pub fn adding_values(change: &Change) -> bool {
    matches!(change, Change::Subjects(SubjectChange::AddValues { .. }))
}

/// Picks erasures.
pub fn erasing(change: &Change) -> bool {
    matches!(change, Change::Subjects(SubjectChange::Erase { .. }))
}

impl fmt::Debug for RacingStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RacingStore")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl UnitOfWork for RacingStore {
    async fn commit(&self, change: Change, audit: Vec<AuditDraft>) -> Result<Outcome, StoreError> {
        let released = {
            let mut race = self.lock();
            match race.as_mut() {
                Some(r) if r.held.is_none() && (r.hold)(&change) => {
                    r.held = Some((change, audit));
                    return Ok(Outcome::Done);
                }
                Some(r) if r.held.is_some() && (r.before)(&change) => {
                    race.take().and_then(|r| r.held)
                }
                _ => None,
            }
        };
        if let Some((held, held_audit)) = released {
            self.inner.commit(held, held_audit).await?;
        }
        self.inner.commit(change, audit).await
    }
}

#[async_trait]
impl SubjectStore for RacingStore {
    async fn subject(&self, id: SubjectId) -> Result<Option<SubjectRecord>, StoreError> {
        self.inner.subject(id).await
    }
    async fn subjects_after(
        &self,
        after: Option<SubjectId>,
        limit: u32,
    ) -> Result<Vec<SubjectRecord>, StoreError> {
        self.inner.subjects_after(after, limit).await
    }
    async fn lookup(&self, kind: &str, token: &[u8; 32]) -> Result<Vec<SubjectId>, StoreError> {
        self.inner.lookup(kind, token).await
    }
    async fn is_erased(&self, subject: SubjectId) -> Result<bool, StoreError> {
        self.inner.is_erased(subject).await
    }
    async fn erasures(&self) -> Result<Vec<ErasureRecord>, StoreError> {
        self.inner.erasures().await
    }
    async fn restrictions_and_objections(&self) -> Result<crate::store::SubjectsSay, StoreError> {
        self.inner.restrictions_and_objections().await
    }
}

#[async_trait]
impl ArchiveStore for RacingStore {
    async fn archive_entry(
        &self,
        reference: &ArchiveRef,
    ) -> Result<Option<ArchiveRecord>, StoreError> {
        self.inner.archive_entry(reference).await
    }
    async fn archive_due(&self, today: Date) -> Result<Vec<ArchiveRef>, StoreError> {
        self.inner.archive_due(today).await
    }
    async fn has_archive_entries(&self) -> Result<bool, StoreError> {
        self.inner.has_archive_entries().await
    }
}

#[async_trait]
impl AuditStore for RacingStore {
    async fn audit_entries(
        &self,
        after: u64,
        until: u64,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        self.inner.audit_entries(after, until, limit).await
    }
    async fn audit_links(
        &self,
        after: u64,
        until: u64,
        limit: u32,
    ) -> Result<Vec<ChainLink>, StoreError> {
        self.inner.audit_links(after, until, limit).await
    }
    async fn audit_head(&self) -> Result<Option<(u64, ChainHash)>, StoreError> {
        self.inner.audit_head().await
    }
    async fn last_audit_entry(
        &self,
        action: AuditAction,
        until: u64,
    ) -> Result<Option<AuditEntry>, StoreError> {
        self.inner.last_audit_entry(action, until).await
    }
    async fn disclosures_of(
        &self,
        subject: SubjectId,
    ) -> Result<Vec<integritet_domain::audit::AuditEntry>, StoreError> {
        self.inner.disclosures_of(subject).await
    }
    fn use_chain_key(&self, key: ChainKey) -> Result<(), StoreError> {
        self.inner.use_chain_key(key)
    }
}

#[async_trait]
impl crate::store::SuppressionStore for RacingStore {
    async fn is_suppressed(&self, kind: &str, hash: &[u8; 32]) -> Result<bool, StoreError> {
        self.inner.is_suppressed(kind, hash).await
    }
}

#[async_trait]
impl crate::store::ConsentStore for RacingStore {
    async fn consent_record(
        &self,
        id: uuid::Uuid,
    ) -> Result<Option<crate::store::ConsentRow>, StoreError> {
        self.inner.consent_record(id).await
    }

    async fn consent_records(
        &self,
        since: time::OffsetDateTime,
        after: Option<(time::OffsetDateTime, uuid::Uuid)>,
        limit: u32,
    ) -> Result<Vec<crate::store::ConsentRow>, StoreError> {
        self.inner.consent_records(since, after, limit).await
    }
}

#[async_trait]
impl crate::store::MarketingStore for RacingStore {
    async fn is_nix_listed(&self, hash: &[u8; 32]) -> Result<bool, StoreError> {
        self.inner.is_nix_listed(hash).await
    }

    async fn nix_entries(&self) -> Result<u64, StoreError> {
        self.inner.nix_entries().await
    }

    async fn spent_link(
        &self,
        id: [u8; 16],
    ) -> Result<Option<crate::store::SpentLink>, StoreError> {
        self.inner.spent_link(id).await
    }
}

#[async_trait]
impl crate::store::JobStore for RacingStore {
    async fn take_daily_job(
        &self,
        name: &str,
        day: time::Date,
    ) -> Result<Option<Box<dyn crate::store::DailyJob>>, StoreError> {
        self.inner.take_daily_job(name, day).await
    }
}

#[async_trait]
impl crate::store::HoldStore for RacingStore {
    async fn legal_holds(&self) -> Result<Vec<crate::store::HoldRow>, StoreError> {
        self.inner.legal_holds().await
    }
}

#[async_trait]
impl crate::store::RequestStore for RacingStore {
    async fn request(
        &self,
        id: uuid::Uuid,
    ) -> Result<Option<crate::store::RequestRow>, StoreError> {
        self.inner.request(id).await
    }
    async fn list_requests(&self) -> Result<Vec<crate::store::RequestRow>, StoreError> {
        self.inner.list_requests().await
    }
}

#[async_trait]
impl KeyStore for RacingStore {
    async fn wrapped_keys(
        &self,
        after: Option<SubjectId>,
        limit: u32,
    ) -> Result<Vec<WrappedKeyRow>, StoreError> {
        self.inner.wrapped_keys(after, limit).await
    }
}

#[async_trait]
impl TokenStore for RacingStore {
    async fn token_by_hash(&self, hash: &[u8; 32]) -> Result<Option<TokenRecord>, StoreError> {
        self.inner.token_by_hash(hash).await
    }
    async fn list_tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        self.inner.list_tokens().await
    }
}

#[async_trait]
impl UserStore for RacingStore {
    async fn user(&self, name: &str) -> Result<Option<UserRecord>, StoreError> {
        self.inner.user(name).await
    }
    async fn list_users(&self) -> Result<Vec<UserRecord>, StoreError> {
        self.inner.list_users().await
    }
    async fn session(
        &self,
        hash: &[u8; 32],
    ) -> Result<Option<(SessionRecord, UserRecord)>, StoreError> {
        self.inner.session(hash).await
    }
}

#[async_trait]
impl PolicyStore for RacingStore {
    async fn policy_versions(&self) -> Result<Vec<PolicyVersionRecord>, StoreError> {
        self.inner.policy_versions().await
    }
}

#[async_trait]
impl Maintenance for RacingStore {
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }
    async fn ping(&self) -> Result<(), StoreError> {
        self.inner.ping().await
    }
    async fn counts(&self) -> Result<StoreCounts, StoreError> {
        self.inner.counts().await
    }
    async fn backup_to(&self, dest: &Path) -> Result<(), StoreError> {
        self.inner.backup_to(dest).await
    }
    fn observe(&self, observer: Arc<dyn StoreObserver>) {
        self.inner.observe(observer);
    }
}
