//! Erasure (Art. 17): everything goes but what a legal obligation still holds, which moves to
//! the archive sealed under a key that dies on its shred day; and the replay of recorded
//! erasures after a restore.

use std::collections::{BTreeMap, BTreeSet};

use integritet_crypto::{ArchiveKey, seal_archive, wrap_archive_key};
use integritet_domain::audit::AuditAction;
use integritet_domain::policy::LegalBasis;
use integritet_domain::retention::{self, PurposeEnd, SubjectFacts};
use integritet_domain::subject::{ArchiveRef, SubjectId, ValueId};
use time::{Date, OffsetDateTime};

use super::sweep::{subject_facts, value_facts};
use super::{
    Actor, ArchiveBundle, ArchiveEntrySummary, ArchivedValue, ErasureOutcome, ValueView, Vault,
    VaultError, distinct,
};
use crate::store::{ArchiveRecord, ErasureRecord, StoreError, ValueRecord, Writes};

/// Plans an erasure is made from before giving up: each new try follows a change to the
/// subject made while the previous one was planned.
const ERASE_ATTEMPTS: u32 = 5;

impl Vault {
    /// Erases a subject (Art. 17). Values that a legal-obligation purpose still holds are moved
    /// to the archive, sealed under a key that dies on their shred day; everything else is
    /// destroyed with the subject's key. An erasure record without personal data remains.
    ///
    /// The plan (what to archive, what to destroy) is made from one read of the subject; a
    /// value added or rectified before the erasure commits makes the store refuse the plan,
    /// and the erasure is planned again from a fresh read, so every value meets the same rules.
    pub async fn erase(
        &self,
        actor: &Actor,
        subject: SubjectId,
        reason: &str,
    ) -> Result<ErasureOutcome, VaultError> {
        self.authorise_request(actor, subject, "erase a subject")
            .await?;
        // Art. 17(3)(e): what a dispute needs is not erased while the hold lasts.
        if let Some(until) = self.hold_on(actor, subject).await? {
            return Err(VaultError::Forbidden(format!(
                "the subject is under a legal hold until {until}: nothing of it may be erased \
                 before then (GDPR Art. 17(3)(e)); release the hold first if the dispute is over"
            )));
        }
        let mut attempt = 1;
        loop {
            match self.erase_as_planned(actor, subject, reason).await {
                Err(VaultError::Store(StoreError::Conflict(_))) if attempt < ERASE_ATTEMPTS => {
                    attempt += 1;
                }
                done => return done,
            }
        }
    }

    /// One plan of an erasure from one read, committed only if the subject still holds the
    /// values it was made from.
    async fn erase_as_planned(
        &self,
        actor: &Actor,
        subject: SubjectId,
        reason: &str,
    ) -> Result<ErasureOutcome, VaultError> {
        let Some(record) = self.store.subject(subject).await? else {
            return Err(VaultError::NotFound { what: "subject" });
        };
        let now = self.clock.now();
        let key = self.open_key(&record)?;
        let facts = subject_facts(&record, Vec::new());

        // The values a legal obligation still holds, opened for the archive.
        let mut kept = Vec::new();
        let mut erased = BTreeSet::new();
        let mut tampered = Vec::new();
        for value in &record.values {
            let holds: Vec<(String, Date)> = self
                .legal_obligations(value, &facts)?
                .into_iter()
                .filter(|(_, until)| *until >= now.date())
                .collect();
            if holds.is_empty() {
                erased.insert(value.category.clone());
                continue;
            }
            let opened = match self.open_value(subject, &key, value) {
                Ok(opened) => opened,
                // Its legal hold was read from edited purposes: not genuine, so the value is
                // erased like any other, and the edit audited.
                Err(VaultError::Integrity { value, .. }) => {
                    tampered.push(value);
                    erased.insert(record_category(&record, value));
                    continue;
                }
                Err(other) => return Err(other),
            };
            kept.push((opened, holds));
        }
        let (archive, archived) = self.seal_for_the_law(subject, kept, now)?;
        let references: Vec<ArchiveRef> = archive.iter().map(|a| a.reference.clone()).collect();
        let summaries = archive
            .iter()
            .map(|a| ArchiveEntrySummary {
                reference: a.reference.clone(),
                categories: a.categories.clone(),
                purposes: a.purposes.clone(),
                shred_after: a.shred_after,
            })
            .collect();
        let erasure = ErasureRecord {
            subject,
            at: now,
            erased: erased.into_iter().collect(),
            archived: archived.into_iter().collect(),
            reason: reason.to_owned(),
        };
        let mut audit: Vec<_> = tampered
            .iter()
            .map(|value| {
                self.draft(
                    actor,
                    AuditAction::IntegrityViolation,
                    Some(subject),
                    None,
                    Vec::new(),
                    Some(format!("table=values; value={value}; refused=archive")),
                )
            })
            .collect();
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
        let notify = self.disclosed_to(subject, &[]).await?;
        let planned = record.values.iter().map(|v| v.id).collect();
        let existed = self
            .store
            .erase_subject(erasure.clone(), archive, Some(planned), audit)
            .await?;
        if !existed {
            // Erased by someone else since it was read: theirs is the one erasure.
            return Err(VaultError::NotFound { what: "subject" });
        }
        Ok(ErasureOutcome {
            subject,
            erased: erasure.erased,
            archived: erasure.archived,
            archive_references: references,
            archive: summaries,
            notify,
        })
    }

