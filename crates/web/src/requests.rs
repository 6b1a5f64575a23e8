//! Data subjects' requests that limit processing (restriction, objection), the policy's history,
//! and staff tokens managed by the administrator. Access rules live in the vault; handlers only
//! translate.

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use integritet_app::store::TokenRecord;
use integritet_app::tokens::TokenRequest;
use integritet_app::vault::{PolicyHistoryEntry, VaultError};
use integritet_domain::subject::SubjectId;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::api::Caller;
use crate::error::ApiError;
use crate::extract::{Json, Path};
use crate::openapi::{Forbidden, Invalid, NotFound};

/// The routes of this module, relative to `/api/v1`; all need a token.
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(set_restriction))
        .routes(routes!(object))
        .routes(routes!(withdraw_objection))
        .routes(routes!(policy_history))
        .routes(routes!(policy_version_source))
        .routes(routes!(create_token, list_tokens))
        .routes(routes!(revoke_token))
}

type ApiResult<T> = Result<T, ApiError>;

/// Whether processing of the subject is restricted (GDPR Art. 18).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RestrictionRequest {
    /// `true` to restrict processing to storage and legal obligations, `false` to lift it.
    pub restricted: bool,
}

/// An objection to one purpose (GDPR Art. 21).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ObjectionRequest {
    /// A purpose of the policy based on legitimate interest or public task, or direct marketing.
    #[schema(example = "customer_relationship")]
    pub purpose: String,
}

/// Restrict processing of a subject, or lift the restriction (Art. 18)
///
/// While restricted, the subject's data is served only for purposes under a legal obligation;
/// every other read is refused and audited. Needs a role that handles data subjects' requests.
#[utoipa::path(
    put,
    path = "/subjects/{id}/restriction",
    tag = "requests",
    params(("id" = SubjectId, Path, description = "The subject's id")),
    request_body(content = RestrictionRequest, example = json!({"restricted": true})),
    responses(
        (status = 204, description = "The restriction was set or lifted"),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 422, response = Invalid),
    )
)]
pub(crate) async fn set_restriction(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<SubjectId>,
    Json(request): Json<RestrictionRequest>,
) -> ApiResult<StatusCode> {
    state
        .vault()
        .set_restricted(&actor, id, request.restricted)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Record a subject's objection to a purpose (Art. 21)
///
/// From then on the purpose is refused for this subject. Applies to purposes based on
/// legitimate interest or public task, and to direct marketing.
#[utoipa::path(
    post,
    path = "/subjects/{id}/objections",
    tag = "requests",
    params(("id" = SubjectId, Path, description = "The subject's id")),
    request_body(content = ObjectionRequest, example = json!({"purpose": "customer_relationship"})),
    responses(
        (status = 204, description = "The objection was recorded"),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 422, response = Invalid),
    )
)]
pub(crate) async fn object(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<SubjectId>,
    Json(request): Json<ObjectionRequest>,
) -> ApiResult<StatusCode> {
    state.vault().object(&actor, id, &request.purpose).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Withdraw a subject's objection to a purpose
#[utoipa::path(
    delete,
    path = "/subjects/{id}/objections/{purpose}",
    tag = "requests",
    params(
        ("id" = SubjectId, Path, description = "The subject's id"),
        ("purpose" = String, Path, description = "The purpose objected to"),
    ),
    responses(
        (status = 204, description = "The objection was withdrawn"),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 422, response = Invalid),
    )
)]
pub(crate) async fn withdraw_objection(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path((id, purpose)): Path<(SubjectId, String)>,
) -> ApiResult<StatusCode> {
    state
        .vault()
        .withdraw_objection(&actor, id, &purpose)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The policy versions enforced so far
#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyHistory {
    /// Oldest first; the one in force now has `current: true`.
    pub versions: Vec<PolicyHistoryEntry>,
}

/// Every policy version the system has enforced, oldest first
#[utoipa::path(
    get,
    path = "/policy/history",
    tag = "policy",
    responses((status = 200, description = "The versions", body = PolicyHistory))
)]
pub(crate) async fn policy_history(
    State(state): State<AppState>,
    Caller(_): Caller,
) -> ApiResult<Json<PolicyHistory>> {
    Ok(Json(PolicyHistory {
        versions: state.vault().policy_history().await?,
    }))
}

