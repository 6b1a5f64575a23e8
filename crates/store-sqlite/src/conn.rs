//! The store's connections: one writer behind a fair lock, and a fixed set of readers.
//!
//! Not sqlx's `Pool`: it pings every connection on its way back into the pool, a round trip to
//! the connection's thread that, for the single writer, sits between one write and the next.
//! A connection to a local file does not go stale, and a query abandoned half-way is cleaned up
//! by the connection's thread before it runs the next command, so these connections are lent
//! out and taken back without a check.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use integritet_app::store::StoreError;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Connection, SqliteConnection};
use tokio::sync::{MutexGuard, Semaphore, SemaphorePermit};

use crate::error;

pub(crate) struct Connections {
    /// The only connection that writes. SQLite admits one writer at a time anyway; one
    /// connection behind a FIFO lock queues writers here instead of in busy-retries, and each
    /// write sees the audit head the previous one left.
    writer: tokio::sync::Mutex<SqliteConnection>,
    /// Readers. With WAL they read the last committed state and never wait for the writer.
    readers: Vec<tokio::sync::Mutex<SqliteConnection>>,
    /// Indexes of the readers not lent out.
    idle: Mutex<Vec<usize>>,
    /// One permit per idle reader.
    permits: Semaphore,
    /// Write transactions started, to pace checkpoints.
    writes: AtomicU32,
    /// Whether a background checkpoint is running.
    checkpointing: AtomicBool,
}

/// Write transactions between background checkpoints.
const CHECKPOINT_EVERY: u32 = 128;

/// The writer, held until dropped.
pub(crate) type Writer<'a> = MutexGuard<'a, SqliteConnection>;

impl Connections {
    /// Opens the writer (creating the file if missing), brings the schema up to date, then
    /// opens `readers` readers.
    pub(crate) async fn open(
        options: SqliteConnectOptions,
        readers: usize,
    ) -> Result<Connections, StoreError> {
        let mut writer = connect(&options.clone().create_if_missing(true)).await?;
        crate::migrate(&mut writer).await?;
        let mut conns = Vec::with_capacity(readers);
        for _ in 0..readers {
            conns.push(tokio::sync::Mutex::new(connect(&options).await?));
        }
        Ok(Connections {
            writer: tokio::sync::Mutex::new(writer),
            idle: Mutex::new((0..conns.len()).collect()),
            permits: Semaphore::new(conns.len()),
            readers: conns,
            writes: AtomicU32::new(0),
            checkpointing: AtomicBool::new(false),
        })
    }

    /// Waits for the writer, in arrival order.
    pub(crate) async fn writer(self: &Arc<Self>) -> Writer<'_> {
        if self
            .writes
            .fetch_add(1, Ordering::Relaxed)
            .is_multiple_of(CHECKPOINT_EVERY)
        {
            self.checkpoint_in_background();
        }
        self.writer.lock().await
    }

    /// Copies committed pages from the WAL into the database file on a reader, so that the
    /// writer seldom pays for it: a checkpoint writes many pages and syncs the file twice,
    /// which would otherwise stall whichever commit crossed SQLite's threshold. (The writer's
    /// own automatic checkpoint stays as a backstop.)
    fn checkpoint_in_background(self: &Arc<Self>) {
        if self.checkpointing.swap(true, Ordering::AcqRel) {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            self.checkpointing.store(false, Ordering::Release);
            return;
        };
        let conns = self.clone();
        drop(runtime.spawn(async move {
            if let Ok(mut reader) = conns.reader().await {
                // Best effort: a checkpoint that cannot run now runs next time.
                let _ = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                    .execute(&mut *reader)
                    .await;
            }
            conns.checkpointing.store(false, Ordering::Release);
        }));
    }

    /// Lends a reader.
    pub(crate) async fn reader(&self) -> Result<Lent<'_>, StoreError> {
        let closed = || StoreError::Unavailable("the store is closed; reopen it".into());
        let permit = self.permits.acquire().await.map_err(|_| closed())?;
        // A permit guarantees an idle index.
        let index = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop()
            .ok_or_else(closed)?;
        let reader = Reader {
            idle: &self.idle,
            index,
            _permit: permit,
        };
        let conn = self.readers.get(index).ok_or_else(closed)?;
        // Uncontended but for the instant between a previous borrower's return of the index
        // and the release of its lock.
        Ok(Reader::with(reader, conn.lock().await))
    }

    /// Closes every connection, which checkpoints the WAL into the main file.
    pub(crate) async fn close(self) {
        self.permits.close();
        for reader in self.readers {
            let _ = reader.into_inner().close().await;
        }
        let _ = self.writer.into_inner().close().await;
    }
}

async fn connect(options: &SqliteConnectOptions) -> Result<SqliteConnection, StoreError> {
    SqliteConnection::connect_with(options)
        .await
        .map_err(|e| error::db("opening the database", e))
}

/// The bookkeeping of a lent reader: gives its index back when dropped.
pub(crate) struct Reader<'a> {
    idle: &'a Mutex<Vec<usize>>,
    index: usize,
    _permit: SemaphorePermit<'a>,
}

impl<'a> Reader<'a> {
    /// Pairs the bookkeeping with the locked connection. The connection's lock is declared
    /// first in [`Lent`], so it is released before the index is given back.
    fn with(self, conn: MutexGuard<'a, SqliteConnection>) -> Lent<'a> {
        Lent {
            conn,
            _reader: self,
        }
    }
}

impl Drop for Reader<'_> {
    fn drop(&mut self) {
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(self.index);
    }
}

/// A lent reader connection.
pub(crate) struct Lent<'a> {
    conn: MutexGuard<'a, SqliteConnection>,
    _reader: Reader<'a>,
}

impl std::ops::Deref for Lent<'_> {
    type Target = SqliteConnection;

    fn deref(&self) -> &SqliteConnection {
        &self.conn
    }
}

impl std::ops::DerefMut for Lent<'_> {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        &mut self.conn
    }
}