    /// Each legal-obligation purpose that must keep a value, and until when (the retention
    /// engine's dates, so an erasure on request and the sweep agree).
    fn legal_obligations(
        &self,
        value: &ValueRecord,
        facts: &SubjectFacts<'_>,
    ) -> Result<Vec<(String, Date)>, VaultError> {
        let mut holds = Vec::new();
        for purpose_id in &value.purposes {
            let Some(purpose) = self.rules().purposes.get(purpose_id) else {
                continue;
            };
            if purpose.legal_basis != Some(LegalBasis::LegalObligation) {
                continue;
            }
            match retention::purpose_end(self.rules(), purpose_id, &value_facts(value), facts) {
                PurposeEnd::NotHeld => {}
                PurposeEnd::Until(day) => holds.push((purpose_id.clone(), day)),
                PurposeEnd::Open if purpose.retention.is_none() => {
                    return Err(VaultError::Policy(format!(
                        "purpose {purpose_id:?} has no retention rule, so the archive cannot know when to shred"
                    )));
                }
                PurposeEnd::Open => {
                    return Err(VaultError::Policy(format!(
                        "purpose {purpose_id:?} keeps data \"as the law requires\" without a period; give the rule `months` so the archive knows when to shred"
                    )));
                }
            }
        }
        Ok(holds)
    }

    /// Values kept for legal obligations, each with the purposes that hold it and until when,
    /// sealed into one archive entry per purpose and shred day; and the categories archived.
    pub(super) fn seal_for_the_law(
        &self,
        subject: SubjectId,
        kept: Vec<(ValueView, Vec<(String, Date)>)>,
        now: OffsetDateTime,
    ) -> Result<(Vec<ArchiveRecord>, BTreeSet<String>), VaultError> {
        // One archive entry per legal-obligation purpose and shred day: each purpose's reader
        // opens only what that purpose keeps. A value two laws hold is in both purposes'
        // entries, each shredded on its own day.
        let mut by_purpose: BTreeMap<(String, Date), Vec<ArchivedValue>> = BTreeMap::new();
        for (opened, holds) in kept {
            for (purpose, until) in holds {
                by_purpose
                    .entry((purpose.clone(), until))
                    .or_default()
                    .push(ArchivedValue {
                        category: opened.category.clone(),
                        value: opened.value.clone(),
                        provenance: opened.provenance,
                        collected_at: opened.collected_at,
                        purposes: vec![purpose],
                    });
            }
        }
        let mut archive = Vec::new();
        let mut archived = BTreeSet::new();
        for ((purpose, shred_after), values) in by_purpose {
            archived.extend(values.iter().map(|v| v.category.clone()));
            let purposes = BTreeSet::from([purpose]);
            archive.push(self.seal_archive_entry(subject, shred_after, purposes, values, now)?);
        }
        Ok((archive, archived))
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
}

impl Vault {
    /// Every erasure record, oldest first (subject ids and times, no personal data): what a
    /// restore must apply again.
    pub async fn erasures(&self, actor: &Actor) -> Result<Vec<ErasureRecord>, VaultError> {
        self.authorise_admin(actor, "list erasures").await?;
        Ok(self.store.erasures().await?)
    }
}

/// The category of one of the record's values.
fn record_category(record: &crate::store::SubjectRecord, value: ValueId) -> String {
    record
        .values
        .iter()
        .find(|v| v.id == value)
        .map(|v| v.category.clone())
        .unwrap_or_default()
}
