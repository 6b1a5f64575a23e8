//! The SQLite backend of Integritet's store: one file, no server, the embedded default.
//!
//! The C library through a thin binding (rusqlite), on threads of the store's own:
//!
//! - one **writer** thread holds the only connection that writes. Every change goes through the
//!   shared group commit (`integritet_app::store::group`): whatever has arrived together is
//!   committed in one `BEGIN IMMEDIATE` transaction that also chains the audit entries onto the
//!   log, each caller's change in a savepoint of its own (`writer.rs`). Between batches the
//!   writer serves the point reads (a subject, a lookup, a token, a session) from its page
//!   cache, the only one SQLite keeps across other connections' commits.
//! - a **sync** thread flushes the WAL (`fdatasync`) for every batch committed since its last
//!   flush and only then answers their callers: an acknowledged write is on disk and survives a
//!   power cut, not only a killed process; one flush serves many batches, and the writer never
//!   waits for the disk.
//! - a few **reader** threads, each with a read-only connection, take the scans (the audit log,
//!   lists, counts) from one queue (`readers.rs`), so a long one never holds up the writer.
//! - a **checkpoint** thread copies the WAL into the database file when the writer asks, so
//!   the writer seldom stalls on it.
//!
//! Layout: ids are 16-byte BLOBs, instants are Unix nanoseconds, days are `YYYY-MM-DD`, lists
//! of names are JSON arrays; a subject's values are one B-tree range keyed by (subject, value)
//! (see `migrations/`).

mod archive;
mod audit;
mod cleanup;
mod consent;
mod convert;
mod error;
mod files;
mod holds;
mod jobs;
mod keys;
mod marketing;
mod migrate;
mod policy;
mod readers;
mod requests;
mod subjects;
mod tokens;
mod tx;
mod users;
mod writer;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
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
use rusqlite::{Connection, OpenFlags};
use time::Date;

use crate::readers::Readers;
use crate::writer::Event;

/// How long a statement waits for another process's write lock before giving up with
/// [`StoreError::Conflict`].
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Prepared statements kept per connection: every statement the store has, with room.
const STATEMENT_CACHE: usize = 128;

/// The file is read through a memory map up to this size: a page that is in the OS's cache is
/// read without a system call or a copy.
const MMAP_SIZE: i64 = 1 << 30;

/// Page cache per connection, in KiB (SQLite's negative `cache_size`); the OS's cache and the
/// memory map hold the rest of the working set.
const WRITER_CACHE_KIB: i64 = 32 * 1024;
const READER_CACHE_KIB: i64 = 8 * 1024;

/// The WAL pages after which the writer checkpoints by itself, should the checkpoint thread
/// fall behind.
const WAL_AUTOCHECKPOINT: i64 = 8192;

