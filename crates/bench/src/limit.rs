//! The databases' own limits: the same tables and rows as the sqlx baselines of [`crate::raw`],
//! written and read as directly as the database allows.
//!
//! - SQLite: the C library through rusqlite (a thin binding that adds no threads and no
//!   copies), on a file opened with the store's settings (WAL, `synchronous=NORMAL`, the
//!   store's page cache and `mmap_size`), called straight from the task that wants the row.
//! - PostgreSQL: tokio-postgres with prepared statements, every task's statement sent on a
//!   shared connection without waiting for the answers before it (pipelining), one connection
//!   per core; each write is one statement and so one transaction.

use std::path::Path;
use std::sync::Mutex;

use anyhow::{Context, anyhow};
use rusqlite::{Connection, OpenFlags};
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, NoTls, Statement};
use uuid::Uuid;

use crate::data::RawValue;

/// Rows per multi-row INSERT on SQLite (the store uses the same limit).
const SQLITE_ROWS_PER_STATEMENT: usize = 256;

/// The store's SQLite settings (`integritet-store-sqlite`), so the limit reads the same way.
const SQLITE_SETTINGS: &str = "PRAGMA journal_mode = WAL;
     PRAGMA synchronous = NORMAL;
     PRAGMA mmap_size = 1073741824;
     PRAGMA cache_size = -32768;
     PRAGMA temp_store = memory;";

#[derive(Debug)]
pub enum Limit {
    Sqlite {
        writer: Mutex<Connection>,
        readers: Vec<Mutex<Connection>>,
        /// Appends audit rows for audited reads, group-committed.
        audit: AuditAppender,
    },
    Postgres {
        conns: Vec<PgConn>,
    },
}

/// One tokio-postgres connection and its prepared statements.
#[derive(Debug)]
pub struct PgConn {
    client: Client,
    insert_values: Statement,
    read_subject: Statement,
    insert_tokens: Statement,
    commit_one: Statement,
    lookup: Statement,
    audit_one: Statement,
}

fn slot<T>(conns: &[T], k: usize) -> anyhow::Result<&T> {
    conns
        .get(k % conns.len().max(1))
        .context("the limit baseline has no connections")
}

fn lock(conn: &Mutex<Connection>) -> anyhow::Result<std::sync::MutexGuard<'_, Connection>> {
    conn.lock()
        .map_err(|_| anyhow!("a limit baseline connection was poisoned"))
}

