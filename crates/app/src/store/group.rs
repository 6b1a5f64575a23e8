//! Group commit, written once for every backend. Callers submit [`Job`]s; the backend's writer
//! takes whatever is waiting as one [`Batch`] and commits it in one transaction: one lock of
//! the audit head and one flush to disk for all of them, where one transaction each would
//! queue every audited read behind the previous one's flush.
//!
//! The backend keeps each job atomic inside the shared transaction (its rows and its audit
//! entries, consecutive in the chain) and answers each job on its own, so one caller's fault
//! fails only that caller. A job runs even if its caller goes away meanwhile, so a dropped
//! request can never abandon a transaction that carries other callers' writes.

use std::sync::Arc;

use integritet_domain::audit::AuditDraft;
use tokio::sync::{mpsc, oneshot};

use super::change::{Change, Job, Outcome, UserChange};
use super::meter::Meter;
use super::records::StoreError;

/// Jobs in one transaction at most.
const MAX_JOBS: usize = 512;

/// Rows in one transaction, roughly, before the next job waits for the next one: a large
/// import batch is a transaction of its own, and small writes behind it do not wait for a
/// giant one.
const MAX_WEIGHT: usize = 20_000;

/// The submitting side, shared by every caller of a store.
#[derive(Clone)]
pub struct GroupCommit {
    sender: mpsc::UnboundedSender<Pending>,
    meter: Meter,
    /// Told after each submission, for a writer that waits on more than this queue.
    wake: Option<Arc<dyn Fn() + Send + Sync>>,
}

impl std::fmt::Debug for GroupCommit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit").finish_non_exhaustive()
    }
}

/// The writer's side: batches of waiting jobs.
#[derive(Debug)]
pub struct Batches {
    receiver: mpsc::UnboundedReceiver<Pending>,
    /// A job that did not fit the last batch, first in the next.
    held: Option<Pending>,
}

/// One submitted job and where its answer goes.
#[derive(Debug)]
pub struct Pending {
    pub job: Job,
    reply: oneshot::Sender<Result<Outcome, StoreError>>,
}

impl Pending {
    /// Tells the job's caller how it went (a caller that went away no longer needs to know).
    pub fn answer(self, result: Result<Outcome, StoreError>) {
        let _ = self.reply.send(result);
    }
}

/// Jobs to commit together, in the order they were submitted.
pub type Batch = Vec<Pending>;

impl GroupCommit {
    /// A queue whose operations are measured by `meter`, and its writer's side.
    pub fn new(meter: Meter) -> (GroupCommit, Batches) {
        let (sender, receiver) = mpsc::unbounded_channel();
        (
            GroupCommit {
                sender,
                meter,
                wake: None,
            },
            Batches {
                receiver,
                held: None,
            },
        )
    }

    /// Like [`GroupCommit::new`], and `wake` is called after every submission: for a writer
    /// that also serves other work and takes batches with [`Batches::try_next`].
    pub fn with_wake(meter: Meter, wake: Arc<dyn Fn() + Send + Sync>) -> (GroupCommit, Batches) {
        let (mut queue, batches) = GroupCommit::new(meter);
        queue.wake = Some(wake);
        (queue, batches)
    }

    /// Queues `change` with `audit` and returns once it is committed, or has failed.
    pub async fn submit(
        &self,
        change: Change,
        audit: Vec<AuditDraft>,
    ) -> Result<Outcome, StoreError> {
        let operation = change.operation();
        let started = self.meter.start();
        let own = audit.len() as u64;
        let lock = match &change {
            Change::Users(UserChange::LoginFailure { lock_audit, .. }) => lock_audit.len() as u64,
            _ => 0,
        };
        let (reply, answer) = oneshot::channel();
        let pending = Pending {
            job: Job { change, audit },
            reply,
        };
        let sent = self.sender.send(pending);
        if let (Ok(()), Some(wake)) = (&sent, &self.wake) {
            wake();
        }
        let result = match sent {
            Ok(()) => answer.await.unwrap_or_else(|_| {
                Err(StoreError::Unavailable(
                    "the database writer stopped before confirming the write; it may not have \
                     been made, retry"
                        .into(),
                ))
            }),
            Err(_) => Err(StoreError::Unavailable(
                "the store is closed; reopen it".into(),
            )),
        };
        self.meter.finished(operation, started, result.is_ok());
        match result {
            Ok(Outcome::LoginFailure(failure)) if failure.locked_now => {
                self.meter.audit_written(own + lock);
            }
            Ok(outcome) if outcome.changed() => self.meter.audit_written(own),
            _ => {}
        }
        result
    }
}

impl Batches {
    /// Waits, blocking the thread, for the next batch; `None` once every submitter is gone.
    /// For a writer on a thread of its own.
    pub fn blocking_next(&mut self) -> Option<Batch> {
        let first = match self.held.take() {
            Some(held) => held,
            None => self.receiver.blocking_recv()?,
        };
        Some(self.fill(first))
    }

    /// Waits for the next batch; `None` once every submitter is gone. For a writer task.
    pub async fn next(&mut self) -> Option<Batch> {
        let first = match self.held.take() {
            Some(held) => held,
            None => self.receiver.recv().await?,
        };
        Some(self.fill(first))
    }

    /// The next batch if a job is waiting, without waiting; `None` when none is (or every
    /// submitter is gone).
    pub fn try_next(&mut self) -> Option<Batch> {
        let first = match self.held.take() {
            Some(held) => held,
            None => self.receiver.try_recv().ok()?,
        };
        Some(self.fill(first))
    }

    /// Adds whatever else is waiting, up to the limits.
    fn fill(&mut self, first: Pending) -> Batch {
        let mut weight = first.job.weight();
        let mut batch = vec![first];
        while batch.len() < MAX_JOBS && weight < MAX_WEIGHT {
            let Ok(next) = self.receiver.try_recv() else {
                break;
            };
            let next_weight = next.job.weight();
            if weight + next_weight > MAX_WEIGHT {
                self.held = Some(next);
                break;
            }
            weight += next_weight;
            batch.push(next);
        }
        batch
    }
}
