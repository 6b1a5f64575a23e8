//! What crosses the vault's edge: inputs as callers give them, views as readers see them, and
//! the vault's errors.

use integritet_crypto::CryptoError;
use integritet_domain::personal::PersonalValue;
use integritet_domain::policy::ValueKind;
use integritet_domain::subject::{ArchiveRef, Provenance, SubjectId, SubjectKind, ValueId};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use crate::store::StoreError;

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

    pub(super) fn of(kind: ValueKind) -> Option<LookupKind> {
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
    /// What each archive entry holds and until when (never its content).
    pub archive: Vec<ArchiveEntrySummary>,
    /// The recipients the subject's data was disclosed to, who must be told of the erasure
    /// (Art. 19), by their policy ids.
    pub notify: Vec<String>,
}

/// An archive entry an erasure wrote: its categories, the legal-obligation purposes that keep
/// it, and the day after which it is shredded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ArchiveEntrySummary {
    pub reference: ArchiveRef,
    pub categories: Vec<String>,
    pub purposes: Vec<String>,
    #[serde(serialize_with = "iso_date")]
    pub shred_after: Date,
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
pub(super) struct ArchiveBundle {
    pub(super) subject: SubjectId,
    pub(super) values: Vec<ArchivedValue>,
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
    /// A stored value does not authenticate: its ciphertext, purposes, collection time or
    /// provenance were changed in the database. Refused and audited; `store verify` lists it.
    #[error(
        "value {value} of subject {subject} fails its integrity check (changed in the database); \
         run `integritet store verify` and restore the subject from a backup"
    )]
    Integrity {
        subject: integritet_domain::subject::SubjectId,
        value: integritet_domain::subject::ValueId,
    },
}

impl VaultError {
    pub(crate) fn invalid(
        field: impl Into<String>,
        code: &'static str,
        message: impl Into<String>,
    ) -> Self {
        VaultError::Invalid {
            field: field.into(),
            code,
            message: message.into(),
        }
    }
}

/// `YYYY-MM-DD`, as a person reads a date.
pub(super) fn iso_date<S: serde::Serializer>(
    date: &Date,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_str(date)
}
