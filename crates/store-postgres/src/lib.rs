//! The PostgreSQL implementation of Integritet's store, for one or more servers sharing a
//! database.
//!
//! - Migrations are embedded and run on [`PostgresStore::connect`]; sqlx's migrator holds an
//!   advisory lock while it works, so servers that start together do not trip over each other.
//! - Every change goes through the shared group commit to the writer task (`writer.rs`): one
//!   transaction per batch, each job in a savepoint of its own, the audit entries chained last
//!   under the `audit_head` row lock, so the chain stays whole across servers (`chain.rs`).
//! - Reads (`reads.rs`) are one statement each on a pooled connection.
//! - Instants are stored as bigint nanoseconds since the Unix epoch and read back exactly, in
//!   UTC (years 1677 to 2262). Shred days are `date`s.

mod chain;
mod consent;
mod convert;
mod error;
mod holds;
mod jobs;
mod marketing;
mod reads;
mod requests;
mod subject_requests;
mod users;
mod writer;
mod writes;

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use integritet_app::store::group::GroupCommit;
use integritet_app::store::{
    ArchiveRecord, ArchiveStore, AuditStore, ChainKeySlot, Change, ErasureRecord, KeyStore,
    Maintenance, Meter, Outcome, PolicyStore, PolicyVersionRecord, RequestRow, RequestStore,
    SessionRecord, StoreCounts, StoreError, StoreObserver, SubjectRecord, SubjectStore,
    TokenRecord, TokenStore, UnitOfWork, UserRecord, UserStore, WrappedKeyRow,
};
use integritet_domain::audit::{
    AuditAction, AuditDraft, AuditEntry, ChainHash, ChainKey, ChainLink,
};
use integritet_domain::subject::{ArchiveRef, SubjectId};
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use time::Date;

use crate::error::{from_migrate, from_sqlx};

/// The schema, embedded so the binary carries its own migrations.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!();

/// Connections per server. PostgreSQL's default limit is 100, shared by every server.
const MAX_CONNECTIONS: u32 = 16;

/// How long a request waits for a free connection before reporting the database unavailable.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// A store on a PostgreSQL database.
#[derive(Clone)]
pub struct PostgresStore {
    pool: PgPool,
    /// For the `pg_dump` hint; never the whole URL, which may hold a password.
    database: Option<String>,
    writes: GroupCommit,
    meter: Meter,
    chain_key: Arc<ChainKeySlot>,
}