/// A store in one SQLite file.
pub struct SqliteStore {
    path: PathBuf,
    readers: Readers,
    writes: Option<GroupCommit>,
    /// The writer's queue, for the point reads it serves.
    writer_events: Option<crossbeam_channel::Sender<Event>>,
    writer: Mutex<Option<JoinHandle<()>>>,
    meter: Meter,
    chain_key: Arc<ChainKeySlot>,
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens the store at `path`, creating the file (readable by its owner only) and its
    /// directory if missing, and brings the schema up to date.
    pub async fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let path = path.to_path_buf();
        tokio::task::spawn_blocking(move || SqliteStore::open_blocking(path))
            .await
            .map_err(|e| StoreError::Unavailable(format!("opening the database failed: {e}")))?
    }

    /// Opens the store named by a URL such as `sqlite:///var/lib/integritet/vault.db` (or
    /// `sqlite:vault.db`, relative to the working directory). Only the path is taken from it.
    pub async fn open_url(url: &str) -> Result<SqliteStore, StoreError> {
        SqliteStore::open(&path_of_url(url)?).await
    }

    fn open_blocking(path: PathBuf) -> Result<SqliteStore, StoreError> {
        files::prepare(&path)?;
        let mut writer = connect(&path, Role::Writer)?;
        migrate::run(&mut writer)?;
        let checkpointer = writer::Checkpointer::start(connect(&path, Role::Checkpointer)?)?;
        let readers = (0..reader_threads())
            .map(|_| connect(&path, Role::Reader))
            .collect::<Result<Vec<_>, _>>()?;
        let readers = Readers::start(readers)?;
        let meter = Meter::default();
        let (events, incoming) = crossbeam_channel::unbounded::<Event>();
        let wake = {
            let events = events.clone();
            Arc::new(move || {
                // Gone only when the writer is, and then the submission fails too.
                let _ = events.send(Event::Write);
            })
        };
        let (writes, batches) = GroupCommit::with_wake(meter.clone(), wake);
        let syncer = writer::Syncer::start(path.clone())?;
        let chain_key = Arc::new(ChainKeySlot::default());
        let writer = writer::start(
            writer,
            batches,
            incoming,
            syncer,
            Some(checkpointer),
            chain_key.clone(),
        )?;
        Ok(SqliteStore {
            path,
            readers,
            writes: Some(writes),
            writer_events: Some(events),
            writer: Mutex::new(Some(writer)),
            meter,
            chain_key,
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether index entries of values that went still wait for the writer's cleanup
    /// (`cleanup.rs`). They find no one meanwhile; this tells when they are gone from the file.
    pub async fn index_cleanup_waiting(&self) -> Result<bool, StoreError> {
        self.read("index_cleanup_waiting", |conn| cleanup::waiting(conn))
            .await
    }

    /// Finishes the writes already queued and closes every connection, which checkpoints the
    /// WAL into the main file. (Dropping the store closes them too, without waiting.)
    pub async fn close(mut self) {
        self.writes = None;
        self.writer_events = None;
        let writer = self
            .writer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let mut readers = std::mem::replace(&mut self.readers, Readers::none());
        let _ = tokio::task::spawn_blocking(move || {
            if let Some(writer) = writer {
                let _ = writer.join();
            }
            readers.stop();
        })
        .await;
    }

    /// Runs a point read on the writer thread, with its warm page cache, measured as
    /// `operation`.
    async fn point<T: Send + 'static>(
        &self,
        operation: &'static str,
        read: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let events = self.writer_events.as_ref().ok_or_else(error::closed)?;
        let send = |job| events.send(Event::Read(job)).map_err(drop);
        self.meter
            .time(operation, readers::call_on(send, read))
            .await
    }

    /// Runs a scan on a reader thread, measured as `operation`.
    async fn read<T: Send + 'static>(
        &self,
        operation: &'static str,
        read: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        self.meter.time(operation, self.readers.call(read)).await
    }
}

/// What a connection is for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Writer,
    Reader,
    Checkpointer,
}

fn connect(path: &Path, role: Role) -> Result<Connection, StoreError> {
    let doing = "opening the database";
    let db = |e| error::db(doing, e);
    // Each connection is used by one thread at a time: SQLite's own locking is not needed.
    let flags = OpenFlags::SQLITE_OPEN_NO_MUTEX
        | match role {
            Role::Reader => OpenFlags::SQLITE_OPEN_READ_ONLY,
            Role::Writer | Role::Checkpointer => OpenFlags::SQLITE_OPEN_READ_WRITE,
        };
    let conn = Connection::open_with_flags(path, flags).map_err(db)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(db)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    let cache_kib = if role == Role::Writer {
        WRITER_CACHE_KIB
    } else {
        READER_CACHE_KIB
    };
    conn.execute_batch(&format!(
        "PRAGMA mmap_size = {MMAP_SIZE};
         PRAGMA cache_size = -{cache_kib};
         PRAGMA temp_store = memory;"
    ))
    .map_err(db)?;
    match role {
        Role::Writer => {
            // WAL first: the other connections find the file in WAL mode.
            let mode: String = conn
                .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
                .map_err(db)?;
            if !mode.eq_ignore_ascii_case("wal") {
                return Err(StoreError::Unavailable(format!(
                    "the database file could not be put in WAL mode (it is in {mode} mode); \
                     check that its directory is writable and not on a network file system"
                )));
            }
            // The sync thread flushes the WAL after each commit (see `writer.rs`), so the
            // commit itself need not wait for the disk.
            conn.execute_batch(&format!(
                "PRAGMA synchronous = NORMAL;
                 PRAGMA foreign_keys = ON;
                 PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT};"
            ))
            .map_err(db)?;
        }
        Role::Checkpointer => {
            // A checkpoint flushes the WAL before it copies pages and the database file
            // before the WAL is reused.
            conn.execute_batch("PRAGMA synchronous = NORMAL;")
                .map_err(db)?;
        }
        Role::Reader => {
            conn.execute_batch("PRAGMA query_only = ON;").map_err(db)?;
        }
    }
    Ok(conn)
}

