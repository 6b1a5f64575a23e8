//! The writer: one thread with the only connection that writes. It commits whatever has
//! arrived together in the group commit (`integritet_app::store::group`) in one
//! `BEGIN IMMEDIATE` transaction, and between batches it serves the point reads (a subject, a
//! lookup, a token): its page cache is the one cache in the process that SQLite never throws
//! away, since every other connection resets its cache whenever another commits, which with
//! an audit entry per read is nearly always.
//!
//! Inside the transaction each job runs in a savepoint of its own: its change, then its audit
//! entries chained onto the head. A job that fails, or finds nothing to change, is rolled back
//! to its savepoint alone and the others go on, so one caller's fault never fails another's
//! write. If the transaction cannot start or commit, every job of the batch is told.
//!
//! A committed batch goes to the syncer thread, which flushes the WAL to disk (`fdatasync`)
//! for every batch committed since its last flush and only then answers their callers: an
//! acknowledged write survives a power cut, and the writer goes on with the next batch while
//! the disk works. A read may see a commit whose flush is still running; it is answered only
//! after its own audit entry, committed later in the same WAL, is flushed — and with it that
//! commit. After commits the writer asks the checkpointer thread to copy the WAL into the
//! database file.

use std::fs::File;
use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

use integritet_app::store::group::{Batch, Batches};
use integritet_app::store::{ChainKeySlot, Change, Job, Outcome, StoreError};
use integritet_domain::audit::ChainKey;
use rusqlite::Connection;

use crate::audit::{self, Head};
use crate::cleanup::Cleanup;
use crate::readers::Read;
use crate::tx::{self, Begin};
use crate::{archive, consent, holds, keys, marketing, policy, requests, subjects, tokens, users};

/// Commits between background checkpoints.
const CHECKPOINT_EVERY: u32 = 64;

/// What the writer thread is asked to do, in arrival order.
pub(crate) enum Event {
    /// A read that wants the writer's page cache.
    Read(Read),
    /// Jobs are waiting in the group commit.
    Write,
}

/// Starts the writer thread on `conn`; it ends when the store is dropped, after the jobs
/// already queued.
pub(crate) fn start(
    mut conn: Connection,
    mut batches: Batches,
    events: crossbeam_channel::Receiver<Event>,
    syncer: Syncer,
    checkpointer: Option<Checkpointer>,
    chain_key: Arc<ChainKeySlot>,
) -> Result<JoinHandle<()>, StoreError> {
    std::thread::Builder::new()
        .name("sqlite-writer".into())
        .spawn(move || {
            let commits = std::cell::Cell::new(0u32);
            let committed = || {
                commits.set(commits.get().wrapping_add(1));
                if commits.get().is_multiple_of(CHECKPOINT_EVERY)
                    && let Some(checkpointer) = &checkpointer
                {
                    checkpointer.nudge();
                }
            };
            let mut cleanup = Cleanup::new(Instant::now());
            // A failed turn is tried again after the next commit; the entries it would have
            // removed find no one meanwhile.
            let clean = |conn: &Connection, cleanup: &mut Cleanup| {
                if cleanup.turn(conn, Instant::now()).is_ok() {
                    committed();
                }
            };
            loop {
                if cleanup.overdue(Instant::now()) {
                    clean(&conn, &mut cleanup);
                }
                // Index entries to clean and quiet since the last commit: a turn, then look
                // again.
                let event = if cleanup.due() {
                    match events.recv_timeout(cleanup.wait()) {
                        Ok(event) => event,
                        Err(crossbeam_channel::RecvTimeoutError::Timeout) => {
                            clean(&conn, &mut cleanup);
                            continue;
                        }
                        Err(crossbeam_channel::RecvTimeoutError::Disconnected) => break,
                    }
                } else {
                    match events.recv() {
                        Ok(event) => event,
                        Err(_) => break,
                    }
                };
                match event {
                    Event::Read(read) => read(&mut conn),
                    Event::Write => {
                        while let Some(batch) = batches.try_next() {
                            write(&mut conn, batch, &syncer, chain_key.get());
                            committed();
                            cleanup.after_commit(Instant::now());
                        }
                    }
                }
            }
            // The store is gone: what was queued is still written.
            while let Some(batch) = batches.try_next() {
                write(&mut conn, batch, &syncer, chain_key.get());
            }
        })
        .map_err(|e| {
            StoreError::Unavailable(format!(
                "cannot start the database writer thread ({e}); the system is out of threads or \
                 memory"
            ))
        })
}

