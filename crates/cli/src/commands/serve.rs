//! `integritet serve`: the HTTP API over the vault, until Ctrl-C or SIGTERM.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use integritet_app::audit_log;
use integritet_app::import::{self, ImportFormat};
use integritet_app::store::Store;
use integritet_app::tokens::{self, TokenRequest};
use integritet_app::vault::{Actor, Vault};
use integritet_crypto::{ArchiveKeyFile, AuditSigningKey};
use integritet_domain::Clock;
use integritet_domain::clock::SystemClock;
use integritet_domain::policy::lint::{self, Severity};
use integritet_web::{AppState, Metrics, ServeLimits, StoreTokens, Tls};

use super::context::{StoreArgs, os_rng, runtime};

/// The example shop's policy and fictional customers, built in so `serve --demo` needs no files.
const DEMO_POLICY: &str = include_str!("../../../../examples/seed-shop/policy.toml");
const DEMO_CUSTOMERS: &str = include_str!("../../../../examples/seed-shop/demo-customers.jsonl");

/// Who the server acts as when it prepares itself (admin token, policy record, demo data).
fn server_actor() -> Actor {
    Actor::system("serve")
}

pub fn run(
    store_args: &StoreArgs,
    listen: SocketAddr,
    tls: Option<&(PathBuf, PathBuf)>,
    sweep_at: SweepAt,
    public_url: Option<&str>,
) -> anyhow::Result<ExitCode> {
    init_logs();
    if let Some(refused) = policy_with_errors(store_args)? {
        let _ = writeln!(std::io::stderr(), "{refused}");
        return Ok(ExitCode::from(2));
    }
    // Before anything is opened: a certificate that does not load stops the start at once.
    let tls = match tls {
        Some((cert, key)) => match Tls::from_pem_files(cert, key) {
            Ok(tls) => Some(tls),
            Err(problem) => {
                let _ = writeln!(std::io::stderr(), "error: {problem}");
                return Ok(ExitCode::from(2));
            }
        },
        None => None,
    };
    runtime()?.block_on(async {
        let admin_token_file = store_args.data_dir.join(ADMIN_TOKEN_FILE);
        let (store, vault) = store_args.open_store_and_vault().await?;
        let vault = Arc::new(vault);
        prepare(&store, &vault, &admin_token_file, &mut std::io::stdout()).await?;
        // Today's archive job before the first request, then one after every midnight.
        let archive_file = store_args.archive_key_file();
        archive_job(&vault, &archive_file)
            .await
            .context("cannot shred the archive entries due today")?;
        tokio::spawn(archive_daily(vault.clone(), archive_file.clone()));
        if let SweepAt::At(at) = sweep_at {
            tracing::info!(at = %at, "the retention sweep runs daily at this time (UTC)");
            tokio::spawn(sweep_daily(vault.clone(), store.clone(), archive_file, at));
        }
        let signing = store_args.audit_signing_key()?;
        serve(store, vault, listen, signing, tls, public_url).await
    })
}

/// The policy's errors as `policy check` prints them, and why the server will not start, when
/// it has any: a server must not enforce a policy the law finds fault with.
fn policy_with_errors(store: &StoreArgs) -> anyhow::Result<Option<String>> {
    let path = store.policy_path()?;
    let loaded = super::load_policy(path)?;
    let file = path.display().to_string();
    let errors: Vec<String> = lint::check(&loaded)
        .iter()
        .filter(|finding| finding.severity == Severity::Error)
        .map(|finding| super::policy_check::finding_line(&file, finding))
        .collect();
    if errors.is_empty() {
        return Ok(None);
    }
    Ok(Some(format!(
        "{}\nerror: the policy {file} has {} error{} (above, as `integritet policy check {file}` \
         reports them); the server does not start on it: correct the policy and start again",
        errors.join("\n"),
        errors.len(),
        if errors.len() == 1 { "" } else { "s" }
    )))
}