/// Readers: enough for the cores that will use them, and one for a read that waits on disk.
fn reader_threads() -> usize {
    std::thread::available_parallelism()
        .map_or(2, std::num::NonZero::get)
        .clamp(2, 8)
        + 1
}

/// The file path in `sqlite:///abs/path.db`, `sqlite://rel.db` or `sqlite:rel.db` (query
/// parameters are ignored); an in-memory database is refused, since it keeps nothing.
pub fn path_of_url(url: &str) -> Result<PathBuf, StoreError> {
    let invalid = || {
        StoreError::Unavailable(
            "the SQLite database URL is not valid; write it as sqlite:///path/to/file.db".into(),
        )
    };
    let rest = url.strip_prefix("sqlite:").ok_or_else(invalid)?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path == ":memory:" || query.split('&').any(|p| p == "mode=memory") {
        return Err(StoreError::Unavailable(
            "an in-memory SQLite database keeps nothing; give a file path, as in \
             sqlite:///path/to/file.db"
                .into(),
        ));
    }
    if path.is_empty() {
        return Err(invalid());
    }
    Ok(PathBuf::from(path))
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

#[async_trait]
impl SubjectStore for SqliteStore {
    async fn subject(&self, id: SubjectId) -> Result<Option<SubjectRecord>, StoreError> {
        self.point("subject", move |conn| subjects::subject(conn, id))
            .await
    }

    async fn subjects_after(
        &self,
        after: Option<SubjectId>,
        limit: u32,
    ) -> Result<Vec<SubjectRecord>, StoreError> {
        self.read("subjects_after", move |conn| {
            subjects::subjects_after(conn, after, limit)
        })
        .await
    }

    async fn lookup(&self, kind: &str, token: &[u8; 32]) -> Result<Vec<SubjectId>, StoreError> {
        let (kind, token) = (kind.to_owned(), *token);
        self.point("lookup", move |conn| subjects::lookup(conn, &kind, &token))
            .await
    }

    async fn is_erased(&self, subject: SubjectId) -> Result<bool, StoreError> {
        self.point("is_erased", move |conn| subjects::is_erased(conn, subject))
            .await
    }

    async fn erasures(&self) -> Result<Vec<ErasureRecord>, StoreError> {
        self.read("erasures", |conn| subjects::erasures(conn)).await
    }

    async fn restrictions_and_objections(
        &self,
    ) -> Result<integritet_app::store::SubjectsSay, StoreError> {
        self.read("restrictions_and_objections", |conn| {
            subjects::restrictions_and_objections(conn)
        })
        .await
    }
}

#[async_trait]
impl ArchiveStore for SqliteStore {
    async fn archive_entry(
        &self,
        reference: &ArchiveRef,
    ) -> Result<Option<ArchiveRecord>, StoreError> {
        let reference = reference.clone();
        self.point("archive_entry", move |conn| {
            archive::entry(conn, &reference)
        })
        .await
    }

    async fn archive_due(&self, today: Date) -> Result<Vec<ArchiveRef>, StoreError> {
        self.read("archive_due", move |conn| archive::due(conn, today))
            .await
    }

    async fn has_archive_entries(&self) -> Result<bool, StoreError> {
        self.point("has_archive_entries", |conn| {
            conn.query_row("SELECT EXISTS (SELECT 1 FROM archive)", [], |row| {
                row.get(0)
            })
            .map_err(|e| error::db("looking into the archive", e))
        })
        .await
    }
}

#[async_trait]
impl AuditStore for SqliteStore {
    async fn audit_entries(
        &self,
        after: u64,
        until: u64,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        self.read("audit_entries", move |conn| {
            audit::entries(conn, after, until, limit)
        })
        .await
    }

    async fn audit_links(
        &self,
        after: u64,
        until: u64,
        limit: u32,
    ) -> Result<Vec<ChainLink>, StoreError> {
        let key = self.chain_key.get().clone();
        self.read("audit_links", move |conn| {
            audit::links(conn, after, until, limit, &key)
        })
        .await
    }

    async fn audit_head(&self) -> Result<Option<(u64, ChainHash)>, StoreError> {
        self.point("audit_head", |conn| audit::head(conn)).await
    }

    async fn last_audit_entry(
        &self,
        action: AuditAction,
        until: u64,
    ) -> Result<Option<AuditEntry>, StoreError> {
        self.read("last_audit_entry", move |conn| {
            audit::last_of(conn, action, until)
        })
        .await
    }

    async fn disclosures_of(&self, subject: SubjectId) -> Result<Vec<AuditEntry>, StoreError> {
        self.read("disclosures_of", move |conn| {
            audit::disclosures_of(conn, subject.as_bytes())
        })
        .await
    }

    fn use_chain_key(&self, key: ChainKey) -> Result<(), StoreError> {
        self.chain_key.set(key)
    }
}

#[async_trait]
impl KeyStore for SqliteStore {
    async fn wrapped_keys(
        &self,
        after: Option<SubjectId>,
        limit: u32,
    ) -> Result<Vec<WrappedKeyRow>, StoreError> {
        self.read("wrapped_keys", move |conn| keys::page(conn, after, limit))
            .await
    }
}

#[async_trait]
impl integritet_app::store::SuppressionStore for SqliteStore {
    async fn is_suppressed(&self, kind: &str, hash: &[u8; 32]) -> Result<bool, StoreError> {
        let (kind, hash) = (kind.to_owned(), *hash);
        self.point("is_suppressed", move |conn| {
            use rusqlite::OptionalExtension;
            conn.prepare_cached("SELECT 1 FROM suppression WHERE kind = ?1 AND hash = ?2")
                .and_then(|mut stmt| {
                    stmt.query_row((&kind, hash.as_slice()), |_| Ok(()))
                        .optional()
                })
                .map(|found| found.is_some())
                .map_err(|e| error::db("reading the suppression list", e))
        })
        .await
    }
}

#[async_trait]
impl integritet_app::store::JobStore for SqliteStore {
    async fn take_daily_job(
        &self,
        name: &str,
        day: Date,
    ) -> Result<Option<Box<dyn integritet_app::store::DailyJob>>, StoreError> {
        jobs::take(&self.path, name, day)
    }
}

#[async_trait]
impl integritet_app::store::HoldStore for SqliteStore {
    async fn legal_holds(&self) -> Result<Vec<integritet_app::store::HoldRow>, StoreError> {
        self.read("legal_holds", |conn| holds::list(conn)).await
    }
}

#[async_trait]
impl integritet_app::store::ConsentStore for SqliteStore {
    async fn consent_record(
        &self,
        id: uuid::Uuid,
    ) -> Result<Option<integritet_app::store::ConsentRow>, StoreError> {
        self.point("consent_record", move |conn| consent::by_id(conn, id))
            .await
    }

    async fn consent_records(
        &self,
        since: time::OffsetDateTime,
        after: Option<(time::OffsetDateTime, uuid::Uuid)>,
        limit: u32,
    ) -> Result<Vec<integritet_app::store::ConsentRow>, StoreError> {
        self.read("consent_records", move |conn| {
            consent::since(conn, since, after, limit)
        })
        .await
    }
}

#[async_trait]
impl integritet_app::store::MarketingStore for SqliteStore {
    async fn is_nix_listed(&self, hash: &[u8; 32]) -> Result<bool, StoreError> {
        let hash = *hash;
        self.point("is_nix_listed", move |conn| {
            marketing::is_nix_listed(conn, &hash)
        })
        .await
    }

    async fn nix_entries(&self) -> Result<u64, StoreError> {
        self.read("nix_entries", |conn| marketing::nix_entries(conn))
            .await
    }

    async fn spent_link(
        &self,
        id: [u8; 16],
    ) -> Result<Option<integritet_app::store::SpentLink>, StoreError> {
        self.point("spent_link", move |conn| marketing::spent_link(conn, &id))
            .await
    }
}

#[async_trait]
impl RequestStore for SqliteStore {
    async fn request(&self, id: uuid::Uuid) -> Result<Option<RequestRow>, StoreError> {
        self.point("request", move |conn| requests::by_id(conn, id))
            .await
    }

    async fn list_requests(&self) -> Result<Vec<RequestRow>, StoreError> {
        self.read("list_requests", |conn| requests::list(conn))
            .await
    }
}

#[async_trait]
impl TokenStore for SqliteStore {
    async fn token_by_hash(&self, hash: &[u8; 32]) -> Result<Option<TokenRecord>, StoreError> {
        let hash = *hash;
        self.point("token_by_hash", move |conn| tokens::by_hash(conn, &hash))
            .await
    }

    async fn list_tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        self.read("list_tokens", |conn| tokens::list(conn)).await
    }
}

