//! The PostgreSQL store against a real server: the shared conformance suite, tampering caught
//! by `audit verify`, and several servers on one database.
//!
//! Needs PostgreSQL at `INTEGRITET_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`), with a user allowed to create databases. Each
//! test gets its own database, `integritet_test_<pid>_<n>_<random>`, dropped when the test
//! passes; a failed test leaves its database for a look. Remove leftovers with:
//! `psql -Atc "select 'drop database ' || datname || ';' from pg_database where datname like 'integritet_test_%'" | psql`

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod exact;
mod roles;
mod servers;
mod tamper;
mod tls;
mod vault;
mod writes;

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use std::path::Path;

use async_trait::async_trait;
use integritet_app::store::{
    ArchiveRecord, ArchiveStore, AuditStore, Change, ErasureRecord, KeyStore, Maintenance, Outcome,
    PolicyStore, PolicyVersionRecord, SessionRecord, Store, StoreCounts, StoreError, StoreObserver,
    SubjectRecord, SubjectStore, TokenRecord, TokenStore, UnitOfWork, UserRecord, UserStore,
    WrappedKeyRow,
};
use integritet_domain::audit::{AuditDraft, AuditEntry, ChainHash, ChainKey, ChainLink};
use integritet_domain::subject::{ArchiveRef, SubjectId};
use integritet_store_postgres::PostgresStore;
use sqlx::{Connection, PgConnection};
use time::Date;

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

fn admin_url() -> String {
    std::env::var("INTEGRITET_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned())
}

/// `url` with its database name replaced.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (url, String::new()),
    };
    let slash = base
        .rfind('/')
        .filter(|&i| i > "postgres://".len())
        .unwrap_or(base.len());
    format!("{}/{name}{query}", &base[..slash])
}

async fn admin() -> PgConnection {
    let url = admin_url();
    PgConnection::connect(&url).await.unwrap_or_else(|e| {
        panic!(
            "cannot reach the test PostgreSQL server ({e}). Start one, or set \
             INTEGRITET_TEST_POSTGRES_URL to a server where this user may create databases."
        )
    })
}

/// A new, empty database; returns its name and URL.
pub async fn fresh_database() -> TestDb {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let random = RandomState::new().build_hasher().finish() & 0xffff_ffff;
    let name = format!("integritet_test_{}_{n}_{random:08x}", std::process::id());
    let mut admin = admin().await;
    // The name is built here from digits and underscores only, so it is safe to splice in.
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
    TestDb {
        url: with_database(&admin_url(), &name),
        name,
    }
}

/// A test database, dropped when the test that made it passes.
#[derive(Debug)]
pub struct TestDb {
    pub name: String,
    pub url: String,
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("left test database {} for inspection", self.name);
            return;
        }
        let name = self.name.clone();
        // Drop runs inside a runtime that may be shutting down: use a thread of our own.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                let mut admin = admin().await;
                let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .execute(&mut admin)
                .await;
            });
        })
        .join();
    }
}

/// A store on a fresh database, which is dropped with the store.
pub async fn fresh_store() -> Arc<dyn Store> {
    Arc::new(fresh().await)
}

/// A store on a fresh database.
pub async fn fresh() -> Fresh {
    let db = fresh_database().await;
    let store = PostgresStore::connect(&db.url)
        .await
        .unwrap_or_else(|e| panic!("cannot open the store on {}: {e}", db.name));
    Fresh { store, db }
}

/// A store that owns its test database (fields drop in order: the pool, then the database).
pub struct Fresh {
    pub store: PostgresStore,
    pub db: TestDb,
}

impl std::fmt::Debug for Fresh {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Fresh({})", self.db.name)
    }
}

/// Every read of the store, passed through.
#[async_trait]
impl SubjectStore for Fresh {
    async fn subject(&self, id: SubjectId) -> Result<Option<SubjectRecord>, StoreError> {
        self.store.subject(id).await
    }
    async fn subjects_after(
        &self,
        after: Option<SubjectId>,
        limit: u32,
    ) -> Result<Vec<SubjectRecord>, StoreError> {
        self.store.subjects_after(after, limit).await
    }
    async fn lookup(&self, kind: &str, token: &[u8; 32]) -> Result<Vec<SubjectId>, StoreError> {
        self.store.lookup(kind, token).await
    }
    async fn is_erased(&self, subject: SubjectId) -> Result<bool, StoreError> {
        self.store.is_erased(subject).await
    }
    async fn erasures(&self) -> Result<Vec<ErasureRecord>, StoreError> {
        self.store.erasures().await
    }
    async fn restrictions_and_objections(
        &self,
    ) -> Result<integritet_app::store::SubjectsSay, StoreError> {
        self.store.restrictions_and_objections().await
    }
}

#[async_trait]
impl ArchiveStore for Fresh {
    async fn archive_entry(
        &self,
        reference: &ArchiveRef,
    ) -> Result<Option<ArchiveRecord>, StoreError> {
        self.store.archive_entry(reference).await
    }
    async fn archive_due(&self, today: Date) -> Result<Vec<ArchiveRef>, StoreError> {
        self.store.archive_due(today).await
    }
}

