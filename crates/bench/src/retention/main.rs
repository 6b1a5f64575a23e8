//! `integritet-retention-bench`: how fast the retention sweep evaluates and erases, and how fast
//! an access report is made for a subject with many events — each figure beside what SQLite
//! itself (the C library, through rusqlite) does with the same rows in the same run.
//!
//! - evaluation: a dry-run sweep of N subjects none of whom is due, against reading every
//!   subject's rows (subject, values, activities, objections) in id order, a page at a time by
//!   range scans as the store reads them;
//! - erasure: the sweep ten years on, when every subject is due, against the same row changes
//!   (each subject deleted, its erasure record, its index cleanup noted) a page to a
//!   transaction, on a copy of the same file; then the index cleanup, against one bulk delete;
//! - the access report of a subject with E activities, against reading that subject's rows.
//!
//! Results and the commands that produced them are recorded in `docs/BENCHMARKS.md`.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use integritet_app::store::Store;
use integritet_app::vault::{NewActivity, NewSubjectInput, NewValue, Vault};
use integritet_bench::data::{self, START};
use integritet_bench::setup;
use integritet_crypto::rand_core::SeedableRng;
use integritet_domain::clock::FixedClock;
use integritet_domain::personal::PersonalValue;
use integritet_domain::subject::{Provenance, SubjectKind};
use integritet_store_sqlite::SqliteStore;
use rand::rngs::StdRng;

/// Subjects per commit while the store is filled.
const FILL_BATCH: usize = 1_000;
/// Subjects per page and per transaction in the raw baselines: the sweep's page, all of whose
/// subjects it has in flight (so the most the store's group commit can join).
const RAW_BATCH: usize = 500;
/// Dry runs (and raw reads) timed; the median is reported.
const EVALUATIONS: usize = 3;

#[derive(Debug, Parser)]
#[command(
    name = "integritet-retention-bench",
    version,
    after_help = "Examples:\n  \
        cargo run --release -p integritet-bench --bin integritet-retention-bench -- --quick\n  \
        cargo run --release -p integritet-bench --bin integritet-retention-bench -- --subjects 1000000"
)]
struct Args {
    /// N, the subjects swept [default: 1,000,000; 20,000 with --quick].
    #[arg(long, value_name = "N")]
    subjects: Option<u64>,
    /// E, the activities of the subject whose access report is made.
    #[arg(long, value_name = "E", default_value_t = 10_000)]
    events: usize,
    /// Small counts: seconds, not minutes.
    #[arg(long)]
    quick: bool,
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let n = args
        .subjects
        .unwrap_or(if args.quick { 20_000 } else { 1_000_000 });
    let dir = tempfile::tempdir().context("cannot make a directory for the run")?;
    let file = dir.path().join("vault.db");
    let sqlite = Arc::new(
        SqliteStore::open(&file)
            .await
            .context("cannot open the SQLite store")?,
    );
    let store: Arc<dyn Store> = sqlite.clone();
    println!(
        "integritet-retention-bench: SQLite, {n} subjects, report of a subject with {} events",
        args.events
    );

    let filling = Instant::now();
    let filler = setup::vault_over(store.clone())?;
    let actor = setup::support();
    let mut i = 0;
    while i < n {
        let stop = (i + FILL_BATCH as u64).min(n);
        let mut batch = Vec::with_capacity(FILL_BATCH);
        for j in i..stop {
            batch.push(filler.prepare(&actor, data::subject(j)?)?);
        }
        filler.commit(batch, Vec::new()).await?;
        i = stop;
    }
    println!(
        "filled in {:.1} s ({:.0} subjects/s)",
        filling.elapsed().as_secs_f64(),
        per_second(n, filling.elapsed())
    );

