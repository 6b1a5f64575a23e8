//! Retention carried out: the sweep walks every subject, asks the domain's schedule what
//! becomes of each value today, and does exactly that — erases what no purpose holds, moves
//! what only a legal obligation holds to the archive, erases a subject of whom nothing is kept,
//! leaves alone what a hold keeps — then shreds the archive entries past their day.
//!
//! Each subject is changed in one transaction planned from one read, so a sweep killed midway
//! leaves every subject either done or untouched, and the next sweep finishes the rest; a
//! second sweep on the same day finds nothing to do. A dry run makes the same plans and
//! reports them without writing.

use std::collections::{BTreeMap, BTreeSet};

use futures_util::StreamExt;
use integritet_crypto::ArchiveKeyFile;
use integritet_domain::audit::{AuditAction, AuditDraft};
use integritet_domain::retention::{
    self, Fate, Hold, SubjectFacts, SubjectPlan, SubjectSchedule, ValueFacts,
};
use integritet_domain::subject::{SubjectId, ValueId};
use serde::Serialize;
use time::Date;

use super::{Actor, Vault, VaultError};
use crate::store::{ArchiveRecord, ErasureRecord, StoreError, SubjectRecord, ValueRecord, Writes};

/// Subjects read per page.
const PAGE: u32 = 500;
/// Subjects of a page whose changes are written at once.
const IN_FLIGHT: usize = PAGE as usize;
/// The fewest subjects worth a planning thread of their own.
const MIN_PER_THREAD: usize = 32;
/// Plans a subject's change is made from before giving up: each new try follows a change to
/// the subject made while the previous one was planned.
const ATTEMPTS: u32 = 5;
/// The reason an erasure record of the sweep gives.
const REASON: &str = "retention";

/// What a sweep did, or (a dry run) would do. Counts only, no personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SweepReport {
    #[serde(serialize_with = "super::model::iso_date")]
    pub today: Date,
    pub dry_run: bool,
    pub subjects_evaluated: u64,
    /// Subjects erased because nothing of them is kept any more.
    pub subjects_erased: u64,
    /// Subjects of whom some values went while others are still kept.
    pub subjects_trimmed: u64,
    /// Subjects whose values a legal hold or a restriction keeps past their time.
    pub subjects_held: u64,
    pub values_erased: u64,
    /// Values moved to the archive, counted once per value.
    pub values_archived: u64,
    /// Values a hold keeps although no purpose needs them.
    pub values_held: u64,
    /// Values whose ciphertext does not authenticate with their stored purposes and times:
    /// not honoured, left for `store verify`, audited.
    pub values_refused: u64,
    /// Subjects whose data key does not unwrap: left alone, audited.
    pub subjects_refused: u64,
    pub archive_entries_made: u64,
    pub archive_entries_shredded: u64,
    /// By purpose: what became of the values it let go of today, and its archive entries.
    pub purposes: BTreeMap<String, PurposeCounts>,
    /// With a list asked for: each subject something goes of (or a hold keeps), by id.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub subjects: Vec<SweptSubject>,
}

/// One subject in a sweep's list: its id (no personal data) and the categories that go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SweptSubject {
    pub subject: SubjectId,
    /// `erased` (nothing kept), `trimmed` (some values go) or `held`.
    pub outcome: &'static str,
    /// Categories erased (held: that would be).
    pub erased: Vec<String>,
    /// Categories moved to the archive (held: that would be).
    pub archived: Vec<String>,
}

/// One purpose's part of a sweep.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PurposeCounts {
    /// Values it let go of that were erased.
    pub erased: u64,
    /// Values it let go of that a legal obligation keeps in the archive.
    pub archived: u64,
    /// Values it let go of that a hold keeps.
    pub held: u64,
    /// Values it keeps in the archive from today (legal obligations).
    pub archiving: u64,
    /// Its archive entries shredded.
    pub shredded: u64,
}

impl SweepReport {
    fn empty(today: Date, dry_run: bool) -> SweepReport {
        SweepReport {
            today,
            dry_run,
            subjects_evaluated: 0,
            subjects_erased: 0,
            subjects_trimmed: 0,
            subjects_held: 0,
            values_erased: 0,
            values_archived: 0,
            values_held: 0,
            values_refused: 0,
            subjects_refused: 0,
            archive_entries_made: 0,
            archive_entries_shredded: 0,
            purposes: BTreeMap::new(),
            subjects: Vec::new(),
        }
    }

