//! Measuring a store, once for every operation: the group commit times every change and
//! counts the audit entries it acknowledged; each backend's one read path times every read.
//! A server that wants figures installs an observer ([`super::Maintenance::observe`]).

use std::fmt;
use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use super::records::StoreError;

/// Told of every store operation.
pub trait StoreObserver: Send + Sync + fmt::Debug {
    /// One operation (`subject`, `insert_subjects`, …) took `elapsed` and succeeded or not.
    fn operation(&self, operation: &'static str, elapsed: Duration, ok: bool);

    /// The store acknowledged this many audit entries as written.
    fn audit_written(&self, entries: u64);
}

/// Where a store reports its operations; nothing is measured until an observer is set.
#[derive(Debug, Clone, Default)]
pub struct Meter(Arc<OnceLock<Arc<dyn StoreObserver>>>);

impl Meter {
    /// Installs the observer; a second one is refused (false), the first stays.
    pub fn set(&self, observer: Arc<dyn StoreObserver>) -> bool {
        self.0.set(observer).is_ok()
    }

    fn observer(&self) -> Option<&Arc<dyn StoreObserver>> {
        self.0.get()
    }

    /// Runs `call`, timed as `operation`.
    pub async fn time<T>(
        &self,
        operation: &'static str,
        call: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        let Some(observer) = self.observer() else {
            return call.await;
        };
        let started = Instant::now();
        let result = call.await;
        observer.operation(operation, started.elapsed(), result.is_ok());
        result
    }

    /// Reports a finished operation that started at `started`.
    pub(crate) fn finished(&self, operation: &'static str, started: Option<Instant>, ok: bool) {
        if let (Some(observer), Some(started)) = (self.observer(), started) {
            observer.operation(operation, started.elapsed(), ok);
        }
    }

    /// The time now, when someone is measuring.
    pub(crate) fn start(&self) -> Option<Instant> {
        self.observer().map(|_| Instant::now())
    }

    pub(crate) fn audit_written(&self, entries: u64) {
        if let Some(observer) = self.observer().filter(|_| entries > 0) {
            observer.audit_written(entries);
        }
    }
}