/// `serve --demo`: a throwaway data directory with the example policy and customers.
pub fn demo(listen: SocketAddr) -> anyhow::Result<ExitCode> {
    init_logs();
    let dir = tempfile::Builder::new()
        .prefix("integritet-demo-")
        .tempdir()
        .context("cannot create a temporary directory for the demo")?;
    let policy_path = dir.path().join("policy.toml");
    std::fs::write(&policy_path, DEMO_POLICY).context("cannot write the demo policy")?;
    let store = StoreArgs {
        data_dir: dir.path().join("data"),
        database_url: None,
        key_dir: None,
        policy: Some(policy_path),
    };
    std::fs::create_dir_all(&store.data_dir).context("cannot create the demo data directory")?;
    let signing = store.audit_signing_key()?;
    runtime()?.block_on(async {
        let admin_token_file = store.data_dir.join(ADMIN_TOKEN_FILE);
        let (store, vault) = store.open_store_and_vault().await?;
        let vault = Arc::new(vault);
        let mut out = std::io::stdout();
        prepare(&store, &vault, &admin_token_file, &mut out).await?;
        let summary = import::import(
            &vault,
            &server_actor(),
            ImportFormat::JsonLines,
            DEMO_CUSTOMERS.as_bytes(),
            |_, _| {},
        )
        .await
        .context("cannot load the demo customers")?;
        anyhow::ensure!(
            summary.rejected == 0,
            "the built-in demo customers were rejected: {:?}",
            summary.errors
        );
        let mut rng = os_rng()?;
        writeln!(
            out,
            "demo: {} fictional customers in {} (deleted on exit); tokens, one per role:",
            summary.imported,
            dir.path().display()
        )?;
        for role in vault.policy().policy.roles.keys() {
            let (_, secret) = tokens::issue_token(
                store.as_ref(),
                vault.record_key(),
                SystemClock.now(),
                &mut rng,
                &server_actor().id(),
                TokenRequest {
                    role: role.clone(),
                    label: Some("demo".into()),
                    expires_in: None,
                },
                vault.policy(),
            )
            .await?;
            writeln!(out, "  {role:<10} {}", secret.expose())?;
        }
        out.flush()?;
        let code = serve(store, vault, listen, signing, None, None).await;
        drop(dir);
        code
    })
}

/// Shreds the archive entries due and moves the archive key ratchet to today.
async fn archive_job(vault: &Vault, file: &ArchiveKeyFile) -> anyhow::Result<()> {
    let (shredded, day) = vault
        .shred_and_advance_archive(&Actor::system("archive"), file)
        .await?;
    tracing::info!(shredded, %day, "archive shredded up to today; the keys of earlier days are destroyed");
    Ok(())
}

/// The archive job after every midnight (UTC) for as long as the server runs. A failed run is
/// logged and tried again an hour later.
async fn archive_daily(vault: Arc<Vault>, file: ArchiveKeyFile) {
    loop {
        tokio::time::sleep(until_next_day(SystemClock.now())).await;
        while let Err(error) = archive_job(&vault, &file).await {
            tracing::error!(error = %format!("{error:#}"), "the daily archive job failed; trying again in an hour");
            tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
        }
    }
}

/// When the server sweeps: daily at a time of day (UTC), or never.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SweepAt {
    At(time::Time),
    Off,
}

/// `--sweep-at`: `HH:MM`, `HH:MM:SS` or `off`.
pub fn parse_sweep_at(text: &str) -> Result<SweepAt, String> {
    if text.eq_ignore_ascii_case("off") {
        return Ok(SweepAt::Off);
    }
    let long = time::macros::format_description!("[hour]:[minute]:[second]");
    let short = time::macros::format_description!("[hour]:[minute]");
    time::Time::parse(text, long)
        .or_else(|_| time::Time::parse(text, short))
        .map(SweepAt::At)
        .map_err(|_| format!("{text:?} is no time of day: write HH:MM (UTC) such as 03:00, or off"))
}

/// The name the sweep goes by as a daily job of the store.
const SWEEP_JOB: &str = "retention_sweep";

/// The retention sweep at `at` every day for as long as the server runs, by this server
/// unless another sharing the store has it or has done it today. A failed run is logged and
/// tried again an hour later.
async fn sweep_daily(
    vault: Arc<Vault>,
    store: Arc<dyn Store>,
    file: ArchiveKeyFile,
    at: time::Time,
) {
    loop {
        tokio::time::sleep(until_next(SystemClock.now(), at)).await;
        while let Err(error) = sweep_job(&vault, store.as_ref(), &file).await {
            tracing::error!(error = %format!("{error:#}"), "the daily retention sweep failed; trying again in an hour");
            tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
        }
    }
}

