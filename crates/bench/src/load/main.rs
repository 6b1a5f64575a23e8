//! `integritet-load`: the HTTP server under load. It starts the real server in this process on
//! `127.0.0.1:0` over a fresh store, drives it with keep-alive connections (creates, then
//! reads, a fixed number of each), and measures the vault in process with the same concurrency
//! on another fresh store, so the cost of HTTP shows beside the vault's own and both beside
//! PRODUCT.md's targets.
//!
//! Results and the commands that produced them are recorded in `docs/BENCHMARKS.md`.

// Timing with `std::time::Instant` is the point of this binary; the workspace only forbids
// reading the wall clock (`SystemTime::now`), which nothing here does.

mod drive;
mod report;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail, ensure};
use bytes::Bytes;
use clap::{Parser, ValueEnum};
use hyper::{Method, StatusCode};
use integritet_app::store::Store;
use integritet_app::tokens::{TokenRequest, issue_token};
use integritet_app::vault::{NewSubjectInput, Vault};
use integritet_bench::data::{self, Pick, READ_PURPOSE, START, VALUES_PER_SUBJECT};
use integritet_bench::limit::Limit;
use integritet_bench::pgurl::{redact, with_database};
use integritet_bench::setup::{self, TickingClock};
use integritet_bench::sys;
use integritet_crypto::rand_core::SeedableRng;
use integritet_domain::subject::SubjectId;
use integritet_store_postgres::PostgresStore;
use integritet_store_sqlite::SqliteStore;
use integritet_web::{AppState, Authenticator, StaticTokens, StoreTokens};
use rand::rngs::StdRng;
use sqlx::{AssertSqlSafe, Connection, PgConnection, SqliteConnection};
use tokio::runtime::Handle;

use crate::drive::{Driven, LimitOp, Planned, Target};
use crate::report::{BackendLoad, CREATE_TARGET, LoadReport, Measure, Phase, READ_TARGET};

/// Values of a generated subject that [`READ_PURPOSE`] may read (8 of its 10).
const VALUES_READ: usize = 8;

/// Generator indexes of the warm-up subjects, apart from the measured ones.
const WARM_UP_BASE: u64 = 9_000_000;

/// Name prefix of the load generator's threads, to tell its CPU time from the server's.
const CLIENT_THREADS: &str = "load-client";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Backend {
    Sqlite,
    Postgres,
    Both,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Auth {
    /// A real token issued in the store, checked through `StoreTokens` as in production (its
    /// record cached for up to 2 s).
    Store,
    /// An in-memory token map (no store lookup per request).
    Static,
}

/// Load on the HTTP server (create and read subjects over keep-alive connections), beside the
/// vault called in process with the same concurrency, and beside PRODUCT.md's targets.
#[derive(Debug, Parser)]
#[command(
    name = "integritet-load",
    version,
    after_help = "The server, the load generator and the database share this machine's cores; \
        the table says how much CPU each request cost the server and the generator.\n\n\
        Examples:\n  \
        cargo run --release -p integritet-bench --bin integritet-load -- --quick\n  \
        cargo run --release -p integritet-bench --bin integritet-load -- --backend both --label 2026-11-25\n  \
        cargo run --release -p integritet-bench --bin integritet-load -- --connections 64 --reads 200000\n  \
        cargo run --release -p integritet-bench --bin integritet-load -- --backend postgres --json > load.json"
)]
struct Args {
    /// Which store to serve from.
    #[arg(long, value_enum, default_value_t = Backend::Sqlite)]
    backend: Backend,
    /// Keep-alive HTTP connections (and in-process tasks) at once.
    #[arg(long, default_value_t = 32, value_name = "N",
          value_parser = clap::value_parser!(u16).range(1..=4096))]
    connections: u16,
    /// Subjects created per backend and path [default: 20,000; 2,000 with --quick].
    #[arg(long, value_name = "N")]
    creates: Option<u64>,
    /// Subjects read per backend and path [default: 100,000; 10,000 with --quick].
    #[arg(long, value_name = "N")]
    reads: Option<u64>,
    /// Small counts: a check that everything works, in seconds.
    #[arg(long)]
    quick: bool,
    /// How requests authenticate.
    #[arg(long, value_enum, default_value_t = Auth::Store)]
    auth: Auth,
    /// Worker threads of the server's runtime [default: the CPUs available].
    #[arg(long, value_name = "N")]
    server_threads: Option<usize>,
    /// Worker threads of the load generator's runtime.
    #[arg(long, default_value_t = 1, value_name = "N")]
    client_threads: usize,
    /// A PostgreSQL server; the program creates and drops its own databases
    /// integritet_load_<pid>_<n> there.
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
    /// Directory for the SQLite files [default: the system temp dir].
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
}