impl fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresStore")
            .field("database", &self.database)
            .field("connections", &self.pool.size())
            .finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// Connects to `url` (`postgres://user:password@host:port/database`) and brings the schema
    /// up to date.
    pub async fn connect(url: &str) -> Result<PostgresStore, StoreError> {
        let mut options: PgConnectOptions = url.parse().map_err(|e| {
            StoreError::Unavailable(format!(
                "the PostgreSQL URL is not valid ({e}); write it as \
                 postgres://USER:PASSWORD@HOST:PORT/DATABASE"
            ))
        })?;
        // Without an sslmode, a server on this host is spoken to in the clear: TLS over
        // loopback protects nothing and costs a create four times its time. Any other host
        // gets the driver's default (TLS when the server offers it).
        if !url.contains("sslmode=") && is_loopback(options.get_host()) {
            options = options.ssl_mode(sqlx::postgres::PgSslMode::Disable);
        }
        let database = options.get_database().map(str::to_owned);
        let at = format!("{}:{}", options.get_host(), options.get_port());
        let pool = match PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            // No ping before every use: it costs a round trip per call. After a server
            // restart each stale connection fails one call (Unavailable) and is replaced.
            .test_before_acquire(false)
            .connect_with(options.clone())
            .await
        {
            Ok(pool) => pool,
            // The pool only says it timed out; one connection of our own says why (refused,
            // no such host, authentication, no such database).
            Err(sqlx::Error::PoolTimedOut) => {
                let direct: Result<sqlx::PgConnection, sqlx::Error> =
                    <sqlx::PgConnection as sqlx::Connection>::connect_with(&options).await;
                let why = match direct {
                    Ok(_) => "it did not answer in time".to_owned(),
                    Err(e) => e.to_string(),
                };
                return Err(StoreError::Unavailable(format!(
                    "could not connect to PostgreSQL at {at}: {why}; check that the server runs \
                     there and the URL's host, port, user and database"
                )));
            }
            Err(e) => {
                return Err(match from_sqlx(e) {
                    StoreError::Unavailable(m) => StoreError::Unavailable(format!(
                        "could not connect to PostgreSQL at {at}: {m}"
                    )),
                    other => other,
                });
            }
        };
        if !schema_is_current(&pool).await {
            MIGRATOR.run(&pool).await.map_err(|e| {
                let error = from_migrate(e);
                if error.to_string().contains("permission denied") {
                    StoreError::Unavailable(format!(
                        "the database schema is not up to date, and this role may not change \
                         it ({error}); run `integritet store migrate` once with the URL of the \
                         database's owner, then start again"
                    ))
                } else {
                    error
                }
            })?;
        }
        let meter = Meter::default();
        let (writes, batches) = GroupCommit::new(meter.clone());
        let chain_key = Arc::new(ChainKeySlot::default());
        writer::start(pool.clone(), batches, chain_key.clone());
        Ok(PostgresStore {
            pool,
            database,
            writes,
            meter,
            chain_key,
        })
    }

    /// A read, measured as `operation`.
    async fn read<T>(
        &self,
        operation: &'static str,
        read: impl std::future::Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        self.meter.time(operation, read).await
    }
}

/// Whether `host` is this machine (a loopback address, `localhost`, or a Unix socket path).
fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host.starts_with('/')
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Whether every embedded migration is applied with its checksum, read without writing: a role
/// that may not change the schema (see ARCHITECTURE.md, "A PostgreSQL role that cannot rewrite
/// the log") then needs no rights the migrator would ask for. Anything else, an error included,
/// leaves the decision to the migrator.
async fn schema_is_current(pool: &sqlx::PgPool) -> bool {
    let applied: Result<Vec<(i64, Vec<u8>)>, sqlx::Error> =
        sqlx::query_as("SELECT version, checksum FROM _sqlx_migrations WHERE success")
            .fetch_all(pool)
            .await;
    let Ok(applied) = applied else {
        return false;
    };
    let ours = MIGRATOR.iter().all(|migration| {
        applied.iter().any(|(version, checksum)| {
            *version == migration.version && **checksum == *migration.checksum
        })
    });
    // A migration this build does not know: the migrator names the newer version.
    let only_ours = applied
        .iter()
        .all(|(version, _)| MIGRATOR.iter().any(|m| m.version == *version));
    ours && only_ours
}

#[async_trait]
impl SubjectStore for PostgresStore {
    async fn subject(&self, id: SubjectId) -> Result<Option<SubjectRecord>, StoreError> {
        self.read("subject", reads::subject(&self.pool, id)).await
    }

    async fn subjects_after(
        &self,
        after: Option<SubjectId>,
        limit: u32,
    ) -> Result<Vec<SubjectRecord>, StoreError> {
        self.read(
            "subjects_after",
            reads::subjects_after(&self.pool, after, limit),
        )
        .await
    }

    async fn lookup(&self, kind: &str, token: &[u8; 32]) -> Result<Vec<SubjectId>, StoreError> {
        self.read("lookup", reads::lookup(&self.pool, kind, token))
            .await
    }

    async fn is_erased(&self, subject: SubjectId) -> Result<bool, StoreError> {
        self.read("is_erased", reads::is_erased(&self.pool, subject))
            .await
    }

    async fn erasures(&self) -> Result<Vec<ErasureRecord>, StoreError> {
        self.read("erasures", reads::erasures(&self.pool)).await
    }

