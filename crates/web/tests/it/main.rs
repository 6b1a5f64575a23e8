//! The HTTP API against a real server on `127.0.0.1:0` over a fresh store, talked to over HTTP.
//!
//! The PostgreSQL test needs a server at `INTEGRITET_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`) whose user may create databases; it fails when
//! there is none.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod consent;
mod console;
mod errors;
mod happy;
mod limits;
mod logs;
mod marketing;
mod matrix;
mod metrics;
mod no_5xx;
mod openapi;
mod postgres;
mod rights;
mod token_cache;

use std::sync::Arc;

use integritet_app::store::Store;
use integritet_app::vault_conformance::vault_over;
use integritet_store_sqlite::SqliteStore;
use integritet_web::throttle::Limits;
use integritet_web::{AppState, Metrics, ServeLimits, StaticTokens};
use reqwest::{Client, RequestBuilder, Response, StatusCode};
use serde_json::{Value, json};
use tokio::sync::oneshot;

pub const SUPPORT: &str = "support-token";
pub const MARKETING: &str = "marketing-token";
pub const FINANCE: &str = "finance-token";
pub const LEGAL: &str = "legal-token";
pub const ADMIN: &str = "admin-token";

/// A running server; stopped (gracefully) when dropped.
#[derive(Debug)]
pub struct TestServer {
    pub base: String,
    pub client: Client,
    _stop: oneshot::Sender<()>,
    _dir: Option<tempfile::TempDir>,
}

impl TestServer {
    pub async fn sqlite() -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("integritet.db"))
            .await
            .unwrap();
        let mut server = TestServer::over(Arc::new(store)).await;
        server._dir = Some(dir);
        server
    }

    /// Over SQLite, with other limits on slow and numerous clients.
    pub async fn sqlite_within(limits: ServeLimits) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("integritet.db"))
            .await
            .unwrap();
        let mut server = TestServer::over_within(Arc::new(store), limits).await;
        server._dir = Some(dir);
        server
    }

    /// Over SQLite, as a server reachable from other hosts: `/metrics` wants [`ADMIN`].
    pub async fn sqlite_with_metrics_behind_token() -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("integritet.db"))
            .await
            .unwrap();
        let mut server =
            TestServer::build(Arc::new(store), ServeLimits::default(), true, roomy()).await;
        server._dir = Some(dir);
        server
    }

    pub async fn over(store: Arc<dyn Store>) -> TestServer {
        TestServer::over_within(store, ServeLimits::default()).await
    }

    pub async fn over_within(store: Arc<dyn Store>, limits: ServeLimits) -> TestServer {
        TestServer::build(store, limits, false, roomy()).await
    }

    /// Over SQLite, with other limits per client on logins, lookups and public pages.
    pub async fn sqlite_throttled(throttle: Limits) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("integritet.db"))
            .await
            .unwrap();
        let mut server =
            TestServer::build(Arc::new(store), ServeLimits::default(), false, throttle).await;
        server._dir = Some(dir);
        server
    }

    async fn build(
        store: Arc<dyn Store>,
        limits: ServeLimits,
        metrics_behind_token: bool,
        throttle: Limits,
    ) -> TestServer {
        let metrics = Metrics::new();
        store.observe(Arc::new(metrics.clone()));
        let (vault, _clock) = vault_over(store);
        let tokens = StaticTokens::new()
            .with(SUPPORT, "s1", "support")
            .with(MARKETING, "m1", "marketing")
            .with(FINANCE, "f1", "finance")
            .with(LEGAL, "l1", "legal")
            .with(ADMIN, "a1", "admin");
        let mut state = AppState::new(Arc::new(vault), Arc::new(tokens))
            .with_metrics(metrics)
            .with_limits(throttle);
        if metrics_behind_token {
            state = state.with_metrics_behind_token();
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(integritet_web::serve_within(
            listener,
            state,
            limits,
            async move {
                let _ = stopped.await;
            },
        ));
        TestServer {
            base: format!("http://{addr}"),
            client: Client::new(),
            _stop: stop,
            _dir: None,
        }
    }

    pub fn get(&self, path: &str, token: &str) -> RequestBuilder {
        self.client
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
    }

    pub fn post(&self, path: &str, token: &str, body: &Value) -> RequestBuilder {
        self.client
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .json(body)
    }

    pub fn delete(&self, path: &str, token: &str) -> RequestBuilder {
        self.client
            .delete(format!("{}{path}", self.base))
            .bearer_auth(token)
    }

    /// A request without a token.
    pub fn public(&self, path: &str) -> RequestBuilder {
        self.client.get(format!("{}{path}", self.base))
    }

    /// Creates the seed customer with `email` and returns the subject's id.
    pub async fn create(&self, email: &str) -> String {
        let response = self
            .post("/api/v1/subjects", SUPPORT, &customer(email))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        response.json::<Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    pub fn put(&self, path: &str, token: &str, body: &Value) -> RequestBuilder {
        self.client
            .put(format!("{}{path}", self.base))
            .bearer_auth(token)
            .json(body)
    }
}

/// The default limits, but room for a test's many requests to the public pages from one
/// address.
fn roomy() -> Limits {
    Limits {
        public_per_address: std::num::NonZeroU32::new(100_000).unwrap(),
        ..Limits::default()
    }
}

/// A customer of the seed shop, as the API takes it.
pub fn customer(email: &str) -> Value {
    json!({
        "kind": "person",
        "values": [
            {"category": "name", "value": "Astrid Lindqvist", "purposes": ["purchase"]},
            {"category": "email", "value": email, "purposes": ["purchase"]},
            {"category": "customer_number", "value": "KUND-778812", "purposes": ["purchase", "bookkeeping"]}
        ],
        "activities": [{"kind": "purchase", "at": "2026-03-01T10:00:00Z"}]
    })
}

/// Asserts `response` is a problem document with `status`, and returns it.
pub async fn problem(response: Response, status: StatusCode) -> Value {
    assert_eq!(response.status(), status);
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(content_type, "application/problem+json");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], status.as_u16());
    assert!(body["type"].is_string() && body["title"].is_string());
    assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()));
    body
}