async fn sweep_job(vault: &Vault, store: &dyn Store, file: &ArchiveKeyFile) -> anyhow::Result<()> {
    let today = SystemClock.today();
    let Some(job) = store.take_daily_job(SWEEP_JOB, today).await? else {
        tracing::info!(%today, "the retention sweep of today is another server's, or done");
        return Ok(());
    };
    let report = vault
        .sweep(&Actor::system("sweep"), false, false, Some(file), &|_| {})
        .await?;
    job.done().await?;
    tracing::info!(
        %today,
        subjects = report.subjects_evaluated,
        erased = report.subjects_erased,
        trimmed = report.subjects_trimmed,
        held = report.subjects_held,
        archived = report.values_archived,
        shredded = report.archive_entries_shredded,
        "retention sweep done"
    );
    Ok(())
}

/// How long from `now` until the next `at` (UTC) after it.
fn until_next(now: time::OffsetDateTime, at: time::Time) -> std::time::Duration {
    let now = now.to_offset(time::UtcOffset::UTC);
    let today = now.date().with_time(at).assume_utc();
    let next = if today > now {
        today
    } else {
        today + time::Duration::DAY
    };
    std::time::Duration::try_from(next - now).unwrap_or(std::time::Duration::from_secs(3600))
}

/// How long from `now` until a second past the next midnight (UTC).
fn until_next_day(now: time::OffsetDateTime) -> std::time::Duration {
    let now = now.to_offset(time::UtcOffset::UTC);
    let next = now
        .date()
        .next_day()
        .map_or(now + time::Duration::DAY, |day| day.midnight().assume_utc());
    let wait = next - now + time::Duration::SECOND;
    std::time::Duration::try_from(wait).unwrap_or(std::time::Duration::from_secs(3600))
}

/// Where the first start leaves the administrator token, inside the data directory.
const ADMIN_TOKEN_FILE: &str = "admin-token";

/// Records the policy version in force and, on a store without a usable administrator token,
/// issues one and writes it to `admin_token_file` (mode 0600). Only the file's path is printed:
/// a secret on stdout ends up in the system journal.
async fn prepare(
    store: &Arc<dyn Store>,
    vault: &Vault,
    admin_token_file: &Path,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    // The first use of a policy version is recorded with its text (and audited).
    vault.activate_policy(&server_actor()).await?;
    let mut rng = os_rng()?;
    if let Some((record, secret)) = tokens::bootstrap_admin(
        store.as_ref(),
        vault.record_key(),
        SystemClock.now(),
        &mut rng,
        &server_actor().id(),
        vault.policy(),
    )
    .await
    .context("cannot create the administrator token")?
    {
        write_secret_file(admin_token_file, secret.expose()).with_context(|| {
            format!(
                "cannot write the administrator token to {}; check that the data directory is \
                 writable (revoke {} with `integritet token revoke` and start again)",
                admin_token_file.display(),
                record.id
            )
        })?;
        let path = admin_token_file.display();
        writeln!(
            out,
            "The administrator token ({id}) is in {path} (mode 0600): read it, keep it safe and delete the file.\n\
             Administratörens token ({id}) finns i {path} (läsbar bara för ägaren): läs den, spara den säkert och radera filen.\n\
             It manages staff tokens (POST /api/v1/tokens) and reads no personal data.",
            id = record.id,
        )?;
        out.flush()?;
    }
    Ok(())
}

/// Writes `secret` to `path` readable by the owner only: into a new 0600 file beside it, made
/// durable, then renamed over `path` (an older token file is replaced whole, never half).
fn write_secret_file(path: &Path, secret: &str) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let partial = path.with_extension("partial");
    let _ = std::fs::remove_file(&partial);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&partial)?;
    writeln!(file, "{secret}")?;
    file.sync_all()?;
    std::fs::rename(&partial, path)?;
    std::fs::File::open(dir)?.sync_all()
}

