//! Group commit for the everyday writes that only add rows: new subjects and audit entries.
//!
//! Every audited read ends in an audit append and every sign-up in a subject insert. Each in a
//! transaction of its own, they would queue on the `audit_head` row lock, and each would hold
//! it through its own commit, that is through a flush of the WAL to disk: one write per disk
//! flush, whatever the number of clients. Instead, writes that arrive while a transaction is in
//! flight wait together and go into the next one: one head lock and one commit (one flush) for
//! all of them.
//!
//! Each caller's rows and audit entries still commit atomically (they are in the same
//! transaction, its audit entries consecutive in the chain), and a caller at fault cannot fail
//! the others: if the shared transaction fails before its commit is sent, each write is retried
//! in a transaction of its own. A failed commit is not retried, since it may have been made;
//! every caller is told so.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use integritet_app::store::{NewSubject, StoreError};
use integritet_domain::audit::AuditDraft;
use sqlx::PgPool;
use tokio::sync::oneshot;

use crate::error::from_sqlx;

/// Writes waiting for the next transaction, and whether a task is writing them.
#[derive(Debug, Default)]
pub(crate) struct AppendQueue {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    waiting: Vec<Waiting>,
    flushing: bool,
}

/// One caller's write.
#[derive(Debug, Clone)]
pub(crate) struct Job {
    pub(crate) subjects: Vec<NewSubject>,
    pub(crate) audit: Vec<AuditDraft>,
}

#[derive(Debug)]
struct Waiting {
    job: Job,
    done: oneshot::Sender<Result<(), StoreError>>,
}

impl AppendQueue {
    fn lock(&self) -> MutexGuard<'_, State> {
        // The state stays consistent even if a holder panicked: it is only pushed and taken.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `job` and returns once it is committed, or has failed.
    pub(crate) async fn write(self: &Arc<Self>, pool: &PgPool, job: Job) -> Result<(), StoreError> {
        let (done, result) = oneshot::channel();
        let lead = {
            let mut state = self.lock();
            state.waiting.push(Waiting { job, done });
            !std::mem::replace(&mut state.flushing, true)
        };
        if lead {
            // On its own task, so a caller that goes away (a dropped request) cannot abandon
            // the transaction that carries other callers' writes.
            let flush = flush(self.clone(), pool.clone());
            match tokio::runtime::Handle::try_current() {
                Ok(runtime) => drop(runtime.spawn(flush)),
                Err(_) => flush.await,
            }
        }
        result.await.unwrap_or_else(|_| {
            Err(StoreError::Unavailable(
                "the database writer stopped before confirming the write; it may not have \
                 been made, retry"
                    .into(),
            ))
        })
    }
}

/// Writes whatever is waiting, one transaction per round, until nothing is.
async fn flush(queue: Arc<AppendQueue>, pool: PgPool) {
    loop {
        let batch = {
            let mut state = queue.lock();
            if state.waiting.is_empty() {
                state.flushing = false;
                return;
            }
            std::mem::take(&mut state.waiting)
        };
        let (jobs, done): (Vec<Job>, Vec<_>) = batch.into_iter().map(|w| (w.job, w.done)).unzip();
        if jobs.len() == 1 {
            let result = write(&pool, jobs).await.map_err(Failure::into_error);
            for done in done {
                let _ = done.send(clone_result(&result));
            }
            continue;
        }
        // The shared attempt takes copies, so that each job can still be retried alone.
        match write(&pool, jobs.clone()).await {
            Ok(()) => {
                for done in done {
                    // A caller that went away no longer needs the answer.
                    let _ = done.send(Ok(()));
                }
            }
            Err(Failure::AtCommit(e)) => {
                for done in done {
                    let _ = done.send(Err(same(&e)));
                }
            }
            Err(Failure::BeforeCommit(_)) => {
                // Perhaps one job's fault: find out whose.
                for (job, done) in jobs.into_iter().zip(done) {
                    let result = write(&pool, vec![job]).await.map_err(Failure::into_error);
                    let _ = done.send(result);
                }
            }
        }
    }
}

/// Why a write failed.
enum Failure {
    /// Nothing was committed.
    BeforeCommit(StoreError),
    /// The commit was sent and failed: it may or may not have been made.
    AtCommit(StoreError),
}

impl Failure {
    fn into_error(self) -> StoreError {
        match self {
            Failure::BeforeCommit(e) | Failure::AtCommit(e) => e,
        }
    }
}

/// Writes `jobs` in one transaction: every job's rows, then every job's audit entries in job
/// order after one lock of the audit head.
async fn write(pool: &PgPool, jobs: Vec<Job>) -> Result<(), Failure> {
    let mut subjects = Vec::new();
    let mut audit = Vec::new();
    for job in jobs {
        subjects.extend(job.subjects);
        audit.extend(job.audit);
    }
    let mut tx = pool
        .begin()
        .await
        .map_err(|e| Failure::BeforeCommit(from_sqlx(e)))?;
    crate::insert_subjects_in(&mut tx, subjects)
        .await
        .map_err(Failure::BeforeCommit)?;
    crate::chain::append(&mut tx, audit)
        .await
        .map_err(Failure::BeforeCommit)?;
    tx.commit()
        .await
        .map_err(|e| Failure::AtCommit(from_sqlx(e)))
}

fn clone_result(result: &Result<(), StoreError>) -> Result<(), StoreError> {
    match result {
        Ok(()) => Ok(()),
        Err(e) => Err(same(e)),
    }
}

/// The same error for each caller of a failed batch.
fn same(error: &StoreError) -> StoreError {
    match error {
        StoreError::Unavailable(m) => StoreError::Unavailable(m.clone()),
        StoreError::Corrupt(m) => StoreError::Corrupt(m.clone()),
        StoreError::Conflict(m) => StoreError::Conflict(m.clone()),
        StoreError::Unsupported(m) => StoreError::Unsupported(m.clone()),
    }
}
