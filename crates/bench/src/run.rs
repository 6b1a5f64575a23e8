//! The phases of one backend's run, each beside its baseline measured right after it on the
//! same backend.
//!
//! 1. writes: subjects in batches (prepare + commit) and one by one (`create_subject`, one
//!    transaction each, from concurrent tasks);
//! 2. reads: `Vault::read` for a purpose (audited) of the subjects just written;
//! 3. fill to N subjects with the batched path (the store-side import rate);
//! 4. lookups by e-mail and by personnummer at N subjects: latency p50/p99;
//! 5. `import::import` of a JSON Lines file of M subjects, with the process's peak RSS;
//! 6. `audit verify` over every entry written so far.

use std::future::Future;
use std::hint::black_box;
use std::io::BufRead;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use integritet_app::audit_log;
use integritet_app::import::{self, BATCH_SIZE, ImportFormat};
use integritet_app::store::Store;
use integritet_app::vault::{Actor, LookupKind, NewSubjectInput, Vault};
use integritet_crypto::rand_core::SeedableRng;
use integritet_crypto::{DataKey, ValueAad, encrypt_value};
use integritet_domain::audit::AuditEntry;
use integritet_domain::personal::PersonalValue;
use integritet_domain::subject::SubjectId;
use rand::rngs::StdRng;
use tokio::task::JoinSet;

use crate::baseline::Baseline;
use crate::data::{self, Pick, RAW_INDEX_KINDS, READ_PURPOSE, VALUES_PER_SUBJECT};
use crate::raw::Raw;
use crate::report::{Plan, Row};
use crate::setup::{self, support};
use crate::sys;
use integritet_bench::limit::Limit;

/// About the size of a stored audit entry, for the raw commit baseline.
const AUDIT_ROW_BYTES: usize = 400;

/// Values of a generated subject that [`READ_PURPOSE`] may read.
const VALUES_READ: usize = 8;

