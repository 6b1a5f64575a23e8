//! The JSON API under `/api/v1`. Each handler states who calls, parses the request and hands
//! it to the [`Vault`](integritet_app::vault::Vault); errors become problems in
//! [`ApiError`].

use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::IntoResponse;
use integritet_app::vault::{Actor, LookupKind, NewActivity, NewSubjectInput, SubjectView};
use integritet_domain::personal::PersonalValue;
use integritet_domain::subject::{ArchiveRef, SubjectId, ValueId};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{Json, Path, Query};

/// The authenticated caller, put in place by the bearer middleware.
#[derive(Debug, Clone)]
pub struct Caller(pub Actor);

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Actor>()
            .cloned()
            .map(Caller)
            .ok_or(ApiError::Unauthorized)
    }
}

type ApiResult<T> = Result<T, ApiError>;

#[derive(Debug, Serialize)]
pub struct Created<T> {
    pub id: T,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PurposeQuery {
    pub purpose: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LookupRequest {
    pub kind: LookupKind,
    pub value: PersonalValue,
    pub purpose: String,
}

#[derive(Debug, Serialize)]
pub struct LookupResponse {
    pub subjects: Vec<SubjectId>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RectifyRequest {
    pub value: PersonalValue,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DisclosureRequest {
    pub recipient: String,
    pub purpose: String,
    pub categories: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArchiveReadRequest {
    pub reason: String,
}

#[derive(Debug, Serialize)]
pub struct PolicyResponse<'a> {
    pub version: &'a integritet_domain::policy::PolicyVersion,
    pub policy: &'a integritet_domain::policy::Policy,
}

pub(crate) async fn create_subject(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Json(input): Json<NewSubjectInput>,
) -> ApiResult<impl IntoResponse> {
    let id = state.vault.create_subject(&actor, input).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

pub(crate) async fn read_subject(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<SubjectId>,
    Query(query): Query<PurposeQuery>,
) -> ApiResult<Json<SubjectView>> {
    Ok(Json(state.vault.read(&actor, id, &query.purpose).await?))
}

pub(crate) async fn lookup(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Json(request): Json<LookupRequest>,
) -> ApiResult<Json<LookupResponse>> {
    let subjects = (state.vault)
        .lookup(&actor, request.kind, &request.value, &request.purpose)
        .await?;
    Ok(Json(LookupResponse { subjects }))
}

pub(crate) async fn rectify(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path((subject, value)): Path<(SubjectId, ValueId)>,
    Json(request): Json<RectifyRequest>,
) -> ApiResult<Json<Created<ValueId>>> {
    let id = (state.vault)
        .rectify(&actor, subject, value, request.value)
        .await?;
    Ok(Json(Created { id }))
}

pub(crate) async fn add_activities(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(subject): Path<SubjectId>,
    Json(activities): Json<Vec<NewActivity>>,
) -> ApiResult<StatusCode> {
    state
        .vault
        .add_activities(&actor, subject, activities)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(crate) async fn record_disclosure(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(subject): Path<SubjectId>,
    Json(d): Json<DisclosureRequest>,
) -> ApiResult<StatusCode> {
    (state.vault)
        .record_disclosure(&actor, subject, &d.recipient, &d.purpose, &d.categories)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(crate) async fn read_archive(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(reference): Path<String>,
    Json(request): Json<ArchiveReadRequest>,
) -> ApiResult<impl IntoResponse> {
    let reference = ArchiveRef::parse(&reference).ok_or_else(|| ApiError::BadPath {
        field: "reference",
        message: "an archive reference is `ar_` followed by 32 hex digits".into(),
    })?;
    let view = (state.vault)
        .read_archive(&actor, &reference, &request.reason)
        .await?;
    Ok(Json(view))
}

pub(crate) async fn policy(State(state): State<AppState>, Caller(_): Caller) -> impl IntoResponse {
    let loaded = state.vault.policy();
    Json(PolicyResponse {
        version: &loaded.version,
        policy: &loaded.policy,
    })
    .into_response()
}