async fn serve(
    store: Arc<dyn Store>,
    vault: Arc<Vault>,
    listen: SocketAddr,
    signing: AuditSigningKey,
    tls: Option<Tls>,
    public_url: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let signing = Arc::new(signing);
    let policy_version = vault.policy().version.to_string();
    let checkpoints = tokio::spawn(checkpoint_every_minute(
        store.clone(),
        signing.clone(),
        policy_version.clone(),
    ));
    // The store reports its operations to /metrics from now on.
    let metrics = Metrics::new();
    store.observe(Arc::new(metrics.clone()));
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let authenticator = Arc::new(StoreTokens::new(
        store.clone(),
        vault.record_key().clone(),
        clock.clone(),
        vault.policy().version.to_string(),
    ));
    // Console logins (`integritet user create`): session secrets from the OS's randomness.
    let accounts = Arc::new(integritet_app::users::Accounts::new(
        store.clone(),
        vault.record_key().clone(),
        clock,
        Box::new(os_rng()?),
        vault.policy().version.to_string(),
    ));
    let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| {
        format!(
            "cannot listen on {listen}: is another server running there? choose another with --listen"
        )
    })?;
    let address = listener.local_addr()?;
    let shutdown = shutdown_signal();
    let scheme = if tls.is_some() { "https" } else { "http" };
    eprintln!(
        "integritet serves {} on {scheme}://{address} (policy {}); stop with Ctrl-C",
        store.backend(),
        vault.policy().version
    );
    // The links the server hands out (unsubscribe) point here: the address it is reached at
    // from outside, or where it listens.
    let public_url = public_url.map_or_else(|| format!("{scheme}://{address}"), str::to_owned);
    let mut state = AppState::new(vault, authenticator)
        .with_console(accounts)
        .with_metrics(metrics)
        .with_public_url(&public_url);
    if !address.ip().is_loopback() {
        // Reachable from other hosts: the metrics are the administrator's.
        state = state.with_metrics_behind_token();
    }
    match tls {
        Some(tls) => {
            integritet_web::serve_tls(listener, state, ServeLimits::default(), tls, shutdown).await
        }
        None => integritet_web::serve(listener, state, shutdown).await,
    }
    .context("the server stopped with an error")?;
    // The last word of a stopping server: a signed head covering every request it answered.
    checkpoints.abort();
    checkpoint(&store, &signing, &policy_version).await;
    // Not eprintln!: a closed stderr must not turn a clean stop into a failure.
    let _ = writeln!(
        std::io::stderr(),
        "integritet stopped; requests in flight were finished"
    );
    Ok(ExitCode::SUCCESS)
}

/// How often a running server signs the log's head.
const CHECKPOINT_INTERVAL: std::time::Duration = std::time::Duration::from_secs(60);

/// Signs the head every [`CHECKPOINT_INTERVAL`] for as long as the server runs.
async fn checkpoint_every_minute(
    store: Arc<dyn Store>,
    signing: Arc<AuditSigningKey>,
    policy_version: String,
) {
    let mut ticks = tokio::time::interval(CHECKPOINT_INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        checkpoint(&store, &signing, &policy_version).await;
    }
}

/// One checkpoint; a failure is logged (the next minute tries again), never fatal.
async fn checkpoint(store: &Arc<dyn Store>, signing: &AuditSigningKey, policy_version: &str) {
    let actor = Actor::system("audit-checkpoint").id();
    let written = audit_log::write_checkpoint(
        store.as_ref(),
        signing,
        SystemClock.now(),
        &actor,
        policy_version,
    )
    .await;
    if let Err(error) = written {
        tracing::error!(%error, "the audit log's head could not be signed; trying again in a minute");
    }
}

fn init_logs() {
    // Logs go to stderr as structured lines; RUST_LOG refines them. They never hold bodies.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        // Colours for a person at a terminal only: a journal or a file gets plain lines.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

/// Completes on Ctrl-C or SIGTERM. The SIGTERM handler is installed now, not when the future is
/// first polled: a supervisor that stops the server right after it said it listens must stop
/// it cleanly, not kill it.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    let terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate());
    async move {
        let interrupt = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        let terminate = async {
            match terminate {
                Ok(mut signal) => {
                    signal.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            () = interrupt => {},
            () = terminate => {},
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn the_daily_job_waits_until_just_past_midnight() {
        let wait = until_next_day(datetime!(2026-12-03 23:59:00 UTC));
        assert_eq!(wait, std::time::Duration::from_secs(61));
        let wait = until_next_day(datetime!(2026-12-03 00:00:00 UTC));
        assert_eq!(wait, std::time::Duration::from_secs(86_401));
        // An instant in another offset counts in UTC.
        let wait = until_next_day(datetime!(2026-12-04 00:30:00 +01:00));
        assert_eq!(wait, std::time::Duration::from_secs(1_801));
    }
}
