//! The SQLite backend of [`Store`]: one file, no server, the embedded default.
//!
//! Writes go through a single connection, each in one `BEGIN IMMEDIATE` transaction that also
//! chains its audit entries onto the log, so the log and the data never disagree and the chain
//! never forks. Small inserts and audit appends that arrive together share one transaction
//! (group commit). Reads use their own connections and, thanks to WAL, never wait for the
//! writer.
//!
//! Layout: ids are 16-byte BLOBs, instants are Unix nanoseconds, days are `YYYY-MM-DD`, lists
//! of names are JSON arrays (see `migrations/`).

mod conn;
mod convert;
mod error;
mod group;
mod read;
mod requests;
mod users;
mod write;

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use integritet_app::store::{
    ActivityRecord, ArchiveRecord, ErasureRecord, IndexEntry, NewSubject, ObjectionRecord,
    PolicyVersionRecord, Store, StoreCounts, StoreError, SubjectRecord, TokenRecord, ValueRecord,
    WrappedKeyRow,
};
use integritet_domain::audit::{AuditAction, AuditDraft, AuditEntry, ChainHash};
use integritet_domain::subject::{ArchiveRef, SubjectId, ValueId};
use sqlx::SqliteConnection;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use time::{Date, OffsetDateTime};

use crate::conn::Connections;
use crate::convert::{day, day_text, instant, names, names_json, nanos, uuid};
use crate::group::{AppendQueue, Job};
use crate::write::{ArchiveRows, AuditRows, Inserts, LiveRows, begin, finish, rollback};

/// The schema, embedded in the binary and brought up to date on every open.
static MIGRATOR: Migrator = sqlx::migrate!();

/// How long a statement waits for another process's write lock before giving up with
/// [`StoreError::Conflict`].
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Inserts of up to this many subjects share transactions with other small writes; larger ones
/// (imports) are worth a transaction of their own.
const GROUPED_SUBJECTS: usize = 16;

/// Prepared statements kept per connection: the fixed queries plus the few bulk-insert shapes.
const STATEMENT_CACHE: usize = 256;

