//! Verifying the audit log as stored: page through every entry in order and check the chain
//! in bounded memory.

use integritet_domain::audit::{ChainBreak, ChainSummary, ChainVerifier};

use crate::store::{Store, StoreError};

/// Entries fetched per round trip while verifying.
const VERIFY_PAGE: u32 = 10_000;

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("the audit log is broken at {0}")]
    Broken(#[from] ChainBreak),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Checks the whole chain and its recorded head. `progress` is told how many entries are done.
pub async fn verify(
    store: &dyn Store,
    mut progress: impl FnMut(u64),
) -> Result<ChainSummary, VerifyError> {
    let head = store.audit_head().await?;
    let mut verifier = ChainVerifier::new();
    let mut after = 0;
    let mut done = 0;
    loop {
        let page = store.audit_entries(after, VERIFY_PAGE).await?;
        let Some(last) = page.last() else { break };
        let next_after = last.seq;
        for entry in &page {
            verifier.push(entry)?;
        }
        done += page.len() as u64;
        progress(done);
        if next_after <= after {
            break;
        }
        after = next_after;
    }
    Ok(verifier.finish(head)?)
}