impl Limit {
    /// The limit's database file at `path`, with `readers` read connections.
    pub fn sqlite(path: &Path, readers: usize) -> anyhow::Result<Limit> {
        let writer = Connection::open(path)?;
        writer.execute_batch(SQLITE_SETTINGS)?;
        writer.execute_batch(
            "CREATE TABLE limit_values (
                 subject_id BLOB NOT NULL,
                 n INTEGER NOT NULL,
                 body BLOB NOT NULL,
                 PRIMARY KEY (subject_id, n)
             ) WITHOUT ROWID;
             CREATE TABLE limit_index (
                 token BLOB NOT NULL PRIMARY KEY,
                 subject_id BLOB NOT NULL
             ) WITHOUT ROWID;
             CREATE TABLE limit_commits (n INTEGER NOT NULL PRIMARY KEY, body BLOB NOT NULL);
             CREATE TABLE limit_audit (n INTEGER PRIMARY KEY, body BLOB NOT NULL);",
        )?;
        let mut conns = Vec::with_capacity(readers.max(1));
        for _ in 0..readers.max(1) {
            let reader = Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            reader.execute_batch(SQLITE_SETTINGS)?;
            conns.push(Mutex::new(reader));
        }
        let appender = Connection::open(path)?;
        appender.execute_batch(SQLITE_SETTINGS)?;
        Ok(Limit::Sqlite {
            writer: Mutex::new(writer),
            readers: conns,
            audit: AuditAppender::start(appender, path)?,
        })
    }

    /// The limit's tables in the PostgreSQL database at `url`, on `connections` connections.
    pub async fn postgres(url: &str, connections: usize) -> anyhow::Result<Limit> {
        let mut conns = Vec::with_capacity(connections.max(1));
        for k in 0..connections.max(1) {
            let (client, connection) = tokio_postgres::connect(url, NoTls).await?;
            tokio::spawn(async move {
                // The connection ends with its client; an error shows up in the next query.
                let _ = connection.await;
            });
            if k == 0 {
                client
                    .batch_execute(
                        "CREATE TABLE limit_values (
                             subject_id uuid NOT NULL,
                             n int4 NOT NULL,
                             body bytea NOT NULL,
                             PRIMARY KEY (subject_id, n)
                         );
                         CREATE TABLE limit_index (
                             token bytea NOT NULL PRIMARY KEY,
                             subject_id uuid NOT NULL
                         );
                         CREATE TABLE limit_commits (n int8 NOT NULL PRIMARY KEY, body bytea NOT NULL);
                         CREATE TABLE limit_audit (n bigserial PRIMARY KEY, body bytea NOT NULL);",
                    )
                    .await?;
            }
            conns.push(PgConn {
                insert_values: client
                    .prepare(
                        "INSERT INTO limit_values (subject_id, n, body)
                         SELECT * FROM UNNEST($1::uuid[], $2::int4[], $3::bytea[])",
                    )
                    .await?,
                read_subject: client
                    .prepare("SELECT n, body FROM limit_values WHERE subject_id = $1 ORDER BY n")
                    .await?,
                insert_tokens: client
                    .prepare(
                        "INSERT INTO limit_index (token, subject_id)
                         SELECT * FROM UNNEST($1::bytea[], $2::uuid[])",
                    )
                    .await?,
                commit_one: client
                    .prepare("INSERT INTO limit_commits (n, body) VALUES ($1, $2)")
                    .await?,
                lookup: client
                    .prepare("SELECT subject_id FROM limit_index WHERE token = $1")
                    .await?,
                audit_one: client
                    .prepare("INSERT INTO limit_audit (body) VALUES ($1)")
                    .await?,
                client,
            });
        }
        Ok(Limit::Postgres { conns })
    }

    /// What the limit ran on, for the report.
    pub fn describe(&self) -> String {
        match self {
            Limit::Sqlite { readers, .. } => format!(
                "the C library (SQLite {}) via rusqlite, {} read connection(s)",
                rusqlite::version(),
                readers.len()
            ),
            Limit::Postgres { conns } => format!(
                "tokio-postgres, prepared statements pipelined on {} connection(s)",
                conns.len()
            ),
        }
    }

    /// Inserts `rows` in one transaction, from task `k`.
    pub async fn insert_values(&self, k: usize, rows: &[RawValue]) -> anyhow::Result<()> {
        match self {
            Limit::Sqlite { writer, .. } => {
                let mut values: Vec<&dyn rusqlite::ToSql> = Vec::with_capacity(rows.len() * 3);
                for row in rows {
                    values.extend::<[&dyn rusqlite::ToSql; 3]>([&row.subject, &row.n, &row.body]);
                }
                insert_rows(
                    &mut *lock(writer)?,
                    "limit_values (subject_id, n, body)",
                    3,
                    &values,
                )?;
            }
            Limit::Postgres { conns } => {
                let conn = slot(conns, k)?;
                let ids: Vec<Uuid> = rows.iter().map(|r| Uuid::from_bytes(r.subject)).collect();
                let ns: Vec<i32> = rows.iter().map(|r| r.n).collect();
                let bodies: Vec<&[u8]> = rows.iter().map(|r| r.body.as_slice()).collect();
                let params: [&(dyn ToSql + Sync); 3] = [&ids, &ns, &bodies];
                conn.client.execute(&conn.insert_values, &params).await?;
            }
        }
        Ok(())
    }

    /// Reads one subject's rows by primary key, from task `k`; returns the bytes read.
    pub async fn read_subject(&self, k: usize, key: &[u8; 16]) -> anyhow::Result<usize> {
        match self {
            Limit::Sqlite { readers, .. } => {
                let conn = lock(slot(readers, k)?)?;
                let mut stmt = conn.prepare_cached(
                    "SELECT n, body FROM limit_values WHERE subject_id = ?1 ORDER BY n",
                )?;
                let mut rows = stmt.query([key.as_slice()])?;
                let mut bytes = 0;
                while let Some(row) = rows.next()? {
                    bytes += row.get_ref(1)?.as_blob()?.len();
                }
                Ok(bytes)
            }
            Limit::Postgres { conns } => {
                let conn = slot(conns, k)?;
                let id = Uuid::from_bytes(*key);
                let rows = conn.client.query(&conn.read_subject, &[&id]).await?;
                let mut bytes = 0;
                for row in &rows {
                    bytes += row.try_get::<_, &[u8]>(1)?.len();
                }
                Ok(bytes)
            }
        }
    }

    /// An audited read: the subject's rows by primary key, then a `body`-sized audit row
    /// committed (on SQLite group-committed and flushed to disk like the store's, on
    /// PostgreSQL one statement whose commit waits for the WAL flush) before it returns.
    pub async fn read_audited(
        &self,
        k: usize,
        key: &[u8; 16],
        body: &[u8],
    ) -> anyhow::Result<usize> {
        let bytes = self.read_subject(k, key).await?;
        match self {
            Limit::Sqlite { audit, .. } => audit.append(body.to_vec()).await?,
            Limit::Postgres { conns } => {
                let conn = slot(conns, k)?;
                conn.client.execute(&conn.audit_one, &[&body]).await?;
            }
        }
        Ok(bytes)
    }

    /// Inserts lookup keys in one transaction.
    pub async fn insert_tokens(&self, rows: &[([u8; 32], [u8; 16])]) -> anyhow::Result<()> {
        match self {
            Limit::Sqlite { writer, .. } => {
                let mut values: Vec<&dyn rusqlite::ToSql> = Vec::with_capacity(rows.len() * 2);
                for (token, subject) in rows {
                    values.extend::<[&dyn rusqlite::ToSql; 2]>([token, subject]);
                }
                insert_rows(
                    &mut *lock(writer)?,
                    "limit_index (token, subject_id)",
                    2,
                    &values,
                )?;
            }
            Limit::Postgres { conns } => {
                let conn = slot(conns, 0)?;
                let tokens: Vec<&[u8]> = rows.iter().map(|(t, _)| t.as_slice()).collect();
                let ids: Vec<Uuid> = rows.iter().map(|(_, s)| Uuid::from_bytes(*s)).collect();
                let params: [&(dyn ToSql + Sync); 2] = [&tokens, &ids];
                conn.client.execute(&conn.insert_tokens, &params).await?;
            }
        }
        Ok(())
    }

    /// Writes one row of `body` in its own transaction.
    pub async fn commit_one(&self, n: i64, body: &[u8]) -> anyhow::Result<()> {
        match self {
            Limit::Sqlite { writer, .. } => {
                let conn = lock(writer)?;
                conn.prepare_cached("INSERT INTO limit_commits (n, body) VALUES (?1, ?2)")?
                    .execute(rusqlite::params![n, body])?;
            }
            Limit::Postgres { conns } => {
                let conn = slot(conns, 0)?;
                conn.client.execute(&conn.commit_one, &[&n, &body]).await?;
            }
        }
        Ok(())
    }

    /// Finds the subjects under one 32-byte key; returns how many.
    pub async fn lookup(&self, token: &[u8; 32]) -> anyhow::Result<usize> {
        match self {
            Limit::Sqlite { readers, .. } => {
                let conn = lock(slot(readers, 0)?)?;
                let mut stmt =
                    conn.prepare_cached("SELECT subject_id FROM limit_index WHERE token = ?1")?;
                let mut rows = stmt.query([token.as_slice()])?;
                let mut found = 0;
                while rows.next()?.is_some() {
                    found += 1;
                }
                Ok(found)
            }
            Limit::Postgres { conns } => {
                let conn = slot(conns, 0)?;
                let token = token.as_slice();
                Ok(conn.client.query(&conn.lookup, &[&token]).await?.len())
            }
        }
    }

    /// Reads the store's whole audit log in one streaming statement, touching every column;
    /// returns the entries read. On SQLite it opens the store's file `store_file` read-only;
    /// on PostgreSQL the store shares the limit's database.
    pub async fn scan_audit(&self, store_file: Option<&Path>) -> anyhow::Result<u64> {
        let mut entries = 0u64;
        let mut bytes = 0usize;
        match self {
            Limit::Sqlite { .. } => {
                let path = store_file.context("the SQLite store's file is needed")?;
                let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
                conn.execute_batch("PRAGMA mmap_size = 1073741824;")?;
                let mut stmt = conn.prepare(
                    "SELECT seq, at, actor, role, purpose, subject_id, categories, action,
                            policy_version, detail, prev_hash, hash
                     FROM audit_log ORDER BY seq",
                )?;
                let mut rows = stmt.query([])?;
                while let Some(row) = rows.next()? {
                    let _: i64 = row.get(0)?;
                    let _: i64 = row.get(1)?;
                    for column in 2..12 {
                        bytes += match row.get_ref(column)? {
                            rusqlite::types::ValueRef::Text(t) => t.len(),
                            rusqlite::types::ValueRef::Blob(b) => b.len(),
                            _ => 0,
                        };
                    }
                    entries += 1;
                }
            }
            Limit::Postgres { conns } => {
                use futures_util::TryStreamExt;
                let conn = slot(conns, 0)?;
                let none: [&(dyn ToSql + Sync); 0] = [];
                let rows = conn
                    .client
                    .query_raw(
                        "SELECT seq, at_ns, actor, role, purpose, subject_id, categories, action,
                                policy_version, detail, prev_hash, hash
                         FROM audit_log ORDER BY seq",
                        none,
                    )
                    .await?;
                futures_util::pin_mut!(rows);
                while let Some(row) = rows.try_next().await? {
                    let _: i64 = row.try_get(0)?;
                    let _: i64 = row.try_get(1)?;
                    for text in [2, 7, 8] {
                        bytes += row.try_get::<_, &str>(text)?.len();
                    }
                    for text in [3, 4, 9] {
                        bytes += row.try_get::<_, Option<&str>>(text)?.map_or(0, str::len);
                    }
                    bytes += row.try_get::<_, Option<Uuid>>(5)?.map_or(0, |_| 16);
                    bytes += row
                        .try_get::<_, Vec<&str>>(6)?
                        .iter()
                        .map(|s| s.len())
                        .sum::<usize>();
                    bytes += row.try_get::<_, &[u8]>(10)?.len();
                    bytes += row.try_get::<_, &[u8]>(11)?.len();
                    entries += 1;
                }
            }
        }
        std::hint::black_box(bytes);
        Ok(entries)
    }
}

