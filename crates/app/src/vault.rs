//! The vault: every use case that touches personal data, carried out against a [`Store`].
//!
//! Plaintext exists only here, between the caller and the cipher: values are validated and
//! normalised by their category's kind, encrypted under the subject's data key, indexed by
//! keyed blind tokens, and every create, read, lookup, change, erasure, archive read and export
//! writes an audit entry in the same store call as the change.

mod access;
mod requests;
mod staff;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use integritet_crypto::rand_core::CryptoRng;
use integritet_crypto::{
    ArchiveKey, ArchiveRatchet, BlindIndexKey, CryptoError, DataKey, KeyRing, ValueAad, WrappedKey,
    decrypt_value, encrypt_value, open_archive, seal_archive, unwrap, unwrap_archive_key, wrap,
    wrap_archive_key,
};
use integritet_domain::Clock;
use integritet_domain::audit::{AuditAction, AuditDraft};
use integritet_domain::personal::PersonalValue;
use integritet_domain::policy::{LegalBasis, LoadedPolicy, Policy, ValueKind};
use integritet_domain::retention;
use integritet_domain::subject::{ArchiveRef, Provenance, SubjectId, SubjectKind, ValueId};
use integritet_domain::value;
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

pub use requests::PolicyHistoryEntry;

/// No activity or collection time lies before this year: earlier ones are typing errors (and
/// the stores keep instants from 1677 only).
const EARLIEST_YEAR: i32 = 1900;

use crate::store::{
    ActivityRecord, ArchiveRecord, ErasureRecord, IndexEntry, NewSubject, Store, StoreError,
    SubjectRecord, ValueRecord,
};

/// Who is acting. Staff are identified by account or token id, never by personal data of a
/// data subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub id: String,
    /// The staff role, which limits the purposes the actor may act for. `None` for the
    /// operator's own tools (the CLI) and background jobs.
    pub role: Option<String>,
}

impl Actor {
    pub fn system(job: &str) -> Actor {
        Actor {
            id: format!("system:{job}"),
            role: None,
        }
    }
}

/// One value to store.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewValue {
    pub category: String,
    pub value: PersonalValue,
    #[serde(default = "provided")]
    pub provenance: Provenance,
    pub purposes: Vec<String>,
    /// When the value was collected; now when absent.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub collected_at: Option<OffsetDateTime>,
}

fn provided() -> Provenance {
    Provenance::Provided
}

/// An activity event (a kind the policy names, e.g. `purchase`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewActivity {
    pub kind: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// A subject to create.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewSubjectInput {
    pub kind: SubjectKind,
    pub values: Vec<NewValue>,
    #[serde(default)]
    pub activities: Vec<NewActivity>,
}

/// Exact-match lookups the vault offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum LookupKind {
    Email,
    Phone,
    IdentityNumber,
    CustomerNumber,
}

impl LookupKind {
    pub fn value_kind(self) -> ValueKind {
        match self {
            LookupKind::Email => ValueKind::Email,
            LookupKind::Phone => ValueKind::Phone,
            LookupKind::IdentityNumber => ValueKind::IdentityNumber,
            LookupKind::CustomerNumber => ValueKind::CustomerNumber,
        }
    }

    fn of(kind: ValueKind) -> Option<LookupKind> {
        match kind {
            ValueKind::Email => Some(LookupKind::Email),
            ValueKind::Phone => Some(LookupKind::Phone),
            ValueKind::IdentityNumber => Some(LookupKind::IdentityNumber),
            ValueKind::CustomerNumber => Some(LookupKind::CustomerNumber),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        self.value_kind().as_str()
    }
}

/// A value as a reader sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ValueView {
    pub id: ValueId,
    pub category: String,
    pub value: PersonalValue,
    pub provenance: Provenance,
    #[serde(with = "time::serde::rfc3339")]
    pub collected_at: OffsetDateTime,
    pub purposes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ActivityView {
    pub kind: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// A subject as read for one purpose: only the categories that purpose lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SubjectView {
    pub id: SubjectId,
    pub kind: SubjectKind,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    pub restricted: bool,
    /// Purposes the subject objected to (Art. 21), refused for this subject.
    pub objections: Vec<String>,
    /// The purpose the data was read for; `None` for the subject's own full copy.
    pub purpose: Option<String>,
    pub values: Vec<ValueView>,
    pub activities: Vec<ActivityView>,
}

/// What erasure did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErasureOutcome {
    pub subject: SubjectId,
    pub erased: Vec<String>,
    pub archived: Vec<String>,
    /// Archive references, for the operator who must be able to answer an authority.
    pub archive_references: Vec<ArchiveRef>,
}

