//! `integritet-bench`: how fast the vault writes, reads, looks up, imports and verifies on
//! SQLite and PostgreSQL, each figure beside a raw baseline measured in the same run on the same
//! backend, so the ratios stay meaningful on a shared, noisy machine.
//!
//! Results and the commands that produced them are recorded in `docs/BENCHMARKS.md`.

// Timing with `std::time::Instant` is the point of this binary; the workspace only forbids
// reading the wall clock (`SystemTime::now`), which nothing here does.

mod baseline;
mod raw;
mod report;
mod run;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use clap::{Parser, ValueEnum};
use integritet_app::store::Store;
use integritet_store_postgres::PostgresStore;
use integritet_store_sqlite::SqliteStore;
use sqlx::{AssertSqlSafe, Connection, PgConnection};

use integritet_bench::limit::Limit;
use integritet_bench::pgurl::{redact, with_database};
use integritet_bench::{data, setup, sys};

use crate::raw::Raw;
use crate::report::{BackendReport, Plan, Report, Row};
use crate::run::Bench;

/// The SQLite store's file in the run's directory.
const SQLITE_FILE: &str = "vault.db";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Backend {
    Sqlite,
    Postgres,
    Both,
}

/// Benchmarks of the vault over SQLite and PostgreSQL, with raw baselines from the same run.
#[derive(Debug, Parser)]
#[command(
    name = "integritet-bench",
    version,
    after_help = "Examples:\n  \
        cargo run --release -p integritet-bench -- --quick\n  \
        cargo run --release -p integritet-bench -- --backend both --label 2026-11-25\n  \
        cargo run --release -p integritet-bench -- --backend postgres --subjects 500000 --json > pg.json"
)]
struct Args {
    /// Which store to measure.
    #[arg(long, value_enum, default_value_t = Backend::Sqlite)]
    backend: Backend,
    /// N, the subjects in the store when lookups are timed [default: 200,000; 20,000 with
    /// --quick]. SQLite at 1,000,000 takes over 20 minutes on 2 cores.
    #[arg(long, value_name = "N")]
    subjects: Option<u64>,
    /// M, the subjects in the generated import file [default: 100,000; 10,000 with --quick].
    #[arg(long, value_name = "M")]
    import_subjects: Option<u64>,
    /// A fast check with small counts (seconds, not minutes).
    #[arg(long)]
    quick: bool,
    /// A PostgreSQL server; the benchmark creates and drops its own database
    /// integritet_bench_<pid> there.
    #[arg(
        long,
        value_name = "URL",
        default_value = "postgres://postgres@127.0.0.1:5432/test"
    )]
    postgres_url: String,
    /// Printed with the results, e.g. the date of the run.
    #[arg(long)]
    label: Option<String>,
    /// Print the results as JSON on stdout (the table goes to stderr).
    #[arg(long)]
    json: bool,
    /// Concurrent tasks for one-by-one creates and for reads.
    #[arg(long, default_value_t = 8, value_name = "TASKS")]
    concurrency: usize,
    /// Directory for the SQLite files and the import file [default: the system temp dir].
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
}

impl Args {
    fn plan(&self) -> Plan {
        let quick = self.quick;
        // 1,000,000 on SQLite takes over 20 minutes here (docs/BENCHMARKS.md), so both
        // backends default to 200,000; give --subjects for more.
        let default_subjects = if quick { 20_000 } else { 200_000 };
        Plan {
            write_batched: if quick { 5_000 } else { 20_000 },
            write_single: if quick { 1_000 } else { 5_000 },
            reads: if quick { 5_000 } else { 20_000 },
            subjects: self.subjects.unwrap_or(default_subjects),
            lookups: if quick { 2_000 } else { 10_000 },
            import: self
                .import_subjects
                .unwrap_or(if quick { 10_000 } else { 100_000 }),
            batch: integritet_app::import::BATCH_SIZE,
            concurrency: self.concurrency.max(1),
        }
    }
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let report = runtime.block_on(run(&args))?;
    if args.json {
        eprint!("{}", report.human());
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.human());
    }
    Ok(())
}

async fn run(args: &Args) -> anyhow::Result<Report> {
    let machine = sys::Machine::read();
    let parent = args.dir.clone().unwrap_or_else(std::env::temp_dir);
    let dir = tempfile::Builder::new()
        .prefix("integritet-bench-")
        .tempdir_in(&parent)
        .with_context(|| format!("cannot create a directory in {}", parent.display()))?;
    let mut report = Report {
        label: args.label.clone(),
        command: std::env::args().collect::<Vec<_>>().join(" "),
        machine,
        build: if cfg!(debug_assertions) {
            "debug (numbers are meaningless: use --release)"
        } else {
            "release"
        },
        backends: Vec::new(),
        reference: Vec::new(),
    };
    if matches!(args.backend, Backend::Sqlite | Backend::Both) {
        report
            .backends
            .push(sqlite(args, dir.path(), &mut report.reference).await?);
    }
    if matches!(args.backend, Backend::Postgres | Backend::Both) {
        report
            .backends
            .push(postgres(args, dir.path(), &mut report.reference).await?);
    }
    Ok(report)
}

