//! The HTTP face of Integritet: the JSON API under `/api/v1`, `/healthz`, `/readyz`,
//! `/metrics` (Prometheus) and `/openapi.json` (OpenAPI 3.1, generated from the handlers).
//!
//! Handlers are a few lines that call the [`Vault`]; every error becomes an RFC 9457 problem
//! document in one place ([`ApiError`]). Every API route needs a bearer token, checked by an
//! [`Authenticator`] before any body is read, so a caller without one learns nothing about who
//! is a customer. Request bodies are never logged; each request carries an `x-request-id`.

mod access_report;
mod api;
mod auth;
mod banner;
mod consent;
mod console;
mod error;
mod extract;
mod legal_holds;
mod marketing;
mod metrics;
mod openapi;
mod page_texts;
mod request_id;
mod requests;
mod serving;
mod subject_requests;
pub mod throttle;
mod unsubscribe;

use std::future::Future;
use std::io;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, MatchedPath, State};
use axum::http::{HeaderName, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Router, middleware};
use integritet_app::vault::Vault;
use tower_http::request_id::{PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use api::Caller;
pub use auth::{AuthFailure, Authenticator, StaticTokens, StoreTokens};
pub use console::{CSRF_HEADER, DEVICE_COOKIE, SESSION_COOKIE};
pub use error::{ApiError, PROBLEM_JSON, Problem};
pub use metrics::Metrics;
pub use serving::{ServeLimits, Tls};

/// The largest request body accepted, in bytes.
pub const BODY_LIMIT: usize = 256 * 1024;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    vault: Arc<Vault>,
    authenticator: Arc<dyn Authenticator>,
    metrics: Metrics,
    /// `/openapi.json`, serialised once when the router is built.
    openapi: Bytes,
    /// Console logins and sessions; without them `/console/login` refuses everyone.
    accounts: Option<Arc<integritet_app::users::Accounts>>,
    /// Whether `/metrics` asks for the administrator's token (a server reachable from other
    /// hosts) or answers anyone (bound to loopback, where only this host can ask).
    metrics_need_token: bool,
    /// Limits on logins and lookups (see `throttle.rs`).
    throttle: Arc<throttle::Throttle>,
    /// The address the server is reached at from outside (`https://shop.example`), for the
    /// links it hands out.
    public_url: Arc<str>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("vault", &self.vault)
            .finish_non_exhaustive()
    }
}

impl AppState {
    pub fn new(vault: Arc<Vault>, authenticator: Arc<dyn Authenticator>) -> AppState {
        AppState {
            vault,
            authenticator,
            metrics: Metrics::new(),
            openapi: Bytes::new(),
            accounts: None,
            metrics_need_token: false,
            throttle: Arc::default(),
            public_url: Arc::from("http://127.0.0.1:8080"),
        }
    }

    /// The address the server is reached at from outside, for unsubscribe links.
    pub fn with_public_url(mut self, url: &str) -> AppState {
        self.public_url = Arc::from(url.trim_end_matches('/'));
        self
    }

    pub(crate) fn public_url(&self) -> &str {
        &self.public_url
    }

    /// Uses `metrics` for `/metrics`: pass the same [`Metrics`] the store reports to
    /// (`store.observe(Arc::new(metrics.clone()))`), so store latency and audit counts appear
    /// beside the requests.
    pub fn with_metrics(mut self, metrics: Metrics) -> AppState {
        self.metrics = metrics;
        self
    }

    /// `/metrics` answers only a request with the administrator's token: for a server that
    /// listens beyond loopback.
    pub fn with_metrics_behind_token(mut self) -> AppState {
        self.metrics_need_token = true;
        self
    }

    pub fn vault(&self) -> &Arc<Vault> {
        &self.vault
    }

    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Enables console logins (`/console/…`) and session cookies on `/api/v1`.
    pub fn with_console(mut self, accounts: Arc<integritet_app::users::Accounts>) -> AppState {
        self.accounts = Some(accounts);
        self
    }

    pub(crate) fn accounts(&self) -> Option<&integritet_app::users::Accounts> {
        self.accounts.as_deref()
    }

    /// Other limits on logins and lookups than the defaults.
    pub fn with_limits(mut self, limits: throttle::Limits) -> AppState {
        self.throttle = Arc::new(throttle::Throttle::new(limits));
        self
    }

    pub(crate) fn throttle(&self) -> &throttle::Throttle {
        &self.throttle
    }
}

