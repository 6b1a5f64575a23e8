//! Rotating the key-encryption key: a new key becomes active, every data key wrapped by an
//! older one is wrapped again under it, and then the older keys are retired.
//!
//! Servers may run and write throughout, any number of them on one key directory. Each looks
//! at the ring file before it wraps a new data key (`LiveKeyRing`), so once the new ring is
//! saved no new wrap uses an older key; a create that wrapped just before and commits just
//! after is wrapped again by its server. The rotation then waits `settle` for creates in
//! flight to land, and re-wraps in passes until a whole pass finds no key left under an older
//! key: only then are the older keys retired, so no stored data key is left without its key.

use integritet_crypto::rand_core::CryptoRng;
use integritet_crypto::{CryptoError, KeyFiles, KeyRing, WrappedKey};
use integritet_domain::audit::{AuditAction, AuditDraft};
use integritet_domain::subject::SubjectId;
use std::time::Duration;

use time::OffsetDateTime;

use crate::store::{Store, StoreError, WrappedKeyRow, Writes};
use crate::vault::Actor;

/// Data keys re-wrapped per transaction.
const REWRAP_PAGE: u32 = 1_000;

/// How long a rotation waits, by default, after switching keys for the creates that wrapped
/// under the old key to be stored: far longer than a commit takes.
pub const DEFAULT_SETTLE: Duration = Duration::from_secs(5);

/// Passes after which a rotation gives up retiring (writers keep adding keys under the old
/// key, which only a server that did not see the new ring would do).
const MAX_PASSES: u32 = 10;

/// What a rotation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotationSummary {
    /// The key now active.
    pub active: String,
    /// Keys retired.
    pub retired: Vec<String>,
    /// Data keys wrapped again.
    pub rewrapped: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum RotationError {
    #[error(transparent)]
    Keys(#[from] CryptoError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "data keys under the old key-encryption key kept appearing after {passes} re-wrap passes, \
         so the old key was not retired; a process that does not follow the key ring file \
         (an older version of integritet, or one with its own copy of the key directory) is \
         writing: stop it and run `integritet keys rotate` again"
    )]
    StillInUse { passes: u32 },
}

/// Rotates the key ring in `files` and re-wraps every data key of `store` under the new key;
/// `progress` is told how many subjects were looked at. Audited as `key_rotation`.
///
/// The new ring is saved before anything is re-wrapped: if the rotation stops half-way, both
/// keys are on disk and every data key can still be unwrapped, and running it again finishes.
pub async fn rotate(
    store: &dyn Store,
    files: &KeyFiles,
    rng: &mut dyn CryptoRng,
    actor: &Actor,
    now: OffsetDateTime,
    settle: Duration,
    mut progress: impl FnMut(u64),
) -> Result<RotationSummary, RotationError> {
    let (old_ring, _) = files.load()?;
    let ring = old_ring.rotate(rng);
    files.save_key_ring(&ring)?;
    tokio::time::sleep(settle).await;
    let mut rewrapped = 0u64;
    let mut passes = 0;
    loop {
        let found = rewrap_pass(store, &ring, rng, &mut progress).await?;
        rewrapped += found;
        passes += 1;
        if found == 0 {
            break;
        }
        if passes == MAX_PASSES {
            return Err(RotationError::StillInUse { passes });
        }
    }
    let mut retired = Vec::new();
    let mut final_ring = ring.clone();
    let older: Vec<String> = ring
        .ids()
        .filter(|id| *id != ring.active_id())
        .map(ToString::to_string)
        .collect();
    for id in older {
        final_ring = final_ring.retire(&id)?;
        retired.push(id);
    }
    files.save_key_ring(&final_ring)?;
    let active = final_ring.active_id().to_string();
    let note = AuditDraft {
        at: now,
        actor: actor.id(),
        role: actor.role().map(str::to_owned),
        purpose: None,
        subject: None,
        categories: vec![],
        action: AuditAction::KeyRotation,
        policy_version: String::new(),
        detail: Some(format!(
            "active={active}; retired={}; rewrapped={rewrapped}; passes={passes}",
            retired.join(",")
        )),
    };
    store.append_audit(vec![note]).await?;
    Ok(RotationSummary {
        active,
        retired,
        rewrapped,
    })
}

/// Wraps again, under `ring`'s active key, every stored data key wrapped under another;
/// returns how many there were.
async fn rewrap_pass(
    store: &dyn Store,
    ring: &KeyRing,
    rng: &mut dyn CryptoRng,
    progress: &mut impl FnMut(u64),
) -> Result<u64, RotationError> {
    let mut after: Option<SubjectId> = None;
    let mut rewrapped = 0u64;
    let mut seen = 0u64;
    loop {
        let page = store.wrapped_keys(after, REWRAP_PAGE).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.subject);
        let mut rows = Vec::new();
        for row in &page {
            let wrapped = WrappedKey::from_bytes(&row.wrapped_key)?;
            if ring.needs_rewrap(&wrapped) {
                let new = ring.rewrap(rng, *row.subject.as_bytes(), &wrapped)?;
                rows.push(WrappedKeyRow {
                    subject: row.subject,
                    wrapped_key: new.to_bytes(),
                });
            }
        }
        rewrapped += rows.len() as u64;
        if !rows.is_empty() {
            store.rewrap_keys(rows, vec![]).await?;
        }
        seen += page.len() as u64;
        progress(seen);
    }
    Ok(rewrapped)
}
