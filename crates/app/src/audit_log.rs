//! Verifying the audit log as stored: read the recorded head, then page through every entry up
//! to it in order and check the chain in bounded memory.
//!
//! Verification stops at the head it read first. A server that keeps writing meanwhile adds
//! entries after that head; they are not part of this verification (the next one covers them),
//! so a live log is never reported broken for growing. Entries past that head are accepted only
//! if a head read afterwards covers them: both stores move the head in the transaction that
//! writes the entries, so a head left behind its log (reset or deleted by hand) is caught.

use futures_util::stream::{self, StreamExt, TryStreamExt};
use integritet_crypto::{AuditPublicKey, AuditSigningKey};
use integritet_domain::audit::{
    AuditAction, AuditDraft, ChainBreak, ChainHash, ChainSummary, ChainVerifier, Checkpoint,
};
use time::OffsetDateTime;

use crate::store::{AuditStore, StoreError, Writes};

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
    progress: impl FnMut(u64),
) -> Result<ChainSummary, VerifyError> {
    let head = store.audit_head().await?;
    verify_to(store, head, None, progress).await
}

/// The last signed checkpoint a verification found good.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignedHead {
    /// The entry whose hash it signed.
    pub seq: u64,
    pub head: ChainHash,
    /// When it was signed.
    pub at: OffsetDateTime,
    /// The checkpoint's own entry; entries after it are not covered by a signature yet.
    pub entry: u64,
}

/// [`verify`], and the last signed checkpoint at or before the head checked against `key`: its
/// signature, and the hash it recorded against the chain's own. `None` when the log holds no
/// checkpoint yet.
pub async fn verify_signed(
    store: &(impl AuditStore + ?Sized),
    key: &AuditPublicKey,
    progress: impl FnMut(u64),
) -> Result<(ChainSummary, Option<SignedHead>), VerifyError> {
    let head = store.audit_head().await?;
    let until = head.map_or(0, |(seq, _)| seq);
    let signed = match store
        .last_audit_entry(AuditAction::Checkpoint, until)
        .await?
    {
        None => None,
        Some(entry) => {
            let checkpoint = entry
                .draft
                .detail
                .as_deref()
                .and_then(Checkpoint::parse)
                .filter(|c| c.seq < entry.seq)
                .ok_or(ChainBreak::BadCheckpoint { seq: entry.seq })?;
            let message = Checkpoint::message(checkpoint.seq, checkpoint.head, entry.draft.at);
            if !key.verify(&message, &checkpoint.signature) {
                return Err(ChainBreak::BadCheckpoint { seq: entry.seq }.into());
            }
            Some(SignedHead {
                seq: checkpoint.seq,
                head: checkpoint.head,
                at: entry.draft.at,
                entry: entry.seq,
            })
        }
    };
    let expected = signed.map(|s| (s.seq, s.head));
    let summary = verify_to(store, head, expected, progress).await?;
    Ok((summary, signed))
}

/// Signs the log's head as it is now and appends the checkpoint, unless nothing was written
/// since the last one (an idle server does not grow its log). The seq signed, if any.
pub async fn write_checkpoint(
    store: &(impl AuditStore + Writes + ?Sized),
    key: &AuditSigningKey,
    now: OffsetDateTime,
    actor: &str,
    policy_version: &str,
) -> Result<Option<u64>, StoreError> {
    let Some((seq, head)) = store.audit_head().await? else {
        return Ok(None);
    };
    if let Some(last) = store.last_audit_entry(AuditAction::Checkpoint, seq).await?
        && last.seq == seq
    {
        return Ok(None);
    }
    let checkpoint = Checkpoint {
        seq,
        head,
        signature: key.sign(&Checkpoint::message(seq, head, now)),
    };
    store
        .append_audit(vec![AuditDraft {
            at: now,
            actor: actor.to_owned(),
            role: None,
            purpose: None,
            subject: None,
            categories: Vec::new(),
            action: AuditAction::Checkpoint,
            policy_version: policy_version.to_owned(),
            detail: Some(checkpoint.detail()),
        }])
        .await?;
    Ok(Some(seq))
}

async fn verify_to(
    store: &(impl AuditStore + ?Sized),
    head: Option<(u64, ChainHash)>,
    signed: Option<(u64, ChainHash)>,
    mut progress: impl FnMut(u64),
) -> Result<ChainSummary, VerifyError> {
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
            if let Some((seq, hash)) = signed
                && link.seq == seq
                && link.hash != hash
            {
                return Err(ChainBreak::CheckpointMismatch { seq }.into());
            }
        }
        done += page.len() as u64;
        progress(done);
    }
    let summary = verifier.finish(head)?;
    if let Some((seq, _)) = signed
        && seq > summary.entries
    {
        return Err(ChainBreak::CheckpointMismatch { seq }.into());
    }
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