fn per_second(count: u64, elapsed: Duration) -> f64 {
    count as f64 / elapsed.as_secs_f64().max(1e-9)
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// p50 and p99 of `samples` (sorted in place).
fn percentiles(samples: &mut [Duration]) -> (Duration, Duration) {
    samples.sort_unstable();
    let at = |p: usize| {
        samples
            .get((samples.len() * p / 100).min(samples.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    (at(50), at(99))
}

/// Shares `total` operations between `tasks`: task `k` does this many.
fn share(total: u64, tasks: usize, k: usize) -> u64 {
    let tasks = tasks.max(1) as u64;
    let k = k as u64;
    total / tasks + u64::from(k < total % tasks)
}

/// A subject written in this run: its generator index and the id the vault gave it.
type Written = (u64, SubjectId);

/// Writes subjects `range` through the vault in batches of `batch`, one transaction each.
async fn vault_batched(
    vault: &Vault,
    actor: &Actor,
    range: Range<u64>,
    batch: usize,
    mut written: Option<&mut Vec<Written>>,
    progress: &str,
) -> anyhow::Result<Batched> {
    let start = Instant::now();
    let mut in_commit = Duration::ZERO;
    let total = range.end - range.start;
    let mut next_report = 100_000;
    let mut i = range.start;
    while i < range.end {
        let stop = (i + batch as u64).min(range.end);
        let mut prepared = Vec::with_capacity(batch);
        for j in i..stop {
            let subject = vault.prepare(actor, data::subject(j)?)?;
            if let Some(written) = written.as_deref_mut() {
                written.push((j, subject.id()));
            }
            prepared.push(subject);
        }
        let committing = Instant::now();
        vault.commit(prepared, Vec::new()).await?;
        in_commit += committing.elapsed();
        i = stop;
        let done = i - range.start;
        if done >= next_report && done < total {
            eprintln!(
                "  {progress}: {done} of {total} subjects, {:.0}/s",
                per_second(done, start.elapsed())
            );
            next_report += 100_000;
        }
    }
    Ok(Batched {
        elapsed: start.elapsed(),
        in_commit,
    })
}

/// The time of a batched write, and the part of it spent in `Vault::commit` (the store).
struct Batched {
    elapsed: Duration,
    in_commit: Duration,
}

impl Batched {
    fn commit_share(&self) -> f64 {
        100.0 * self.in_commit.as_secs_f64() / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// The baseline of [`vault_batched`]: the same subjects' rows in the same transactions.
async fn raw_batched(
    raw: &impl Baseline,
    range: Range<u64>,
    batch: usize,
) -> anyhow::Result<Duration> {
    let start = Instant::now();
    let mut i = range.start;
    while i < range.end {
        let stop = (i + batch as u64).min(range.end);
        let mut rows = Vec::with_capacity(batch * VALUES_PER_SUBJECT);
        for j in i..stop {
            rows.extend(data::raw_rows(j)?);
        }
        raw.insert_values(0, &rows).await?;
        i = stop;
    }
    Ok(start.elapsed())
}

/// Creates subjects `range` one by one from `tasks` concurrent tasks.
async fn vault_single(
    vault: &Arc<Vault>,
    range: Range<u64>,
    tasks: usize,
) -> anyhow::Result<(Duration, Vec<Written>)> {
    let start = Instant::now();
    let mut set = JoinSet::new();
    for k in 0..tasks {
        let vault = vault.clone();
        let range = range.clone();
        set.spawn(async move {
            let actor = support();
            let mut written = Vec::new();
            let mut j = range.start + k as u64;
            while j < range.end {
                let id = vault.create_subject(&actor, data::subject(j)?).await?;
                written.push((j, id));
                j += tasks as u64;
            }
            anyhow::Ok(written)
        });
    }
    let mut written = Vec::new();
    while let Some(done) = set.join_next().await {
        written.extend(done??);
    }
    Ok((start.elapsed(), written))
}

async fn raw_single<B: Baseline>(
    raw: &Arc<B>,
    range: Range<u64>,
    tasks: usize,
) -> anyhow::Result<Duration> {
    let start = Instant::now();
    let mut set = JoinSet::new();
    for k in 0..tasks {
        let raw = raw.clone();
        let range = range.clone();
        set.spawn(async move {
            let mut j = range.start + k as u64;
            while j < range.end {
                raw.insert_values(k, &data::raw_rows(j)?).await?;
                j += tasks as u64;
            }
            anyhow::Ok(())
        });
    }
    while let Some(done) = set.join_next().await {
        done??;
    }
    Ok(start.elapsed())
}

/// Runs `reads` reads of subjects picked from `written`, shared by `tasks` concurrent tasks:
/// task `k` picks with the seed 1,000 + k, so every path below reads the same subjects in the
/// same order. `read(k, subject)` does one read; the time of all of them is returned.
async fn picked_reads<F, Fut>(
    written: &Arc<Vec<Written>>,
    reads: u64,
    tasks: usize,
    read: F,
) -> anyhow::Result<Duration>
where
    F: Fn(usize, Written) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send,
{
    let start = Instant::now();
    let mut set = JoinSet::new();
    for k in 0..tasks {
        let (read, written) = (read.clone(), written.clone());
        set.spawn(async move {
            let mut pick = Pick::new(1_000 + k as u64);
            for _ in 0..share(reads, tasks, k) {
                let r = usize::try_from(pick.below(written.len() as u64))?;
                let subject = *written.get(r).context("no such subject")?;
                read(k, subject).await?;
            }
            anyhow::Ok(())
        });
    }
    while let Some(done) = set.join_next().await {
        done??;
    }
    Ok(start.elapsed())
}

/// `Vault::read` for [`READ_PURPOSE`], audited.
async fn vault_reads(
    vault: &Arc<Vault>,
    written: &Arc<Vec<Written>>,
    reads: u64,
    tasks: usize,
) -> anyhow::Result<Duration> {
    let (vault, actor) = (vault.clone(), Arc::new(support()));
    picked_reads(written, reads, tasks, move |_, (_, id)| {
        let (vault, actor) = (vault.clone(), actor.clone());
        async move {
            let view = vault.read(&actor, id, READ_PURPOSE).await?;
            ensure!(
                view.values.len() == VALUES_READ,
                "a read returned {} values instead of {VALUES_READ}",
                view.values.len()
            );
            Ok(())
        }
    })
    .await
}

/// The store's part of a read: `Store::subject` by id, without decryption or audit entry.
async fn store_reads(
    store: &Arc<dyn Store>,
    written: &Arc<Vec<Written>>,
    reads: u64,
    tasks: usize,
) -> anyhow::Result<Duration> {
    let store = store.clone();
    picked_reads(written, reads, tasks, move |_, (_, id)| {
        let store = store.clone();
        async move {
            let record = store
                .subject(id)
                .await?
                .context("a written subject is missing")?;
            ensure!(
                record.values.len() == VALUES_PER_SUBJECT,
                "a subject lost values"
            );
            Ok(())
        }
    })
    .await
}

/// A baseline's SELECT of the same subjects' rows by primary key.
async fn raw_reads<B: Baseline>(
    raw: &Arc<B>,
    written: &Arc<Vec<Written>>,
    reads: u64,
    tasks: usize,
) -> anyhow::Result<Duration> {
    let raw = raw.clone();
    picked_reads(written, reads, tasks, move |k, (i, _)| {
        let raw = raw.clone();
        async move {
            let bytes = raw.read_subject(k, &data::raw_key(i)).await?;
            ensure!(bytes > 0, "the baseline row of subject {i} is missing");
            Ok(())
        }
    })
    .await
}

/// The limit of an audited read: the same SELECT, then an audit row committed.
async fn audited_reads(
    limit: &Arc<Limit>,
    written: &Arc<Vec<Written>>,
    reads: u64,
    tasks: usize,
) -> anyhow::Result<Duration> {
    let (limit, body) = (limit.clone(), Arc::new(data::filler(AUDIT_ROW_BYTES, 1)));
    picked_reads(written, reads, tasks, move |k, (i, _)| {
        let (limit, body) = (limit.clone(), body.clone());
        async move {
            let bytes = limit.read_audited(k, &data::raw_key(i), &body).await?;
            ensure!(bytes > 0, "the limit's rows of subject {i} are missing");
            Ok(())
        }
    })
    .await
}

/// The baseline's lookup table: four 32-byte keys per subject, N subjects, filled in batches
/// of the same size as the vault's.
async fn raw_index_fill(
    raw: &impl Baseline,
    subjects: u64,
    batch: usize,
) -> anyhow::Result<Duration> {
    let start = Instant::now();
    let mut i = 0;
    while i < subjects {
        let stop = (i + batch as u64).min(subjects);
        let mut rows = Vec::with_capacity(batch * RAW_INDEX_KINDS.len());
        for j in i..stop {
            for kind in RAW_INDEX_KINDS {
                rows.push((data::raw_token(kind, j), data::raw_key(j)));
            }
        }
        raw.insert_tokens(&rows).await?;
        i = stop;
    }
    Ok(start.elapsed())
}

struct Latency {
    p50: Duration,
    p99: Duration,
    samples: usize,
}

impl Latency {
    fn of(mut samples: Vec<Duration>) -> Latency {
        let (p50, p99) = percentiles(&mut samples);
        Latency {
            p50,
            p99,
            samples: samples.len(),
        }
    }
}

async fn timed_lookups(
    raw: &impl Baseline,
    subjects: u64,
    lookups: u64,
) -> anyhow::Result<Latency> {
    let mut pick = Pick::new(77);
    let mut samples = Vec::new();
    for k in 0..lookups {
        let kind = if k % 2 == 0 {
            "email"
        } else {
            "identity_number"
        };
        let token = data::raw_token(kind, pick.below(subjects));
        let start = Instant::now();
        let found = raw.lookup(&token).await?;
        samples.push(start.elapsed());
        ensure!(found == 1, "a baseline lookup found {found} rows");
    }
    Ok(Latency::of(samples))
}

async fn timed_commits(raw: &impl Baseline, commits: u64) -> anyhow::Result<Latency> {
    let body = data::filler(AUDIT_ROW_BYTES, 9);
    let mut samples = Vec::new();
    for n in 0..commits {
        let start = Instant::now();
        raw.commit_one(i64::try_from(n)?, &body).await?;
        samples.push(start.elapsed());
    }
    Ok(Latency::of(samples))
}

/// How many bytes [`integritet_domain::audit::entry_hash`] feeds to BLAKE3 for `entry`.
fn hashed_len(entry: &AuditEntry) -> u64 {
    fn text(s: &str) -> usize {
        8 + s.len()
    }
    fn optional(s: Option<&str>) -> usize {
        1 + s.map_or(0, text)
    }
    let d = &entry.draft;
    let len = "integritet-audit-v1".len()
        + 32
        + 8
        + 16
        + text(&d.actor)
        + optional(d.role.as_deref())
        + optional(d.purpose.as_deref())
        + 1
        + d.subject.map_or(0, |_| 16)
        + 8
        + d.categories.iter().map(|c| text(c)).sum::<usize>()
        + text(d.action.as_str())
        + text(&d.policy_version)
        + optional(d.detail.as_deref());
    len as u64
}

/// Everything one backend is measured on.
pub struct Bench {
    pub store: Arc<dyn Store>,
    pub raw: Arc<Raw>,
    pub limit: Arc<Limit>,
    pub plan: Plan,
    /// Where the import file is written.
    pub dir: std::path::PathBuf,
    /// The SQLite store's database file (for the raw scan of its audit log).
    pub store_file: Option<std::path::PathBuf>,
}

impl Bench {
    pub async fn run(&self) -> anyhow::Result<Vec<Row>> {
        let plan = &self.plan;
        let vault = Arc::new(setup::vault_over(self.store.clone())?);
        let actor = support();
        let tasks = plan.concurrency.max(1);
        let mut rows = Vec::new();
        let values = VALUES_PER_SUBJECT as u64;

        // 1. Writes.
        let batched = 0..plan.write_batched;
        let single = batched.end..batched.end + plan.write_single;
        eprintln!(
            "  writes: {} subjects in batches of {}, {} one by one from {tasks} tasks",
            plan.write_batched, plan.batch, plan.write_single
        );
        let mut written = Vec::with_capacity(usize::try_from(single.end)?);
        let vault_batch = vault_batched(
            &vault,
            &actor,
            batched.clone(),
            plan.batch,
            Some(&mut written),
            "writes",
        )
        .await?;
        let vault_time = vault_batch.elapsed;
        let raw_batched_time = raw_batched(self.raw.as_ref(), batched.clone(), plan.batch).await?;
        let limit_batched_time =
            raw_batched(self.limit.as_ref(), batched.clone(), plan.batch).await?;
        let count = plan.write_batched;
        rows.push(
            Row::new(
                "write_batched_values_per_s",
                format!("values written/s, batches of {} subjects", plan.batch),
                per_second(count * values, vault_time),
                "values/s",
            )
            .limit(
                per_second(count * values, limit_batched_time),
                format!(
                    "multi-row INSERT of same-size rows, {} subjects per transaction",
                    plan.batch
                ),
            )
            .baseline(
                per_second(count * values, raw_batched_time),
                "sqlx: the same INSERTs",
            )
            .note(format!(
                "{count} subjects × {values} values = {:.0} subjects/s; {:.0}% of the time in commit (the store)",
                per_second(count, vault_time),
                vault_batch.commit_share()
            )),
        );

        let (vault_time, singles) = vault_single(&vault, single.clone(), tasks).await?;
        written.extend(singles);
        let raw_time = raw_single(&self.raw, single.clone(), tasks).await?;
        let limit_time = raw_single(&self.limit, single.clone(), tasks).await?;
        let count = plan.write_single;
        rows.push(
            Row::new(
                "write_single_values_per_s",
                "values written/s, one subject per transaction",
                per_second(count * values, vault_time),
                "values/s",
            )
            .limit(
                per_second(count * values, limit_time),
                format!("INSERT of one subject's rows per transaction, from {tasks} tasks"),
            )
            .baseline(
                per_second(count * values, raw_time),
                "sqlx: the same INSERTs",
            )
            .note(format!(
                "{count} × create_subject from {tasks} tasks = {:.0} subjects/s",
                per_second(count, vault_time)
            )),
        );

        // 2. Reads of the subjects just written.
        eprintln!("  reads: {} from {tasks} tasks", plan.reads);
        let written = Arc::new(written);
        let vault_time = vault_reads(&vault, &written, plan.reads, tasks).await?;
        let store_time = store_reads(&self.store, &written, plan.reads, tasks).await?;
        let raw_time = raw_reads(&self.raw, &written, plan.reads, tasks).await?;
        let limit_time = raw_reads(&self.limit, &written, plan.reads, tasks).await?;
        let audited_time = audited_reads(&self.limit, &written, plan.reads, tasks).await?;
        rows.push(
            Row::new(
                "read_subjects_per_s",
                format!("subjects read/s (Vault::read, purpose {READ_PURPOSE}, audited)"),
                per_second(plan.reads, vault_time),
                "subjects/s",
            )
            .limit(
                per_second(plan.reads, audited_time),
                format!(
                    "SELECT of the subject's {VALUES_PER_SUBJECT} rows by primary key, then a \
                     {AUDIT_ROW_BYTES}-byte audit row committed (group-committed and flushed to \
                     disk on SQLite), from {tasks} tasks"
                ),
            )
            .baseline(per_second(plan.reads, raw_time), "sqlx: the same SELECT")
            .note(format!(
                "{} reads of {} subjects from {tasks} tasks; {VALUES_READ} values decrypted each",
                plan.reads,
                written.len()
            )),
        );
        rows.push(
            Row::new(
                "store_read_subjects_per_s",
                "Store::subject by id (no decryption, no audit)",
                per_second(plan.reads, store_time),
                "subjects/s",
            )
            .limit(
                per_second(plan.reads, limit_time),
                format!(
                    "SELECT of the subject's {VALUES_PER_SUBJECT} rows by primary key, from {tasks} tasks"
                ),
            )
            .baseline(per_second(plan.reads, raw_time), "sqlx: the same SELECT")
            .note("the same reads: the part of Vault::read that is the store's query"),
        );

        // 3. Fill to N subjects with the batched path; then the baseline's lookup table of
        //    the same size, filled the same way, which is also the fill's baseline.
        let have = single.end;
        let fill = have..plan.subjects.max(have);
        let filled = fill.end - fill.start;
        let subjects = fill.end;
        let fill_batch = if filled > 0 {
            eprintln!("  fill: {filled} subjects to N = {subjects}");
            Some(vault_batched(&vault, &actor, fill.clone(), plan.batch, None, "fill").await?)
        } else {
            None
        };
        let keys = subjects * RAW_INDEX_KINDS.len() as u64;
        eprintln!("  fill: baseline index of {keys} keys");
        let index_time = raw_index_fill(self.raw.as_ref(), subjects, plan.batch).await?;
        eprintln!("  fill: the limit's index of {keys} keys");
        let limit_index_time = raw_index_fill(self.limit.as_ref(), subjects, plan.batch).await?;
        if let Some(fill_batch) = fill_batch {
            let fill_time = fill_batch.elapsed;
            rows.push(
                Row::new(
                    "fill_subjects_per_s",
                    format!("store fill to N (prepare + commit, {} per tx)", plan.batch),
                    per_second(filled, fill_time),
                    "subjects/s",
                )
                .limit(
                    per_second(subjects, limit_index_time),
                    format!(
                        "INSERT of 4 random 32-byte keys per subject (0 to {keys} keys), same batches"
                    ),
                )
                .baseline(per_second(subjects, index_time), "sqlx: the same INSERTs")
                .note(format!(
                    "{filled} subjects from {have} to {subjects}: {:.1} s, {:.0}% of it in commit (the store); \
                     the baseline is the blind index's share of the work alone, {:.1} s",
                    fill_time.as_secs_f64(),
                    fill_batch.commit_share(),
                    index_time.as_secs_f64()
                )),
            );
        }

        // 4. Lookups at N subjects.
        eprintln!("  lookups: {}", plan.lookups);
        let (by_email, by_pnr) = self.vault_lookups(&vault, subjects, plan.lookups).await?;
        let store_only = self.store_lookups(subjects, plan.lookups / 2).await?;
        let raw_lookups = timed_lookups(self.raw.as_ref(), subjects, plan.lookups).await?;
        let raw_commits = timed_commits(self.raw.as_ref(), plan.lookups / 2).await?;
        let limit_lookups = timed_lookups(self.limit.as_ref(), subjects, plan.lookups).await?;
        let limit_commits = timed_commits(self.limit.as_ref(), plan.lookups / 2).await?;
        let limit_what = format!(
            "indexed SELECT by 32-byte key, {} keys",
            subjects * RAW_INDEX_KINDS.len() as u64
        );
        let raw_what = "sqlx: the same SELECT".to_owned();
        for (key50, key99, what, latency) in [
            (
                "lookup_email_p50_ms",
                "lookup_email_p99_ms",
                "e-mail",
                &by_email,
            ),
            (
                "lookup_personnummer_p50_ms",
                "lookup_personnummer_p99_ms",
                "personnummer",
                &by_pnr,
            ),
        ] {
            rows.push(
                Row::new(
                    key50,
                    format!("lookup by {what} at N, p50 (audited)"),
                    millis(latency.p50),
                    "ms",
                )
                .limit(millis(limit_lookups.p50), limit_what.clone())
                .baseline(millis(raw_lookups.p50), raw_what.clone())
                .note(format!(
                    "{} lookups of random subjects among {subjects}",
                    latency.samples
                )),
            );
            rows.push(
                Row::new(
                    key99,
                    format!("lookup by {what} at N, p99 (audited)"),
                    millis(latency.p99),
                    "ms",
                )
                .limit(millis(limit_lookups.p99), limit_what.clone())
                .baseline(millis(raw_lookups.p99), raw_what.clone()),
            );
        }
        rows.push(
            Row::new(
                "lookup_store_only_p99_ms",
                "Store::lookup by e-mail token at N, p99 (no audit)",
                millis(store_only.p99),
                "ms",
            )
            .limit(millis(limit_lookups.p99), limit_what.clone())
            .baseline(millis(raw_lookups.p99), raw_what.clone())
            .note(format!(
                "p50 {:.3} ms over {} lookups: the part of a lookup that is not the audit write",
                millis(store_only.p50),
                store_only.samples
            )),
        );

        let floor = |lookup: Duration, commit: Duration| millis(lookup) + millis(commit);
        rows.push(
            Row::new(
                "lookup_email_p50_vs_floor_ms",
                "lookup by e-mail at N, p50, against an audited lookup's floor",
                millis(by_email.p50),
                "ms",
            )
            .limit(
                floor(limit_lookups.p50, limit_commits.p50),
                "indexed SELECT p50 + one-row INSERT and COMMIT p50",
            )
            .baseline(
                floor(raw_lookups.p50, raw_commits.p50),
                "sqlx: the same SELECT p50 + INSERT and COMMIT p50",
            )
            .note(format!(
                "COMMIT of one {AUDIT_ROW_BYTES}-byte row: p50 {:.3} ms, p99 {:.3} ms over {} \
                 commits (limit; sqlx p50 {:.3} ms, p99 {:.3} ms; on PostgreSQL this is the WAL \
                 flush, on SQLite synchronous=NORMAL does not wait for the disk)",
                millis(limit_commits.p50),
                millis(limit_commits.p99),
                limit_commits.samples,
                millis(raw_commits.p50),
                millis(raw_commits.p99),
            )),
        );
        rows.push(
            Row::new(
                "lookup_email_p99_vs_floor_ms",
                "lookup by e-mail at N, p99, against an audited lookup's floor",
                millis(by_email.p99),
                "ms",
            )
            .limit(
                floor(limit_lookups.p99, limit_commits.p99),
                "indexed SELECT p99 + one-row INSERT and COMMIT p99",
            )
            .baseline(
                floor(raw_lookups.p99, raw_commits.p99),
                "sqlx: the same SELECT p99 + INSERT and COMMIT p99",
            ),
        );

        // 5. Import of a JSON Lines file.
        let import_range = subjects..subjects + plan.import;
        rows.extend(self.import(&vault, import_range).await?);

        // 6. Audit verify over everything so far.
        rows.extend(self.verify().await?);
        Ok(rows)
    }

    async fn vault_lookups(
        &self,
        vault: &Vault,
        subjects: u64,
        lookups: u64,
    ) -> anyhow::Result<(Latency, Latency)> {
        let actor = support();
        let mut pick = Pick::new(77);
        let mut email = Vec::new();
        let mut pnr = Vec::new();
        let mut misses = 0u64;
        for k in 0..lookups {
            let i = pick.below(subjects);
            let (kind, raw) = if k % 2 == 0 {
                (LookupKind::Email, data::email(i))
            } else {
                (LookupKind::IdentityNumber, data::personnummer(i)?)
            };
            let value = PersonalValue::new(raw);
            let start = Instant::now();
            let found = vault.lookup(&actor, kind, &value, READ_PURPOSE).await?;
            let elapsed = start.elapsed();
            misses += u64::from(found.len() != 1);
            if kind == LookupKind::Email {
                email.push(elapsed);
            } else {
                pnr.push(elapsed);
            }
        }
        ensure!(
            misses == 0,
            "{misses} lookups did not find exactly one subject"
        );
        Ok((Latency::of(email), Latency::of(pnr)))
    }

    /// The store's part of a lookup by e-mail, without the audit entry.
    async fn store_lookups(&self, subjects: u64, lookups: u64) -> anyhow::Result<Latency> {
        let keys = setup::keys();
        let kind = LookupKind::Email.as_str();
        let mut pick = Pick::new(78);
        let mut samples = Vec::new();
        for _ in 0..lookups {
            let token = keys
                .index
                .index(kind, data::email(pick.below(subjects)).as_bytes());
            let start = Instant::now();
            let found = self.store.lookup(kind, &token).await?;
            samples.push(start.elapsed());
            ensure!(
                found.len() == 1,
                "a store lookup found {} subjects",
                found.len()
            );
        }
        Ok(Latency::of(samples))
    }

    async fn import(&self, vault: &Vault, range: Range<u64>) -> anyhow::Result<Vec<Row>> {
        let count = range.end - range.start;
        let path = self
            .dir
            .join(format!("import-{}.jsonl", self.store.backend()));
        eprintln!("  import: writing {count} subjects to {}", path.display());
        let bytes = data::write_jsonl(&path, range)?;

        // Baseline: the same file only parsed, read the way the importer reads it.
        let start = Instant::now();
        let parsed = parse_only(&path)?;
        let parse_time = start.elapsed();
        ensure!(parsed == count, "parsed {parsed} of {count} lines");

        eprintln!("  import: import::import of {count} subjects");
        let before = sys::memory();
        let reset = sys::reset_peak();
        let file = std::fs::File::open(&path)?;
        let start = Instant::now();
        let summary = import::import(
            vault,
            &Actor::system("bench-import"),
            ImportFormat::JsonLines,
            std::io::BufReader::new(file),
            |_, _| {},
        )
        .await?;
        let import_time = start.elapsed();
        let after = sys::memory();
        std::fs::remove_file(&path)?;
        if let Some(first) = summary.errors.first() {
            anyhow::bail!(
                "the import rejected {} rows; line {}: {}",
                summary.rejected,
                first.line,
                first.message
            );
        }
        ensure!(
            summary.imported == count,
            "imported {} of {count}",
            summary.imported
        );

        let mut rows = vec![
            Row::new(
                "import_subjects_per_s",
                format!("import::import of JSON Lines, batches of {BATCH_SIZE}"),
                per_second(count, import_time),
                "subjects/s",
            )
            .baseline(
                per_second(count, parse_time),
                "the same file only parsed with serde_json",
            )
            .note(format!(
                "{count} subjects, {:.1} MiB file, {:.1} s",
                bytes as f64 / 1_048_576.0,
                import_time.as_secs_f64()
            )),
        ];
        if let (Some(before), Some(after)) = (before, after) {
            let peak = if reset {
                after.peak_kib
            } else {
                after.peak_kib.max(before.peak_kib)
            };
            rows.push(
                Row::new(
                    "import_peak_rss_mib",
                    "peak RSS of the process during the import",
                    peak as f64 / 1024.0,
                    "MiB",
                )
                .baseline(before.rss_kib as f64 / 1024.0, "RSS just before the import")
                .note(if reset {
                    "VmHWM reset before the import (clear_refs), read after it".to_owned()
                } else {
                    "VmHWM could not be reset: this is the peak of the whole run so far".to_owned()
                }),
            );
        }
        Ok(rows)
    }

    async fn verify(&self) -> anyhow::Result<Vec<Row>> {
        eprintln!("  audit verify");
        let start = Instant::now();
        let summary = audit_log::verify(self.store.as_ref(), |_| {}).await?;
        let verify_time = start.elapsed();

        // What the verifier hashed, counted in a second pass that only reads the log.
        let reading = Instant::now();
        let mut after = 0;
        let mut bytes = 0u64;
        let mut entries = 0u64;
        loop {
            let page = self.store.audit_entries(after, u64::MAX, 10_000).await?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            bytes += page.iter().map(hashed_len).sum::<u64>();
            entries += page.len() as u64;
        }
        let read_time = reading.elapsed();
        // One page after another, as one reader reads and hashes them while verify runs
        // several at once.
        let linking = Instant::now();
        let mut after = 0;
        let mut linked = 0u64;
        loop {
            let page = self.store.audit_links(after, u64::MAX, 10_000).await?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            linked += page.len() as u64;
        }
        let link_time = linking.elapsed();
        ensure!(
            linked == entries,
            "audit_links read {linked} of {entries} entries"
        );
        let scanning = Instant::now();
        let scanned = Baseline::scan_audit(self.raw.as_ref(), self.store_file.as_deref()).await?;
        let scan_time = scanning.elapsed();
        let streaming = Instant::now();
        let streamed =
            Baseline::scan_audit(self.limit.as_ref(), self.store_file.as_deref()).await?;
        let stream_time = streaming.elapsed();
        ensure!(
            streamed == entries,
            "the limit's scan read {streamed} of {entries} entries"
        );
        ensure!(
            scanned == entries,
            "the raw scan read {scanned} of {entries} entries"
        );
        ensure!(
            entries == summary.entries,
            "verify saw {} entries, the second pass {entries}",
            summary.entries
        );
        let piece = usize::try_from(bytes / entries.max(1))?;
        let hash_time = blake3_pieces(entries, piece);
        Ok(vec![
            Row::new(
                "audit_verify_entries_per_s",
                "audit verify (page 10,000, chain + head)",
                per_second(entries, verify_time),
                "entries/s",
            )
            .limit(
                per_second(entries, stream_time),
                "one streaming SELECT of the whole audit_log, every column read",
            )
            .baseline(
                per_second(entries, hash_time),
                format!("BLAKE3 of the same bytes in entry-sized pieces ({piece} B)"),
            )
            .note(format!(
                "{entries} entries, {:.1} MiB hashed, {:.2} s",
                bytes as f64 / 1_048_576.0,
                verify_time.as_secs_f64()
            )),
            Row::new(
                "audit_read_entries_per_s",
                "Store::audit_entries only (read the log, no hashing)",
                per_second(entries, read_time),
                "entries/s",
            )
            .limit(
                per_second(entries, stream_time),
                "one streaming SELECT of the whole audit_log, every column read",
            )
            .baseline(
                per_second(entries, scan_time),
                "sqlx: SELECT of the same rows in pages of 10,000, columns decoded",
            )
            .note("decoding every row into an owned entry, as exports and the console read it"),
            Row::new(
                "audit_links_entries_per_s",
                "Store::audit_links, one page after another (read and hash)",
                per_second(entries, link_time),
                "entries/s",
            )
            .limit(
                per_second(entries, stream_time),
                "one streaming SELECT of the whole audit_log, every column read",
            )
            .note("what verify asks of the store, several pages at once"),
        ])
    }
}

/// Parses every line of a JSON Lines file as a subject, reading it as the importer does.
fn parse_only(path: &Path) -> anyhow::Result<u64> {
    let mut reader = std::io::BufReader::new(std::fs::File::open(path)?);
    let mut line = String::new();
    let mut parsed = 0;
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            break;
        }
        let text = line.trim_end_matches(['\n', '\r']);
        if text.trim().is_empty() {
            continue;
        }
        let input: NewSubjectInput = serde_json::from_str(text)?;
        black_box(&input);
        parsed += 1;
    }
    Ok(parsed)
}

/// Hashes `count` pieces of `len` bytes, one BLAKE3 each, as the verifier does per entry.
fn blake3_pieces(count: u64, len: usize) -> Duration {
    let piece = data::filler(len, 5);
    let start = Instant::now();
    let mut acc = 0u8;
    for k in 0..count {
        let mut hasher = blake3::Hasher::new();
        hasher.update(&piece);
        hasher.update(&k.to_be_bytes());
        acc ^= hasher.finalize().as_bytes()[0];
    }
    black_box(acc);
    start.elapsed()
}

/// Figures without a store: raw AEAD, and the vault's own work per subject.
pub fn reference(
    aead_values: u64,
    prepare_subjects: u64,
    vault: &Vault,
) -> anyhow::Result<Vec<Row>> {
    let mut rng = StdRng::seed_from_u64(3);
    let key = DataKey::generate(&mut rng);
    let aad = ValueAad::new([7; 16], "email");
    let plain = [0x61u8; 64];
    let start = Instant::now();
    let mut total = 0usize;
    for _ in 0..aead_values {
        total += encrypt_value(&key, &mut rng, &aad, &plain)?.len();
    }
    black_box(total);
    let aead_rate = per_second(aead_values, start.elapsed());

    let actor = support();
    let start = Instant::now();
    for i in 0..prepare_subjects {
        black_box(vault.prepare(&actor, data::subject(i)?)?);
    }
    let prepare_rate = per_second(prepare_subjects, start.elapsed());
    // 10 values and the wrapped data key: 11 AEAD encryptions per subject.
    let aead_per_subject = VALUES_PER_SUBJECT as f64 + 1.0;
    Ok(vec![
        Row::new(
            "aead_values_per_s",
            "XChaCha20-Poly1305 encrypt_value of 64-byte values, 1 core",
            aead_rate,
            "values/s",
        )
        .note(format!("{aead_values} values")),
        Row::new(
            "prepare_subjects_per_s",
            "Vault::prepare only (validate, encrypt, index; no store), 1 core",
            prepare_rate,
            "subjects/s",
        )
        .baseline(
            aead_rate / aead_per_subject,
            "11 raw AEAD encryptions per subject (10 values + data key)",
        )
        .note(format!("{prepare_subjects} subjects")),
    ])
}
