//! The vault: every use case that touches personal data, carried out against a [`Store`].
//!
//! Plaintext exists only here, between the caller and the cipher: values are validated and
//! normalised by their category's kind, encrypted under the subject's data key, indexed by
//! keyed blind tokens, and every create, read, lookup, change, erasure, archive read and export
//! writes an audit entry in the same store call as the change.
//!
//! One file per use case: `collect` (create, add values and activities), `reads` (read for a
//! purpose, lookup, export, disclosure), `rectify`, `erasure` (and its replay after a restore), `archive`,
//! `requests` (restriction, objection, policy history), `staff` (tokens); `access` holds the
//! rules of who may do what, `actor` who acts, `model` what crosses the vault's edge. The store
//! is the vault's own: callers reach personal data only through these use cases.

mod access;
mod access_report;
mod actor;
mod archive;
mod collect;
mod consent;
mod erasure;
mod integrity;
mod legal_holds;
mod marketing;
mod model;
mod portability;
mod reads;
mod rectify;
mod requests;
mod restore;
mod staff;
mod subject_requests;
mod suppression;
mod sweep;
mod unsubscribe;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use integritet_crypto::rand_core::CryptoRng;
use integritet_crypto::{
    ArchiveRatchet, BlindIndexKey, CryptoError, DataKey, KeyRing, LiveKeyRing, RecordKey, ValueAad,
    ValueGrant, WrappedKey, decrypt_value, unwrap,
};
use integritet_domain::Clock;
use integritet_domain::audit::{AuditAction, AuditDraft};
use integritet_domain::personal::PersonalValue;
use integritet_domain::policy::{LoadedPolicy, Policy};
use integritet_domain::subject::{Provenance, SubjectId, ValueId};
use time::OffsetDateTime;
use zeroize::Zeroizing;

pub use actor::{Actor, StaffRole};
pub use consent::ConsentReceipt;
pub use integrity::IntegrityReport;
pub use legal_holds::{LegalHold, Release};
pub use marketing::{Audience, AudienceContact, OptOut};
pub use model::*;
pub use portability::{PortableCopy, PortableValue};
pub use rectify::Rectified;
pub use requests::PolicyHistoryEntry;
pub use restore::{DisabledUser, LogHead, ReplayRecord, Replayed, RevokedToken, SubjectObjection};
pub use subject_requests::{
    CarriedOut, Correction, NewRequest, RectifiedValue, RequestDeadlines, RequestStep, RightResult,
};
pub use sweep::{PurposeCounts, SweepProgress, SweepReport, SweptSubject};
pub use unsubscribe::{LinkState, LinkTarget, ListUnsubscribe, ONE_CLICK};

use crate::store::{NewSubject, Store, StoreError, SubjectRecord, ValueRecord, Writes};

/// The keys the vault works with; loaded from the key files by the caller.
#[derive(Debug)]
pub struct VaultKeys {
    /// Followed on disk by a server, so that a rotation while it runs is seen (`LiveKeyRing`).
    pub ring: LiveKeyRing,
    pub index: BlindIndexKey,
    pub archive: ArchiveRatchet,
}

/// The use cases. Cheap to share behind an `Arc`.
pub struct Vault {
    store: Arc<dyn Store>,
    policy: Arc<LoadedPolicy>,
    ring: LiveKeyRing,
    index_key: BlindIndexKey,
    record_key: RecordKey,
    archive: Mutex<ArchiveRatchet>,
    clock: Arc<dyn Clock>,
    rng: Mutex<Box<dyn CryptoRng + Send>>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault")
            .field("store", &self.store.backend())
            .field("policy", &self.policy.version)
            .finish_non_exhaustive()
    }
}

/// A subject checked and encrypted, ready for the store.
#[derive(Debug)]
pub struct PreparedSubject {
    subject: NewSubject,
    audit: AuditDraft,
    /// The ring its data key was wrapped under, to wrap it again should a rotation have moved
    /// on before the subject was stored.
    wrapped_under: Arc<KeyRing>,
}

impl PreparedSubject {
    pub fn id(&self) -> SubjectId {
        self.subject.record.id
    }
}
impl Vault {
    pub fn new(
        store: Arc<dyn Store>,
        policy: Arc<LoadedPolicy>,
        keys: VaultKeys,
        clock: Arc<dyn Clock>,
        rng: Box<dyn CryptoRng + Send>,
    ) -> Vault {
        Vault {
            store,
            policy,
            ring: keys.ring,
            record_key: RecordKey::derive(&keys.index),
            index_key: keys.index,
            archive: Mutex::new(keys.archive),
            clock,
            rng: Mutex::new(rng),
        }
    }

    pub fn policy(&self) -> &LoadedPolicy {
        &self.policy
    }

    /// The key of login-secret hashes and row MACs, for the server's token and session checks.
    pub fn record_key(&self) -> &RecordKey {
        &self.record_key
    }

    /// The vault's clock reading.
    pub fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    /// Whether the store answers (for `/readyz`).
    pub async fn ping(&self) -> Result<(), VaultError> {
        Ok(self.store.ping().await?)
    }

    fn rules(&self) -> &Policy {
        &self.policy.policy
    }