#[async_trait]
impl AuditStore for Fresh {
    async fn audit_entries(
        &self,
        after: u64,
        until: u64,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        self.store.audit_entries(after, until, limit).await
    }
    async fn audit_links(
        &self,
        after: u64,
        until: u64,
        limit: u32,
    ) -> Result<Vec<ChainLink>, StoreError> {
        self.store.audit_links(after, until, limit).await
    }
    async fn audit_head(&self) -> Result<Option<(u64, ChainHash)>, StoreError> {
        self.store.audit_head().await
    }
    async fn last_audit_entry(
        &self,
        action: integritet_domain::audit::AuditAction,
        until: u64,
    ) -> Result<Option<AuditEntry>, StoreError> {
        self.store.last_audit_entry(action, until).await
    }
    async fn disclosures_of(
        &self,
        subject: SubjectId,
    ) -> Result<Vec<integritet_domain::audit::AuditEntry>, StoreError> {
        self.store.disclosures_of(subject).await
    }
    fn use_chain_key(&self, key: ChainKey) -> Result<(), StoreError> {
        self.store.use_chain_key(key)
    }
}

#[async_trait]
impl integritet_app::store::SuppressionStore for Fresh {
    async fn is_suppressed(&self, kind: &str, hash: &[u8; 32]) -> Result<bool, StoreError> {
        self.store.is_suppressed(kind, hash).await
    }
}

#[async_trait]
impl integritet_app::store::ConsentStore for Fresh {
    async fn consent_record(
        &self,
        id: uuid::Uuid,
    ) -> Result<Option<integritet_app::store::ConsentRow>, StoreError> {
        self.store.consent_record(id).await
    }

    async fn consent_records(
        &self,
        since: time::OffsetDateTime,
        after: Option<(time::OffsetDateTime, uuid::Uuid)>,
        limit: u32,
    ) -> Result<Vec<integritet_app::store::ConsentRow>, StoreError> {
        self.store.consent_records(since, after, limit).await
    }
}

#[async_trait]
impl integritet_app::store::MarketingStore for Fresh {
    async fn is_nix_listed(&self, hash: &[u8; 32]) -> Result<bool, StoreError> {
        self.store.is_nix_listed(hash).await
    }

    async fn nix_entries(&self) -> Result<u64, StoreError> {
        self.store.nix_entries().await
    }

    async fn spent_link(
        &self,
        id: [u8; 16],
    ) -> Result<Option<integritet_app::store::SpentLink>, StoreError> {
        self.store.spent_link(id).await
    }
}

#[async_trait]
impl integritet_app::store::JobStore for Fresh {
    async fn take_daily_job(
        &self,
        name: &str,
        day: time::Date,
    ) -> Result<Option<Box<dyn integritet_app::store::DailyJob>>, StoreError> {
        self.store.take_daily_job(name, day).await
    }
}

#[async_trait]
impl integritet_app::store::HoldStore for Fresh {
    async fn legal_holds(&self) -> Result<Vec<integritet_app::store::HoldRow>, StoreError> {
        self.store.legal_holds().await
    }
}

#[async_trait]
impl integritet_app::store::RequestStore for Fresh {
    async fn request(
        &self,
        id: uuid::Uuid,
    ) -> Result<Option<integritet_app::store::RequestRow>, StoreError> {
        self.store.request(id).await
    }
    async fn list_requests(&self) -> Result<Vec<integritet_app::store::RequestRow>, StoreError> {
        self.store.list_requests().await
    }
}

#[async_trait]
impl KeyStore for Fresh {
    async fn wrapped_keys(
        &self,
        after: Option<SubjectId>,
        limit: u32,
    ) -> Result<Vec<WrappedKeyRow>, StoreError> {
        self.store.wrapped_keys(after, limit).await
    }
}

#[async_trait]
impl TokenStore for Fresh {
    async fn token_by_hash(&self, hash: &[u8; 32]) -> Result<Option<TokenRecord>, StoreError> {
        self.store.token_by_hash(hash).await
    }
    async fn list_tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        self.store.list_tokens().await
    }
}

#[async_trait]
impl UserStore for Fresh {
    async fn user(&self, name: &str) -> Result<Option<UserRecord>, StoreError> {
        self.store.user(name).await
    }
    async fn list_users(&self) -> Result<Vec<UserRecord>, StoreError> {
        self.store.list_users().await
    }
    async fn session(
        &self,
        hash: &[u8; 32],
    ) -> Result<Option<(SessionRecord, UserRecord)>, StoreError> {
        self.store.session(hash).await
    }
}

#[async_trait]
impl PolicyStore for Fresh {
    async fn policy_versions(&self) -> Result<Vec<PolicyVersionRecord>, StoreError> {
        self.store.policy_versions().await
    }
}

#[async_trait]
impl Maintenance for Fresh {
    fn backend(&self) -> &'static str {
        self.store.backend()
    }
    async fn ping(&self) -> Result<(), StoreError> {
        self.store.ping().await
    }
    async fn counts(&self) -> Result<StoreCounts, StoreError> {
        self.store.counts().await
    }
    async fn backup_to(&self, dest: &Path) -> Result<(), StoreError> {
        self.store.backup_to(dest).await
    }
    fn observe(&self, observer: Arc<dyn StoreObserver>) {
        self.store.observe(observer);
    }
}

#[async_trait]
impl UnitOfWork for Fresh {
    async fn commit(&self, change: Change, audit: Vec<AuditDraft>) -> Result<Outcome, StoreError> {
        self.store.commit(change, audit).await
    }
}

integritet_app::conformance_tests!(fresh_store());

#[tokio::test]
async fn with_database_replaces_the_name() {
    assert_eq!(
        with_database("postgres://u@h:5432/test", "x"),
        "postgres://u@h:5432/x"
    );
    assert_eq!(
        with_database("postgres://u@h/test?sslmode=disable", "x"),
        "postgres://u@h/x?sslmode=disable"
    );
    assert_eq!(with_database("postgres://u@h", "x"), "postgres://u@h/x");
}
