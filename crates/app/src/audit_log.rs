//! Verifying the audit log as stored: read the recorded head, then page through every entry up
//! to it in order and check the chain in bounded memory.
//!
//! Verification stops at the head it read first. A server that keeps writing meanwhile adds
//! entries after that head; they are not part of this verification (the next one covers them),
//! so a live log is never reported broken for growing. Entries past that head are accepted only
//! if a head read afterwards covers them: both stores move the head in the transaction that
//! writes the entries, so a head left behind its log (reset or deleted by hand) is caught.

use integritet_domain::audit::{AuditEntry, ChainBreak, ChainSummary, ChainVerifier};

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
pub async fn verify(
    store: &(impl AuditStore + ?Sized),
    mut progress: impl FnMut(u64),
) -> Result<ChainSummary, VerifyError> {
    let head = store.audit_head().await?;
    let until = head.map_or(0, |(seq, _)| seq);
    let mut verifier = ChainVerifier::new();
    let mut done = 0;
    let mut page = store.audit_entries(0, until, VERIFY_PAGE).await?;
    while let Some(last) = page.last().map(|e| e.seq) {
        let more = last < until && page.len() == VERIFY_PAGE as usize;
        // The next page is read while this one is hashed: the database and the hashing each
        // have a core of their own.
        let next = async {
            if more {
                store.audit_entries(last, until, VERIFY_PAGE).await
            } else {
                Ok(Vec::new())
            }
        };
        let check = async { check_page(&mut verifier, &page) };
        let (next, checked) = tokio::join!(next, check);
        checked?;
        done += page.len() as u64;
        progress(done);
        page = next?;
    }
    let summary = verifier.finish(head)?;
    if let Some(past) = store.audit_entries(until, u64::MAX, 1).await?.first() {
        let now = store.audit_head().await?.map_or(0, |(seq, _)| seq);
        if now < past.seq {
            let seq = until + 1;
            return Err(ChainBreak::Gap { seq, expected: seq }.into());
        }
    }
    Ok(summary)
}

fn check_page(verifier: &mut ChainVerifier, page: &[AuditEntry]) -> Result<(), ChainBreak> {
    page.iter().try_for_each(|entry| verifier.push(entry))
}