    fn purpose(&mut self, purpose: &str) -> &mut PurposeCounts {
        self.purposes.entry(purpose.to_owned()).or_default()
    }

    fn detail(&self) -> String {
        format!(
            "today={}; dry_run={}; subjects={}; erased={}; trimmed={}; held={}; values_erased={}; archived={}; refused={}; shredded={}",
            self.today,
            self.dry_run,
            self.subjects_evaluated,
            self.subjects_erased,
            self.subjects_trimmed,
            self.subjects_held,
            self.values_erased,
            self.values_archived,
            self.values_refused + self.subjects_refused,
            self.archive_entries_shredded
        )
    }
}

/// What the engine knows of a subject, from its record and the holds on it.
pub(super) fn subject_facts(record: &SubjectRecord, holds: Vec<Hold>) -> SubjectFacts<'_> {
    let mut facts = SubjectFacts {
        holds,
        ..SubjectFacts::default()
    };
    for activity in &record.activities {
        let day = activity.at.date();
        facts
            .last_activity
            .entry(activity.kind.as_str())
            .and_modify(|last| *last = (*last).max(day))
            .or_insert(day);
    }
    facts.objections = record
        .objections
        .iter()
        .map(|o| o.purpose.as_str())
        .collect();
    if record.restricted {
        facts.holds.push(Hold::Restricted);
    }
    facts
}

/// What the engine knows of a value: never its content.
pub(super) fn value_facts(value: &ValueRecord) -> ValueFacts<'_> {
    ValueFacts {
        category: &value.category,
        purposes: &value.purposes,
        collected_on: value.collected_at.date(),
    }
}

impl Vault {
    /// Applies retention to every subject as of the clock's today (see the module). With
    /// `dry_run` nothing is written and the report says what a sweep would do; otherwise the
    /// archive's due entries are shredded and its key ratchet moved to today, and saved in
    /// `archive_file` (`None` keeps the move in memory: for tests).
    /// `progress` is told the subjects evaluated so far, and `total` at the start.
    pub async fn sweep(
        &self,
        actor: &Actor,
        dry_run: bool,
        list: bool,
        archive_file: Option<&ArchiveKeyFile>,
        progress: &(dyn Fn(SweepProgress) + Send + Sync),
    ) -> Result<SweepReport, VaultError> {
        self.authorise_admin(actor, "run the retention sweep")
            .await?;
        let today = self.clock.today();
        let mut report = SweepReport::empty(today, dry_run);
        progress(SweepProgress::Total(self.store.counts().await?.subjects));
        let holds = self.holds_in_force(actor).await?;
        let run = SweepRun {
            actor,
            holds: &holds,
            dry_run,
            list,
            today,
        };
        let mut page = self.store.subjects_after(None, PAGE).await?;
        while let Some(last) = page.last().map(|record| record.id) {
            // The next page is read while this one is planned and written: the read runs on
            // the store's own thread, the planning on every core.
            let store = self.store.clone();
            let next = tokio::spawn(async move { store.subjects_after(Some(last), PAGE).await });
            let planned = in_place(|| self.plan_page(&run, &page));
            for counts in self.write_page(&run, page, planned).await? {
                report.add(counts);
                report.subjects_evaluated += 1;
            }
            progress(SweepProgress::Done(report.subjects_evaluated));
            page = next.await.map_err(|_| {
                VaultError::Store(StoreError::Unavailable(
                    "the sweep's read of the next page of subjects stopped unexpectedly".into(),
                ))
            })??;
        }
        report.subjects.sort_by_key(|s| s.subject);
        self.count_due_archive(today, &mut report).await?;
        if !dry_run {
            report.archive_entries_shredded = match archive_file {
                Some(file) => self.shred_and_advance_archive(actor, file).await?.0,
                None => self.shred_due_archive(actor).await?,
            };
        }
        let summary = self.draft(
            actor,
            AuditAction::Sweep,
            None,
            None,
            Vec::new(),
            Some(report.detail()),
        );
        self.store.append_audit(vec![summary]).await?;
        Ok(report)
    }

    /// The due archive entries, counted by purpose (the shred itself is the archive's).
    async fn count_due_archive(
        &self,
        today: Date,
        report: &mut SweepReport,
    ) -> Result<(), VaultError> {
        let due = self.store.archive_due(today).await?;
        report.archive_entries_shredded = due.len() as u64;
        for reference in due {
            if let Some(entry) = self.store.archive_entry(&reference).await? {
                for purpose in &entry.purposes {
                    report.purpose(purpose).shredded += 1;
                }
            }
        }
        Ok(())
    }

