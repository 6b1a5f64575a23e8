//! Collecting personal data: a new subject, values added to one, activity events — each
//! value checked against the policy, normalised, encrypted and indexed before the store sees it.

use std::collections::BTreeSet;

use std::sync::Arc;

use integritet_crypto::{DataKey, KeyRing, ValueAad, WrappedKey, encrypt_value, unwrap, wrap};
use integritet_domain::audit::{AuditAction, AuditDraft};
use integritet_domain::policy::LegalBasis;
use integritet_domain::subject::{SubjectId, ValueId};
use integritet_domain::value;
use time::{Date, OffsetDateTime};

use super::{
    Actor, LookupKind, NewActivity, NewSubjectInput, NewValue, PreparedSubject, Vault, VaultError,
    distinct, value_grant,
};
use crate::store::{
    ActivityRecord, IndexEntry, NewSubject, SubjectRecord, ValueRecord, WrappedKeyRow, Writes,
};

/// No activity or collection time lies before this year: earlier ones are typing errors (and
/// the stores keep instants from 1677 only).
const EARLIEST_YEAR: i32 = 1900;

impl Vault {
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
        // The ring as it is on disk now, never one a rotation has moved on from.
        let ring = self.ring.current()?;
        let wrapped = self.with_rng(|rng| wrap(&ring, rng, *id.as_bytes(), &data_key))?;
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
            wrapped_under: ring,
        })
    }

    /// Checks one value against the policy, normalises it and encrypts it.
    pub(super) fn seal_value(
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
                    "the policy has no such category; use one of: {}",
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
                    format!(
                        "the policy has no such purpose; use one of: {}",
                        policy
                            .purposes
                            .keys()
                            .cloned()
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
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
        let aad = ValueAad::new(*subject.as_bytes(), &new.category).granting(value_grant(
            &purposes,
            collected_at,
            new.provenance,
        ));
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
                            "the policy has no such activity; use one of: {}",
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
        let mut wrapped = Vec::with_capacity(prepared.len());
        for p in prepared {
            wrapped.push((
                p.subject.record.id,
                p.subject.record.wrapped_key.clone(),
                p.wrapped_under,
            ));
            subjects.push(p.subject);
            audit.push(p.audit);
        }
        audit.extend(extra);
        self.store.insert_subjects(subjects, audit).await?;
        // The subjects are stored and acknowledged whatever happens next: a key left under the
        // older key is found by the rotation's own re-wrap passes.
        let _ = self.wrap_again_if_rotated(wrapped).await;
        Ok(())
    }

    /// A rotation that switched keys between the wrap and the commit would miss these
    /// subjects if its last re-wrap pass ran before they were stored; they are wrapped again
    /// under the key now active. (This server still holds the key they were wrapped under.)
    async fn wrap_again_if_rotated(
        &self,
        wrapped: Vec<(SubjectId, Vec<u8>, Arc<KeyRing>)>,
    ) -> Result<(), VaultError> {
        let now = self.ring.current()?;
        let mut rows = Vec::new();
        for (subject, bytes, ring) in wrapped {
            if Arc::ptr_eq(&ring, &now) || ring.active_id() == now.active_id() {
                continue;
            }
            let old = WrappedKey::from_bytes(&bytes)?;
            let data_key = unwrap(&ring, *subject.as_bytes(), &old)?;
            let new = self.with_rng(|rng| wrap(&now, rng, *subject.as_bytes(), &data_key))?;
            rows.push(WrappedKeyRow {
                subject,
                wrapped_key: new.to_bytes(),
            });
        }
        if !rows.is_empty() {
            self.store.rewrap_keys(rows, vec![]).await?;
        }
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
        let record = self
            .store
            .subject(subject)
            .await?
            .ok_or(VaultError::NotFound { what: "subject" })?;
        self.check_not_restricted(actor, &record, "recording an activity")
            .await?;
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
}