/// How much each backend does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Plan {
    connections: usize,
    creates: u64,
    reads: u64,
}

impl Args {
    fn plan(&self) -> Plan {
        Plan {
            connections: usize::from(self.connections),
            creates: self
                .creates
                .unwrap_or(if self.quick { 2_000 } else { 20_000 })
                .max(1),
            reads: self
                .reads
                .unwrap_or(if self.quick { 10_000 } else { 100_000 })
                .max(1),
        }
    }

    fn server_threads(&self) -> usize {
        self.server_threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, usize::from))
            .max(1)
    }
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    match start(&args) {
        Ok(report) => {
            let failed = report
                .backends
                .iter()
                .flat_map(|b| &b.phases)
                .any(|p| p.http.errors > 0 || p.in_process.errors > 0)
                || report
                    .backends
                    .iter()
                    .any(|b| b.audit_entries != b.audit_expected);
            if args.json {
                eprint!("{}", report.human());
                match serde_json::to_string_pretty(&report) {
                    Ok(json) => println!("{json}"),
                    Err(e) => {
                        eprintln!("error: cannot write the report as JSON: {e}");
                        return std::process::ExitCode::FAILURE;
                    }
                }
            } else {
                print!("{}", report.human());
            }
            if failed {
                eprintln!(
                    "error: some operations failed or were not audited; the figures above do not \
                     describe a working server"
                );
                return std::process::ExitCode::FAILURE;
            }
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn start(args: &Args) -> anyhow::Result<LoadReport> {
    let server = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.server_threads())
        .thread_name("integritet-srv")
        .enable_all()
        .build()
        .context("cannot start the server's runtime")?;
    let client = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.client_threads.max(1))
        .thread_name(CLIENT_THREADS)
        .enable_all()
        .build()
        .context("cannot start the load generator's runtime")?;
    let report = server.block_on(run(args, client.handle().clone()));
    // Connections still open on either side end with their runtimes.
    client.shutdown_timeout(Duration::from_secs(5));
    server.shutdown_timeout(Duration::from_secs(5));
    report
}

async fn run(args: &Args, client: Handle) -> anyhow::Result<LoadReport> {
    let plan = args.plan();
    let parent = args.dir.clone().unwrap_or_else(std::env::temp_dir);
    let dir = tempfile::Builder::new()
        .prefix("integritet-load-")
        .tempdir_in(&parent)
        .with_context(|| format!("cannot create a directory in {}", parent.display()))?;
    let mut report = LoadReport {
        label: args.label.clone(),
        command: std::env::args().collect::<Vec<_>>().join(" "),
        machine: sys::Machine::read(),
        build: if cfg!(debug_assertions) {
            "debug (numbers are meaningless: use --release)"
        } else {
            "release"
        },
        connections: plan.connections,
        creates: plan.creates,
        reads: plan.reads,
        auth: match args.auth {
            Auth::Store => "store",
            Auth::Static => "static",
        },
        server_threads: args.server_threads(),
        client_threads: args.client_threads.max(1),
        backends: Vec::new(),
    };
    if matches!(args.backend, Backend::Sqlite | Backend::Both) {
        let mut stores = Stores::Sqlite {
            dir: dir.path().to_path_buf(),
        };
        let result = backend(args, plan, &mut stores, &client).await;
        stores.clean().await;
        report.backends.push(result?);
    }
    if matches!(args.backend, Backend::Postgres | Backend::Both) {
        let admin = PgConnection::connect(&args.postgres_url)
            .await
            .with_context(|| {
                format!(
                    "cannot connect to PostgreSQL at {}; start it or give --postgres-url",
                    redact(&args.postgres_url)
                )
            })?;
        let mut stores = Stores::Postgres {
            admin,
            url: args.postgres_url.clone(),
            created: Vec::new(),
        };
        let result = backend(args, plan, &mut stores, &client).await;
        stores.clean().await;
        report.backends.push(result?);
    }
    Ok(report)
}

