//! Group commit for the everyday writes that only add rows: new subjects and audit entries.
//! Every audited read ends in an audit append and every sign-up in a subject insert; written
//! one transaction each, they would queue behind each other on the single writer, each paying
//! for its own begin, head read and commit. Instead, writes that arrive while a transaction is
//! in flight wait together and go into the next one.
//!
//! Each caller's rows and audit entries still commit atomically (they are in the same
//! transaction), and a caller at fault cannot fail the others: if the shared transaction fails
//! while writing rows, each write is retried in a transaction of its own. (A failure to start
//! the transaction, such as another process holding the file's write lock, is everyone's and is
//! not retried.)

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use integritet_app::store::{NewSubject, StoreError};
use tokio::sync::oneshot;

use crate::conn::Connections;
use crate::write::{AuditRows, Inserts, LiveRows, begin, finish};

/// Writes waiting for the next transaction, and whether a task is writing them.
#[derive(Default)]
pub(crate) struct AppendQueue {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    waiting: Vec<Waiting>,
    flushing: bool,
}

/// One caller's write.
pub(crate) struct Job {
    pub(crate) subjects: Vec<NewSubject>,
    pub(crate) audit: AuditRows,
}

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
    pub(crate) async fn write(
        self: &Arc<Self>,
        conns: &Arc<Connections>,
        job: Job,
    ) -> Result<(), StoreError> {
        let (done, result) = oneshot::channel();
        let lead = {
            let mut state = self.lock();
            state.waiting.push(Waiting { job, done });
            !std::mem::replace(&mut state.flushing, true)
        };
        if lead {
            // On its own task, so a caller that goes away (a dropped request) cannot abandon
            // the transaction that carries other callers' writes.
            let flush = flush(self.clone(), conns.clone());
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
async fn flush(queue: Arc<AppendQueue>, conns: Arc<Connections>) {
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
        let together = if jobs.len() > 1 {
            Some(write(&conns, &jobs.iter().collect::<Vec<_>>()).await)
        } else {
            None
        };
        for (job, done) in jobs.iter().zip(done) {
            let result = match &together {
                Some(Ok(())) => Ok(()),
                Some(Err(Failure::Everyone(e))) => Err(same(e)),
                // Perhaps one job's fault: find out whose.
                Some(Err(Failure::Rows(_))) | None => {
                    write(&conns, &[job]).await.map_err(Failure::into_error)
                }
            };
            // A caller that went away no longer needs the answer.
            let _ = done.send(result);
        }
    }
}

/// Why a shared write failed.
enum Failure {
    /// Before any job's rows were tried: the same answer for each.
    Everyone(StoreError),
    /// While converting or writing rows: perhaps one job's fault.
    Rows(StoreError),
}

impl Failure {
    fn into_error(self) -> StoreError {
        match self {
            Failure::Everyone(e) | Failure::Rows(e) => e,
        }
    }
}

/// Writes `jobs` in one transaction.
async fn write(conns: &Arc<Connections>, jobs: &[&Job]) -> Result<(), Failure> {
    let mut rows = LiveRows::default();
    for job in jobs {
        for subject in &job.subjects {
            rows.subject(&subject.record).map_err(Failure::Rows)?;
            rows.index(&subject.record.id, &subject.index);
        }
    }
    let mut inserts = Inserts::new();
    rows.push_into(&mut inserts);
    let audit: Vec<&AuditRows> = jobs.iter().map(|job| &job.audit).collect();
    let doing = if jobs.iter().all(|job| job.subjects.is_empty()) {
        "appending to the audit log"
    } else {
        "storing subjects"
    };
    let mut writer = conns.writer().await;
    let tx = begin(&mut writer, doing).await.map_err(Failure::Everyone)?;
    finish(tx, inserts, &audit, doing)
        .await
        .map_err(Failure::Rows)
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