/// A thread that appends audit rows: whatever arrived together goes into one transaction,
/// then the WAL is flushed (`fdatasync`) before anyone is answered, as the store's writer and
/// sync threads do.
#[derive(Debug)]
pub struct AuditAppender {
    queue: std::sync::mpsc::Sender<Append>,
}

/// One audit row and who to tell when it is on disk.
type Append = (Vec<u8>, tokio::sync::oneshot::Sender<Result<(), String>>);

impl AuditAppender {
    fn start(conn: Connection, db: &Path) -> anyhow::Result<AuditAppender> {
        let (queue, arrived) = std::sync::mpsc::channel::<Append>();
        let mut wal = db.as_os_str().to_owned();
        wal.push("-wal");
        std::thread::Builder::new()
            .name("limit-audit".into())
            .spawn(move || {
                let mut wal_file: Option<std::fs::File> = None;
                while let Ok(first) = arrived.recv() {
                    let mut batch = vec![first];
                    batch.extend(arrived.try_iter());
                    let done = (|| -> anyhow::Result<()> {
                        conn.execute_batch("BEGIN IMMEDIATE")?;
                        {
                            let mut stmt =
                                conn.prepare_cached("INSERT INTO limit_audit (body) VALUES (?1)")?;
                            for (body, _) in &batch {
                                stmt.execute([body])?;
                            }
                        }
                        conn.execute_batch("COMMIT")?;
                        let file = match wal_file.take() {
                            Some(file) => file,
                            None => std::fs::OpenOptions::new().write(true).open(&wal)?,
                        };
                        file.sync_data()?;
                        wal_file = Some(file);
                        Ok(())
                    })()
                    .map_err(|e| e.to_string());
                    for (_, answer) in batch {
                        let _ = answer.send(done.clone());
                    }
                }
            })?;
        Ok(AuditAppender { queue })
    }