    async fn restrictions_and_objections(
        &self,
    ) -> Result<integritet_app::store::SubjectsSay, StoreError> {
        self.read(
            "restrictions_and_objections",
            reads::restrictions_and_objections(&self.pool),
        )
        .await
    }
}

#[async_trait]
impl ArchiveStore for PostgresStore {
    async fn archive_entry(
        &self,
        reference: &ArchiveRef,
    ) -> Result<Option<ArchiveRecord>, StoreError> {
        self.read("archive_entry", reads::archive_entry(&self.pool, reference))
            .await
    }

    async fn archive_due(&self, today: Date) -> Result<Vec<ArchiveRef>, StoreError> {
        self.read("archive_due", reads::archive_due(&self.pool, today))
            .await
    }
}

#[async_trait]
impl AuditStore for PostgresStore {
    async fn audit_entries(
        &self,
        after: u64,
        until: u64,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        self.read(
            "audit_entries",
            reads::audit_entries(&self.pool, after, until, limit),
        )
        .await
    }

    async fn audit_links(
        &self,
        after: u64,
        until: u64,
        limit: u32,
    ) -> Result<Vec<ChainLink>, StoreError> {
        self.read(
            "audit_links",
            reads::audit_links(&self.pool, after, until, limit, self.chain_key.get()),
        )
        .await
    }

    async fn audit_head(&self) -> Result<Option<(u64, ChainHash)>, StoreError> {
        self.read("audit_head", reads::audit_head(&self.pool)).await
    }

    async fn last_audit_entry(
        &self,
        action: AuditAction,
        until: u64,
    ) -> Result<Option<AuditEntry>, StoreError> {
        self.read(
            "last_audit_entry",
            reads::last_audit_entry(&self.pool, action, until),
        )
        .await
    }

    async fn disclosures_of(&self, subject: SubjectId) -> Result<Vec<AuditEntry>, StoreError> {
        self.read("disclosures_of", reads::disclosures_of(&self.pool, subject))
            .await
    }

    fn use_chain_key(&self, key: ChainKey) -> Result<(), StoreError> {
        self.chain_key.set(key)
    }
}

#[async_trait]
impl KeyStore for PostgresStore {
    async fn wrapped_keys(
        &self,
        after: Option<SubjectId>,
        limit: u32,
    ) -> Result<Vec<WrappedKeyRow>, StoreError> {
        self.read(
            "wrapped_keys",
            reads::wrapped_keys(&self.pool, after, limit),
        )
        .await
    }
}

#[async_trait]
impl TokenStore for PostgresStore {
    async fn token_by_hash(&self, hash: &[u8; 32]) -> Result<Option<TokenRecord>, StoreError> {
        self.read("token_by_hash", reads::token_by_hash(&self.pool, hash))
            .await
    }

    async fn list_tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        self.read("list_tokens", reads::list_tokens(&self.pool))
            .await
    }
}

#[async_trait]
impl UserStore for PostgresStore {
    async fn user(&self, name: &str) -> Result<Option<UserRecord>, StoreError> {
        self.read("user", reads::user(&self.pool, name)).await
    }

    async fn list_users(&self) -> Result<Vec<UserRecord>, StoreError> {
        self.read("list_users", reads::list_users(&self.pool)).await
    }

    async fn session(
        &self,
        hash: &[u8; 32],
    ) -> Result<Option<(SessionRecord, UserRecord)>, StoreError> {
        self.read("session", reads::session(&self.pool, hash)).await
    }
}

#[async_trait]
impl integritet_app::store::ConsentStore for PostgresStore {
    async fn consent_record(
        &self,
        id: uuid::Uuid,
    ) -> Result<Option<integritet_app::store::ConsentRow>, StoreError> {
        self.read("consent_record", consent::by_id(&self.pool, id))
            .await
    }

