//! `integritet serve`: the HTTP API over the vault, until Ctrl-C or SIGTERM.

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use integritet_app::import::{self, ImportFormat};
use integritet_app::store::Store;
use integritet_app::tokens::{self, TokenRequest};
use integritet_app::vault::{Actor, Vault};
use integritet_domain::Clock;
use integritet_domain::clock::SystemClock;
use integritet_web::{AppState, Metrics, StoreTokens};

use super::context::{StoreArgs, os_rng, runtime};

/// The example shop's policy and fictional customers, built in so `serve --demo` needs no files.
const DEMO_POLICY: &str = include_str!("../../../../examples/seed-shop/policy.toml");
const DEMO_CUSTOMERS: &str = include_str!("../../../../examples/seed-shop/demo-customers.jsonl");

/// Who the server acts as when it prepares itself (admin token, policy record, demo data).
fn server_actor() -> Actor {
    Actor::system("serve")
}

pub fn run(store: &StoreArgs, listen: SocketAddr) -> anyhow::Result<ExitCode> {
    init_logs();
    runtime()?.block_on(async {
        let (store, vault) = store.open_store_and_vault().await?;
        let vault = Arc::new(vault);
        prepare(&store, &vault, &mut std::io::stdout()).await?;
        serve(store, vault, listen).await
    })
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
    runtime()?.block_on(async {
        let (store, vault) = store.open_store_and_vault().await?;
        let vault = Arc::new(vault);
        let mut out = std::io::stdout();
        prepare(&store, &vault, &mut out).await?;
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
        let code = serve(store, vault, listen).await;
        drop(dir);
        code
    })
}

/// Records the policy version in force and, on a store without tokens, issues the
/// administrator token and prints it: the one time it is shown.
async fn prepare(
    store: &Arc<dyn Store>,
    vault: &Vault,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    // The first use of a policy version is recorded with its text (and audited).
    vault.activate_policy(&server_actor()).await?;
    let mut rng = os_rng()?;
    if let Some((record, secret)) = tokens::bootstrap_admin(
        store.as_ref(),
        SystemClock.now(),
        &mut rng,
        &server_actor().id(),
        vault.policy(),
    )
    .await
    .context("cannot create the administrator token")?
    {
        writeln!(
            out,
            "First start: the administrator token ({}) is shown only now and never again; store it safely.\n\
             Första start: administratörens token ({}) visas bara nu och aldrig igen; spara den säkert.\n\
             admin token: {}\n\
             It manages staff tokens (POST /api/v1/tokens) and reads no personal data.",
            record.id,
            record.id,
            secret.expose()
        )?;
        out.flush()?;
    }
    Ok(())
}

async fn serve(
    store: Arc<dyn Store>,
    vault: Arc<Vault>,
    listen: SocketAddr,
) -> anyhow::Result<ExitCode> {
    // The store reports its operations to /metrics from now on.
    let metrics = Metrics::new();
    store.observe(Arc::new(metrics.clone()));
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let authenticator = Arc::new(StoreTokens::new(store.clone(), clock.clone()));
    // Console logins (`integritet user create`): session secrets from the OS's randomness.
    let accounts = Arc::new(integritet_app::users::Accounts::new(
        store.clone(),
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
    eprintln!(
        "integritet serves {} on http://{address} (policy {}); stop with Ctrl-C",
        store.backend(),
        vault.policy().version
    );
    integritet_web::serve(
        listener,
        AppState::new(vault, authenticator)
            .with_console(accounts)
            .with_metrics(metrics),
        shutdown_signal(),
    )
    .await
    .context("the server stopped with an error")?;
    // Not eprintln!: a closed stderr must not turn a clean stop into a failure.
    let _ = writeln!(
        std::io::stderr(),
        "integritet stopped; requests in flight were finished"
    );
    Ok(ExitCode::SUCCESS)
}

fn init_logs() {
    // Logs go to stderr as structured lines; RUST_LOG refines them. They never hold bodies.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .try_init();
}

/// Completes on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
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