/// A [`Store`] in one SQLite file.
pub struct SqliteStore {
    conns: Arc<Connections>,
    /// Small inserts and audit appends waiting to share the next write transaction.
    appends: Arc<AppendQueue>,
    path: PathBuf,
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
        prepare_file(path)?;
        let options = SqliteConnectOptions::new().filename(path);
        SqliteStore::open_with(options, path.to_path_buf()).await
    }

    /// Opens the store named by a URL such as `sqlite:///var/lib/integritet/vault.db` (or
    /// `sqlite:vault.db`, relative to the working directory). Only the path is taken from it.
    pub async fn open_url(url: &str) -> Result<SqliteStore, StoreError> {
        let options = SqliteConnectOptions::from_str(url).map_err(|e| {
            StoreError::Unavailable(format!(
                "the SQLite database URL is not valid ({e}); write it as sqlite:///path/to/file.db"
            ))
        })?;
        let path = options.get_filename();
        if path.as_os_str().is_empty() || url.contains(":memory:") || url.contains("mode=memory") {
            return Err(StoreError::Unavailable(
                "an in-memory SQLite database keeps nothing; give a file path, as in \
                 sqlite:///path/to/file.db"
                    .into(),
            ));
        }
        SqliteStore::open(path).await
    }

    async fn open_with(
        options: SqliteConnectOptions,
        path: PathBuf,
    ) -> Result<SqliteStore, StoreError> {
        let options = options
            .journal_mode(SqliteJournalMode::Wal)
            // In WAL mode, NORMAL syncs the log at checkpoints, not at every commit. A committed
            // transaction is in the WAL file (in the OS cache) before commit returns, so it
            // survives the process being killed (kill -9, a crash, an OOM kill); only a power
            // cut or an OS crash can lose the last commits, and never corrupts the file.
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT)
            .statement_cache_capacity(STATEMENT_CACHE)
            .pragma("temp_store", "memory")
            // Checkpoints normally run beside the writer (see `conn`); this is the backstop.
            .pragma("wal_autocheckpoint", "8192");
        let conns = Connections::open(options, reader_connections()).await?;
        Ok(SqliteStore {
            conns: Arc::new(conns),
            appends: Arc::default(),
            path,
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Closes every connection, which checkpoints the WAL into the main file. (Dropping the
    /// store closes them too, without waiting.)
    pub async fn close(self) {
        if let Ok(conns) = Arc::try_unwrap(self.conns) {
            conns.close().await;
        }
    }
}

/// Brings the schema up to date.
async fn migrate(conn: &mut SqliteConnection) -> Result<(), StoreError> {
    MIGRATOR.run(conn).await.map_err(error::migrate)
}

/// Readers: enough for the cores that will use them, and a few for queries that wait on disk.
fn reader_connections() -> usize {
    std::thread::available_parallelism()
        .map_or(4, std::num::NonZero::get)
        .clamp(2, 8)
        + 2
}

/// Creates the directory and an empty database file readable by its owner only, so that the
/// WAL and shared-memory files SQLite creates beside it get the same permissions.
fn prepare_file(path: &Path) -> Result<(), StoreError> {
    let unavailable = |what: &str, e: std::io::Error| {
        StoreError::Unavailable(format!(
            "{what} {} failed ({e}); check the path and its permissions",
            path.display()
        ))
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        create_dir(dir).map_err(|e| unavailable("creating the directory of", e))?;
    }
    match create_private_file(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(unavailable("creating", e)),
    }
}

#[cfg(unix)]
fn create_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

/// Creates `path`, failing if it exists, with owner-only permissions where there are any.
fn create_private_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn insert_subjects(
        &self,
        subjects: Vec<NewSubject>,
        audit: Vec<AuditDraft>,
    ) -> Result<(), StoreError> {
        let audit = AuditRows::new(audit)?;
        if subjects.len() <= GROUPED_SUBJECTS {
            return self
                .appends
                .write(&self.conns, Job { subjects, audit })
                .await;
        }
        let mut rows = LiveRows::default();
        for subject in &subjects {
            rows.subject(&subject.record)?;
            rows.index(&subject.record.id, &subject.index);
        }
        let mut inserts = Inserts::new();
        rows.push_into(&mut inserts);
        let doing = "storing subjects";
        let mut writer = self.conns.writer().await;
        let tx = begin(&mut writer, doing).await?;
        finish(tx, inserts, &[&audit], doing).await
    }

    async fn subject(&self, id: SubjectId) -> Result<Option<SubjectRecord>, StoreError> {
        read::subject(&self.conns, id).await
    }

    async fn lookup(&self, kind: &str, token: &[u8; 32]) -> Result<Vec<SubjectId>, StoreError> {
        let token = token.as_slice();
        let rows = sqlx::query_scalar!(
            r#"SELECT DISTINCT subject_id FROM blind_index
               WHERE kind = ?1 AND token = ?2 ORDER BY subject_id"#,
            kind,
            token
        )
        .fetch_all(&mut *self.conns.reader().await?)
        .await
        .map_err(|e| error::db("looking up a subject", e))?;
        rows.iter()
            .map(|id| uuid(id, "blind_index", "subject_id", kind).map(SubjectId))
            .collect()
    }

    async fn replace_value(
        &self,
        subject: SubjectId,
        old: ValueId,
        new: ValueRecord,
        index: Vec<IndexEntry>,
        audit: Vec<AuditDraft>,
    ) -> Result<bool, StoreError> {
        let new = [new];
        let mut rows = LiveRows::default();
        rows.values(&subject, &new)?;
        rows.index(&subject, &index);
        let audit = AuditRows::new(audit)?;
        let mut inserts = Inserts::new();
        rows.push_into(&mut inserts);
        let doing = "replacing a value";
        let (subject_key, old_key) = (subject.as_bytes().as_slice(), old.as_bytes().as_slice());
        let mut writer = self.conns.writer().await;
        let mut tx = begin(&mut writer, doing).await?;
        // The old value's index entries go with it (ON DELETE CASCADE).
        let deleted = sqlx::query!(
            r#"DELETE FROM subject_values WHERE id = ?1 AND subject_id = ?2"#,
            old_key,
            subject_key
        )
        .execute(&mut *tx)
        .await
        .map_err(|e| error::db(doing, e))?
        .rows_affected();
        if deleted == 0 {
            // Nothing changed, so nothing is audited as changed.
            rollback(tx, doing).await?;
            return Ok(false);
        }
        finish(tx, inserts, &[&audit], doing).await?;
        Ok(true)
    }

    async fn add_values(
        &self,
        subject: SubjectId,
        values: Vec<ValueRecord>,
        index: Vec<IndexEntry>,
        audit: Vec<AuditDraft>,
    ) -> Result<bool, StoreError> {
        let mut rows = LiveRows::default();
        rows.values(&subject, &values)?;
        rows.index(&subject, &index);
        let audit = AuditRows::new(audit)?;
        let mut inserts = Inserts::new();
        rows.push_into(&mut inserts);
        let doing = "adding values";
        let mut writer = self.conns.writer().await;
        let mut tx = begin(&mut writer, doing).await?;
        if !subject_exists(&mut tx, &subject, doing).await? {
            rollback(tx, doing).await?;
            return Ok(false);
        }
        finish(tx, inserts, &[&audit], doing).await?;
        Ok(true)
    }

    async fn add_activities(
        &self,
        subject: SubjectId,
        activities: Vec<ActivityRecord>,
        audit: Vec<AuditDraft>,
    ) -> Result<bool, StoreError> {
        let mut rows = LiveRows::default();
        rows.activities(&subject, &activities)?;
        let audit = AuditRows::new(audit)?;
        let mut inserts = Inserts::new();
        rows.push_into(&mut inserts);
        let doing = "recording activity";
        let mut writer = self.conns.writer().await;
        let mut tx = begin(&mut writer, doing).await?;
        if !subject_exists(&mut tx, &subject, doing).await? {
            rollback(tx, doing).await?;
            return Ok(false);
        }
        finish(tx, inserts, &[&audit], doing).await?;
        Ok(true)
    }

    async fn append_audit(&self, audit: Vec<AuditDraft>) -> Result<(), StoreError> {
        if audit.is_empty() {
            return Ok(());
        }
        let audit = AuditRows::new(audit)?;
        let job = Job {
            subjects: Vec::new(),
            audit,
        };
        self.appends.write(&self.conns, job).await
    }

    async fn erase_subject(
        &self,
        erasure: ErasureRecord,
        archive: Vec<ArchiveRecord>,
        audit: Vec<AuditDraft>,
    ) -> Result<bool, StoreError> {
        let archive = ArchiveRows::new(&archive)?;
        let mut inserts = Inserts::new();
        archive.push_into(&mut inserts);
        let at = nanos(erasure.at)?;
        let erased = names_json(&erasure.erased)?;
        let archived = names_json(&erasure.archived)?;
        let audit = AuditRows::new(audit)?;
        let key = erasure.subject.as_bytes().as_slice();
        let doing = "erasing a subject";
        let mut writer = self.conns.writer().await;
        let mut tx = begin(&mut writer, doing).await?;
        // Values, their index entries and activities go by ON DELETE CASCADE; the wrapped key
        // goes with the subject row, which crypto-shreds the values in every backup too.
        let deleted = sqlx::query!(r#"DELETE FROM subjects WHERE id = ?1"#, key)
            .execute(&mut *tx)
            .await
            .map_err(|e| error::db(doing, e))?
            .rows_affected();
        // A replay of the same erasure (same subject and instant) keeps the one record.
        sqlx::query!(
            r#"INSERT INTO erasures (subject_id, at, erased, archived, reason)
               VALUES (?1, ?2, ?3, ?4, ?5)
               ON CONFLICT (subject_id, at) DO NOTHING"#,
            key,
            at,
            erased,
            archived,
            erasure.reason
        )
        .execute(&mut *tx)
        .await
        .map_err(|e| error::db(doing, e))?;
        finish(tx, inserts, &[&audit], doing).await?;
        Ok(deleted > 0)
    }

    async fn is_erased(&self, subject: SubjectId) -> Result<bool, StoreError> {
        let key = subject.as_bytes().as_slice();
        let found = sqlx::query_scalar!(
            r#"SELECT EXISTS (SELECT 1 FROM erasures WHERE subject_id = ?1) AS "found!: bool""#,
            key
        )
        .fetch_one(&mut *self.conns.reader().await?)
        .await
        .map_err(|e| error::db("checking for an erasure", e))?;
        Ok(found)
    }

    async fn erasures(&self) -> Result<Vec<ErasureRecord>, StoreError> {
        let rows = sqlx::query!(
            r#"SELECT id, subject_id, at, erased, archived, reason FROM erasures ORDER BY at, id"#
        )
        .fetch_all(&mut *self.conns.reader().await?)
        .await
        .map_err(|e| error::db("listing erasures", e))?;
        rows.into_iter()
            .map(|row| {
                let key = row.id;
                Ok(ErasureRecord {
                    subject: SubjectId(uuid(&row.subject_id, "erasures", "subject_id", key)?),
                    at: instant(row.at, "erasures", "at", key)?,
                    erased: names(&row.erased, "erasures", "erased", key)?,
                    archived: names(&row.archived, "erasures", "archived", key)?,
                    reason: row.reason,
                })
            })
            .collect()
    }

    async fn archive_entry(
        &self,
        reference: &ArchiveRef,
    ) -> Result<Option<ArchiveRecord>, StoreError> {
        let key = reference.as_str();
        let row = sqlx::query!(
            r#"SELECT created_at, shred_after, purposes, categories, wrapped_key, ciphertext,
                      policy_version
               FROM archive WHERE reference = ?1"#,
            key
        )
        .fetch_optional(&mut *self.conns.reader().await?)
        .await
        .map_err(|e| error::db("reading an archive entry", e))?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(ArchiveRecord {
            reference: reference.clone(),
            created_at: instant(row.created_at, "archive", "created_at", reference)?,
            shred_after: day(&row.shred_after, "archive", "shred_after", reference)?,
            purposes: names(&row.purposes, "archive", "purposes", reference)?,
            categories: names(&row.categories, "archive", "categories", reference)?,
            wrapped_key: row.wrapped_key,
            ciphertext: row.ciphertext,
            policy_version: row.policy_version,
        }))
    }

    async fn archive_due(&self, today: Date) -> Result<Vec<ArchiveRef>, StoreError> {
        let today = day_text(today);
        let rows = sqlx::query_scalar!(
            r#"SELECT reference FROM archive WHERE shred_after < ?1
               ORDER BY shred_after, reference"#,
            today
        )
        .fetch_all(&mut *self.conns.reader().await?)
        .await
        .map_err(|e| error::db("listing archive entries due for shredding", e))?;
        rows.into_iter()
            .map(|text| {
                ArchiveRef::parse(&text).ok_or_else(|| {
                    StoreError::Corrupt(
                        "archive.reference holds a value that is not an archive reference; the \
                         file was changed outside Integritet, restore it from a backup"
                            .into(),
                    )
                })
            })
            .collect()
    }

    async fn shred_archive(
        &self,
        references: Vec<ArchiveRef>,
        audit: Vec<AuditDraft>,
    ) -> Result<u64, StoreError> {
        let audit = AuditRows::new(audit)?;
        let doing = "shredding archive entries";
        let mut writer = self.conns.writer().await;
        let mut tx = begin(&mut writer, doing).await?;
        let mut shredded = 0;
        for reference in &references {
            let key = reference.as_str();
            shredded += sqlx::query!(r#"DELETE FROM archive WHERE reference = ?1"#, key)
                .execute(&mut *tx)
                .await
                .map_err(|e| error::db(doing, e))?
                .rows_affected();
        }
        finish(tx, Inserts::new(), &[&audit], doing).await?;
        Ok(shredded)
    }

    async fn wrapped_keys(
        &self,
        after: Option<SubjectId>,
        limit: u32,
    ) -> Result<Vec<WrappedKeyRow>, StoreError> {
        // Every 16-byte id sorts after the empty BLOB, so "from the start" needs no second query.
        let after: &[u8] = after.as_ref().map_or(&[], |id| id.as_bytes().as_slice());
        let limit = i64::from(limit);
        let rows = sqlx::query!(
            r#"SELECT id, wrapped_key FROM subjects WHERE id > ?1 ORDER BY id LIMIT ?2"#,
            after,
            limit
        )
        .fetch_all(&mut *self.conns.reader().await?)
        .await
        .map_err(|e| error::db("listing wrapped keys", e))?;
        rows.into_iter()
            .map(|row| {
                Ok(WrappedKeyRow {
                    subject: SubjectId(uuid(&row.id, "subjects", "id", "(a subject)")?),
                    wrapped_key: row.wrapped_key,
                })
            })
            .collect()
    }

    async fn rewrap_keys(
        &self,
        rows: Vec<WrappedKeyRow>,
        audit: Vec<AuditDraft>,
    ) -> Result<(), StoreError> {
        let audit = AuditRows::new(audit)?;
        let doing = "replacing wrapped keys";
        let mut writer = self.conns.writer().await;
        let mut tx = begin(&mut writer, doing).await?;
        for row in &rows {
            // A subject erased since its key was read has nothing left to rewrap.
            let (key, wrapped) = (
                row.subject.as_bytes().as_slice(),
                row.wrapped_key.as_slice(),
            );
            sqlx::query!(
                r#"UPDATE subjects SET wrapped_key = ?2 WHERE id = ?1"#,
                key,
                wrapped
            )
            .execute(&mut *tx)
            .await
            .map_err(|e| error::db(doing, e))?;
        }
        finish(tx, Inserts::new(), &[&audit], doing).await
    }

    async fn audit_entries(&self, after: u64, limit: u32) -> Result<Vec<AuditEntry>, StoreError> {
        let Ok(after) = i64::try_from(after) else {
            return Ok(Vec::new());
        };
        let limit = i64::from(limit);
        let rows = sqlx::query!(
            r#"SELECT seq, at, actor, role, purpose, subject_id, categories, action,
                      policy_version, detail, prev_hash, hash
               FROM audit_log WHERE seq > ?1 ORDER BY seq LIMIT ?2"#,
            after,
            limit
        )
        .fetch_all(&mut *self.conns.reader().await?)
        .await
        .map_err(|e| error::db("reading the audit log", e))?;
        rows.into_iter()
            .map(|row| {
                let seq = row.seq;
                let bad = |column: &str| error::corrupt("audit_log", column, seq);
                let subject = match row.subject_id {
                    Some(bytes) => Some(uuid(&bytes, "audit_log", "subject_id", seq)?),
                    None => None,
                };
                Ok(AuditEntry {
                    seq: u64::try_from(seq).map_err(|_| bad("seq"))?,
                    draft: AuditDraft {
                        at: instant(row.at, "audit_log", "at", seq)?,
                        actor: row.actor,
                        role: row.role,
                        purpose: row.purpose,
                        subject,
                        categories: names(&row.categories, "audit_log", "categories", seq)?,
                        action: AuditAction::parse(&row.action).ok_or_else(|| bad("action"))?,
                        policy_version: row.policy_version,
                        detail: row.detail,
                    },
                    prev_hash: ChainHash::from_slice(&row.prev_hash)
                        .ok_or_else(|| bad("prev_hash"))?,
                    hash: ChainHash::from_slice(&row.hash).ok_or_else(|| bad("hash"))?,
                })
            })
            .collect()
    }

    async fn audit_head(&self) -> Result<Option<(u64, ChainHash)>, StoreError> {
        let row = sqlx::query!(r#"SELECT seq, hash FROM audit_head WHERE id = 1"#)
            .fetch_optional(&mut *self.conns.reader().await?)
            .await
            .map_err(|e| error::db("reading the audit head", e))?;
        let Some(row) = row else { return Ok(None) };
        let seq = u64::try_from(row.seq).map_err(|_| error::corrupt("audit_head", "seq", 1))?;
        let hash = ChainHash::from_slice(&row.hash)
            .ok_or_else(|| error::corrupt("audit_head", "hash", 1))?;
        Ok(Some((seq, hash)))
    }

    async fn counts(&self) -> Result<StoreCounts, StoreError> {
        // The audit log is counted by its last seq (seqs have no gaps in a whole log), which
        // is instant however long the log grows.
        let row = sqlx::query!(
            r#"SELECT (SELECT count(*) FROM subjects) AS "subjects!: i64",
                      (SELECT count(*) FROM subject_values) AS "values!: i64",
                      (SELECT count(*) FROM blind_index) AS "index_entries!: i64",
                      (SELECT count(*) FROM archive) AS "archive_entries!: i64",
                      (SELECT count(*) FROM erasures) AS "erasures!: i64",
                      (SELECT coalesce(max(seq), 0) FROM audit_log) AS "audit_entries!: i64""#
        )
        .fetch_one(&mut *self.conns.reader().await?)
        .await
        .map_err(|e| error::db("counting rows", e))?;
        Ok(StoreCounts {
            subjects: count(row.subjects),
            values: count(row.values),
            index_entries: count(row.index_entries),
            archive_entries: count(row.archive_entries),
            erasures: count(row.erasures),
            audit_entries: count(row.audit_entries),
        })
    }

    async fn backup_to(&self, dest: &Path) -> Result<(), StoreError> {
        // Absolute, so SQLite never reads the name as a `file:` URI.
        let dest = std::path::absolute(dest).map_err(|e| {
            StoreError::Unavailable(format!(
                "the backup path {} cannot be resolved ({e}); give an absolute path",
                dest.display()
            ))
        })?;
        let Some(text) = dest.to_str().map(str::to_owned) else {
            return Err(StoreError::Unavailable(format!(
                "the backup path {} is not valid UTF-8, which SQLite needs; choose another path",
                dest.display()
            )));
        };
        // Claim the name first: refuses an existing file, and gives the copy owner-only
        // permissions (VACUUM INTO accepts an empty file).
        {
            let claim = dest.clone();
            blocking(move || {
                if let Some(dir) = claim.parent() {
                    create_dir(dir)?;
                }
                create_private_file(&claim).map(drop)
            })
            .await
            .map_err(|e| {
                if e.kind() == std::io::ErrorKind::AlreadyExists {
                    StoreError::Unsupported(format!(
                        "the backup destination {} already exists; choose a new path (a backup \
                         never overwrites)",
                        dest.display()
                    ))
                } else {
                    StoreError::Unavailable(format!(
                        "creating the backup {} failed ({e}); check the path and its permissions",
                        dest.display()
                    ))
                }
            })?;
        }
        // A reader takes a consistent snapshot while writes carry on.
        let copied = sqlx::query!(r#"VACUUM INTO ?1"#, text)
            .execute(&mut *self.conns.reader().await?)
            .await
            .map_err(|e| error::db("writing the backup", e));
        let synced = match copied {
            Ok(_) => {
                let dest = dest.clone();
                blocking(move || sync_file(&dest)).await.map_err(|e| {
                    StoreError::Unavailable(format!(
                        "flushing the backup to disk failed ({e}); check the disk and retry"
                    ))
                })
            }
            Err(e) => Err(e),
        };
        if synced.is_err() {
            // No half-written backup left behind to be mistaken for a good one.
            let _ = blocking({
                let dest = dest.clone();
                move || std::fs::remove_file(dest)
            })
            .await;
        }
        synced
    }

    async fn insert_token(
        &self,
        token: TokenRecord,
        audit: Vec<AuditDraft>,
    ) -> Result<(), StoreError> {
        let created_at = nanos(token.created_at)?;
        let expires_at = token.expires_at.map(nanos).transpose()?;
        let revoked_at = token.revoked_at.map(nanos).transpose()?;
        let hash = token.hash.as_slice();
        let audit = AuditRows::new(audit)?;
        let doing = "storing a token";
        let mut writer = self.conns.writer().await;
        let mut tx = begin(&mut writer, doing).await?;
        sqlx::query!(
            r#"INSERT INTO api_tokens (id, hash, role, label, created_at, expires_at, revoked_at)
               VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"#,
            token.id,
            hash,
            token.role,
            token.label,
            created_at,
            expires_at,
            revoked_at
        )
        .execute(&mut *tx)
        .await
        .map_err(|e| error::db(doing, e))?;
        finish(tx, Inserts::new(), &[&audit], doing).await
    }

    async fn token_by_hash(&self, hash: &[u8; 32]) -> Result<Option<TokenRecord>, StoreError> {
        let key = hash.as_slice();
        let row = sqlx::query!(
            r#"SELECT id, hash, role, label, created_at, expires_at, revoked_at
               FROM api_tokens WHERE hash = ?1"#,
            key
        )
        .fetch_optional(&mut *self.conns.reader().await?)
        .await
        .map_err(|e| error::db("looking up a token", e))?;
        row.map(|row| {
            token_record(
                row.id,
                &row.hash,
                row.role,
                row.label,
                row.created_at,
                row.expires_at,
                row.revoked_at,
            )
        })
        .transpose()
    }

    async fn list_tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        let rows = sqlx::query!(
            r#"SELECT id, hash, role, label, created_at, expires_at, revoked_at
               FROM api_tokens ORDER BY created_at, id"#
        )
        .fetch_all(&mut *self.conns.reader().await?)
        .await
        .map_err(|e| error::db("listing tokens", e))?;
        rows.into_iter()
            .map(|row| {
                token_record(
                    row.id,
                    &row.hash,
                    row.role,
                    row.label,
                    row.created_at,
                    row.expires_at,
                    row.revoked_at,
                )
            })
            .collect()
    }

    async fn revoke_token(
        &self,
        id: &str,
        at: OffsetDateTime,
        audit: Vec<AuditDraft>,
    ) -> Result<bool, StoreError> {
        let at = nanos(at)?;
        let audit = AuditRows::new(audit)?;
        let doing = "revoking a token";
        let mut writer = self.conns.writer().await;
        let mut tx = begin(&mut writer, doing).await?;
        let changed = sqlx::query!(
            r#"UPDATE api_tokens SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL"#,
            id,
            at
        )
        .execute(&mut *tx)
        .await
        .map_err(|e| error::db(doing, e))?
        .rows_affected();
        if changed == 0 {
            // Nothing changed, so nothing is audited as changed.
            rollback(tx, doing).await?;
            return Ok(false);
        }
        finish(tx, Inserts::new(), &[&audit], doing).await?;
        Ok(true)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query_scalar!(r#"SELECT 1 AS "one!: i64""#)
            .fetch_one(&mut *self.conns.reader().await?)
            .await
            .map_err(|e| error::db("checking the database", e))?;
        Ok(())
    }

    async fn set_restricted(
        &self,
        subject: SubjectId,
        restricted: bool,
        audit: Vec<AuditDraft>,
    ) -> Result<bool, StoreError> {
        requests::set_restricted(&self.conns, subject, restricted, audit).await
    }

    async fn add_objection(
        &self,
        subject: SubjectId,
        objection: ObjectionRecord,
        audit: Vec<AuditDraft>,
    ) -> Result<bool, StoreError> {
        requests::add_objection(&self.conns, subject, objection, audit).await
    }

    async fn withdraw_objection(
        &self,
        subject: SubjectId,
        purpose: &str,
        audit: Vec<AuditDraft>,
    ) -> Result<bool, StoreError> {
        requests::withdraw_objection(&self.conns, subject, purpose, audit).await
    }

    async fn record_policy_version(
        &self,
        record: PolicyVersionRecord,
        audit: Vec<AuditDraft>,
    ) -> Result<bool, StoreError> {
        requests::record_policy_version(&self.conns, record, audit).await
    }

    async fn policy_versions(&self) -> Result<Vec<PolicyVersionRecord>, StoreError> {
        requests::policy_versions(&self.conns).await
    }

    async fn insert_user(
        &self,
        user: integritet_app::store::UserRecord,
        audit: Vec<AuditDraft>,
    ) -> Result<(), StoreError> {
        users::insert_user(&self.conns, user, audit).await
    }

    async fn user(
        &self,
        name: &str,
    ) -> Result<Option<integritet_app::store::UserRecord>, StoreError> {
        users::user(&self.conns, name).await
    }

    async fn list_users(&self) -> Result<Vec<integritet_app::store::UserRecord>, StoreError> {
        users::list_users(&self.conns).await
    }

    async fn disable_user(
        &self,
        name: &str,
        at: OffsetDateTime,
        audit: Vec<AuditDraft>,
    ) -> Result<bool, StoreError> {
        users::disable_user(&self.conns, name, at, audit).await
    }

    async fn record_login_failure(
        &self,
        name: &str,
        at: OffsetDateTime,
        rule: integritet_app::store::LockoutRule,
        audit: Vec<AuditDraft>,
        lock_audit: Vec<AuditDraft>,
    ) -> Result<Option<integritet_app::store::LoginFailure>, StoreError> {
        users::record_login_failure(&self.conns, name, at, rule, audit, lock_audit).await
    }

    async fn start_session(
        &self,
        session: integritet_app::store::SessionRecord,
        audit: Vec<AuditDraft>,
    ) -> Result<bool, StoreError> {
        users::start_session(&self.conns, session, audit).await
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
        users::session(&self.conns, hash).await
    }

    async fn touch_session(&self, hash: &[u8; 32], at: OffsetDateTime) -> Result<bool, StoreError> {
        users::touch_session(&self.conns, hash, at).await
    }

    async fn end_session(
        &self,
        hash: &[u8; 32],
        audit: Vec<AuditDraft>,
    ) -> Result<bool, StoreError> {
        users::end_session(&self.conns, hash, audit).await
    }

    async fn purge_sessions(
        &self,
        idle_before: OffsetDateTime,
        created_before: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        users::purge_sessions(&self.conns, idle_before, created_before).await
    }
}

/// A token row read back.
fn token_record(
    id: String,
    hash: &[u8],
    role: String,
    label: Option<String>,
    created_at: i64,
    expires_at: Option<i64>,
    revoked_at: Option<i64>,
) -> Result<TokenRecord, StoreError> {
    let hash = <[u8; 32]>::try_from(hash).map_err(|_| error::corrupt("api_tokens", "hash", &id))?;
    let created_at = instant(created_at, "api_tokens", "created_at", &id)?;
    let expires_at = expires_at
        .map(|ns| instant(ns, "api_tokens", "expires_at", &id))
        .transpose()?;
    let revoked_at = revoked_at
        .map(|ns| instant(ns, "api_tokens", "revoked_at", &id))
        .transpose()?;
    Ok(TokenRecord {
        id,
        hash,
        role,
        label,
        created_at,
        expires_at,
        revoked_at,
    })
}

async fn subject_exists(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    subject: &SubjectId,
    doing: &str,
) -> Result<bool, StoreError> {
    let key = subject.as_bytes().as_slice();
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM subjects WHERE id = ?1) AS "found!: bool""#,
        key
    )
    .fetch_one(&mut **tx)
    .await
    .map_err(|e| error::db(doing, e))
}

/// Runs file-system work off the async workers.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> std::io::Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(std::io::Error::other)?
}

/// Makes a finished backup durable: its content, then its name in the directory.
fn sync_file(path: &Path) -> std::io::Result<()> {
    std::fs::File::open(path)?.sync_all()?;
    #[cfg(unix)]
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}
