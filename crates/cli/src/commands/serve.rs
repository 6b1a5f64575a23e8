//! `integritet serve`: the HTTP API over the vault, until Ctrl-C or SIGTERM.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use integritet_domain::Clock;
use integritet_domain::clock::SystemClock;
use integritet_web::{AppState, StoreTokens};

use super::context::{StoreArgs, runtime};

pub fn run(store: &StoreArgs, listen: SocketAddr) -> anyhow::Result<ExitCode> {
    // Logs go to stderr as structured lines; RUST_LOG refines them. They never hold bodies.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .try_init();
    runtime()?.block_on(async {
        let vault = Arc::new(store.open_vault().await?);
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let authenticator = Arc::new(StoreTokens::new(vault.store().clone(), clock));
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen}: is another server running there? choose another with --listen"))?;
        let address = listener.local_addr()?;
        eprintln!(
            "integritet serves {} on http://{address} (policy {}); stop with Ctrl-C",
            vault.store().backend(),
            vault.policy().version
        );
        integritet_web::serve(listener, AppState::new(vault, authenticator), shutdown_signal())
            .await
            .context("the server stopped with an error")?;
        eprintln!("integritet stopped; requests in flight were finished");
        Ok(ExitCode::SUCCESS)
    })
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