/// Where fresh stores come from, and what to remove afterwards.
enum Stores {
    Sqlite {
        dir: PathBuf,
    },
    Postgres {
        admin: PgConnection,
        url: String,
        created: Vec<String>,
    },
}

impl Stores {
    fn name(&self) -> &'static str {
        match self {
            Stores::Sqlite { .. } => "sqlite",
            Stores::Postgres { .. } => "postgres",
        }
    }

    async fn version(&mut self) -> anyhow::Result<String> {
        Ok(match self {
            Stores::Sqlite { .. } => {
                let mut conn = SqliteConnection::connect("sqlite::memory:").await?;
                let v: String = sqlx::query_scalar("SELECT sqlite_version()")
                    .fetch_one(&mut conn)
                    .await?;
                let _ = conn.close().await;
                format!("SQLite {v}")
            }
            Stores::Postgres { admin, .. } => {
                let v: String = sqlx::query_scalar("SHOW server_version")
                    .fetch_one(&mut *admin)
                    .await?;
                format!("PostgreSQL {v}")
            }
        })
    }

    /// A new, empty store named `name` (a file, or a database).
    async fn open(&mut self, name: &str) -> anyhow::Result<Arc<dyn Store>> {
        Ok(match self {
            Stores::Sqlite { dir } => Arc::new(
                SqliteStore::open(&dir.join(format!("{name}.db")))
                    .await
                    .context("cannot open the SQLite store")?,
            ),
            Stores::Postgres {
                admin,
                url,
                created,
            } => {
                // Built from the process id and a fixed word only, so it needs no quoting.
                let database = format!("integritet_load_{}_{name}", std::process::id());
                sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {database}")))
                    .execute(&mut *admin)
                    .await
                    .with_context(|| format!("cannot create the database {database}"))?;
                created.push(database.clone());
                Arc::new(
                    PostgresStore::connect(&with_database(url, &database)?)
                        .await
                        .context("cannot open the PostgreSQL store")?,
                )
            }
        })
    }

    /// A fresh database for the limit's tables.
    async fn limit(&mut self) -> anyhow::Result<Limit> {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        match self {
            Stores::Sqlite { dir } => Limit::sqlite(&dir.join("limit.db"), cores),
            Stores::Postgres {
                admin,
                url,
                created,
            } => {
                let database = format!("integritet_load_{}_limit", std::process::id());
                sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {database}")))
                    .execute(&mut *admin)
                    .await
                    .with_context(|| format!("cannot create the database {database}"))?;
                created.push(database.clone());
                Limit::postgres(&with_database(url, &database)?, cores).await
            }
        }
    }

    /// Removes what [`Stores::open`] and [`Stores::limit`] made.
    async fn clean(self) {
        match self {
            Stores::Sqlite { dir } => {
                for name in ["http", "vault", "limit"] {
                    for suffix in ["", "-wal", "-shm"] {
                        let _ = std::fs::remove_file(dir.join(format!("{name}.db{suffix}")));
                    }
                }
            }
            Stores::Postgres {
                mut admin, created, ..
            } => {
                for database in created {
                    let dropped = sqlx::query(AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {database} WITH (FORCE)"
                    )))
                    .execute(&mut admin)
                    .await;
                    if let Err(e) = dropped {
                        eprintln!("warning: cannot drop the database {database}: {e}");
                    }
                }
                let _ = admin.close().await;
            }
        }
    }
}