    /// Plans a page's subjects, spread over the machine's cores: unwrapping keys and
    /// authenticating values is the sweep's CPU work.
    fn plan_page(
        &self,
        run: &SweepRun<'_>,
        page: &[SubjectRecord],
    ) -> Vec<Result<PlannedSweep, VaultError>> {
        let plan = |record: &SubjectRecord| self.plan_sweep(run, record);
        let threads = std::thread::available_parallelism()
            .map_or(1, std::num::NonZero::get)
            .min(page.len().div_ceil(MIN_PER_THREAD));
        if threads <= 1 {
            return page.iter().map(plan).collect();
        }
        let chunk = page.len().div_ceil(threads);
        std::thread::scope(|scope| {
            let plan = &plan;
            let workers: Vec<_> = page
                .chunks(chunk)
                .map(|records| scope.spawn(move || records.iter().map(plan).collect::<Vec<_>>()))
                .collect();
            workers
                .into_iter()
                .flat_map(|worker| match worker.join() {
                    Ok(planned) => planned,
                    // A planning thread cannot panic short of a bug; say so rather than abort.
                    Err(_) => vec![Err(VaultError::Store(StoreError::Unavailable(
                        "a sweep planning thread stopped unexpectedly".into(),
                    )))],
                })
                .collect()
        })
    }

    /// Writes a page's plans, several subjects at once so that their changes share the
    /// store's group commits (each is still its own transaction). A subject that changed
    /// while it was planned is read and planned again.
    async fn write_page(
        &self,
        run: &SweepRun<'_>,
        page: Vec<SubjectRecord>,
        planned: Vec<Result<PlannedSweep, VaultError>>,
    ) -> Result<Vec<SweepReport>, VaultError> {
        futures_util::stream::iter(page.into_iter().zip(planned).map(|(record, planned)| {
            async move {
                let mut planned = planned?;
                let mut attempt = 1;
                loop {
                    match self.write_sweep(planned.write).await {
                        Err(VaultError::Store(StoreError::Conflict(_))) if attempt < ATTEMPTS => {
                            attempt += 1;
                            let Some(fresh) = self.store.subject(record.id).await? else {
                                // Erased meanwhile: nothing left to sweep.
                                return Ok(SweepReport::empty(run.today, run.dry_run));
                            };
                            planned = self.plan_sweep(run, &fresh)?;
                        }
                        Err(other) => return Err(other),
                        Ok(()) => return Ok(planned.counts),
                    }
                }
            }
        }))
        .buffer_unordered(IN_FLIGHT)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect()
    }

    async fn write_sweep(&self, write: SweepWrite) -> Result<(), VaultError> {
        let existed = match write {
            SweepWrite::Nothing => return Ok(()),
            SweepWrite::Audit(audit) => {
                self.store.append_audit(audit).await?;
                return Ok(());
            }
            SweepWrite::Erase {
                erasure,
                archive,
                planned,
                audit,
            } => {
                self.store
                    .erase_subject(erasure, archive, Some(planned), audit)
                    .await?
            }
            SweepWrite::RemoveValues {
                subject,
                going,
                archive,
                planned,
                audit,
            } => {
                self.store
                    .remove_values(subject, going, archive, planned, audit)
                    .await?
            }
        };
        if existed {
            Ok(())
        } else {
            Err(gone_meanwhile())
        }
    }

    /// What becomes of one subject today, and the change that does it: CPU work only, no
    /// store access, so that a page's subjects can be planned on several threads.
    fn plan_sweep(
        &self,
        run: &SweepRun<'_>,
        record: &SubjectRecord,
    ) -> Result<PlannedSweep, VaultError> {
        let mut counts = SweepReport::empty(run.today, run.dry_run);
        let holds = run.holds.get(&record.id).map_or(&[][..], Vec::as_slice);
        let write = self.plan_into(run, record, holds, &mut counts)?;
        Ok(PlannedSweep { counts, write })
    }

