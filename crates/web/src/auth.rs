//! Who is calling: bearer tokens (or, see `console.rs`, a console session cookie) turned into
//! an [`Actor`].

use std::collections::HashMap;

use async_trait::async_trait;
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;
use integritet_app::vault::Actor;

use crate::AppState;
use crate::error::ApiError;

/// Why a token was not accepted. Deliberately without detail: the caller learns only that it
/// needs a valid token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthFailure {
    #[error("the token is not valid")]
    Invalid,
    /// Tokens could not be checked (the store is down, …).
    #[error("tokens cannot be checked right now: {0}")]
    Unavailable(String),
}

/// Turns a bearer token into the staff actor it stands for.
#[async_trait]
pub trait Authenticator: Send + Sync {
    async fn authenticate(&self, bearer: &str) -> Result<Actor, AuthFailure>;
}

/// A fixed map from token to actor. **For tests and demos only**: the tokens live in memory in
/// clear and never expire.
#[derive(Debug, Clone, Default)]
pub struct StaticTokens {
    tokens: HashMap<String, Actor>,
}

impl StaticTokens {
    pub fn new() -> StaticTokens {
        StaticTokens::default()
    }

    /// Adds a token for an actor with `role`; the actor's id is `token:<id>`.
    pub fn with(mut self, token: impl Into<String>, id: &str, role: Option<&str>) -> StaticTokens {
        self.tokens.insert(
            token.into(),
            Actor {
                id: format!("token:{id}"),
                role: role.map(str::to_owned),
            },
        );
        self
    }
}

#[async_trait]
impl Authenticator for StaticTokens {
    async fn authenticate(&self, bearer: &str) -> Result<Actor, AuthFailure> {
        self.tokens.get(bearer).cloned().ok_or(AuthFailure::Invalid)
    }
}

/// Middleware for the API: a request without a valid bearer token gets 401 before any handler
/// (or body parsing) runs; otherwise the [`Actor`] is put in the request's extensions.
pub(crate) async fn require_bearer(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Result<Response, Response> {
    use axum::response::IntoResponse;
    let bearer = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let Some(bearer) = bearer else {
        // No token: a console session cookie, with its CSRF token on unsafe methods.
        return crate::console::via_session(&state, request, next).await;
    };
    match state.authenticator.authenticate(bearer).await {
        Ok(actor) => {
            tracing::Span::current().record("actor", actor.id.as_str());
            request.extensions_mut().insert(actor);
            Ok(next.run(request).await)
        }
        Err(AuthFailure::Invalid) => Err(ApiError::Unauthorized.into_response()),
        Err(AuthFailure::Unavailable(cause)) => {
            tracing::error!(%cause, "tokens cannot be checked");
            Err(crate::error::unavailable().into_response())
        }
    }
}

/// Tokens issued with `integritet token create`, checked against the store: only their hash is
/// kept there; expired and revoked tokens are refused.
#[derive(Debug, Clone)]
pub struct StoreTokens {
    store: std::sync::Arc<dyn integritet_app::store::Store>,
    clock: std::sync::Arc<dyn integritet_domain::Clock>,
}

impl StoreTokens {
    pub fn new(
        store: std::sync::Arc<dyn integritet_app::store::Store>,
        clock: std::sync::Arc<dyn integritet_domain::Clock>,
    ) -> StoreTokens {
        StoreTokens { store, clock }
    }
}

#[async_trait]
impl Authenticator for StoreTokens {
    async fn authenticate(&self, bearer: &str) -> Result<Actor, AuthFailure> {
        use integritet_app::tokens::{AuthError, authenticate};
        match authenticate(self.store.as_ref(), self.clock.now(), bearer).await {
            Ok(record) => Ok(Actor {
                id: format!("token:{}", record.id),
                role: Some(record.role),
            }),
            Err(AuthError::Store(error)) => Err(AuthFailure::Unavailable(error.to_string())),
            Err(_) => Err(AuthFailure::Invalid),
        }
    }
}