/// CPU time used so far: by the whole process, and by the load generator's threads.
#[derive(Debug, Clone, Copy)]
struct Cpu {
    process: Option<f64>,
    client: Option<f64>,
}

impl Cpu {
    fn now() -> Cpu {
        Cpu {
            process: sys::cpu_seconds(),
            client: sys::thread_cpu_seconds(CLIENT_THREADS),
        }
    }
}

/// A phase's figures from what was driven and the CPU used meanwhile.
fn measure(driven: &Driven, operations: u64, before: Cpu, after: Cpu, http: bool) -> Measure {
    let per_op = |seconds: f64| seconds * 1e6 / operations.max(1) as f64;
    let process = after.process.zip(before.process).map(|(a, b)| a - b);
    let client = after.client.zip(before.client).map(|(a, b)| a - b);
    let ms = |us: u64| us as f64 / 1e3;
    let seconds = driven.elapsed.as_secs_f64();
    Measure {
        operations,
        errors: driven.errors,
        seconds,
        per_s: operations as f64 / seconds.max(1e-9),
        p50_ms: ms(driven.latency.value_at_quantile(0.50)),
        p99_ms: ms(driven.latency.value_at_quantile(0.99)),
        max_ms: ms(driven.latency.max()),
        server_cpu_us: match (process, client) {
            (Some(p), Some(c)) => Some(per_op((p - c).max(0.0))),
            (Some(p), None) => Some(per_op(p)),
            _ => None,
        },
        client_cpu_us: if http { client.map(per_op) } else { None },
    }
}

/// Fails with the first error when a preparatory step did not work.
fn all_ok(driven: &Driven, what: &str) -> anyhow::Result<()> {
    if driven.errors > 0 {
        bail!(
            "{what}: {} operations failed; the first: {}",
            driven.errors,
            driven.first_error.as_deref().unwrap_or("?")
        );
    }
    Ok(())
}

fn create_plan(range: std::ops::Range<u64>) -> anyhow::Result<Vec<Planned>> {
    range
        .map(|i| {
            Ok(Planned {
                method: Method::POST,
                path: "/api/v1/subjects".into(),
                body: Some(Bytes::from(serde_json::to_vec(&data::json_line(i)?)?)),
                expect: StatusCode::CREATED,
            })
        })
        .collect()
}

fn read_plan(ids: &[SubjectId]) -> Vec<Planned> {
    ids.iter()
        .map(|id| Planned {
            method: Method::GET,
            path: format!("/api/v1/subjects/{id}?purpose={READ_PURPOSE}"),
            body: None,
            expect: StatusCode::OK,
        })
        .collect()
}

/// `count` subjects picked at random (with repeats) from `ids`.
fn pick(ids: &[SubjectId], count: u64, seed: u64) -> Vec<SubjectId> {
    let mut pick = Pick::new(seed);
    (0..count)
        .filter_map(|_| {
            let i = usize::try_from(pick.below(ids.len() as u64)).ok()?;
            ids.get(i).copied()
        })
        .collect()
}

/// Runs `plan` over HTTP on the load generator's runtime.
async fn over_http(
    client: &Handle,
    target: &Target,
    connections: usize,
    plan: Vec<Planned>,
    keep: bool,
) -> anyhow::Result<(Driven, Vec<Bytes>)> {
    let target = target.clone();
    let plan = Arc::new(plan);
    client
        .spawn(async move { drive::http(&target, connections, plan, keep).await })
        .await
        .context("the load generator stopped")?
}