/// An archived bundle, opened for a stated reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ArchiveView {
    pub reference: ArchiveRef,
    pub subject: SubjectId,
    #[serde(serialize_with = "iso_date")]
    pub shred_after: Date,
    pub purposes: Vec<String>,
    pub values: Vec<ArchivedValue>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ArchivedValue {
    pub category: String,
    pub value: PersonalValue,
    pub provenance: Provenance,
    #[serde(with = "time::serde::rfc3339")]
    pub collected_at: OffsetDateTime,
    pub purposes: Vec<String>,
}

/// The plaintext sealed inside an archive entry.
#[derive(Debug, Serialize, Deserialize)]
struct ArchiveBundle {
    subject: SubjectId,
    values: Vec<ArchivedValue>,
}

/// Everything that can go wrong in a use case. [`VaultError::Invalid`] and friends are the
/// caller's to fix; [`VaultError::Store`] and [`VaultError::Crypto`] are ours.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// Input breaks a rule. `field` names where, e.g. `values[2].value`.
    #[error("{field}: {message}")]
    Invalid {
        field: String,
        code: &'static str,
        message: String,
    },
    #[error("no such {what}")]
    NotFound { what: &'static str },
    /// The actor's role may not act for this purpose, or the subject's state forbids it.
    #[error("{0}")]
    Forbidden(String),
    /// The policy cannot support the request (a retention rule without a period, …).
    #[error("the policy does not allow this: {0}")]
    Policy(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("a cryptographic operation failed: {0}")]
    Crypto(#[from] CryptoError),
}

impl VaultError {
    fn invalid(field: impl Into<String>, code: &'static str, message: impl Into<String>) -> Self {
        VaultError::Invalid {
            field: field.into(),
            code,
            message: message.into(),
        }
    }
}

/// The keys the vault works with; loaded from the key files by the caller.
#[derive(Debug)]
pub struct VaultKeys {
    pub ring: KeyRing,
    pub index: BlindIndexKey,
    pub archive: ArchiveRatchet,
}

/// The use cases. Cheap to share behind an `Arc`.
pub struct Vault {
    store: Arc<dyn Store>,
    policy: Arc<LoadedPolicy>,
    ring: KeyRing,
    index_key: BlindIndexKey,
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
            index_key: keys.index,
            archive: Mutex::new(keys.archive),
            clock,
            rng: Mutex::new(rng),
        }
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn policy(&self) -> &LoadedPolicy {
        &self.policy
    }

    /// The vault's clock reading.
    pub fn now(&self) -> OffsetDateTime {
        self.clock.now()
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
            actor: actor.id.clone(),
            role: actor.role.clone(),
            purpose: purpose.map(str::to_owned),
            subject: subject.map(|s| s.0),
            categories,
            action,
            policy_version: self.policy.version.to_string(),
            detail,
        }
    }

    /// Validates and encrypts a subject without storing it (import batches many of these).
    pub fn prepare(
        &self,
        actor: &Actor,
        input: NewSubjectInput,
    ) -> Result<PreparedSubject, VaultError> {
        let now = self.clock.now();
        let today = now.date();
        if input.values.is_empty() {
            return Err(VaultError::invalid(
                "values",
                "no_values",
                "a subject needs at least one value",
            ));
        }
        let id = self.new_subject_id(now);
        let data_key = self.with_rng(|rng| DataKey::generate(rng));
        let wrapped = self.with_rng(|rng| wrap(&self.ring, rng, *id.as_bytes(), &data_key))?;
        let mut values = Vec::with_capacity(input.values.len());
        let mut index = Vec::new();
        let mut categories = BTreeSet::new();
        let mut purposes = BTreeSet::new();
        for (i, new) in input.values.into_iter().enumerate() {
            let field = format!("values[{i}]");
            let (record, entry) = self.seal_value(&field, id, &data_key, new, now, today)?;
            categories.insert(record.category.clone());
            purposes.extend(record.purposes.iter().cloned());
            if let Some(entry) = entry {
                index.push(entry);
            }
            values.push(record);
        }
        let activities = self.check_activities(input.activities)?;
        let record = SubjectRecord {
            id,
            kind: input.kind,
            created_at: now,
            wrapped_key: wrapped.to_bytes(),
            restricted: false,
            objections: vec![],
            values,
            activities,
        };
        let audit = self.draft(
            actor,
            AuditAction::Create,
            Some(id),
            None,
            categories.into_iter().collect(),
            Some(format!(
                "purposes={}",
                purposes.into_iter().collect::<Vec<_>>().join(",")
            )),
        );
        Ok(PreparedSubject {
            subject: NewSubject { record, index },
            audit,
        })
    }

    /// Checks one value against the policy, normalises it and encrypts it.
    fn seal_value(
        &self,
        field: &str,
        subject: SubjectId,
        data_key: &DataKey,
        new: NewValue,
        now: OffsetDateTime,
        today: Date,
    ) -> Result<(ValueRecord, Option<IndexEntry>), VaultError> {
        let policy = self.rules();
        let category = policy.categories.get(&new.category).ok_or_else(|| {
            VaultError::invalid(
                format!("{field}.category"),
                "unknown_category",
                format!(
                    "the policy has no category {:?}; use one of: {}",
                    new.category,
                    policy
                        .categories
                        .keys()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })?;
        if new.purposes.is_empty() {
            return Err(VaultError::invalid(
                format!("{field}.purposes"),
                "no_purpose",
                "every value must be collected for at least one purpose of the policy",
            ));
        }
        let mut purposes = Vec::with_capacity(new.purposes.len());
        for (j, purpose_id) in new.purposes.iter().enumerate() {
            let at = format!("{field}.purposes[{j}]");
            let purpose = policy.purposes.get(purpose_id).ok_or_else(|| {
                VaultError::invalid(
                    &at,
                    "unknown_purpose",
                    format!("the policy has no purpose {purpose_id:?}"),
                )
            })?;
            if !purpose.categories.iter().any(|c| c == &new.category) {
                return Err(VaultError::invalid(
                    &at,
                    "category_not_in_purpose",
                    format!(
                        "the purpose {purpose_id:?} does not list the category {:?}; collect it for a purpose that needs it",
                        new.category
                    ),
                ));
            }
            // P5: no special-category data under legitimate interest.
            if category.special && purpose.legal_basis == Some(LegalBasis::LegitimateInterest) {
                return Err(VaultError::invalid(
                    &at,
                    "special_category_refused",
                    format!(
                        "{:?} is special-category data (GDPR Art. 9) and may not be processed under legitimate interest",
                        new.category
                    ),
                ));
            }
            if !purposes.contains(purpose_id) {
                purposes.push(purpose_id.clone());
            }
        }
        let normalised =
            value::normalise(category.kind, new.value.expose(), today).map_err(|e| {
                VaultError::Invalid {
                    field: format!("{field}.value"),
                    code: e.code,
                    message: e.message,
                }
            })?;
        let collected_at = new.collected_at.unwrap_or(now);
        if collected_at > now {
            return Err(VaultError::invalid(
                format!("{field}.collected_at"),
                "collected_in_future",
                "collected_at lies in the future",
            ));
        }
        if collected_at.year() < EARLIEST_YEAR {
            return Err(VaultError::invalid(
                format!("{field}.collected_at"),
                "collected_too_early",
                format!("collected_at lies before {EARLIEST_YEAR}: check the year"),
            ));
        }
        let id = self.new_value_id(now);
        let aad = ValueAad::new(*subject.as_bytes(), &new.category);
        let ciphertext =
            self.with_rng(|rng| encrypt_value(data_key, rng, &aad, normalised.as_bytes()))?;
        let entry = LookupKind::of(category.kind)
            .filter(|_| category.lookup)
            .map(|kind| IndexEntry {
                kind: kind.as_str().to_owned(),
                token: self.index_key.index(kind.as_str(), normalised.as_bytes()),
                value: id,
            });
        let record = ValueRecord {
            id,
            category: new.category,
            ciphertext,
            provenance: new.provenance,
            collected_at,
            purposes,
            policy_version: self.policy.version.to_string(),
        };
        Ok((record, entry))
    }

    fn check_activities(
        &self,
        activities: Vec<NewActivity>,
    ) -> Result<Vec<ActivityRecord>, VaultError> {
        let now = self.clock.now();
        activities
            .into_iter()
            .enumerate()
            .map(|(i, a)| {
                if !self.rules().activities.contains_key(&a.kind) {
                    return Err(VaultError::invalid(
                        format!("activities[{i}].kind"),
                        "unknown_activity",
                        format!(
                            "the policy has no activity {:?}; use one of: {}",
                            a.kind,
                            self.rules()
                                .activities
                                .keys()
                                .cloned()
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    ));
                }
                if a.at > now {
                    return Err(VaultError::invalid(
                        format!("activities[{i}].at"),
                        "activity_in_future",
                        "the activity's time lies in the future",
                    ));
                }
                if a.at.year() < EARLIEST_YEAR {
                    return Err(VaultError::invalid(
                        format!("activities[{i}].at"),
                        "activity_too_old",
                        format!("the activity's time lies before {EARLIEST_YEAR}: check the year"),
                    ));
                }
                Ok(ActivityRecord {
                    kind: a.kind,
                    at: a.at,
                })
            })
            .collect()
    }

    /// Stores prepared subjects in one transaction, with `extra` audit entries (e.g. one
    /// summarising an import).
    pub async fn commit(
        &self,
        prepared: Vec<PreparedSubject>,
        extra: Vec<AuditDraft>,
    ) -> Result<(), VaultError> {
        let mut subjects = Vec::with_capacity(prepared.len());
        let mut audit = Vec::with_capacity(prepared.len() + extra.len());
        for p in prepared {
            subjects.push(p.subject);
            audit.push(p.audit);
        }
        audit.extend(extra);
        self.store.insert_subjects(subjects, audit).await?;
        Ok(())
    }

    /// Creates one subject.
    pub async fn create_subject(
        &self,
        actor: &Actor,
        input: NewSubjectInput,
    ) -> Result<SubjectId, VaultError> {
        self.authorise_values(actor, &input.values, None).await?;
        let prepared = self.prepare(actor, input)?;
        let id = prepared.id();
        self.commit(vec![prepared], vec![]).await?;
        Ok(id)
    }

    fn open_key(&self, record: &SubjectRecord) -> Result<DataKey, VaultError> {
        let wrapped = WrappedKey::from_bytes(&record.wrapped_key)?;
        Ok(unwrap(&self.ring, *record.id.as_bytes(), &wrapped)?)
    }

    fn open_value(
        &self,
        subject: SubjectId,
        key: &DataKey,
        value: &ValueRecord,
    ) -> Result<ValueView, VaultError> {
        let aad = ValueAad::new(*subject.as_bytes(), &value.category);
        let plain = decrypt_value(key, &aad, &value.ciphertext)?;
        let text = String::from_utf8(plain.to_vec()).map_err(|_| {
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

    /// Reads a subject for one purpose: only values collected for that purpose, of the
    /// categories it lists.
    pub async fn read(
        &self,
        actor: &Actor,
        id: SubjectId,
        purpose: &str,
    ) -> Result<SubjectView, VaultError> {
        self.authorise(actor, purpose, Some(id)).await?;
        let record = self
            .store
            .subject(id)
            .await?
            .ok_or(VaultError::NotFound { what: "subject" })?;
        self.check_subject_allows(actor, &record, purpose).await?;
        let listed: BTreeSet<&str> = self
            .rules()
            .purposes
            .get(purpose)
            .map(|p| p.categories.iter().map(String::as_str).collect())
            .unwrap_or_default();
        let key = self.open_key(&record)?;
        let mut values = Vec::new();
        for value in &record.values {
            if listed.contains(value.category.as_str())
                && value.purposes.iter().any(|p| p == purpose)
            {
                values.push(self.open_value(id, &key, value)?);
            }
        }
        let categories = distinct(values.iter().map(|v| v.category.clone()));
        let audit = self.draft(
            actor,
            AuditAction::Read,
            Some(id),
            Some(purpose),
            categories,
            None,
        );
        // The entry is written before any value leaves: a read that cannot be audited fails.
        self.store.append_audit(vec![audit]).await?;
        Ok(view(record, Some(purpose.to_owned()), values))
    }

    /// Records that a subject's data was disclosed to a recipient of the policy (P6). The
    /// recipient must be declared for the purpose and the categories; the entry in the audit
    /// log names recipient, purpose, categories and legal basis, so it appears in the
    /// subject's access report.
    pub async fn record_disclosure(
        &self,
        actor: &Actor,
        subject: SubjectId,
        recipient_id: &str,
        purpose: &str,
        categories: &[String],
    ) -> Result<(), VaultError> {
        self.authorise(actor, purpose, Some(subject)).await?;
        let policy = self.rules();
        let recipient = policy.recipients.get(recipient_id).ok_or_else(|| {
            VaultError::invalid(
                "recipient",
                "unknown_recipient",
                format!(
                    "the policy declares no recipient {recipient_id:?}; use one of: {}",
                    policy
                        .recipients
                        .keys()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })?;
        if !recipient.purposes.iter().any(|p| p == purpose) {
            return Err(VaultError::invalid(
                "purpose",
                "recipient_not_for_purpose",
                format!(
                    "the policy does not disclose to {recipient_id:?} for the purpose {purpose:?}"
                ),
            ));
        }
        if categories.is_empty() {
            return Err(VaultError::invalid(
                "categories",
                "no_categories",
                "name the categories that were disclosed",
            ));
        }
        for (i, category) in categories.iter().enumerate() {
            if !recipient.categories.contains(category) {
                return Err(VaultError::invalid(
                    format!("categories[{i}]"),
                    "category_not_disclosed",
                    format!("the policy does not disclose {category:?} to {recipient_id:?}"),
                ));
            }
        }
        let Some(record) = self.store.subject(subject).await? else {
            return Err(VaultError::NotFound { what: "subject" });
        };
        self.check_subject_allows(actor, &record, purpose).await?;
        let basis = policy
            .purposes
            .get(purpose)
            .and_then(|p| p.legal_basis)
            .map(|b| b.as_str())
            .unwrap_or("none");
        let audit = self.draft(
            actor,
            AuditAction::Disclosure,
            Some(subject),
            Some(purpose),
            distinct(categories.iter().cloned()),
            Some(format!(
                "recipient={recipient_id}; kind={}; basis={basis}",
                recipient.kind.as_str()
            )),
        );
        self.store.append_audit(vec![audit]).await?;
        Ok(())
    }

    /// Every value and activity of a subject (the subject's own copy, Art. 15), audited as an
    /// export.
    pub async fn export(&self, actor: &Actor, id: SubjectId) -> Result<SubjectView, VaultError> {
        self.authorise_request(actor, id, "export a subject's full copy")
            .await?;
        let record = self
            .store
            .subject(id)
            .await?
            .ok_or(VaultError::NotFound { what: "subject" })?;
        let key = self.open_key(&record)?;
        let values = record
            .values
            .iter()
            .map(|v| self.open_value(id, &key, v))
            .collect::<Result<Vec<_>, _>>()?;
        let categories = distinct(values.iter().map(|v| v.category.clone()));
        let audit = self.draft(actor, AuditAction::Export, Some(id), None, categories, None);
        self.store.append_audit(vec![audit]).await?;
        Ok(view(record, None, values))
    }

    /// Finds subjects by an exact value. The result is ids only; reading them is a separate,
    /// purpose-bound step.
    pub async fn lookup(
        &self,
        actor: &Actor,
        kind: LookupKind,
        raw: &PersonalValue,
        purpose: &str,
    ) -> Result<Vec<SubjectId>, VaultError> {
        self.authorise(actor, purpose, None).await?;
        let normalised = value::normalise(kind.value_kind(), raw.expose(), self.clock.today())
            .map_err(|e| VaultError::Invalid {
                field: "value".into(),
                code: e.code,
                message: e.message,
            })?;
        let token = self.index_key.index(kind.as_str(), normalised.as_bytes());
        let found = self.store.lookup(kind.as_str(), &token).await?;
        let audit = self.draft(
            actor,
            AuditAction::Lookup,
            None,
            Some(purpose),
            vec![kind.as_str().to_owned()],
            Some(format!("matches={}", found.len())),
        );
        self.store.append_audit(vec![audit]).await?;
        Ok(found)
    }

    /// Rectification (Art. 16): the value is replaced, the old plaintext is not kept anywhere.
    pub async fn rectify(
        &self,
        actor: &Actor,
        subject: SubjectId,
        value_id: ValueId,
        new_value: PersonalValue,
    ) -> Result<ValueId, VaultError> {
        let record = self
            .store
            .subject(subject)
            .await?
            .ok_or(VaultError::NotFound { what: "subject" })?;
        let old = record
            .values
            .iter()
            .find(|v| v.id == value_id)
            .ok_or(VaultError::NotFound { what: "value" })?;
        let held: BTreeSet<&str> = old.purposes.iter().map(String::as_str).collect();
        self.authorise_any(actor, &held, Some(subject), "rectify this value")
            .await?;
        let key = self.open_key(&record)?;
        let now = self.clock.now();
        let (new_record, entry) = self.seal_value(
            "value",
            subject,
            &key,
            NewValue {
                category: old.category.clone(),
                value: new_value,
                provenance: old.provenance,
                purposes: old.purposes.clone(),
                collected_at: Some(now),
            },
            now,
            now.date(),
        )?;
        let new_id = new_record.id;
        let audit = self.draft(
            actor,
            AuditAction::Update,
            Some(subject),
            None,
            vec![old.category.clone()],
            Some("rectification".into()),
        );
        let replaced = self
            .store
            .replace_value(
                subject,
                value_id,
                new_record,
                entry.into_iter().collect(),
                vec![audit],
            )
            .await?;
        if !replaced {
            return Err(VaultError::NotFound { what: "value" });
        }
        Ok(new_id)
    }

    /// Adds values to an existing subject.
    pub async fn add_values(
        &self,
        actor: &Actor,
        subject: SubjectId,
        values: Vec<NewValue>,
    ) -> Result<Vec<ValueId>, VaultError> {
        let record = self
            .store
            .subject(subject)
            .await?
            .ok_or(VaultError::NotFound { what: "subject" })?;
        self.authorise_values(actor, &values, Some(subject)).await?;
        let purposes: BTreeSet<&str> = values
            .iter()
            .flat_map(|v| v.purposes.iter().map(String::as_str))
            .filter(|p| self.rules().purposes.contains_key(*p))
            .collect();
        for purpose in &purposes {
            self.check_subject_allows(actor, &record, purpose).await?;
        }
        let key = self.open_key(&record)?;
        let now = self.clock.now();
        let mut records = Vec::new();
        let mut index = Vec::new();
        for (i, value) in values.into_iter().enumerate() {
            let (r, e) = self.seal_value(
                &format!("values[{i}]"),
                subject,
                &key,
                value,
                now,
                now.date(),
            )?;
            records.push(r);
            index.extend(e);
        }
        let ids = records.iter().map(|r| r.id).collect();
        let audit = self.draft(
            actor,
            AuditAction::Update,
            Some(subject),
            None,
            distinct(records.iter().map(|r| r.category.clone())),
            Some("values added".into()),
        );
        if !self
            .store
            .add_values(subject, records, index, vec![audit])
            .await?
        {
            return Err(VaultError::NotFound { what: "subject" });
        }
        Ok(ids)
    }

    /// Records activity events, which restart retention clocks.
    pub async fn add_activities(
        &self,
        actor: &Actor,
        subject: SubjectId,
        activities: Vec<NewActivity>,
    ) -> Result<(), VaultError> {
        let records = self.check_activities(activities)?;
        let kinds: BTreeSet<&str> = records.iter().map(|a| a.kind.as_str()).collect();
        for kind in kinds {
            let counting = self.purposes_counting(kind);
            self.authorise_any(
                actor,
                &counting,
                Some(subject),
                &format!("record {kind:?} activities"),
            )
            .await?;
        }
        let audit = self.draft(
            actor,
            AuditAction::ActivityAdded,
            Some(subject),
            None,
            vec![],
            Some(format!(
                "kinds={}",
                distinct(records.iter().map(|a| a.kind.clone())).join(",")
            )),
        );
        if !self
            .store
            .add_activities(subject, records, vec![audit])
            .await?
        {
            return Err(VaultError::NotFound { what: "subject" });
        }
        Ok(())
    }

    /// Erases a subject (Art. 17). Values that a legal-obligation purpose still holds are moved
    /// to the archive, sealed under a key that dies on their shred day; everything else is
    /// destroyed with the subject's key. An erasure record without personal data remains.
    pub async fn erase(
        &self,
        actor: &Actor,
        subject: SubjectId,
        reason: &str,
    ) -> Result<ErasureOutcome, VaultError> {
        self.authorise_request(actor, subject, "erase a subject")
            .await?;
        let Some(record) = self.store.subject(subject).await? else {
            return Err(VaultError::NotFound { what: "subject" });
        };
        let now = self.clock.now();
        let key = self.open_key(&record)?;
        let last_activity = record
            .activities
            .iter()
            .map(|a| a.at)
            .max()
            .unwrap_or(record.created_at);

        // Group the values a legal obligation still holds by the day they must be shredded.
        let mut by_day: BTreeMap<Date, (BTreeSet<String>, Vec<ArchivedValue>)> = BTreeMap::new();
        let mut erased = BTreeSet::new();
        for value in &record.values {
            match self.legal_hold(value, last_activity.max(value.collected_at))? {
                Some((until, purposes)) if until >= now.date() => {
                    let opened = self.open_value(subject, &key, value)?;
                    let entry = by_day.entry(until).or_default();
                    entry.0.extend(purposes.iter().cloned());
                    entry.1.push(ArchivedValue {
                        category: opened.category,
                        value: opened.value,
                        provenance: opened.provenance,
                        collected_at: opened.collected_at,
                        purposes,
                    });
                }
                _ => {
                    erased.insert(value.category.clone());
                }
            }
        }

        let mut archive = Vec::new();
        let mut archived = BTreeSet::new();
        for (shred_after, (purposes, values)) in by_day {
            archived.extend(values.iter().map(|v| v.category.clone()));
            archive.push(self.seal_archive_entry(subject, shred_after, purposes, values, now)?);
        }
        let references: Vec<ArchiveRef> = archive.iter().map(|a| a.reference.clone()).collect();
        let erasure = ErasureRecord {
            subject,
            at: now,
            erased: erased.into_iter().collect(),
            archived: archived.into_iter().collect(),
            reason: reason.to_owned(),
        };
        let mut audit = Vec::new();
        if !erasure.archived.is_empty() {
            audit.push(self.draft(
                actor,
                AuditAction::Archive,
                Some(subject),
                None,
                erasure.archived.clone(),
                Some(format!("entries={}", references.len())),
            ));
        }
        audit.push(self.draft(
            actor,
            AuditAction::Erase,
            Some(subject),
            None,
            erasure.erased.clone(),
            Some(format!("reason={reason}")),
        ));
        self.store
            .erase_subject(erasure.clone(), archive, audit)
            .await?;
        Ok(ErasureOutcome {
            subject,
            erased: erasure.erased,
            archived: erasure.archived,
            archive_references: references,
        })
    }

    /// Until when a legal-obligation purpose must keep a value, and which purposes hold it.
    fn legal_hold(
        &self,
        value: &ValueRecord,
        start: OffsetDateTime,
    ) -> Result<Option<(Date, Vec<String>)>, VaultError> {
        let mut until: Option<Date> = None;
        let mut holders = Vec::new();
        for purpose_id in &value.purposes {
            let Some(purpose) = self.rules().purposes.get(purpose_id) else {
                continue;
            };
            if purpose.legal_basis != Some(LegalBasis::LegalObligation)
                || !purpose.categories.contains(&value.category)
            {
                continue;
            }
            let rule = purpose.retention.as_ref().ok_or_else(|| {
                VaultError::Policy(format!(
                    "purpose {purpose_id:?} has no retention rule, so the archive cannot know when to shred"
                ))
            })?;
            let day = retention::keep_until(rule, start.date()).ok_or_else(|| {
                VaultError::Policy(format!(
                    "purpose {purpose_id:?} keeps data \"as the law requires\" without a period; give the rule `months` so the archive knows when to shred"
                ))
            })?;
            until = Some(until.map_or(day, |u| u.max(day)));
            holders.push(purpose_id.clone());
        }
        Ok(until.map(|u| (u, holders)))
    }

    fn seal_archive_entry(
        &self,
        subject: SubjectId,
        shred_after: Date,
        purposes: BTreeSet<String>,
        values: Vec<ArchivedValue>,
        now: OffsetDateTime,
    ) -> Result<ArchiveRecord, VaultError> {
        let reference = ArchiveRef::from_random(self.random());
        let categories = distinct(values.iter().map(|v| v.category.clone()));
        let bundle = serde_json::to_vec(&ArchiveBundle { subject, values }).map_err(|e| {
            VaultError::Store(StoreError::Corrupt(format!(
                "cannot encode archive bundle: {e}"
            )))
        })?;
        let bundle = integritet_crypto::Zeroizing::new(bundle);
        let entry_key = self.with_rng(|rng| ArchiveKey::generate(rng));
        let day_key = {
            let ratchet = self.archive.lock().unwrap_or_else(|p| p.into_inner());
            ratchet.day_key(shred_after)?
        };
        let wrapped_key =
            self.with_rng(|rng| wrap_archive_key(&day_key, rng, reference.as_str(), &entry_key))?;
        let ciphertext =
            self.with_rng(|rng| seal_archive(&entry_key, rng, reference.as_str(), &bundle))?;
        Ok(ArchiveRecord {
            reference,
            // Only the day: an exact time would link the entry to the erasure record (which
            // names the subject), and the archive must not be listable by person.
            created_at: now.date().midnight().assume_utc(),
            shred_after,
            purposes: purposes.into_iter().collect(),
            categories,
            wrapped_key,
            ciphertext,
            policy_version: self.policy.version.to_string(),
        })
    }

    /// Opens an archive entry by its reference, for a stated reason; the read is audited.
    pub async fn read_archive(
        &self,
        actor: &Actor,
        reference: &ArchiveRef,
        reason: &str,
    ) -> Result<ArchiveView, VaultError> {
        let reason = check_reason(reason)?;
        let entry = self
            .store
            .archive_entry(reference)
            .await?
            .ok_or(VaultError::NotFound {
                what: "archive entry",
            })?;
        let held: BTreeSet<&str> = entry.purposes.iter().map(String::as_str).collect();
        self.authorise_any(actor, &held, None, "read this archive entry")
            .await?;
        let day_key = {
            let ratchet = self.archive.lock().unwrap_or_else(|p| p.into_inner());
            ratchet.day_key(entry.shred_after)?
        };
        let entry_key = unwrap_archive_key(&day_key, reference.as_str(), &entry.wrapped_key)?;
        let plain = open_archive(&entry_key, reference.as_str(), &entry.ciphertext)?;
        let bundle: ArchiveBundle = serde_json::from_slice(&plain).map_err(|e| {
            VaultError::Store(StoreError::Corrupt(format!(
                "archive entry {reference} does not decode: {e}"
            )))
        })?;
        let audit = self.draft(
            actor,
            AuditAction::ArchiveRead,
            Some(bundle.subject),
            None,
            entry.categories.clone(),
            Some(format!("ref={reference}; reason={reason}")),
        );
        self.store.append_audit(vec![audit]).await?;
        Ok(ArchiveView {
            reference: entry.reference,
            subject: bundle.subject,
            shred_after: entry.shred_after,
            purposes: entry.purposes,
            values: bundle.values,
        })
    }

    /// Shreds every archive entry past its day and moves the archive key ratchet to today, so
    /// that the keys of past days exist nowhere, not even for copies in backups. Returns the
    /// number of entries removed. The caller saves the ratchet ([`Vault::archive_ratchet`]).
    pub async fn shred_due_archive(&self, actor: &Actor) -> Result<u64, VaultError> {
        let today = self.clock.today();
        let due = self.store.archive_due(today).await?;
        let audit = due
            .iter()
            .map(|reference| {
                self.draft(
                    actor,
                    AuditAction::Shred,
                    None,
                    None,
                    vec![],
                    Some(format!("ref={reference}")),
                )
            })
            .collect();
        let shredded = if due.is_empty() {
            0
        } else {
            self.store.shred_archive(due, audit).await?
        };
        self.archive
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .advance_to(today);
        Ok(shredded)
    }

    /// Runs `f` with the archive ratchet, e.g. to save it after [`Vault::shred_due_archive`].
    pub fn with_archive_ratchet<T>(&self, f: impl FnOnce(&ArchiveRatchet) -> T) -> T {
        let ratchet = self.archive.lock().unwrap_or_else(|p| p.into_inner());
        f(&ratchet)
    }
}

/// A reason for opening the archive: required, short, and free of personal data (it is
/// written to the audit log).
fn check_reason(reason: &str) -> Result<&str, VaultError> {
    let reason = reason.trim();
    let invalid = |message: &str| VaultError::invalid("reason", "invalid_reason", message);
    if reason.chars().count() < 10 {
        return Err(invalid(
            "state why the archive is opened, in at least 10 characters (e.g. \"Skatteverket audit 2027-03\")",
        ));
    }
    if reason.chars().count() > 500 {
        return Err(invalid("the reason may be at most 500 characters"));
    }
    if reason.chars().any(char::is_control) {
        return Err(invalid(
            "the reason may not contain control characters (line breaks, tabs, NUL): write it on one line",
        ));
    }
    if reason.contains('@')
        || reason
            .split(|c: char| c.is_whitespace() || c == ',' || c == ';')
            .any(looks_like_identity_number)
    {
        return Err(invalid(
            "the reason is written to the audit log and must not contain personal data such as e-mail addresses or identity numbers",
        ));
    }
    Ok(reason)
}

fn looks_like_identity_number(word: &str) -> bool {
    let digits = word.chars().filter(char::is_ascii_digit).count();
    digits >= 10
        && word
            .chars()
            .all(|c| c.is_ascii_digit() || c == '-' || c == '+')
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

/// `YYYY-MM-DD`, as a person reads a date.
fn iso_date<S: serde::Serializer>(date: &Date, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(date)
}

fn distinct(items: impl Iterator<Item = String>) -> Vec<String> {
    items.collect::<BTreeSet<_>>().into_iter().collect()
}

fn unix_millis(at: OffsetDateTime) -> u64 {
    u64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(0)
}
