//! Verifying the audit log as stored: read the recorded head, then page through every entry up
//! to it in order and check the chain in bounded memory.
//!
//! Verification stops at the head it read first. A server that keeps writing meanwhile adds
//! entries after that head; they are not part of this verification (the next one covers them),
//! so a live log is never reported broken for growing. Entries past that head are accepted only
//! if a head read afterwards covers them: both stores move the head in the transaction that
//! writes the entries, so a head left behind its log (reset or deleted by hand) is caught.

use futures_util::stream::{self, StreamExt, TryStreamExt};
use integritet_domain::audit::{ChainBreak, ChainSummary, ChainVerifier};

use crate::store::{AuditStore, StoreError};

/// Entries fetched per round trip while verifying.
const VERIFY_PAGE: u32 = 10_000;

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("the audit log is broken at {0}")]
    Broken(#[from] ChainBreak),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Checks the chain up to its recorded head, and the head. `progress` is told how many entries
/// are done.
///
/// A whole log's seqs run from 1 without gaps, so the pages are ranges of seq known before any
/// is read: several are read and hashed at once (each store hashes a page as it reads it, on a
/// thread or connection of its own), and their links are checked here in order. A page with
/// entries missing leaves a gap that the check in order names.
pub async fn verify(
    store: &(impl AuditStore + ?Sized),
    mut progress: impl FnMut(u64),
) -> Result<ChainSummary, VerifyError> {
    let head = store.audit_head().await?;
    let until = head.map_or(0, |(seq, _)| seq);
    let mut verifier = ChainVerifier::new();
    let mut done = 0;
    let starts = (0..until).step_by(VERIFY_PAGE as usize);
    let mut pages = stream::iter(starts)
        .map(|after| {
            let last = until.min(after + u64::from(VERIFY_PAGE));
            store.audit_links(after, last, VERIFY_PAGE)
        })
        .buffered(pages_at_once());
    while let Some(page) = pages.try_next().await? {
        for link in &page {
            verifier.push_link(link)?;
        }
        done += page.len() as u64;
        progress(done);
    }
    let summary = verifier.finish(head)?;
    if let Some(past) = store.audit_links(until, u64::MAX, 1).await?.first() {
        let now = store.audit_head().await?.map_or(0, |(seq, _)| seq);
        if now < past.seq {
            let seq = until + 1;
            return Err(ChainBreak::Gap { seq, expected: seq }.into());
        }
    }
    Ok(summary)
}

/// One page per core in flight, and one more so that a core never waits for the next.
fn pages_at_once() -> usize {
    std::thread::available_parallelism()
        .map_or(2, std::num::NonZero::get)
        .clamp(1, 8)
        + 1
}