    async fn consent_records(
        &self,
        since: time::OffsetDateTime,
        after: Option<(time::OffsetDateTime, uuid::Uuid)>,
        limit: u32,
    ) -> Result<Vec<integritet_app::store::ConsentRow>, StoreError> {
        self.read(
            "consent_records",
            consent::since(&self.pool, since, after, limit),
        )
        .await
    }
}

#[async_trait]
impl integritet_app::store::MarketingStore for PostgresStore {
    async fn is_nix_listed(&self, hash: &[u8; 32]) -> Result<bool, StoreError> {
        self.read("is_nix_listed", marketing::is_nix_listed(&self.pool, hash))
            .await
    }

    async fn nix_entries(&self) -> Result<u64, StoreError> {
        self.read("nix_entries", marketing::nix_entries(&self.pool))
            .await
    }

    async fn spent_link(
        &self,
        id: [u8; 16],
    ) -> Result<Option<integritet_app::store::SpentLink>, StoreError> {
        self.read("spent_link", marketing::spent_link(&self.pool, &id))
            .await
    }
}

#[async_trait]
impl integritet_app::store::SuppressionStore for PostgresStore {
    async fn is_suppressed(&self, kind: &str, hash: &[u8; 32]) -> Result<bool, StoreError> {
        let found = async {
            sqlx::query_scalar::<_, i32>("SELECT 1 FROM suppression WHERE kind = $1 AND hash = $2")
                .bind(kind)
                .bind(hash.as_slice())
                .fetch_optional(&self.pool)
                .await
                .map_err(from_sqlx)
        };
        Ok(self.read("is_suppressed", found).await?.is_some())
    }
}

#[async_trait]
impl integritet_app::store::JobStore for PostgresStore {
    async fn take_daily_job(
        &self,
        name: &str,
        day: Date,
    ) -> Result<Option<Box<dyn integritet_app::store::DailyJob>>, StoreError> {
        jobs::take(&self.pool, name, day).await
    }
}

#[async_trait]
impl integritet_app::store::HoldStore for PostgresStore {
    async fn legal_holds(&self) -> Result<Vec<integritet_app::store::HoldRow>, StoreError> {
        self.read("legal_holds", holds::list(&self.pool)).await
    }
}

#[async_trait]
impl RequestStore for PostgresStore {
    async fn request(&self, id: uuid::Uuid) -> Result<Option<RequestRow>, StoreError> {
        self.read("request", subject_requests::by_id(&self.pool, id))
            .await
    }

    async fn list_requests(&self) -> Result<Vec<RequestRow>, StoreError> {
        self.read("list_requests", subject_requests::list(&self.pool))
            .await
    }
}

#[async_trait]
impl PolicyStore for PostgresStore {
    async fn policy_versions(&self) -> Result<Vec<PolicyVersionRecord>, StoreError> {
        self.read("policy_versions", reads::policy_versions(&self.pool))
            .await
    }
}

#[async_trait]
impl Maintenance for PostgresStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.read("ping", reads::ping(&self.pool)).await
    }

    async fn counts(&self) -> Result<StoreCounts, StoreError> {
        self.read("counts", reads::counts(&self.pool)).await
    }

    async fn backup_to(&self, _dest: &Path) -> Result<(), StoreError> {
        let database = self.database.as_deref().unwrap_or("DBNAME");
        Err(StoreError::Unsupported(format!(
            "the PostgreSQL backend does not take backups itself; use PostgreSQL's tools: \
             `pg_dump --format=custom {database} > FILE`. After restoring one with \
             `pg_restore`, run `integritet restore` so that erasures made since the dump are \
             applied again"
        )))
    }

    fn observe(&self, observer: Arc<dyn StoreObserver>) {
        self.meter.set(observer);
    }
}

#[async_trait]
impl UnitOfWork for PostgresStore {
    async fn commit(&self, change: Change, audit: Vec<AuditDraft>) -> Result<Outcome, StoreError> {
        self.writes.submit(change, audit).await
    }
}