/// Commits one batch; the syncer answers its jobs once it is on disk.
fn write(conn: &mut Connection, batch: Batch, syncer: &Syncer, key: &ChainKey) {
    match write_all(conn, &batch, key) {
        Ok(results) => syncer.flush_then_answer(batch, results),
        Err(e) => {
            for pending in batch {
                pending.answer(Err(e.clone()));
            }
        }
    }
}

/// The batch's transaction: each job's result, or the error that failed them all.
fn write_all(
    conn: &mut Connection,
    batch: &Batch,
    key: &ChainKey,
) -> Result<Vec<Result<Outcome, StoreError>>, StoreError> {
    tx::within(conn, Begin::Immediate, "writing to the database", |tx| {
        write_jobs(tx, batch, key)
    })
}

/// The jobs of one batch inside its transaction, each in a savepoint of its own.
fn write_jobs(
    tx: &Connection,
    batch: &Batch,
    key: &ChainKey,
) -> Result<Vec<Result<Outcome, StoreError>>, StoreError> {
    let first = audit::head(tx)?;
    let mut head = first;
    let mut results = Vec::with_capacity(batch.len());
    for pending in batch {
        if matches!(pending.job.change, Change::Audit) {
            // Nothing but entries: it cannot be one caller's fault, so a failure here fails
            // the whole batch (nothing of it is committed) instead of costing a savepoint.
            results.push(Ok(apply_job(tx, &pending.job, &mut head, key)?));
            continue;
        }
        let before = head;
        savepoint(tx, "SAVEPOINT job")?;
        let result = apply_job(tx, &pending.job, &mut head, key);
        match &result {
            Ok(outcome) if outcome.changed() => savepoint(tx, "RELEASE job")?,
            // Nothing to change, or this job's fault: undo whatever it wrote, keep the rest.
            Ok(_) | Err(_) => {
                savepoint(tx, "ROLLBACK TO job")?;
                savepoint(tx, "RELEASE job")?;
                head = before;
            }
        }
        results.push(result);
    }
    if head != first {
        audit::set_head(tx, head)?;
    }
    Ok(results)
}

/// A savepoint statement, prepared once.
fn savepoint(conn: &Connection, sql: &str) -> Result<(), StoreError> {
    tx::run(conn, sql, "writing to the database")
}

/// One job: its change, then its audit entries after the head.
fn apply_job(
    conn: &Connection,
    job: &Job,
    head: &mut Head,
    key: &ChainKey,
) -> Result<Outcome, StoreError> {
    let outcome = match &job.change {
        Change::Audit => Outcome::Done,
        Change::Subjects(change) => subjects::apply(conn, change)?,
        Change::Archive(change) => archive::apply(conn, change)?,
        Change::Keys(change) => keys::apply(conn, change)?,
        Change::Tokens(change) => tokens::apply(conn, change)?,
        Change::Users(change) => users::apply(conn, change)?,
        Change::Policy(change) => policy::apply(conn, change)?,
        Change::Requests(change) => requests::apply(conn, change)?,
        Change::Holds(change) => holds::apply(conn, change)?,
        Change::Marketing(change) => marketing::apply(conn, change)?,
        Change::Consent(change) => consent::apply(conn, change)?,
        Change::CarryAudit(entries) => audit::carry(conn, entries, head, key)?,
    };
    audit::append(conn, job.audit_after(outcome), head, key)?;
    Ok(outcome)
}