/// The policy file's text of an enforced version (TOML)
#[utoipa::path(
    get,
    path = "/policy/versions/{version}",
    tag = "policy",
    params(("version" = String, Path, description = "A version id from /policy/history, `pv1-…`")),
    responses(
        (status = 200, description = "The policy file as it was enforced", content_type = "application/toml", body = String),
        (status = 404, response = NotFound),
    )
)]
pub(crate) async fn policy_version_source(
    State(state): State<AppState>,
    Caller(_): Caller,
    Path(version): Path<String>,
) -> ApiResult<Response> {
    let text = state.vault().policy_source(&version).await?;
    let mut response = text.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/toml; charset=utf-8"),
    );
    Ok(response)
}

/// A new staff token
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTokenRequest {
    /// A role of the policy, or `admin`.
    #[schema(example = "support")]
    pub role: String,
    /// A note for the operator, e.g. "web shop backend". Never personal data.
    #[serde(default)]
    pub label: Option<String>,
    /// Days until the token expires; without it the token is valid until revoked.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 36500)]
    pub expires_in_days: Option<u32>,
}

/// A staff token as listed: never its secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenView {
    #[schema(example = "tok_3f2a9c1e")]
    pub id: String,
    pub role: String,
    pub label: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
}

impl From<&TokenRecord> for TokenView {
    fn from(record: &TokenRecord) -> TokenView {
        TokenView {
            id: record.id.clone(),
            role: record.role.clone(),
            label: record.label.clone(),
            created_at: record.created_at,
            expires_at: record.expires_at,
            revoked_at: record.revoked_at,
        }
    }
}

/// A token just issued, with its secret: shown in this response and never again.
#[derive(Debug, Serialize, ToSchema)]
pub struct IssuedToken {
    /// `itg_` and 64 hex digits. Only its hash is stored.
    pub secret: String,
    pub token: TokenView,
}

/// The staff tokens
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenList {
    pub tokens: Vec<TokenView>,
}

/// Issue a staff token (administrator only)
///
/// The secret is in this response only; the server keeps its hash.
#[utoipa::path(
    post,
    path = "/tokens",
    tag = "tokens",
    request_body(content = NewTokenRequest, example = json!({"role": "support", "label": "web shop backend", "expires_in_days": 90})),
    responses(
        (status = 201, description = "The token, with its secret shown once", body = IssuedToken),
        (status = 403, response = Forbidden),
        (status = 422, response = Invalid),
    )
)]
pub(crate) async fn create_token(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Json(request): Json<NewTokenRequest>,
) -> ApiResult<Response> {
    let expires_in = match request.expires_in_days {
        None => None,
        Some(days @ 1..=36_500) => Some(time::Duration::days(i64::from(days))),
        Some(_) => {
            return Err(ApiError::Vault(VaultError::Invalid {
                field: "expires_in_days".into(),
                code: "bad_expiry",
                message: "give a number of days from 1 to 36500, or leave it out for no expiry"
                    .into(),
            }));
        }
    };
    let (record, secret) = state
        .vault()
        .issue_token(
            &actor,
            TokenRequest {
                role: request.role,
                label: request.label,
                expires_in,
            },
        )
        .await?;
    let body = IssuedToken {
        secret: secret.expose().to_owned(),
        token: TokenView::from(&record),
    };
    let mut response = (StatusCode::CREATED, Json(body)).into_response();
    // The secret must not be kept by any cache on the way.
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// List staff tokens (administrator only)
#[utoipa::path(
    get,
    path = "/tokens",
    tag = "tokens",
    responses(
        (status = 200, description = "Every token, newest last; never a secret", body = TokenList),
        (status = 403, response = Forbidden),
    )
)]
pub(crate) async fn list_tokens(
    State(state): State<AppState>,
    Caller(actor): Caller,
) -> ApiResult<Json<TokenList>> {
    let tokens = state.vault().list_tokens(&actor).await?;
    Ok(Json(TokenList {
        tokens: tokens.iter().map(TokenView::from).collect(),
    }))
}

/// Revoke a staff token (administrator only)
#[utoipa::path(
    delete,
    path = "/tokens/{id}",
    tag = "tokens",
    params(("id" = String, Path, description = "The token's public id, `tok_…`")),
    responses(
        (status = 204, description = "The token is refused from now on"),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    )
)]
pub(crate) async fn revoke_token(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    if state.vault().revoke_token(&actor, &id).await? {
        // Refused at once on this server; other servers within the cache's lifetime.
        state.authenticator.forget(&id);
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::Vault(VaultError::NotFound { what: "token" }))
    }
}
