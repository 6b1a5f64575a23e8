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

    /// Drops whatever this server remembers of the token with public id `token_id`, so that a
    /// revocation made here takes effect here at once. Other servers notice within the
    /// cache's TTL (two seconds, see [`StoreTokens`]).
    fn forget(&self, token_id: &str) {
        let _ = token_id;
    }
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

    /// Adds a token for staff in `role`; the actor's id is `token:<id>`.
    pub fn with(mut self, token: impl Into<String>, id: &str, role: &str) -> StaticTokens {
        self.tokens
            .insert(token.into(), Actor::staff(format!("token:{id}"), role));
        self
    }
}

#[async_trait]
impl Authenticator for StaticTokens {
    async fn authenticate(&self, bearer: &str) -> Result<Actor, AuthFailure> {
        self.tokens.get(bearer).cloned().ok_or(AuthFailure::Invalid)
    }
}

/// The bearer token of a request's `Authorization` header, if it has one.
pub(crate) fn bearer_of(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// Middleware for the API: a request without a valid bearer token gets 401 before any handler
/// (or body parsing) runs; otherwise the [`Actor`] is put in the request's extensions.
pub(crate) async fn require_bearer(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Result<Response, Response> {
    use axum::response::IntoResponse;
    let Some(bearer) = bearer_of(request.headers()) else {
        // No token: a console session cookie, with its CSRF token on unsafe methods.
        return crate::console::via_session(&state, request, next).await;
    };
    match state.authenticator.authenticate(bearer).await {
        Ok(actor) => {
            tracing::Span::current().record("actor", actor.id().as_str());
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

/// How long a token found valid in the store is trusted without asking the store again. A
/// revocation made on another server (or with `integritet token revoke`) takes effect here
/// within this time; expiry is checked against the clock on every request regardless. Short
/// enough that a revoked token is dead almost at once, long enough that a busy client costs
/// one store round trip per token every two seconds instead of one per request.
pub(crate) const TOKEN_CACHE_TTL: time::Duration = time::Duration::seconds(2);

/// Most tokens remembered at once. When full, entries past their TTL are dropped, and if that
/// frees nothing the whole cache is emptied (tokens in use are fetched again on their next
/// request); an unbounded map could be grown by anyone presenting valid tokens.
const TOKEN_CACHE_CAPACITY: usize = 1024;

/// A token found valid in the store, and when that was.
#[derive(Debug, Clone)]
struct CachedToken {
    record: integritet_app::store::TokenRecord,
    fetched_at: time::OffsetDateTime,
}

/// Tokens issued with `integritet token create`, checked against the store: only their hash is
/// kept there; expired and revoked tokens are refused.
///
/// Valid tokens are remembered for two seconds (`TOKEN_CACHE_TTL`), keyed by the secret's keyed
/// hash (never the secret); unknown, revoked and malformed tokens are not remembered, so each of
/// them costs a lookup (or, malformed, none).
#[derive(Clone)]
pub struct StoreTokens {
    store: std::sync::Arc<dyn integritet_app::store::Store>,
    key: integritet_crypto::RecordKey,
    clock: std::sync::Arc<dyn integritet_domain::Clock>,
    policy_version: String,
    cache: std::sync::Arc<std::sync::Mutex<HashMap<[u8; 32], CachedToken>>>,
}

impl std::fmt::Debug for StoreTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Not the cache's keys: hashes of live secrets have no business in logs.
        f.debug_struct("StoreTokens")
            .field("store", &self.store)
            .field("cached", &self.cache().len())
            .finish_non_exhaustive()
    }
}

impl StoreTokens {
    /// `key` is the vault's record key; `policy_version` is named in the audit entry of a row
    /// refused for failing its integrity check.
    pub fn new(
        store: std::sync::Arc<dyn integritet_app::store::Store>,
        key: integritet_crypto::RecordKey,
        clock: std::sync::Arc<dyn integritet_domain::Clock>,
        policy_version: String,
    ) -> StoreTokens {
        StoreTokens {
            store,
            key,
            clock,
            policy_version,
            cache: std::sync::Arc::default(),
        }
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], CachedToken>> {
        // The map holds no invariant a panic elsewhere could break.
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The cached record for `hash`, if it was fetched less than the TTL before `now`.
    fn cached(
        &self,
        hash: &[u8; 32],
        now: time::OffsetDateTime,
    ) -> Option<integritet_app::store::TokenRecord> {
        let mut cache = self.cache();
        let entry = cache.get(hash)?;
        // A clock that went backwards also means "ask the store".
        if now < entry.fetched_at || now - entry.fetched_at >= TOKEN_CACHE_TTL {
            cache.remove(hash);
            return None;
        }
        Some(entry.record.clone())
    }

    fn remember(&self, record: &integritet_app::store::TokenRecord, now: time::OffsetDateTime) {
        let mut cache = self.cache();
        if cache.len() >= TOKEN_CACHE_CAPACITY && !cache.contains_key(&record.hash) {
            cache.retain(|_, e| now >= e.fetched_at && now - e.fetched_at < TOKEN_CACHE_TTL);
            if cache.len() >= TOKEN_CACHE_CAPACITY {
                cache.clear();
            }
        }
        cache.insert(
            record.hash,
            CachedToken {
                record: record.clone(),
                fetched_at: now,
            },
        );
    }
}

fn token_actor(record: &integritet_app::store::TokenRecord) -> Actor {
    Actor::staff(format!("token:{}", record.id), &record.role)
}

#[async_trait]
impl Authenticator for StoreTokens {
    async fn authenticate(&self, bearer: &str) -> Result<Actor, AuthFailure> {
        use integritet_app::tokens::{AuthError, authenticate, hash_secret};
        let now = self.clock.now();
        let hash = hash_secret(&self.key, bearer);
        if let Some(record) = self.cached(&hash, now) {
            // Only valid records are cached, but expiry is a matter of the clock, not the
            // store: checked on every request.
            if record.expires_at.is_some_and(|at| at <= now) {
                self.cache().remove(&hash);
                return Err(AuthFailure::Invalid);
            }
            return Ok(token_actor(&record));
        }
        match authenticate(
            self.store.as_ref(),
            &self.key,
            now,
            bearer,
            &self.policy_version,
        )
        .await
        {
            Ok(record) => {
                self.remember(&record, now);
                Ok(token_actor(&record))
            }
            Err(AuthError::Store(error)) => Err(AuthFailure::Unavailable(error.to_string())),
            Err(_) => Err(AuthFailure::Invalid),
        }
    }

    fn forget(&self, token_id: &str) {
        self.cache().retain(|_, e| e.record.id != token_id);
    }
}