    fn plan_into(
        &self,
        run: &SweepRun<'_>,
        record: &SubjectRecord,
        holds: &[Hold],
        report: &mut SweepReport,
    ) -> Result<SweepWrite, VaultError> {
        let SweepRun {
            actor,
            dry_run,
            list,
            ..
        } = *run;
        let subject = record.id;
        let now = self.clock.now();
        let today = now.date();
        // Only values whose purposes and times are genuine are planned from: an edit made in
        // the database must not keep a value longer, nor make it go.
        let key = match self.open_key(record) {
            Ok(key) => key,
            Err(VaultError::Crypto(_)) => {
                report.subjects_refused += 1;
                if dry_run {
                    return Ok(SweepWrite::Nothing);
                }
                let audit = self.integrity_audit(actor, subject, "table=subjects; refused=sweep");
                return Ok(SweepWrite::Audit(vec![audit]));
            }
            Err(other) => return Err(other),
        };
        let mut genuine = Vec::new();
        let mut refused = Vec::new();
        for value in &record.values {
            // Authenticated only: a value becomes a view when it goes to the archive.
            match self.authenticate_value(subject, &key, value) {
                Ok(plain) => genuine.push((value, plain)),
                Err(VaultError::Integrity { value, .. }) => refused.push(value),
                Err(other) => return Err(other),
            }
        }
        let facts = subject_facts(record, holds.to_vec());
        let values: Vec<ValueFacts<'_>> = genuine.iter().map(|(v, _)| value_facts(v)).collect();
        let SubjectSchedule {
            plan,
            values: fates,
        } = retention::plan_subject(self.rules(), &values, &facts, today);
        report.values_refused += refused.len() as u64;
        let mut audit: Vec<AuditDraft> = refused
            .iter()
            .map(|value| {
                self.integrity_audit(
                    actor,
                    subject,
                    &format!("table=values; value={value}; refused=sweep"),
                )
            })
            .collect();
        // A refused value is not the sweep's to erase: the subject stays for it.
        let plan = match plan {
            SubjectPlan::Erase if !refused.is_empty() => SubjectPlan::RemoveValues,
            plan => plan,
        };

        let mut going: Vec<ValueId> = Vec::new();
        let mut erased = BTreeSet::new();
        let mut kept_for_the_law = Vec::new();
        // What a hold keeps, for the list.
        let (mut held_erased, mut held_archived) = (BTreeSet::new(), BTreeSet::new());
        for ((value, plain), planned) in genuine.into_iter().zip(fates) {
            let held = matches!(plan, SubjectPlan::Held(_));
            match planned.fate {
                Fate::Keep { .. } => continue,
                Fate::Erase if held => {
                    report.values_held += 1;
                    held_erased.insert(value.category.clone());
                }
                Fate::Archive { .. } if held => {
                    report.values_held += 1;
                    held_archived.insert(value.category.clone());
                }
                Fate::Erase => {
                    report.values_erased += 1;
                    erased.insert(value.category.clone());
                }
                Fate::Archive { ref holds } => {
                    report.values_archived += 1;
                    for (purpose, _) in holds {
                        report.purpose(purpose).archiving += 1;
                    }
                }
            }
            for purpose in &planned.released {
                let counts = report.purpose(purpose);
                match (&planned.fate, held) {
                    (_, true) => counts.held += 1,
                    (Fate::Archive { .. }, false) => counts.archived += 1,
                    _ => counts.erased += 1,
                }
            }
            if held {
                continue;
            }
            going.push(value.id);
            if let Fate::Archive { holds } = planned.fate {
                kept_for_the_law.push((super::value_view(subject, value, &plain)?, holds));
            }
        }

        match plan {
            SubjectPlan::Keep => {}
            SubjectPlan::Held(_) => report.subjects_held += 1,
            SubjectPlan::Erase => report.subjects_erased += 1,
            SubjectPlan::RemoveValues if going.is_empty() => {}
            SubjectPlan::RemoveValues => report.subjects_trimmed += 1,
        }
        let (archive, archived) = self.seal_for_the_law(subject, kept_for_the_law, now)?;
        report.archive_entries_made += archive.len() as u64;
        if list {
            let listed = match plan {
                SubjectPlan::Erase => Some(("erased", &erased, &archived)),
                SubjectPlan::RemoveValues if !going.is_empty() => {
                    Some(("trimmed", &erased, &archived))
                }
                SubjectPlan::Held(_) => Some(("held", &held_erased, &held_archived)),
                SubjectPlan::Keep | SubjectPlan::RemoveValues => None,
            };
            if let Some((outcome, erased, archived)) = listed {
                report.subjects.push(SweptSubject {
                    subject,
                    outcome,
                    erased: erased.iter().cloned().collect(),
                    archived: archived.iter().cloned().collect(),
                });
            }
        }
        if dry_run {
            return Ok(SweepWrite::Nothing);
        }
        if !archived.is_empty() {
            audit.push(self.draft(
                actor,
                AuditAction::Archive,
                Some(subject),
                None,
                archived.iter().cloned().collect(),
                Some(format!("entries={}; reason={REASON}", archive.len())),
            ));
        }
        let planned: Vec<ValueId> = record.values.iter().map(|v| v.id).collect();
        Ok(match plan {
            SubjectPlan::Erase => {
                audit.push(self.draft(
                    actor,
                    AuditAction::Erase,
                    Some(subject),
                    None,
                    erased.iter().cloned().collect(),
                    Some(format!("reason={REASON}")),
                ));
                SweepWrite::Erase {
                    erasure: ErasureRecord {
                        subject,
                        at: now,
                        erased: erased.into_iter().collect(),
                        archived: archived.into_iter().collect(),
                        reason: REASON.to_owned(),
                    },
                    archive,
                    planned,
                    audit,
                }
            }
            SubjectPlan::RemoveValues if !going.is_empty() => {
                audit.push(self.draft(
                    actor,
                    AuditAction::Erase,
                    Some(subject),
                    None,
                    erased.iter().cloned().collect(),
                    Some(format!("reason={REASON}; values={}", going.len())),
                ));
                SweepWrite::RemoveValues {
                    subject,
                    going,
                    archive,
                    planned,
                    audit,
                }
            }
            SubjectPlan::Keep | SubjectPlan::Held(_) | SubjectPlan::RemoveValues
                if audit.is_empty() =>
            {
                SweepWrite::Nothing
            }
            SubjectPlan::Keep | SubjectPlan::Held(_) | SubjectPlan::RemoveValues => {
                SweepWrite::Audit(audit)
            }
        })
    }