#[async_trait]
impl UserStore for SqliteStore {
    async fn user(&self, name: &str) -> Result<Option<UserRecord>, StoreError> {
        let name = name.to_owned();
        self.point("user", move |conn| users::user(conn, &name))
            .await
    }

    async fn list_users(&self) -> Result<Vec<UserRecord>, StoreError> {
        self.read("list_users", |conn| users::list(conn)).await
    }

    async fn session(
        &self,
        hash: &[u8; 32],
    ) -> Result<Option<(SessionRecord, UserRecord)>, StoreError> {
        let hash = *hash;
        self.point("session", move |conn| users::session(conn, &hash))
            .await
    }
}

#[async_trait]
impl PolicyStore for SqliteStore {
    async fn policy_versions(&self) -> Result<Vec<PolicyVersionRecord>, StoreError> {
        self.read("policy_versions", |conn| policy::versions(conn))
            .await
    }
}

#[async_trait]
impl Maintenance for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.point("ping", |conn| {
            conn.query_row("SELECT 1", [], |row| row.get::<_, i64>(0))
                .map(drop)
                .map_err(|e| error::db("checking the database", e))
        })
        .await
    }

    async fn counts(&self) -> Result<StoreCounts, StoreError> {
        self.read("counts", |conn| {
            // Index entries waiting for their cleanup find no one, and are not counted. The
            // audit log is counted by its last seq (seqs have no gaps in a whole log), which is
            // instant however long the log grows.
            let index = if cleanup::waiting(conn)? {
                "SELECT count(*) FROM blind_index AS entry
                 WHERE EXISTS (SELECT 1 FROM subject_values AS value
                               WHERE value.subject_id = entry.subject_id
                                 AND value.id = entry.value_id)"
            } else {
                "SELECT count(*) FROM blind_index"
            };
            conn.query_row(
                &format!(
                    "SELECT (SELECT count(*) FROM subjects), (SELECT count(*) FROM subject_values),
                        ({index}), (SELECT count(*) FROM archive),
                        (SELECT count(*) FROM erasures),
                        (SELECT coalesce(max(seq), 0) FROM audit_log)"
                ),
                [],
                |row| {
                    Ok(StoreCounts {
                        subjects: count(row.get(0)?),
                        values: count(row.get(1)?),
                        index_entries: count(row.get(2)?),
                        archive_entries: count(row.get(3)?),
                        erasures: count(row.get(4)?),
                        audit_entries: count(row.get(5)?),
                    })
                },
            )
            .map_err(|e| error::db("counting rows", e))
        })
        .await
    }

    async fn backup_to(&self, dest: &Path) -> Result<(), StoreError> {
        let (source, dest) = (self.path.clone(), dest.to_path_buf());
        let backup = tokio::task::spawn_blocking(move || files::backup(&source, &dest));
        self.meter
            .time("backup_to", async {
                backup.await.map_err(|e| {
                    StoreError::Unavailable(format!("writing the backup failed: {e}"))
                })?
            })
            .await
    }

    fn observe(&self, observer: Arc<dyn StoreObserver>) {
        self.meter.set(observer);
    }
}

#[async_trait]
impl UnitOfWork for SqliteStore {
    async fn commit(&self, change: Change, audit: Vec<AuditDraft>) -> Result<Outcome, StoreError> {
        match &self.writes {
            Some(writes) => writes.submit(change, audit).await,
            None => Err(error::closed()),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::path_of_url;

    #[test]
    fn urls_name_files() {
        assert_eq!(
            path_of_url("sqlite:///var/lib/x.db").unwrap(),
            std::path::PathBuf::from("/var/lib/x.db")
        );
        assert_eq!(
            path_of_url("sqlite:x.db?mode=rwc").unwrap(),
            std::path::PathBuf::from("x.db")
        );
        assert!(path_of_url("sqlite::memory:").is_err());
        assert!(path_of_url("sqlite:x.db?mode=memory").is_err());
        assert!(path_of_url("sqlite:").is_err());
        assert!(path_of_url("postgres://x").is_err());
    }
}