/// Runs one backend and, the first time, the reference figures.
async fn measure(
    backend: &'static str,
    store: Arc<dyn Store>,
    (raw, limit): (Raw, Limit),
    plan: Plan,
    dir: &Path,
    reference: &mut Vec<Row>,
    quick: bool,
) -> anyhow::Result<BackendReport> {
    let server = format!(
        "{}; limit: {}",
        raw.server_version().await?,
        limit.describe()
    );
    eprintln!("{backend} ({server})");
    let start = Instant::now();
    let (cpu_before, load_before) = (sys::cpu_seconds(), sys::load_average());
    if reference.is_empty() {
        eprintln!("  reference: AEAD and Vault::prepare");
        let vault = setup::vault_over(store.clone())?;
        let (aead, prepare) = if quick {
            (200_000, 5_000)
        } else {
            (1_000_000, 20_000)
        };
        *reference = run::reference(aead, prepare, &vault)?;
    }
    let bench = Bench {
        store,
        raw: Arc::new(raw),
        limit: Arc::new(limit),
        plan: plan.clone(),
        dir: dir.to_path_buf(),
        store_file: (backend == "sqlite").then(|| dir.join(SQLITE_FILE)),
    };
    let rows = bench.run().await?;
    if let Ok(raw) = Arc::try_unwrap(bench.raw) {
        raw.close().await;
    }
    let cpu_seconds = sys::cpu_seconds()
        .zip(cpu_before)
        .map(|(after, before)| after - before);
    Ok(BackendReport {
        backend,
        server,
        plan,
        rows,
        seconds: start.elapsed().as_secs_f64(),
        cpu_seconds,
        load_before,
        load_after: sys::load_average(),
    })
}

async fn sqlite(
    args: &Args,
    dir: &Path,
    reference: &mut Vec<Row>,
) -> anyhow::Result<BackendReport> {
    let plan = args.plan();
    let store = SqliteStore::open(&dir.join(SQLITE_FILE))
        .await
        .context("cannot open the SQLite store")?;
    let raw = Raw::sqlite(&dir.join("baseline.db"), plan.concurrency).await?;
    let limit = Limit::sqlite(&dir.join("limit.db"), cores())?;
    let result = measure(
        "sqlite",
        Arc::new(store),
        (raw, limit),
        plan,
        dir,
        reference,
        args.quick,
    )
    .await;
    for file in [SQLITE_FILE, "baseline.db", "limit.db"] {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(dir.join(format!("{file}{suffix}")));
        }
    }
    result
}

async fn postgres(
    args: &Args,
    dir: &Path,
    reference: &mut Vec<Row>,
) -> anyhow::Result<BackendReport> {
    let plan = args.plan();
    let mut admin = PgConnection::connect(&args.postgres_url)
        .await
        .with_context(|| {
            format!(
                "cannot connect to PostgreSQL at {}; start it or give --postgres-url",
                redact(&args.postgres_url)
            )
        })?;
    // The name is built from the process id only, so it needs no quoting.
    let database = format!("integritet_bench_{}", std::process::id());
    sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {database}")))
        .execute(&mut admin)
        .await
        .with_context(|| format!("cannot create the database {database}"))?;
    let url = with_database(&args.postgres_url, &database)?;
    let result = async {
        let store = PostgresStore::connect(&url)
            .await
            .context("cannot open the PostgreSQL store")?;
        let raw = Raw::postgres(&url, plan.concurrency).await?;
        let limit = Limit::postgres(&url, cores()).await?;
        measure(
            "postgres",
            Arc::new(store),
            (raw, limit),
            plan,
            dir,
            reference,
            args.quick,
        )
        .await
    }
    .await;
    let dropped = sqlx::query(AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {database} WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await;
    let _ = admin.close().await;
    let report = result?;
    dropped.with_context(|| format!("cannot drop the database {database}"))?;
    Ok(report)
}

/// The cores this process may use: the limits open one connection per core.
fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quick_plan_is_small() {
        let args = Args::parse_from(["integritet-bench", "--quick"]);
        assert_eq!(args.plan().subjects, 20_000);
        let args = Args::parse_from(["integritet-bench"]);
        assert_eq!(args.plan().subjects, 200_000);
        let args = Args::parse_from(["integritet-bench", "--subjects", "1000000"]);
        assert_eq!(args.plan().subjects, 1_000_000);
    }
}
