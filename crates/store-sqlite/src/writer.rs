//! The writer: one thread with the only connection that writes, committing whatever has
//! arrived together (the group commit of `integritet_app::store::group`) in one
//! `BEGIN IMMEDIATE` transaction, with one fsync for all of it (`synchronous=FULL`).
//!
//! Inside the transaction each job runs in a savepoint of its own: its change, then its audit
//! entries chained onto the head. A job that fails, or finds nothing to change, is rolled back
//! to its savepoint alone and the others go on, so one caller's fault never fails another's
//! write. If the transaction cannot start or commit, every job of the batch is told.
//!
//! After commits the writer asks the checkpointer thread to copy the WAL into the database
//! file, so that the writer seldom pays for a checkpoint itself.

use std::thread::JoinHandle;

use integritet_app::store::group::{Batch, Batches};
use integritet_app::store::{Change, Job, Outcome, StoreError};
use rusqlite::{Connection, TransactionBehavior};

use crate::audit::{self, Head};
use crate::error;
use crate::{archive, keys, policy, subjects, tokens, users};

/// Commits between background checkpoints.
const CHECKPOINT_EVERY: u32 = 64;

/// Starts the writer thread on `conn`; it ends when every submitter is gone and the queue is
/// empty.
pub(crate) fn start(
    mut conn: Connection,
    mut batches: Batches,
    checkpointer: Option<Checkpointer>,
) -> Result<JoinHandle<()>, StoreError> {
    std::thread::Builder::new()
        .name("sqlite-writer".into())
        .spawn(move || {
            let mut commits = 0u32;
            while let Some(batch) = batches.blocking_next() {
                write(&mut conn, batch);
                commits += 1;
                if commits.is_multiple_of(CHECKPOINT_EVERY)
                    && let Some(checkpointer) = &checkpointer
                {
                    checkpointer.nudge();
                }
            }
        })
        .map_err(|e| {
            StoreError::Unavailable(format!(
                "cannot start the database writer thread ({e}); the system is out of threads or \
                 memory"
            ))
        })
}

/// Commits one batch and answers every job of it.
fn write(conn: &mut Connection, batch: Batch) {
    match write_all(conn, &batch) {
        Ok(results) => {
            for (pending, result) in batch.into_iter().zip(results) {
                pending.answer(result);
            }
        }
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
) -> Result<Vec<Result<Outcome, StoreError>>, StoreError> {
    let doing = "writing to the database";
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|e| error::db(doing, e))?;
    let first = audit::head(&tx)?;
    let mut head = first;
    let mut results = Vec::with_capacity(batch.len());
    for pending in batch {
        if matches!(pending.job.change, Change::Audit) {
            // Nothing but entries: it cannot be one caller's fault, so a failure here fails
            // the whole batch (nothing of it is committed) instead of costing a savepoint.
            results.push(Ok(apply_job(&tx, &pending.job, &mut head)?));
            continue;
        }
        let before = head;
        savepoint(&tx, "SAVEPOINT job")?;
        let result = apply_job(&tx, &pending.job, &mut head);
        match &result {
            Ok(outcome) if outcome.changed() => savepoint(&tx, "RELEASE job")?,
            // Nothing to change, or this job's fault: undo whatever it wrote, keep the rest.
            Ok(_) | Err(_) => {
                savepoint(&tx, "ROLLBACK TO job")?;
                savepoint(&tx, "RELEASE job")?;
                head = before;
            }
        }
        results.push(result);
    }
    if head != first {
        audit::set_head(&tx, head)?;
    }
    tx.commit().map_err(|e| error::db(doing, e))?;
    Ok(results)
}

/// A savepoint statement, prepared once.
fn savepoint(conn: &Connection, sql: &str) -> Result<(), StoreError> {
    conn.prepare_cached(sql)
        .and_then(|mut stmt| stmt.execute([]))
        .map(drop)
        .map_err(|e| error::db("writing to the database", e))
}

/// One job: its change, then its audit entries after the head.
fn apply_job(conn: &Connection, job: &Job, head: &mut Head) -> Result<Outcome, StoreError> {
    let outcome = match &job.change {
        Change::Audit => Outcome::Done,
        Change::Subjects(change) => subjects::apply(conn, change)?,
        Change::Archive(change) => archive::apply(conn, change)?,
        Change::Keys(change) => keys::apply(conn, change)?,
        Change::Tokens(change) => tokens::apply(conn, change)?,
        Change::Users(change) => users::apply(conn, change)?,
        Change::Policy(change) => policy::apply(conn, change)?,
    };
    audit::append(conn, job.audit_after(outcome), head)?;
    Ok(outcome)
}

/// A thread that checkpoints the WAL on its own connection when nudged. A `PASSIVE`
/// checkpoint copies what no reader still needs and waits for nobody.
pub(crate) struct Checkpointer {
    nudge: std::sync::mpsc::SyncSender<()>,
}

impl Checkpointer {
    pub(crate) fn start(conn: Connection) -> Result<Checkpointer, StoreError> {
        // One nudge waiting is enough: more would only repeat it.
        let (nudge, nudged) = std::sync::mpsc::sync_channel::<()>(1);
        std::thread::Builder::new()
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
        Ok(Checkpointer { nudge })
    }

    fn nudge(&self) {
        let _ = self.nudge.try_send(());
    }
}