    fn with_rng<T>(&self, f: impl FnOnce(&mut dyn CryptoRng) -> T) -> T {
        // A poisoned lock only means another thread panicked mid-draw; the RNG is still sound.
        let mut guard = self.rng.lock().unwrap_or_else(|p| p.into_inner());
        f(guard.as_mut())
    }

    fn random<const N: usize>(&self) -> [u8; N] {
        let mut bytes = [0u8; N];
        self.with_rng(|rng| rng.fill_bytes(&mut bytes));
        bytes
    }

    fn new_subject_id(&self, now: OffsetDateTime) -> SubjectId {
        SubjectId::from_parts(unix_millis(now), self.random())
    }

    fn new_value_id(&self, now: OffsetDateTime) -> ValueId {
        ValueId::from_parts(unix_millis(now), self.random())
    }

    fn draft(
        &self,
        actor: &Actor,
        action: AuditAction,
        subject: Option<SubjectId>,
        purpose: Option<&str>,
        categories: Vec<String>,
        detail: Option<String>,
    ) -> AuditDraft {
        AuditDraft {
            at: self.clock.now(),
            actor: actor.id(),
            role: actor.role().map(str::to_owned),
            purpose: purpose.map(str::to_owned),
            subject: subject.map(|s| s.0),
            categories,
            action,
            policy_version: self.policy.version.to_string(),
            detail,
        }
    }

    /// Passes `result` on; a value that failed its integrity check is audited first, by id,
    /// so the refusal is on record wherever it happened.
    async fn audit_integrity<T>(
        &self,
        actor: &Actor,
        result: Result<T, VaultError>,
    ) -> Result<T, VaultError> {
        if let Err(VaultError::Integrity { subject, value }) = &result {
            let entry = self.draft(
                actor,
                AuditAction::IntegrityViolation,
                Some(*subject),
                None,
                Vec::new(),
                Some(format!("table=values; value={value}; refused=read")),
            );
            self.store.append_audit(vec![entry]).await?;
        }
        result
    }

    fn open_key(&self, record: &SubjectRecord) -> Result<DataKey, VaultError> {
        let wrapped = WrappedKey::from_bytes(&record.wrapped_key)?;
        let subject = *record.id.as_bytes();
        match unwrap(&self.ring.held(), subject, &wrapped) {
            // Re-wrapped under a key this server has not loaded yet: a rotation ran.
            Err(CryptoError::UnknownKek { .. }) => {
                Ok(unwrap(&*self.ring.reload()?, subject, &wrapped)?)
            }
            opened => Ok(opened?),
        }
    }

    fn open_value(
        &self,
        subject: SubjectId,
        key: &DataKey,
        value: &ValueRecord,
    ) -> Result<ValueView, VaultError> {
        let plain = self.authenticate_value(subject, key, value)?;
        value_view(subject, value, &plain)
    }

    /// A value's plaintext, once its ciphertext authenticates with its stored purposes and
    /// times; an edited value is an integrity error naming it.
    fn authenticate_value(
        &self,
        subject: SubjectId,
        key: &DataKey,
        value: &ValueRecord,
    ) -> Result<Zeroizing<Vec<u8>>, VaultError> {
        let aad = ValueAad::new(*subject.as_bytes(), &value.category).granting(value_grant(
            &value.purposes,
            value.collected_at,
            value.provenance,
        ));
        decrypt_value(key, &aad, &value.ciphertext).map_err(|e| match e {
            CryptoError::Decrypt => VaultError::Integrity {
                subject,
                value: value.id,
            },
            other => VaultError::Crypto(other),
        })
    }
}

/// A value as the vault shows it, from its record and its authenticated plaintext.
fn value_view(
    subject: SubjectId,
    value: &ValueRecord,
    plain: &[u8],
) -> Result<ValueView, VaultError> {
    let text = std::str::from_utf8(plain).map_err(|_| {
        VaultError::Store(StoreError::Corrupt(format!(
            "value {} of subject {subject} is not UTF-8 after decryption",
            value.id
        )))
    })?;
    Ok(ValueView {
        id: value.id,
        category: value.category.clone(),
        value: PersonalValue::new(text),
        provenance: value.provenance,
        collected_at: value.collected_at,
        purposes: value.purposes.clone(),
    })
}

/// What a value's ciphertext is bound to besides its subject and category: editing any of
/// these in the database makes the value fail to decrypt.
pub(crate) fn value_grant(
    purposes: &[String],
    collected_at: OffsetDateTime,
    provenance: Provenance,
) -> ValueGrant<'_> {
    ValueGrant {
        purposes,
        collected_at_nanos: collected_at.unix_timestamp_nanos(),
        provenance: provenance.as_str(),
    }
}

fn view(record: SubjectRecord, purpose: Option<String>, values: Vec<ValueView>) -> SubjectView {
    SubjectView {
        id: record.id,
        kind: record.kind,
        created_at: record.created_at,
        restricted: record.restricted,
        objections: record.objections.into_iter().map(|o| o.purpose).collect(),
        purpose,
        values,
        activities: record
            .activities
            .into_iter()
            .map(|a| ActivityView {
                kind: a.kind,
                at: a.at,
            })
            .collect(),
    }
}

fn distinct(items: impl Iterator<Item = String>) -> Vec<String> {
    items.collect::<BTreeSet<_>>().into_iter().collect()
}

fn unix_millis(at: OffsetDateTime) -> u64 {
    u64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(0)
}