    // Evaluation: a day after the fill nobody is due, so the dry run only reads and plans.
    let tomorrow = vault_at(store.clone(), START + time::Duration::DAY)?;
    // Each side three times, alternating, the median kept: this machine's neighbours make one
    // run vary by a fifth.
    let (mut evaluations, mut raw_reads) = (Vec::new(), Vec::new());
    let mut raw_rows = 0;
    for _ in 0..EVALUATIONS {
        let evaluating = Instant::now();
        let planned = tomorrow
            .sweep(
                &integritet_app::vault::Actor::system("bench"),
                true,
                false,
                None,
                &|_| {},
            )
            .await?;
        evaluations.push(evaluating.elapsed());
        anyhow::ensure!(
            planned.subjects_evaluated == n && planned.values_erased == 0,
            "the dry run should evaluate every subject and erase nothing: {planned:?}"
        );
        let raw_reading = Instant::now();
        raw_rows = raw_read_all(&file)?;
        raw_reads.push(raw_reading.elapsed());
    }
    let (evaluation, raw_read) = (median(&mut evaluations), median(&mut raw_reads));

    // The access report of one subject with many events.
    let busy = filler
        .create_subject(
            &integritet_app::vault::Actor::system("bench"),
            busy_subject(args.events),
        )
        .await?;
    let mut reports = Vec::new();
    for _ in 0..20 {
        let making = Instant::now();
        let report = tomorrow
            .access_report(&integritet_app::vault::Actor::system("bench"), busy)
            .await?;
        reports.push(making.elapsed());
        anyhow::ensure!(!report.values.is_empty(), "the report holds the values");
    }
    let mut raw_reports = Vec::new();
    for _ in 0..20 {
        let reading = Instant::now();
        raw_read_subject(&file, busy.as_bytes())?;
        raw_reports.push(reading.elapsed());
    }

    // Erasure: ten years on every subject is due. The baseline erases a copy of the same file.
    let copy = dir.path().join("baseline.db");
    store.backup_to(&copy).await?;
    let later = vault_at(store.clone(), START + time::Duration::days(3_660))?;
    let erasing = Instant::now();
    let done = later
        .sweep(
            &integritet_app::vault::Actor::system("bench"),
            false,
            false,
            None,
            &|_| {},
        )
        .await?;
    let erasure = erasing.elapsed();
    anyhow::ensure!(
        done.subjects_erased == n + 1,
        "ten years on every subject goes: {done:?}"
    );
    // The index entries left over are removed by the store's writer once it is idle.
    let cleaning = Instant::now();
    while sqlite.index_cleanup_waiting().await? {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let cleanup = cleaning.elapsed();
    anyhow::ensure!(
        store.counts().await?.index_entries == 0,
        "after the cleanup no index entry is left"
    );
    let raw_erasing = Instant::now();
    let raw_erased = raw_erase_all(&copy)?;
    let raw_erasure = raw_erasing.elapsed();
    let raw_cleaning = Instant::now();
    raw_clean_index(&copy)?;
    let raw_cleanup = raw_cleaning.elapsed();

    println!();
    println!(
        "{:<44}{:>16}{:>16}{:>8}",
        "", "integritet", "SQLite (C)", "ratio"
    );
    row(
        "sweep evaluation, subjects/s (median of 3)",
        per_second(n, evaluation),
        per_second(raw_rows, raw_read),
    );
    row(
        "sweep erasure, subjects/s",
        per_second(n + 1, erasure),
        per_second(raw_erased, raw_erasure),
    );
    println!(
        "{:<44}{:>15.1}s{:>15.1}s",
        format!("erasing all {} subjects", n + 1),
        erasure.as_secs_f64(),
        raw_erasure.as_secs_f64()
    );
    println!(
        "{:<44}{:>15.1}s{:>15.1}s",
        "then removing their index entries",
        cleanup.as_secs_f64(),
        raw_cleanup.as_secs_f64()
    );
    let (report_median, raw_median) = (median(&mut reports), median(&mut raw_reports));
    println!(
        "{:<44}{:>14.1}ms{:>14.1}ms{:>8.1}",
        format!("access report, {} events (median of 20)", args.events),
        ms(report_median),
        ms(raw_median),
        ms(report_median) / ms(raw_median).max(f64::MIN_POSITIVE)
    );
    Ok(())
}

/// A vault over the same store and keys whose clock stands at `at`.
fn vault_at(store: Arc<dyn Store>, at: time::OffsetDateTime) -> anyhow::Result<Vault> {
    Ok(Vault::new(
        store,
        Arc::new(setup::policy()?),
        setup::keys(),
        Arc::new(FixedClock(at)),
        Box::new(StdRng::seed_from_u64(13)),
    ))
}

/// A customer with `events` purchases and support contacts over the past two years.
fn busy_subject(events: usize) -> NewSubjectInput {
    let value = |category: &str, value: &str, purpose: &str| NewValue {
        category: category.into(),
        value: PersonalValue::new(value),
        provenance: Provenance::Provided,
        purposes: vec![purpose.into(), "bookkeeping".into()],
        collected_at: None,
    };
    NewSubjectInput {
        kind: SubjectKind::Person,
        values: vec![
            value("name", "Frekvent Kund", "purchase"),
            value("customer_number", "K-990001", "purchase"),
            value("order_history", "Order 1: GPS-tracker", "purchase"),
        ],
        activities: (0..events)
            .map(|k| NewActivity {
                kind: if k % 3 == 0 {
                    "support_contact"
                } else {
                    "purchase"
                }
                .into(),
                at: START - time::Duration::minutes(i64::try_from(k).unwrap_or(0) * 97),
            })
            .collect(),
    }
}

/// A connection with the store's own settings for its writer.
fn open_raw(file: &Path) -> anyhow::Result<rusqlite::Connection> {
    let conn = rusqlite::Connection::open(file)?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = NORMAL;
         PRAGMA foreign_keys = ON;
         PRAGMA mmap_size = 1073741824;
         PRAGMA cache_size = -32768;
         PRAGMA temp_store = memory;",
    )?;
    Ok(conn)
}

