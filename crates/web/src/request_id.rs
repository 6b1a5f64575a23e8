//! Request ids: a per-process prefix and a counter. A UUID per request costs a `getrandom`
//! system call on the hot path; an id only has to tell one request's log lines from another's,
//! and the prefix keeps ids of two server processes (or two starts) apart.

use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::http::{HeaderValue, Request};
use tower_http::request_id::{MakeRequestId, RequestId};

#[derive(Debug, Clone)]
pub(crate) struct CountingIds {
    prefix: u32,
    next: Arc<AtomicU64>,
}

impl CountingIds {
    /// A prefix drawn from the standard library's per-process hash keys: no extra entropy is
    /// needed for ids that are not secrets.
    pub(crate) fn new() -> CountingIds {
        let prefix = RandomState::new().hash_one(std::process::id()) as u32;
        CountingIds {
            prefix,
            next: Arc::new(AtomicU64::new(1)),
        }
    }

    fn next_id(&self) -> String {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        format!("{:08x}-{n:x}", self.prefix)
    }
}

impl MakeRequestId for CountingIds {
    fn make_request_id<B>(&mut self, _request: &Request<B>) -> Option<RequestId> {
        HeaderValue::from_str(&self.next_id())
            .ok()
            .map(RequestId::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_differ_and_share_the_prefix() {
        let ids = CountingIds::new();
        let (a, b) = (ids.next_id(), ids.next_id());
        assert_ne!(a, b);
        assert_eq!(a.split('-').next(), b.split('-').next());
        assert_eq!(a.len(), 10);
    }
}