/// A thread that checkpoints the WAL on its own connection when nudged. A `PASSIVE`
/// checkpoint copies what no reader still needs and waits for nobody.
pub(crate) struct Checkpointer {
    nudge: Option<std::sync::mpsc::SyncSender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    pub(crate) fn start(conn: Connection) -> Result<Checkpointer, StoreError> {
        // One nudge waiting is enough: more would only repeat it.
        let (nudge, nudged) = std::sync::mpsc::sync_channel::<()>(1);
        let thread = std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || {
                while nudged.recv().is_ok() {
                    // Best effort: a checkpoint that cannot run now runs next time.
                    let _ = conn.execute_batch("PRAGMA wal_checkpoint(PASSIVE)");
                }
            })
            .map_err(|e| {
                StoreError::Unavailable(format!(
                    "cannot start the checkpoint thread ({e}); the system is out of threads or \
                     memory"
                ))
            })?;
        Ok(Checkpointer {
            nudge: Some(nudge),
            thread: Some(thread),
        })
    }

    fn nudge(&self) {
        if let Some(nudge) = &self.nudge {
            let _ = nudge.try_send(());
        }
    }
}

impl Drop for Checkpointer {
    /// Ends the thread and waits until its connection is closed: a connection that closes after
    /// the store was closed could remove the write-ahead log of a database restored over this
    /// one's files, and with it what was written there since.
    fn drop(&mut self) {
        drop(self.nudge.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Committed batches waiting for their flush.
type Committed = (Batch, Vec<Result<Outcome, StoreError>>);

/// The thread that makes committed batches durable and then answers them.
pub(crate) struct Syncer {
    queue: std::sync::mpsc::Sender<Committed>,
}

impl Syncer {
    /// Starts the syncer for the database file at `db` (it flushes `db`'s WAL file).
    pub(crate) fn start(db: PathBuf) -> Result<Syncer, StoreError> {
        let (queue, committed) = std::sync::mpsc::channel::<Committed>();
        let mut wal = Wal::new(db);
        std::thread::Builder::new()
            .name("sqlite-sync".into())
            .spawn(move || {
                while let Ok(first) = committed.recv() {
                    // One flush for every batch committed meanwhile.
                    let mut done = vec![first];
                    done.extend(committed.try_iter());
                    let flushed = wal.flush();
                    for (batch, results) in done {
                        for (pending, result) in batch.into_iter().zip(results) {
                            pending.answer(match &flushed {
                                Ok(()) => result,
                                Err(e) => result.and(Err(e.clone())),
                            });
                        }
                    }
                }
            })
            .map_err(|e| {
                StoreError::Unavailable(format!(
                    "cannot start the database sync thread ({e}); the system is out of threads \
                     or memory"
                ))
            })?;
        Ok(Syncer { queue })
    }

    fn flush_then_answer(&self, batch: Batch, results: Vec<Result<Outcome, StoreError>>) {
        if let Err(std::sync::mpsc::SendError((batch, _))) = self.queue.send((batch, results)) {
            for pending in batch {
                pending.answer(Err(StoreError::Unavailable(
                    "the database sync thread stopped; the write may not be on disk, retry".into(),
                )));
            }
        }
    }
}

/// The WAL file, opened on its first flush.
struct Wal {
    path: PathBuf,
    file: Option<File>,
}

impl Wal {
    fn new(db: PathBuf) -> Wal {
        let mut path = db.into_os_string();
        path.push("-wal");
        Wal {
            path: path.into(),
            file: None,
        }
    }

    /// `fdatasync` of the WAL: everything committed so far is on disk afterwards. The first
    /// time also flushes the directory, so the WAL's name survives a power cut too.
    fn flush(&mut self) -> Result<(), StoreError> {
        let failed = |e: std::io::Error| {
            StoreError::Unavailable(format!(
                "flushing the database's write-ahead log to disk failed ({e}); the write may \
                 not survive a power cut: check the disk and retry"
            ))
        };
        if self.file.is_none() {
            let file = File::open(&self.path).map_err(failed)?;
            if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
                File::open(dir).and_then(|d| d.sync_all()).map_err(failed)?;
            }
            self.file = Some(file);
        }
        match &self.file {
            Some(file) => file.sync_data().map_err(failed),
            None => Ok(()),
        }
    }
}