/// Every subject's rows in id order, a page at a time by one range scan per table: the
/// limit of any sweep.
fn raw_read_all(file: &Path) -> anyhow::Result<u64> {
    let conn = open_raw(file)?;
    let mut after: Vec<u8> = Vec::new();
    let mut subjects = 0;
    loop {
        let tx = conn.unchecked_transaction()?;
        let ids: Vec<Vec<u8>> = tx
            .prepare_cached("SELECT id FROM subjects WHERE id > ?1 ORDER BY id LIMIT ?2")?
            .query_map((after.as_slice(), RAW_BATCH as i64), |row| row.get(0))?
            .collect::<Result<_, _>>()?;
        let Some(last) = ids.last() else { break };
        for sql in [
            "SELECT id, kind, created_at, wrapped_key, restricted FROM subjects
             WHERE id > ?1 AND id <= ?2 ORDER BY id",
            "SELECT subject_id, id, category, ciphertext, provenance, collected_at, purposes,
                    policy_version
             FROM subject_values WHERE subject_id > ?1 AND subject_id <= ?2
             ORDER BY subject_id, id",
            "SELECT subject_id, kind, at FROM activities
             WHERE subject_id > ?1 AND subject_id <= ?2 ORDER BY subject_id, rowid",
            "SELECT subject_id, purpose, at FROM objections
             WHERE subject_id > ?1 AND subject_id <= ?2 ORDER BY subject_id, purpose",
        ] {
            let mut stmt = tx.prepare_cached(sql)?;
            let columns = stmt.column_count();
            let mut found = stmt.query((after.as_slice(), last.as_slice()))?;
            // Every column taken, as the store takes it (its bytes or its text).
            while let Some(row) = found.next()? {
                for column in 0..columns {
                    match row.get_ref(column)? {
                        rusqlite::types::ValueRef::Text(text) => {
                            std::hint::black_box(std::str::from_utf8(text)?);
                        }
                        other => {
                            std::hint::black_box(other);
                        }
                    }
                }
            }
        }
        subjects += ids.len() as u64;
        after.clone_from(last);
        tx.commit()?;
    }
    Ok(subjects)
}