/// The API routes that need a bearer token, relative to `/api/v1`. One line per endpoint: the
/// line routes it and puts it in `/openapi.json` (see the `openapi` module).
fn protected_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api::create_subject))
        .routes(routes!(api::lookup))
        .routes(routes!(api::read_subject, api::erase))
        .routes(routes!(api::export))
        .routes(routes!(access_report::access_report))
        .routes(routes!(api::add_values))
        .routes(routes!(api::rectify))
        .routes(routes!(api::add_activities))
        .routes(routes!(api::record_disclosure))
        .routes(routes!(api::read_archive))
        .routes(routes!(api::policy))
        .routes(routes!(api::policy_register))
        .merge(requests::routes())
        .merge(subject_requests::routes())
        .merge(legal_holds::routes())
        .merge(marketing::routes())
        .merge(consent::routes())
}

/// Routes anyone may call: health, metrics, this document and the privacy notice.
fn public_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics::metrics))
        .routes(routes!(openapi::openapi_json))
        .routes(routes!(api::notice))
        .merge(console::routes())
        .merge(unsubscribe::routes())
        .merge(consent::public_routes())
        .merge(banner::routes())
        .nest(
            "/api/v1",
            OpenApiRouter::new().routes(routes!(api::policy_notice)),
        )
}

/// Every route with its document: the protected ones marked as such.
fn routes_and_document() -> (Router<AppState>, Router<AppState>, utoipa::openapi::OpenApi) {
    let (protected, mut document) = OpenApiRouter::with_openapi(openapi::base())
        .nest("/api/v1", protected_routes())
        .split_for_parts();
    openapi::require_bearer(&mut document);
    let (public, public_document) = public_routes().split_for_parts();
    document.merge(public_document);
    (protected, public, openapi::finish(document))
}

/// The OpenAPI document of every route, as served at `/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes_and_document().2
}

/// Every route, with request ids, tracing, metrics, the body limit and problem documents for
/// unknown routes and methods.
pub fn router(mut state: AppState) -> Router {
    let (protected, public, document) = routes_and_document();
    state.openapi = openapi::for_policy(&document, &state.vault.policy().policy);
    let protected = protected.route_layer(middleware::from_fn_with_state(
        state.clone(),
        auth::require_bearer,
    ));
    protected
        .merge(public)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(TraceLayer::new_for_http().make_span_with(span_for))
        .layer(SetRequestIdLayer::new(
            REQUEST_ID,
            request_id::CountingIds::new(),
        ))
        .with_state(state)
}

/// The span of a request: method, matched route and request id. Never the raw path (it may
/// hold what a caller typed), the query string or the body.
fn span_for<B>(request: &Request<B>) -> tracing::Span {
    let id = request
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str);
    tracing::info_span!(
        "request",
        method = %request.method(),
        route = %route,
        request_id = %id,
        actor = tracing::field::Empty,
    )
}

/// Liveness: the process answers.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "operations",
    responses((status = 200, description = "The server runs", body = String, content_type = "text/plain", example = "ok"))
)]
async fn healthz() -> &'static str {
    "ok"
}

/// Readiness: the database answers.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "operations",
    responses(
        (status = 200, description = "The server can take requests", body = String, content_type = "text/plain", example = "ok"),
        (status = 503, response = openapi::Unavailable),
    )
)]
async fn readyz(State(state): State<AppState>) -> Response {
    match state.vault.ping().await {
        Ok(()) => (StatusCode::OK, "ok").into_response(),
        Err(e) => {
            tracing::error!(error = %e, "store ping failed");
            error::unavailable().into_response()
        }
    }
}

async fn not_found() -> ApiError {
    ApiError::NoRoute
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

/// Serves `state` on `listener` until `shutdown` completes, then lets requests in flight
/// finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    serve_within(listener, state, ServeLimits::default(), shutdown).await
}

/// [`serve`] with other limits on slow and numerous clients.
pub async fn serve_within(
    listener: tokio::net::TcpListener,
    state: AppState,
    limits: ServeLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let app = router(state).layer(tower_http::timeout::RequestBodyTimeoutLayer::new(
        limits.body_timeout,
    ));
    serving::serve_within(listener, app, limits, None, shutdown).await
}

/// [`serve_within`] over TLS terminated here: every response carries
/// `Strict-Transport-Security`, so browsers that have seen the server once never try it
/// unencrypted again.
pub async fn serve_tls(
    listener: tokio::net::TcpListener,
    state: AppState,
    limits: ServeLimits,
    tls: Tls,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let app = router(state)
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(
            limits.body_timeout,
        ))
        .layer(
            tower_http::set_header::SetResponseHeaderLayer::if_not_present(
                axum::http::header::STRICT_TRANSPORT_SECURITY,
                axum::http::HeaderValue::from_static(HSTS),
            ),
        );
    serving::serve_within(listener, app, limits, Some(tls), shutdown).await
}

/// Two years, the subdomains included: what browsers' preload lists ask for.
pub const HSTS: &str = "max-age=63072000; includeSubDomains";