    async fn append(&self, body: Vec<u8>) -> anyhow::Result<()> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        self.queue
            .send((body, answer))
            .map_err(|_| anyhow!("the limit's audit thread stopped"))?;
        answered
            .await
            .map_err(|_| anyhow!("the limit's audit thread stopped"))?
            .map_err(|e| anyhow!("the limit's audit append failed: {e}"))
    }
}

/// Inserts rows of `width` values each (`values` holds them row after row) in one
/// transaction, as multi-row INSERTs of up to [`SQLITE_ROWS_PER_STATEMENT`] rows.
fn insert_rows(
    conn: &mut Connection,
    table: &str,
    width: usize,
    values: &[&dyn rusqlite::ToSql],
) -> anyhow::Result<()> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    for chunk in values.chunks(SQLITE_ROWS_PER_STATEMENT * width.max(1)) {
        let sql = multi_row_insert(table, width, chunk.len() / width.max(1));
        tx.prepare_cached(&sql)?.execute(chunk)?;
    }
    tx.commit()?;
    Ok(())
}

/// `INSERT INTO table (cols) VALUES (?, ?), (?, ?), …` for `rows` rows of `width` columns.
fn multi_row_insert(table: &str, width: usize, rows: usize) -> String {
    let one = format!("({})", vec!["?"; width].join(", "));
    format!("INSERT INTO {table} VALUES {}", vec![one; rows].join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_sqlite_limit_reads_what_it_wrote() {
        let dir = tempfile::tempdir().unwrap();
        let limit = Limit::sqlite(&dir.path().join("limit.db"), 2).unwrap();
        let rows = crate::data::raw_rows(7).unwrap();
        let written: usize = rows.iter().map(|r| r.body.len()).sum();
        limit.insert_values(0, &rows).await.unwrap();
        assert_eq!(
            limit
                .read_subject(1, &crate::data::raw_key(7))
                .await
                .unwrap(),
            written
        );
        assert_eq!(
            limit
                .read_audited(0, &crate::data::raw_key(7), b"audit row")
                .await
                .unwrap(),
            written
        );
        assert_eq!(
            limit
                .read_subject(0, &crate::data::raw_key(8))
                .await
                .unwrap(),
            0
        );
        let token = crate::data::raw_token("email", 7);
        limit
            .insert_tokens(&[(token, crate::data::raw_key(7))])
            .await
            .unwrap();
        assert_eq!(limit.lookup(&token).await.unwrap(), 1);
        limit.commit_one(1, b"row").await.unwrap();
        assert!(limit.describe().contains("rusqlite"));
    }

    #[test]
    fn multi_row_insert_has_a_placeholder_per_value() {
        assert_eq!(
            multi_row_insert("t (a, b)", 2, 2),
            "INSERT INTO t (a, b) VALUES (?, ?), (?, ?)"
        );
    }
}