fn read_rows(conn: &rusqlite::Connection, id: &[u8]) -> anyhow::Result<usize> {
    let mut rows = 0;
    for sql in [
        "SELECT kind, created_at, wrapped_key, restricted FROM subjects WHERE id = ?1",
        "SELECT id, category, ciphertext, provenance, collected_at, purposes, policy_version
         FROM subject_values WHERE subject_id = ?1 ORDER BY id",
        "SELECT kind, at FROM activities WHERE subject_id = ?1 ORDER BY rowid",
        "SELECT purpose, at FROM objections WHERE subject_id = ?1 ORDER BY purpose",
    ] {
        let mut stmt = conn.prepare_cached(sql)?;
        let mut found = stmt.query([id])?;
        while let Some(row) = found.next()? {
            let _: rusqlite::types::ValueRef<'_> = row.get_ref(0)?;
            rows += 1;
        }
    }
    Ok(rows)
}

/// One subject's rows and its disclosures: what an access report reads.
fn raw_read_subject(file: &Path, id: &[u8]) -> anyhow::Result<usize> {
    let conn = open_raw(file)?;
    let mut rows = read_rows(&conn, id)?;
    let mut stmt = conn.prepare_cached(
        "SELECT seq, detail FROM audit_log WHERE subject_id = ?1 AND action = 'disclosure'",
    )?;
    let mut found = stmt.query([id])?;
    while found.next()?.is_some() {
        rows += 1;
    }
    Ok(rows)
}

/// Every subject deleted (its values, activities and objections by cascade) with its erasure
/// record and its index cleanup noted, a page to a transaction: the limit of any sweep.
fn raw_erase_all(file: &Path) -> anyhow::Result<u64> {
    let mut conn = open_raw(file)?;
    let ids: Vec<Vec<u8>> = conn
        .prepare("SELECT id FROM subjects ORDER BY id")?
        .query_map([], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    for (batch, chunk) in ids.chunks(RAW_BATCH).enumerate() {
        let tx = conn.transaction()?;
        for (k, id) in chunk.iter().enumerate() {
            tx.prepare_cached("DELETE FROM subjects WHERE id = ?1")?
                .execute([id])?;
            tx.prepare_cached(
                "INSERT INTO erasures (subject_id, at, erased, archived, reason)
                 VALUES (?1, ?2, '[\"name\"]', '[]', 'retention')",
            )?
            .execute((id, i64::try_from(batch * RAW_BATCH + k).unwrap_or(0)))?;
            tx.prepare_cached("INSERT INTO index_cleanup (subject_id) VALUES (?1)")?
                .execute([id])?;
        }
        tx.commit()?;
    }
    Ok(ids.len() as u64)
}

/// The erased subjects' index entries removed in one statement and one transaction.
fn raw_clean_index(file: &Path) -> anyhow::Result<()> {
    let mut conn = open_raw(file)?;
    let tx = conn.transaction()?;
    tx.execute(
        "DELETE FROM blind_index NOT INDEXED
         WHERE subject_id IN (SELECT subject_id FROM index_cleanup)",
        [],
    )?;
    tx.execute("DELETE FROM index_cleanup", [])?;
    tx.commit()?;
    Ok(())
}

fn row(label: &str, ours: f64, limit: f64) {
    println!(
        "{label:<44}{ours:>16.0}{limit:>16.0}{:>8.2}",
        ours / limit.max(f64::MIN_POSITIVE)
    );
}

fn per_second(n: u64, took: Duration) -> f64 {
    n as f64 / took.as_secs_f64().max(f64::MIN_POSITIVE)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1_000.0
}

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}
