//! The baselines: plain tables written and read with sqlx, on the same backend and with the same
//! connection settings as the store, without encryption, audit or indexes beyond a primary key.
//!
//! Connections are not pooled: task `k` of a concurrent phase uses connection `k` (on SQLite
//! every write goes through one writer connection, as in the store), so the baseline pays no
//! pool overhead the store does not pay either.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use sqlx::postgres::PgConnectOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{Connection, PgConnection, QueryBuilder, Row, Sqlite, SqliteConnection};
use tokio::sync::Mutex;
use uuid::Uuid;

use crate::data::RawValue;

/// Rows per multi-row INSERT on SQLite (the store uses the same limit).
const SQLITE_ROWS_PER_STATEMENT: usize = 256;

#[derive(Debug)]
pub enum Raw {
    Sqlite {
        writer: Mutex<SqliteConnection>,
        readers: Vec<Mutex<SqliteConnection>>,
    },
    Postgres {
        conns: Vec<Mutex<PgConnection>>,
    },
}

fn slot<T>(conns: &[T], k: usize) -> anyhow::Result<&T> {
    conns
        .get(k % conns.len().max(1))
        .context("the baseline has no connections")
}

impl Raw {
    /// A baseline database file at `path`, opened like the store's (WAL, synchronous=NORMAL).
    pub async fn sqlite(path: &Path, connections: usize) -> anyhow::Result<Raw> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5))
            .statement_cache_capacity(256)
            .pragma("temp_store", "memory");
        let mut writer = SqliteConnection::connect_with(&options).await?;
        sqlx::query(
            "CREATE TABLE bench_values (
                 subject_id BLOB NOT NULL,
                 n INTEGER NOT NULL,
                 body BLOB NOT NULL,
                 PRIMARY KEY (subject_id, n)
             ) WITHOUT ROWID",
        )
        .execute(&mut writer)
        .await?;
        sqlx::query(
            "CREATE TABLE bench_index (
                 token BLOB NOT NULL PRIMARY KEY,
                 subject_id BLOB NOT NULL
             ) WITHOUT ROWID",
        )
        .execute(&mut writer)
        .await?;
        sqlx::query(
            "CREATE TABLE bench_commits (n INTEGER NOT NULL PRIMARY KEY, body BLOB NOT NULL)",
        )
        .execute(&mut writer)
        .await?;
        let mut readers = Vec::with_capacity(connections);
        for _ in 0..connections.max(1) {
            readers.push(Mutex::new(SqliteConnection::connect_with(&options).await?));
        }
        Ok(Raw::Sqlite {
            writer: Mutex::new(writer),
            readers,
        })
    }

    /// Baseline tables in the PostgreSQL database at `url`.
    pub async fn postgres(url: &str, connections: usize) -> anyhow::Result<Raw> {
        let options = PgConnectOptions::from_str(url)?;
        let mut conns = Vec::with_capacity(connections);
        for _ in 0..connections.max(1) {
            conns.push(PgConnection::connect_with(&options).await?);
        }
        let first = conns.first_mut().context("no connection")?;
        sqlx::query(
            "CREATE TABLE bench_values (
                 subject_id uuid NOT NULL,
                 n int4 NOT NULL,
                 body bytea NOT NULL,
                 PRIMARY KEY (subject_id, n)
             )",
        )
        .execute(&mut *first)
        .await?;
        sqlx::query(
            "CREATE TABLE bench_index (
                 token bytea NOT NULL PRIMARY KEY,
                 subject_id uuid NOT NULL
             )",
        )
        .execute(&mut *first)
        .await?;
        sqlx::query(
            "CREATE TABLE bench_commits (n int8 NOT NULL PRIMARY KEY, body bytea NOT NULL)",
        )
        .execute(&mut *first)
        .await?;
        Ok(Raw::Postgres {
            conns: conns.into_iter().map(Mutex::new).collect(),
        })
    }

    /// Inserts `rows` in one transaction, from task `k`.
    pub async fn insert_values(&self, k: usize, rows: &[RawValue]) -> anyhow::Result<()> {
        match self {
            Raw::Sqlite { writer, .. } => {
                let mut conn = writer.lock().await;
                let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
                for chunk in rows.chunks(SQLITE_ROWS_PER_STATEMENT) {
                    let mut query: QueryBuilder<Sqlite> =
                        QueryBuilder::new("INSERT INTO bench_values (subject_id, n, body) ");
                    query.push_values(chunk, |mut b, row| {
                        b.push_bind(row.subject.as_slice())
                            .push_bind(row.n)
                            .push_bind(row.body.as_slice());
                    });
                    query.build().execute(&mut *tx).await?;
                }
                tx.commit().await?;
            }
            Raw::Postgres { conns } => {
                let mut conn = slot(conns, k)?.lock().await;
                let ids: Vec<Uuid> = rows.iter().map(|r| Uuid::from_bytes(r.subject)).collect();
                let ns: Vec<i32> = rows.iter().map(|r| r.n).collect();
                let bodies: Vec<&[u8]> = rows.iter().map(|r| r.body.as_slice()).collect();
                let mut tx = conn.begin().await?;
                sqlx::query(
                    "INSERT INTO bench_values (subject_id, n, body)
                     SELECT * FROM UNNEST($1::uuid[], $2::int4[], $3::bytea[])",
                )
                .bind(&ids)
                .bind(&ns)
                .bind(&bodies)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
            }
        }
        Ok(())
    }

    /// Reads one subject's rows by primary key, from task `k`; returns the bytes read.
    pub async fn read_subject(&self, k: usize, key: &[u8; 16]) -> anyhow::Result<usize> {
        let bytes = match self {
            Raw::Sqlite { readers, .. } => {
                let mut conn = slot(readers, k)?.lock().await;
                sqlx::query("SELECT n, body FROM bench_values WHERE subject_id = ?1 ORDER BY n")
                    .bind(key.as_slice())
                    .fetch_all(&mut *conn)
                    .await?
                    .iter()
                    .map(|row| row.try_get::<Vec<u8>, _>(1).map(|b| b.len()))
                    .sum::<Result<usize, _>>()?
            }
            Raw::Postgres { conns } => {
                let mut conn = slot(conns, k)?.lock().await;
                sqlx::query("SELECT n, body FROM bench_values WHERE subject_id = $1 ORDER BY n")
                    .bind(Uuid::from_bytes(*key))
                    .fetch_all(&mut *conn)
                    .await?
                    .iter()
                    .map(|row| row.try_get::<Vec<u8>, _>(1).map(|b| b.len()))
                    .sum::<Result<usize, _>>()?
            }
        };
        Ok(bytes)
    }

    /// Inserts lookup keys in one transaction.
    pub async fn insert_tokens(&self, rows: &[([u8; 32], [u8; 16])]) -> anyhow::Result<()> {
        match self {
            Raw::Sqlite { writer, .. } => {
                let mut conn = writer.lock().await;
                let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
                for chunk in rows.chunks(SQLITE_ROWS_PER_STATEMENT) {
                    let mut query: QueryBuilder<Sqlite> =
                        QueryBuilder::new("INSERT INTO bench_index (token, subject_id) ");
                    query.push_values(chunk, |mut b, (token, subject)| {
                        b.push_bind(token.as_slice()).push_bind(subject.as_slice());
                    });
                    query.build().execute(&mut *tx).await?;
                }
                tx.commit().await?;
            }
            Raw::Postgres { conns } => {
                let mut conn = slot(conns, 0)?.lock().await;
                let tokens: Vec<&[u8]> = rows.iter().map(|(t, _)| t.as_slice()).collect();
                let ids: Vec<Uuid> = rows.iter().map(|(_, s)| Uuid::from_bytes(*s)).collect();
                let mut tx = conn.begin().await?;
                sqlx::query(
                    "INSERT INTO bench_index (token, subject_id)
                     SELECT * FROM UNNEST($1::bytea[], $2::uuid[])",
                )
                .bind(&tokens)
                .bind(&ids)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
            }
        }
        Ok(())
    }

    /// Writes one row of `body` in its own transaction and commits it: the least an audit entry
    /// costs on this backend (on PostgreSQL that includes the WAL flush at commit).
    pub async fn commit_one(&self, n: i64, body: &[u8]) -> anyhow::Result<()> {
        match self {
            Raw::Sqlite { writer, .. } => {
                let mut conn = writer.lock().await;
                let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
                sqlx::query("INSERT INTO bench_commits (n, body) VALUES (?1, ?2)")
                    .bind(n)
                    .bind(body)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
            }
            Raw::Postgres { conns } => {
                let mut conn = slot(conns, 0)?.lock().await;
                let mut tx = conn.begin().await?;
                sqlx::query("INSERT INTO bench_commits (n, body) VALUES ($1, $2)")
                    .bind(n)
                    .bind(body)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
            }
        }
        Ok(())
    }

    /// Finds the subjects under one 32-byte key by an indexed SELECT; returns how many.
    pub async fn lookup(&self, token: &[u8; 32]) -> anyhow::Result<usize> {
        let found = match self {
            Raw::Sqlite { readers, .. } => {
                let mut conn = slot(readers, 0)?.lock().await;
                sqlx::query("SELECT subject_id FROM bench_index WHERE token = ?1")
                    .bind(token.as_slice())
                    .fetch_all(&mut *conn)
                    .await?
                    .len()
            }
            Raw::Postgres { conns } => {
                let mut conn = slot(conns, 0)?.lock().await;
                sqlx::query("SELECT subject_id FROM bench_index WHERE token = $1")
                    .bind(token.as_slice())
                    .fetch_all(&mut *conn)
                    .await?
                    .len()
            }
        };
        Ok(found)
    }

    /// Reads the store's own audit log with plain SELECTs, page by page as the store does,
    /// decoding every column into owned values; returns the entries read. On SQLite it opens a
    /// read-only connection to the store's file `store_file`; on PostgreSQL the store shares the
    /// baseline's database.
    pub async fn scan_audit(&self, store_file: Option<&Path>, page: i64) -> anyhow::Result<u64> {
        let mut after = 0i64;
        let mut entries = 0u64;
        let mut bytes = 0usize;
        match self {
            Raw::Sqlite { .. } => {
                let path = store_file.context("the SQLite store's file is needed")?;
                let options = SqliteConnectOptions::new().filename(path).read_only(true);
                let mut conn = SqliteConnection::connect_with(&options).await?;
                loop {
                    let rows = sqlx::query(
                        "SELECT seq, at, actor, role, purpose, subject_id, categories, action,
                                policy_version, detail, prev_hash, hash
                         FROM audit_log WHERE seq > ?1 ORDER BY seq LIMIT ?2",
                    )
                    .bind(after)
                    .bind(page)
                    .fetch_all(&mut conn)
                    .await?;
                    let Some(last) = rows.last() else { break };
                    after = last.try_get(0)?;
                    for row in &rows {
                        let _: i64 = row.try_get(1)?;
                        for text in [2, 6, 7, 8] {
                            bytes += row.try_get::<String, _>(text)?.len();
                        }
                        for text in [3, 4, 9] {
                            bytes += row
                                .try_get::<Option<String>, _>(text)?
                                .map_or(0, |s| s.len());
                        }
                        bytes += row.try_get::<Option<Vec<u8>>, _>(5)?.map_or(0, |b| b.len());
                        bytes += row.try_get::<Vec<u8>, _>(10)?.len();
                        bytes += row.try_get::<Vec<u8>, _>(11)?.len();
                    }
                    entries += rows.len() as u64;
                }
                let _ = conn.close().await;
            }
            Raw::Postgres { conns } => {
                let mut conn = slot(conns, 0)?.lock().await;
                loop {
                    let rows = sqlx::query(
                        "SELECT seq, at_ns, actor, role, purpose, subject_id, categories, action,
                                policy_version, detail, prev_hash, hash
                         FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2",
                    )
                    .bind(after)
                    .bind(page)
                    .fetch_all(&mut *conn)
                    .await?;
                    let Some(last) = rows.last() else { break };
                    after = last.try_get(0)?;
                    for row in &rows {
                        let _: i64 = row.try_get(1)?;
                        for text in [2, 7, 8] {
                            bytes += row.try_get::<String, _>(text)?.len();
                        }
                        for text in [3, 4, 9] {
                            bytes += row
                                .try_get::<Option<String>, _>(text)?
                                .map_or(0, |s| s.len());
                        }
                        bytes += row.try_get::<Option<Uuid>, _>(5)?.map_or(0, |_| 16);
                        bytes += row
                            .try_get::<Vec<String>, _>(6)?
                            .iter()
                            .map(String::len)
                            .sum::<usize>();
                        bytes += row.try_get::<Vec<u8>, _>(10)?.len();
                        bytes += row.try_get::<Vec<u8>, _>(11)?.len();
                    }
                    entries += rows.len() as u64;
                }
            }
        }
        std::hint::black_box(bytes);
        Ok(entries)
    }

    /// The database's version, for the report.
    pub async fn server_version(&self) -> anyhow::Result<String> {
        Ok(match self {
            Raw::Sqlite { readers, .. } => {
                let mut conn = slot(readers, 0)?.lock().await;
                let v: String = sqlx::query_scalar("SELECT sqlite_version()")
                    .fetch_one(&mut *conn)
                    .await?;
                format!("SQLite {v}")
            }
            Raw::Postgres { conns } => {
                let mut conn = slot(conns, 0)?.lock().await;
                let v: String = sqlx::query_scalar("SHOW server_version")
                    .fetch_one(&mut *conn)
                    .await?;
                format!("PostgreSQL {v}")
            }
        })
    }

    /// Closes every connection.
    pub async fn close(self) {
        match self {
            Raw::Sqlite { writer, readers } => {
                for conn in readers {
                    let _ = conn.into_inner().close().await;
                }
                let _ = writer.into_inner().close().await;
            }
            Raw::Postgres { conns } => {
                for conn in conns {
                    let _ = conn.into_inner().close().await;
                }
            }
        }
    }
}
