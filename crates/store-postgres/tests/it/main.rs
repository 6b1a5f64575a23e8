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
mod servers;
mod tamper;
mod vault;

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use std::path::Path;

use async_trait::async_trait;
use integritet_app::store::{
    ActivityRecord, ArchiveRecord, ErasureRecord, IndexEntry, NewSubject, Store, StoreCounts,
    StoreError, SubjectRecord, TokenRecord, ValueRecord, WrappedKeyRow,
};
use integritet_domain::audit::{AuditDraft, AuditEntry, ChainHash};
use integritet_domain::subject::{ArchiveRef, SubjectId, ValueId};
use integritet_store_postgres::PostgresStore;
use sqlx::{Connection, PgConnection};
use time::{Date, OffsetDateTime};

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

#[async_trait]
impl Store for Fresh {
    fn backend(&self) -> &'static str {
        self.store.backend()
    }
    async fn insert_subjects(
        &self,
        subjects: Vec<NewSubject>,
        audit: Vec<AuditDraft>,
    ) -> Result<(), StoreError> {
        self.store.insert_subjects(subjects, audit).await
    }
    async fn subject(&self, id: SubjectId) -> Result<Option<SubjectRecord>, StoreError> {
        self.store.subject(id).await
    }
    async fn lookup(&self, kind: &str, token: &[u8; 32]) -> Result<Vec<SubjectId>, StoreError> {
        self.store.lookup(kind, token).await
    }
    async fn replace_value(
        &self,
        subject: SubjectId,
        old: ValueId,
        new: ValueRecord,
        index: Vec<IndexEntry>,
        audit: Vec<AuditDraft>,
    ) -> Result<bool, StoreError> {
        self.store
            .replace_value(subject, old, new, index, audit)
            .await
    }
    async fn add_values(
        &self,
        subject: SubjectId,
        values: Vec<ValueRecord>,
        index: Vec<IndexEntry>,
        audit: Vec<AuditDraft>,
    ) -> Result<bool, StoreError> {
        self.store.add_values(subject, values, index, audit).await
    }
    async fn add_activities(
        &self,
        subject: SubjectId,
        activities: Vec<ActivityRecord>,
        audit: Vec<AuditDraft>,
    ) -> Result<bool, StoreError> {
        self.store.add_activities(subject, activities, audit).await
    }
    async fn append_audit(&self, audit: Vec<AuditDraft>) -> Result<(), StoreError> {
        self.store.append_audit(audit).await
    }
    async fn erase_subject(
        &self,
        erasure: ErasureRecord,
        archive: Vec<ArchiveRecord>,
        audit: Vec<AuditDraft>,
    ) -> Result<bool, StoreError> {
        self.store.erase_subject(erasure, archive, audit).await
    }
    async fn is_erased(&self, subject: SubjectId) -> Result<bool, StoreError> {
        self.store.is_erased(subject).await
    }
    async fn erasures(&self) -> Result<Vec<ErasureRecord>, StoreError> {
        self.store.erasures().await
    }
    async fn archive_entry(
        &self,
        reference: &ArchiveRef,
    ) -> Result<Option<ArchiveRecord>, StoreError> {
        self.store.archive_entry(reference).await
    }
    async fn archive_due(&self, today: Date) -> Result<Vec<ArchiveRef>, StoreError> {
        self.store.archive_due(today).await
    }
    async fn shred_archive(
        &self,
        references: Vec<ArchiveRef>,
        audit: Vec<AuditDraft>,
    ) -> Result<u64, StoreError> {
        self.store.shred_archive(references, audit).await
    }
    async fn wrapped_keys(
        &self,
        after: Option<SubjectId>,
        limit: u32,
    ) -> Result<Vec<WrappedKeyRow>, StoreError> {
        self.store.wrapped_keys(after, limit).await
    }
    async fn rewrap_keys(
        &self,
        rows: Vec<WrappedKeyRow>,
        audit: Vec<AuditDraft>,
    ) -> Result<(), StoreError> {
        self.store.rewrap_keys(rows, audit).await
    }
    async fn audit_entries(&self, after: u64, limit: u32) -> Result<Vec<AuditEntry>, StoreError> {
        self.store.audit_entries(after, limit).await
    }
    async fn audit_head(&self) -> Result<Option<(u64, ChainHash)>, StoreError> {
        self.store.audit_head().await
    }
    async fn counts(&self) -> Result<StoreCounts, StoreError> {
        self.store.counts().await
    }
    async fn backup_to(&self, dest: &Path) -> Result<(), StoreError> {
        self.store.backup_to(dest).await
    }
    async fn insert_token(
        &self,
        token: TokenRecord,
        audit: Vec<AuditDraft>,
    ) -> Result<(), StoreError> {
        self.store.insert_token(token, audit).await
    }
    async fn token_by_hash(&self, hash: &[u8; 32]) -> Result<Option<TokenRecord>, StoreError> {
        self.store.token_by_hash(hash).await
    }
    async fn list_tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        self.store.list_tokens().await
    }
    async fn revoke_token(
        &self,
        id: &str,
        at: OffsetDateTime,
        audit: Vec<AuditDraft>,
    ) -> Result<bool, StoreError> {
        self.store.revoke_token(id, at, audit).await
    }
    async fn ping(&self) -> Result<(), StoreError> {
        self.store.ping().await
    }
    async fn set_restricted(
        &self,
        subject: SubjectId,
        restricted: bool,
        audit: Vec<AuditDraft>,
    ) -> Result<bool, StoreError> {
        self.store.set_restricted(subject, restricted, audit).await
    }
    async fn add_objection(
        &self,
        subject: SubjectId,
        objection: integritet_app::store::ObjectionRecord,
        audit: Vec<AuditDraft>,
    ) -> Result<bool, StoreError> {
        self.store.add_objection(subject, objection, audit).await
    }
    async fn withdraw_objection(
        &self,
        subject: SubjectId,
        purpose: &str,
        audit: Vec<AuditDraft>,
    ) -> Result<bool, StoreError> {
        self.store.withdraw_objection(subject, purpose, audit).await
    }
    async fn record_policy_version(
        &self,
        record: integritet_app::store::PolicyVersionRecord,
        audit: Vec<AuditDraft>,
    ) -> Result<bool, StoreError> {
        self.store.record_policy_version(record, audit).await
    }
    async fn policy_versions(
        &self,
    ) -> Result<Vec<integritet_app::store::PolicyVersionRecord>, StoreError> {
        self.store.policy_versions().await
    }
    async fn insert_user(
        &self,
        user: integritet_app::store::UserRecord,
        audit: Vec<AuditDraft>,
    ) -> Result<(), StoreError> {
        self.store.insert_user(user, audit).await
    }
    async fn user(
        &self,
        name: &str,
    ) -> Result<Option<integritet_app::store::UserRecord>, StoreError> {
        self.store.user(name).await
    }
    async fn list_users(&self) -> Result<Vec<integritet_app::store::UserRecord>, StoreError> {
        self.store.list_users().await
    }
    async fn disable_user(
        &self,
        name: &str,
        at: OffsetDateTime,
        audit: Vec<AuditDraft>,
    ) -> Result<bool, StoreError> {
        self.store.disable_user(name, at, audit).await
    }
    async fn record_login_failure(
        &self,
        name: &str,
        at: OffsetDateTime,
        rule: integritet_app::store::LockoutRule,
        audit: Vec<AuditDraft>,
        lock_audit: Vec<AuditDraft>,
    ) -> Result<Option<integritet_app::store::LoginFailure>, StoreError> {
        self.store
            .record_login_failure(name, at, rule, audit, lock_audit)
            .await
    }
    async fn start_session(
        &self,
        session: integritet_app::store::SessionRecord,
        audit: Vec<AuditDraft>,
    ) -> Result<bool, StoreError> {
        self.store.start_session(session, audit).await
    }
    async fn session(
        &self,
        hash: &[u8; 32],
    ) -> Result<
        Option<(
            integritet_app::store::SessionRecord,
            integritet_app::store::UserRecord,
        )>,
        StoreError,
    > {
        self.store.session(hash).await
    }
    async fn touch_session(&self, hash: &[u8; 32], at: OffsetDateTime) -> Result<bool, StoreError> {
        self.store.touch_session(hash, at).await
    }
    async fn end_session(
        &self,
        hash: &[u8; 32],
        audit: Vec<AuditDraft>,
    ) -> Result<bool, StoreError> {
        self.store.end_session(hash, audit).await
    }
    async fn purge_sessions(
        &self,
        idle_before: OffsetDateTime,
        created_before: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        self.store.purge_sessions(idle_before, created_before).await
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