/// The authenticator and the bearer token the load presents.
async fn authentication(
    auth: Auth,
    store: &Arc<dyn Store>,
    vault: &Vault,
) -> anyhow::Result<(Arc<dyn Authenticator>, String, u64)> {
    Ok(match auth {
        Auth::Store => {
            let (_, secret) = issue_token(
                store.as_ref(),
                vault.record_key(),
                vault.now(),
                &mut StdRng::seed_from_u64(5),
                "integritet-load",
                TokenRequest {
                    role: "support".into(),
                    label: Some("load benchmark".into()),
                    expires_in: None,
                },
                vault.policy(),
            )
            .await
            .context("cannot issue a token")?;
            let clock = Arc::new(TickingClock::new(START));
            (
                Arc::new(StoreTokens::new(
                    store.clone(),
                    vault.record_key().clone(),
                    clock,
                    vault.policy().version.to_string(),
                )),
                secret.expose().to_owned(),
                1,
            )
        }
        Auth::Static => {
            let token = "load-benchmark-token";
            (
                Arc::new(StaticTokens::new().with(token, "load", "support")),
                token.to_owned(),
                0,
            )
        }
    })
}

/// One backend: the HTTP phases on one fresh store, the in-process phases on another.
async fn backend(
    args: &Args,
    plan: Plan,
    stores: &mut Stores,
    client: &Handle,
) -> anyhow::Result<BackendLoad> {
    let name = stores.name();
    let server_version = stores.version().await?;
    eprintln!("{name} ({server_version})");
    let conns = plan.connections;
    let warm = conns as u64;

    // Over HTTP.
    let store = stores.open("http").await?;
    let vault = Arc::new(setup::vault_over(store.clone())?);
    let (authenticator, bearer, token_entries) = authentication(args.auth, &store, &vault).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .context("cannot listen on 127.0.0.1")?;
    let target = Target {
        addr: listener.local_addr()?,
        bearer,
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(integritet_web::serve(
        listener,
        AppState::new(vault.clone(), authenticator),
        async move {
            let _ = stopped.await;
        },
    ));

    eprintln!("  HTTP: warming up");
    let warm_range = WARM_UP_BASE..WARM_UP_BASE + warm;
    let (driven, bodies) = over_http(
        client,
        &target,
        conns,
        create_plan(warm_range.clone())?,
        true,
    )
    .await?;
    all_ok(&driven, "warm-up creates")?;
    let warm_ids = bodies
        .iter()
        .map(|body| drive::created_id(body))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let (driven, bodies) = over_http(client, &target, conns, read_plan(&warm_ids), true).await?;
    all_ok(&driven, "warm-up reads")?;
    check_read(bodies.first().map_or(&[][..], |b| &b[..]))?;

    eprintln!("  HTTP: {} creates", plan.creates);
    let creates = create_plan(0..plan.creates)?;
    let before = Cpu::now();
    let (driven, bodies) = over_http(client, &target, conns, creates, true).await?;
    let http_create = measure(&driven, plan.creates, before, Cpu::now(), true);
    let http_create_error = driven.first_error;
    let ids: Vec<SubjectId> = bodies
        .iter()
        .filter(|body| !body.is_empty())
        .map(|body| drive::created_id(body))
        .collect::<anyhow::Result<_>>()?;
    ensure!(
        !ids.is_empty(),
        "no create over HTTP succeeded: {}",
        http_create_error.as_deref().unwrap_or("?")
    );

    eprintln!("  HTTP: {} reads", plan.reads);
    let reads = read_plan(&pick(&ids, plan.reads, 17));
    let before = Cpu::now();
    let (driven, _) = over_http(client, &target, conns, reads, false).await?;
    let http_read = measure(&driven, plan.reads, before, Cpu::now(), true);
    let http_read_error = driven.first_error;

    let _ = stop.send(());
    match tokio::time::timeout(Duration::from_secs(10), server).await {
        Ok(Ok(Ok(()))) => {}
        Ok(Ok(Err(e))) => bail!("the server failed: {e}"),
        Ok(Err(e)) => bail!("the server task failed: {e}"),
        Err(_) => eprintln!("  (the server took over 10 s to stop; going on)"),
    }
    let audit_entries = store
        .counts()
        .await
        .context("cannot count the audit entries")?
        .audit_entries;
    let audit_expected = token_entries
        + 2 * warm
        + (plan.creates - http_create.errors)
        + (plan.reads - http_read.errors);
    drop(vault);
    drop(store);

    // In process, on a fresh store.
    let store = stores.open("vault").await?;
    let vault = Arc::new(setup::vault_over(store.clone())?);
    let actor = setup::support();
    eprintln!("  in process: warming up");
    let inputs = subjects(warm_range)?;
    let (driven, warm_ids) =
        drive::create_in_process(&vault, &actor, conns, Arc::new(inputs)).await?;
    all_ok(&driven, "warm-up creates in process")?;
    let warm_ids: Vec<SubjectId> = warm_ids.into_iter().flatten().collect();
    let driven =
        drive::read_in_process(&vault, &actor, conns, Arc::new(warm_ids), VALUES_READ).await?;
    all_ok(&driven, "warm-up reads in process")?;

    eprintln!("  in process: {} creates", plan.creates);
    let inputs = Arc::new(subjects(0..plan.creates)?);
    let before = Cpu::now();
    let (driven, created) = drive::create_in_process(&vault, &actor, conns, inputs).await?;
    let vault_create = measure(&driven, plan.creates, before, Cpu::now(), false);
    let vault_create_error = driven.first_error;
    let created: Vec<SubjectId> = created.into_iter().flatten().collect();
    ensure!(
        !created.is_empty(),
        "no create in process succeeded: {}",
        vault_create_error.as_deref().unwrap_or("?")
    );

    eprintln!("  in process: {} reads", plan.reads);
    let picked = Arc::new(pick(&created, plan.reads, 17));
    let before = Cpu::now();
    let driven = drive::read_in_process(&vault, &actor, conns, picked, VALUES_READ).await?;
    let vault_read = measure(&driven, plan.reads, before, Cpu::now(), false);
    let vault_read_error = driven.first_error;

    drop(vault);
    drop(store);

    // The database's own limit for the same rows, on a third fresh database.
    let limit = Arc::new(stores.limit().await?);
    eprintln!(
        "  db limit ({}): {} creates",
        limit.describe(),
        plan.creates
    );
    let indexes: Arc<Vec<u64>> = Arc::new((0..plan.creates).collect());
    let before = Cpu::now();
    let driven = drive::at_limit(&limit, LimitOp::Create, conns, indexes).await?;
    let limit_create = measure(&driven, plan.creates, before, Cpu::now(), false);
    all_ok(&driven, "creates at the limit")?;
    eprintln!("  db limit: {} reads", plan.reads);
    let mut picker = Pick::new(17);
    let indexes: Arc<Vec<u64>> = Arc::new(
        (0..plan.reads)
            .map(|_| picker.below(plan.creates.max(1)))
            .collect(),
    );
    let before = Cpu::now();
    let driven = drive::at_limit(&limit, LimitOp::Read, conns, indexes).await?;
    let limit_read = measure(&driven, plan.reads, before, Cpu::now(), false);
    all_ok(&driven, "reads at the limit")?;
    let limit_is = limit.describe();
    drop(limit);

    for (what, error) in [
        ("HTTP create", http_create_error),
        ("HTTP read", http_read_error),
        ("in-process create", vault_create_error),
        ("in-process read", vault_read_error),
    ] {
        if let Some(error) = error {
            eprintln!("  first failure of {what}: {error}");
        }
    }

    Ok(BackendLoad {
        backend: name,
        server: server_version,
        phases: vec![
            Phase::new(
                "create",
                "POST /api/v1/subjects: 10 values encrypted, 4 blind indexes, audited".into(),
                http_create,
                vault_create,
                CREATE_TARGET,
            )
            .with_limit(
                limit_create,
                format!(
                    "INSERT of one subject's {VALUES_PER_SUBJECT} value rows per transaction; {limit_is}"
                ),
            ),
            Phase::new(
                "read",
                format!(
                    "GET /api/v1/subjects/{{id}}?purpose={READ_PURPOSE}: 8 values decrypted, \
                     audited before the answer"
                ),
                http_read,
                vault_read,
                READ_TARGET,
            )
            .with_limit(
                limit_read,
                format!(
                    "SELECT of one subject's {VALUES_PER_SUBJECT} value rows by primary key, then a 400-byte audit row committed (group-committed and flushed on SQLite); {limit_is}"
                ),
            ),
        ],
        audit_entries,
        audit_expected,
    })
}

fn subjects(range: std::ops::Range<u64>) -> anyhow::Result<Vec<NewSubjectInput>> {
    range.map(data::subject).collect()
}

/// A read's answer holds the subject's values for the purpose, in clear.
fn check_read(body: &[u8]) -> anyhow::Result<()> {
    let view: serde_json::Value =
        serde_json::from_slice(body).context("a read's answer is not JSON")?;
    let values = view
        .get("values")
        .and_then(serde_json::Value::as_array)
        .map_or(0, Vec::len);
    ensure!(
        values == VALUES_READ,
        "a read over HTTP returned {values} values instead of {VALUES_READ}"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_quick() {
        let args = Args::parse_from(["integritet-load"]);
        assert_eq!(args.backend, Backend::Sqlite);
        assert_eq!(args.auth, Auth::Store);
        assert_eq!(
            args.plan(),
            Plan {
                connections: 32,
                creates: 20_000,
                reads: 100_000
            }
        );
        let args = Args::parse_from(["integritet-load", "--quick", "--backend", "both"]);
        assert_eq!(args.backend, Backend::Both);
        assert_eq!(args.plan().creates, 2_000);
        assert_eq!(args.plan().reads, 10_000);
    }

    #[test]
    fn counts_and_connections_are_taken() {
        let args = Args::parse_from([
            "integritet-load",
            "--quick",
            "--connections",
            "64",
            "--creates",
            "500",
            "--reads",
            "7000",
            "--auth",
            "static",
            "--server-threads",
            "3",
        ]);
        assert_eq!(
            args.plan(),
            Plan {
                connections: 64,
                creates: 500,
                reads: 7000
            }
        );
        assert_eq!(args.auth, Auth::Static);
        assert_eq!(args.server_threads(), 3);
    }

    #[test]
    fn bad_usage_is_refused() {
        for bad in [
            &["integritet-load", "--connections", "0"][..],
            &["integritet-load", "--backend", "mysql"],
            &["integritet-load", "--reads", "many"],
            &["integritet-load", "--auth", "none"],
        ] {
            assert!(Args::try_parse_from(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn reads_pick_only_created_subjects() {
        let ids: Vec<SubjectId> = (0..10u8)
            .map(|i| SubjectId::from_parts(1, [i; 10]))
            .collect();
        let picked = pick(&ids, 1000, 17);
        assert_eq!(picked.len(), 1000);
        assert!(picked.iter().all(|id| ids.contains(id)));
        // Every subject is read at least once in 1000 picks of 10.
        assert!(ids.iter().all(|id| picked.contains(id)));
    }

    #[test]
    fn read_answers_are_checked() {
        let view = serde_json::json!({"values": [1, 2, 3, 4, 5, 6, 7, 8]}).to_string();
        assert!(check_read(view.as_bytes()).is_ok());
        let short = serde_json::json!({"values": [1]}).to_string();
        assert!(check_read(short.as_bytes()).is_err());
        assert!(check_read(b"not json").is_err());
    }

    #[test]
    fn create_bodies_are_subjects() {
        let plan = create_plan(3..5).unwrap();
        assert_eq!(plan.len(), 2);
        let body: NewSubjectInput = serde_json::from_slice(plan[0].body.as_ref().unwrap()).unwrap();
        assert_eq!(body, data::subject(3).unwrap());
        assert_eq!(plan[0].expect, StatusCode::CREATED);
    }
}
