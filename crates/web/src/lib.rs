//! The HTTP face of Integritet: the JSON API under `/api/v1`, `/healthz` and `/readyz`.
//!
//! Handlers are a few lines that call the [`Vault`]; every error becomes an RFC 9457 problem
//! document in one place ([`ApiError`]). Every API route needs a bearer token, checked by an
//! [`Authenticator`] before any body is read, so a caller without one learns nothing about who
//! is a customer. Request bodies are never logged; each request carries an `x-request-id`.

mod api;
mod auth;
mod error;
mod extract;

use std::future::Future;
use std::io;
use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderName, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Router, middleware};
use integritet_app::vault::Vault;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

pub use api::Caller;
pub use auth::{AuthFailure, Authenticator, StaticTokens, StoreTokens};
pub use error::{ApiError, PROBLEM_JSON, Problem};

/// The largest request body accepted, in bytes.
pub const BODY_LIMIT: usize = 256 * 1024;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    vault: Arc<Vault>,
    authenticator: Arc<dyn Authenticator>,
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
        }
    }

    pub fn vault(&self) -> &Arc<Vault> {
        &self.vault
    }
}

/// Every route, with request ids, tracing, the body limit and problem documents for unknown
/// routes and methods.
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/subjects", post(api::create_subject))
        .route("/subjects/lookup", post(api::lookup))
        .route("/subjects/{id}", get(api::read_subject))
        .route("/subjects/{id}/values/{value_id}", put(api::rectify))
        .route("/subjects/{id}/activities", post(api::add_activities))
        .route("/subjects/{id}/disclosures", post(api::record_disclosure))
        .route("/archive/{reference}/read", post(api::read_archive))
        .route("/policy", get(api::policy))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_bearer,
        ));
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .nest("/api/v1", api)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(TraceLayer::new_for_http().make_span_with(span_for))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .with_state(state)
}

/// The span of a request: method, path and request id. Never the body or the query string.
fn span_for<B>(request: &Request<B>) -> tracing::Span {
    let id = request
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        request_id = %id,
        actor = tracing::field::Empty,
    )
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(State(state): State<AppState>) -> Response {
    match state.vault.store().ping().await {
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
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}
