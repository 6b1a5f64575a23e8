//! Rotating the key-encryption key: a new key becomes active, every data key wrapped by an
//! older one is wrapped again under it, and then the older keys are retired.

use integritet_crypto::rand_core::CryptoRng;
use integritet_crypto::{CryptoError, KeyFiles, WrappedKey};
use integritet_domain::audit::{AuditAction, AuditDraft};
use integritet_domain::subject::SubjectId;
use time::OffsetDateTime;

use crate::store::{Store, StoreError, WrappedKeyRow, Writes};
use crate::vault::Actor;

/// Data keys re-wrapped per transaction.
const REWRAP_PAGE: u32 = 1_000;

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
    mut progress: impl FnMut(u64),
) -> Result<RotationSummary, RotationError> {
    let (old_ring, _) = files.load()?;
    let ring = old_ring.rotate(rng);
    files.save_key_ring(&ring)?;
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
            "active={active}; retired={}; rewrapped={rewrapped}",
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