    fn integrity_audit(&self, actor: &Actor, subject: SubjectId, detail: &str) -> AuditDraft {
        self.draft(
            actor,
            AuditAction::IntegrityViolation,
            Some(subject),
            None,
            Vec::new(),
            Some(detail.to_owned()),
        )
    }
}

impl SweepReport {
    fn add(&mut self, other: SweepReport) {
        self.subjects_erased += other.subjects_erased;
        self.subjects_trimmed += other.subjects_trimmed;
        self.subjects_held += other.subjects_held;
        self.values_erased += other.values_erased;
        self.values_archived += other.values_archived;
        self.values_held += other.values_held;
        self.values_refused += other.values_refused;
        self.subjects_refused += other.subjects_refused;
        self.archive_entries_made += other.archive_entries_made;
        self.subjects.extend(other.subjects);
        for (purpose, counts) in other.purposes {
            let mine = self.purpose(&purpose);
            mine.erased += counts.erased;
            mine.archived += counts.archived;
            mine.held += counts.held;
            mine.archiving += counts.archiving;
            mine.shredded += counts.shredded;
        }
    }
}

/// The subject went (another sweep, an erasure request) between the read and the write: the
/// sweep reads it again, finds it gone, and counts nothing for it.
fn gone_meanwhile() -> VaultError {
    VaultError::Store(StoreError::Conflict(
        "the subject was erased meanwhile".into(),
    ))
}

/// What every subject of one sweep is planned with.
struct SweepRun<'a> {
    actor: &'a Actor,
    holds: &'a BTreeMap<SubjectId, Vec<Hold>>,
    dry_run: bool,
    list: bool,
    today: Date,
}

/// One subject's sweep as planned: what it counts, and the change that carries it out.
struct PlannedSweep {
    counts: SweepReport,
    write: SweepWrite,
}

/// The one store change a subject's sweep makes.
enum SweepWrite {
    Nothing,
    /// Only audit entries (refused rows).
    Audit(Vec<AuditDraft>),
    Erase {
        erasure: ErasureRecord,
        archive: Vec<ArchiveRecord>,
        planned: Vec<ValueId>,
        audit: Vec<AuditDraft>,
    },
    RemoveValues {
        subject: SubjectId,
        going: Vec<ValueId>,
        archive: Vec<ArchiveRecord>,
        planned: Vec<ValueId>,
        audit: Vec<AuditDraft>,
    },
}

/// Runs CPU-bound work from async code: on a multi-threaded runtime the worker thread hands
/// its other tasks off first; a current-thread runtime (tests) just runs it.
fn in_place<T>(work: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(work)
        }
        _ => work(),
    }
}

/// How far a sweep has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SweepProgress {
    /// The subjects there are to evaluate (as counted at the start).
    Total(u64),
    /// Subjects evaluated so far.
    Done(u64),
}
