//! The JSON API under `/api/v1`. Each handler states who calls, parses the request and hands
//! it to the [`Vault`](integritet_app::vault::Vault); errors become problems in
//! [`ApiError`]. Each handler's `#[utoipa::path]` is its entry in `/openapi.json` (paths here
//! are relative to `/api/v1`; see [`crate::openapi`] for what is added to every endpoint).

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use integritet_app::vault::{
    Actor, ArchiveView, ErasureOutcome, LookupKind, NewActivity, NewSubjectInput, NewValue,
    SubjectView, VaultError,
};
use integritet_domain::personal::PersonalValue;
use integritet_domain::policy::{Policy, PolicyVersion};
use integritet_domain::subject::{ArchiveRef, SubjectId, ValueId};
use integritet_notice::{Format, Lang, render_notice, render_ropa_csv, render_ropa_json};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{Json, Path, Query};
use crate::openapi::{Conflict, Forbidden, Internal, Invalid, NotFound};

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

/// The id of what was created.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedSubject {
    pub id: SubjectId,
}

/// A rectified value: the id of the value that now holds the data, and whom to tell.
#[derive(Debug, Serialize, ToSchema)]
pub struct RectifiedValue {
    pub id: ValueId,
    /// Recipients the old value's category was disclosed to, to be told of the rectification
    /// (Art. 19), by their policy ids.
    pub notify: Vec<String>,
}

/// The ids of the values added, in the order they were given.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedValues {
    pub ids: Vec<ValueId>,
}

/// The purpose a read serves.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PurposeQuery {
    /// A purpose of the policy that the caller's role holds, e.g. `purchase`.
    #[param(example = "purchase")]
    pub purpose: String,
}

/// An exact-match lookup.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"kind": "email", "value": "astrid@example.se", "purpose": "purchase"}))]
pub struct LookupRequest {
    pub kind: LookupKind,
    pub value: PersonalValue,
    /// The purpose the lookup serves; the caller's role must hold it.
    pub purpose: String,
}

/// The subjects found: ids only; reading them is a separate, purpose-bound step.
#[derive(Debug, Serialize, ToSchema)]
pub struct LookupResponse {
    pub subjects: Vec<SubjectId>,
}

/// A new value in place of an old one (Art. 16); the old one is not kept.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"value": "astrid.l@example.se"}))]
pub struct RectifyRequest {
    pub value: PersonalValue,
}

/// Values to add to a subject.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"values": [
    {"category": "phone", "value": "070-123 45 67", "purposes": ["purchase"]}
]}))]
pub struct AddValuesRequest {
    #[schema(min_items = 1)]
    pub values: Vec<NewValue>,
}

/// A disclosure to a recipient declared in the policy (P6).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"recipient": "it_suppliers", "purpose": "purchase", "categories": ["email"]}))]
pub struct DisclosureRequest {
    /// A recipient of the policy (`[recipients]`).
    pub recipient: String,
    /// The purpose the disclosure serves; the recipient must be declared for it.
    pub purpose: String,
    /// The categories disclosed; the recipient must be declared for each.
    pub categories: Vec<String>,
}

/// Why the archive is opened.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "Skatteverket audit of the 2026 books"}))]
pub struct ArchiveReadRequest {
    /// At least 10 characters and no personal data: it is written to the audit log.
    pub reason: String,
}

/// The policy in force.
#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyResponse<'a> {
    #[schema(value_type = PolicyVersion)]
    pub version: &'a PolicyVersion,
    #[schema(value_type = Policy)]
    pub policy: &'a Policy,
}

/// What an erasure did, and why.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "subject": "0195f3a2-7c4e-7d1a-9b8e-2f6d4c1a0e53",
    "reason": "request",
    "erased": ["email", "name"],
    "archived": ["customer_number"],
    "archive_references": ["ar_5f0c3e9a1b7d4c2e8f6a0b1c2d3e4f50"],
    "archive": [{
        "reference": "ar_5f0c3e9a1b7d4c2e8f6a0b1c2d3e4f50",
        "categories": ["customer_number"],
        "kept_for": [{"purpose": "bookkeeping", "law": "Bokföringslagen (1999:1078) 7 kap. 2 §"}],
        "shred_after": "2033-12-31"
    }],
    "notify": ["credit_agencies"]
}))]
pub struct ErasureResponse {
    pub subject: SubjectId,
    /// Why the subject was erased: `request`, the data subject's request (Art. 17).
    pub reason: &'static str,
    /// Categories whose values were destroyed.
    pub erased: Vec<String>,
    /// Categories moved to the archive because a legal obligation still holds them.
    pub archived: Vec<String>,
    /// References of the archive entries, for answering an authority later.
    pub archive_references: Vec<ArchiveRef>,
    /// Each archive entry: what it holds, which legal obligations keep it (Art. 17(3)(b)) and
    /// the day after which it is shredded.
    pub archive: Vec<ArchivedEntry>,
    /// Recipients the subject's data was disclosed to, to be told of the erasure (Art. 19).
    pub notify: Vec<String>,
}

/// An archive entry made by an erasure.
#[derive(Debug, Serialize, ToSchema)]
pub struct ArchivedEntry {
    pub reference: ArchiveRef,
    pub categories: Vec<String>,
    pub kept_for: Vec<Obligation>,
    /// The entry is shredded after this day.
    #[schema(value_type = String, format = Date)]
    #[serde(serialize_with = "iso_date")]
    pub shred_after: time::Date,
}

/// A purpose under a legal obligation, and the law that imposes it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Obligation {
    pub purpose: String,
    /// The law as the policy names it.
    pub law: Option<String>,
}

/// `YYYY-MM-DD`.
fn iso_date<S: serde::Serializer>(date: &time::Date, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(date)
}

impl ErasureResponse {
    /// The outcome, with each archive entry's purposes and shred day read from the store (its
    /// metadata only: nothing is decrypted).
    async fn new(outcome: ErasureOutcome, state: &AppState) -> Result<ErasureResponse, ApiError> {
        let policy = &state.vault.policy().policy;
        let archive = outcome
            .archive
            .into_iter()
            .map(|entry| ArchivedEntry {
                reference: entry.reference,
                categories: entry.categories,
                kept_for: entry
                    .purposes
                    .into_iter()
                    .map(|purpose| Obligation {
                        law: policy.purposes.get(&purpose).and_then(|p| p.law.clone()),
                        purpose,
                    })
                    .collect(),
                shred_after: entry.shred_after,
            })
            .collect();
        Ok(ErasureResponse {
            subject: outcome.subject,
            reason: "request",
            erased: outcome.erased,
            archived: outcome.archived,
            archive_references: outcome.archive_references,
            archive,
            notify: outcome.notify,
        })
    }
}

/// Create a subject
///
/// Every value is validated against the policy (its category, its purposes) and by its kind,
/// normalised, encrypted and indexed for lookup where the category allows it.
#[utoipa::path(
    post,
    path = "/subjects",
    tag = "subjects",
    request_body(content = NewSubjectInput, example = json!({
        "kind": "person",
        "values": [
            {"category": "name", "value": "Astrid Lindqvist", "purposes": ["purchase"]},
            {"category": "email", "value": "astrid@example.se", "purposes": ["purchase"]},
            {"category": "customer_number", "value": "KUND-778812", "purposes": ["purchase", "bookkeeping"]}
        ],
        "activities": [{"kind": "purchase", "at": "2026-03-01T10:00:00Z"}]
    })),
    responses(
        (status = 201, description = "The subject was created", body = CreatedSubject),
        (status = 403, response = Forbidden),
    )
)]
pub(crate) async fn create_subject(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Json(input): Json<NewSubjectInput>,
) -> ApiResult<impl IntoResponse> {
    let id = state.vault.create_subject(&actor, input).await?;
    Ok((StatusCode::CREATED, Json(CreatedSubject { id })))
}

/// Read a subject for one purpose
///
/// Only values collected for that purpose, of the categories it lists, are returned. The read
/// is audited before any value leaves.
#[utoipa::path(
    get,
    path = "/subjects/{id}",
    tag = "subjects",
    params(("id" = SubjectId, Path, description = "The subject's id"), PurposeQuery),
    responses(
        (status = 200, description = "The subject as the purpose sees it", body = SubjectView),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 422, response = Invalid),
    )
)]
pub(crate) async fn read_subject(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<SubjectId>,
    Query(query): Query<PurposeQuery>,
) -> ApiResult<Json<SubjectView>> {
    Ok(Json(state.vault.read(&actor, id, &query.purpose).await?))
}

/// Look subjects up by an exact value
///
/// By e-mail, phone, identity number (personnummer, samordningsnummer, organisationsnummer) or
/// customer number, through a keyed blind index; the value is normalised first.
#[utoipa::path(
    post,
    path = "/subjects/lookup",
    tag = "subjects",
    request_body = LookupRequest,
    responses(
        (status = 200, description = "The matching subjects", body = LookupResponse),
        (status = 403, response = Forbidden),
        (status = 429, description = "Too many attempts from this client, for this account or by this caller; wait the seconds of the `Retry-After` header.", body = crate::error::Problem, content_type = "application/problem+json",
            headers(("retry-after" = u64, description = "Seconds to wait"))),
    )
)]
pub(crate) async fn lookup(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Json(request): Json<LookupRequest>,
) -> ApiResult<Json<LookupResponse>> {
    if let Err(throttled) = state.throttle().check_lookup(&actor.id()) {
        return Err(ApiError::Throttled(throttled.retry_after));
    }
    let subjects = (state.vault)
        .lookup(&actor, request.kind, &request.value, &request.purpose)
        .await?;
    Ok(Json(LookupResponse { subjects }))
}

/// Rectify a value (Art. 16)
///
/// The value is replaced under a new id; the old plaintext is not kept anywhere.
#[utoipa::path(
    put,
    path = "/subjects/{id}/values/{value_id}",
    tag = "subjects",
    params(
        ("id" = SubjectId, Path, description = "The subject's id"),
        ("value_id" = ValueId, Path, description = "The value to replace"),
    ),
    request_body = RectifyRequest,
    responses(
        (status = 200, description = "The value was replaced; its new id, and whom to tell", body = RectifiedValue),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    )
)]
pub(crate) async fn rectify(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path((subject, value)): Path<(SubjectId, ValueId)>,
    Json(request): Json<RectifyRequest>,
) -> ApiResult<Json<RectifiedValue>> {
    let rectified = (state.vault)
        .rectify(&actor, subject, value, request.value)
        .await?;
    Ok(Json(RectifiedValue {
        id: rectified.id,
        notify: rectified.notify,
    }))
}

/// Add values to a subject
#[utoipa::path(
    post,
    path = "/subjects/{id}/values",
    tag = "subjects",
    params(("id" = SubjectId, Path, description = "The subject's id")),
    request_body = AddValuesRequest,
    responses(
        (status = 201, description = "The values were added", body = CreatedValues),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    )
)]
pub(crate) async fn add_values(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(subject): Path<SubjectId>,
    Json(request): Json<AddValuesRequest>,
) -> ApiResult<impl IntoResponse> {
    if request.values.is_empty() {
        return Err(VaultError::Invalid {
            field: "values".into(),
            code: "no_values",
            message: "give at least one value to add".into(),
        }
        .into());
    }
    let ids = (state.vault)
        .add_values(&actor, subject, request.values)
        .await?;
    Ok((StatusCode::CREATED, Json(CreatedValues { ids })))
}

/// Record activity events
///
/// Events of the kinds the policy names (a purchase, a support contact); they restart the
/// retention clocks.
#[utoipa::path(
    post,
    path = "/subjects/{id}/activities",
    tag = "subjects",
    params(("id" = SubjectId, Path, description = "The subject's id")),
    request_body(content = Vec<NewActivity>, example = json!([{"kind": "purchase", "at": "2026-02-28T10:00:00Z"}])),
    responses(
        (status = 204, description = "The events were recorded"),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    )
)]
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

/// Record a disclosure to a recipient
///
/// The recipient must be declared in the policy for the purpose and the categories. The entry
/// in the audit log names recipient, purpose, categories and legal basis, and appears in the
/// subject's access report.
#[utoipa::path(
    post,
    path = "/subjects/{id}/disclosures",
    tag = "subjects",
    params(("id" = SubjectId, Path, description = "The subject's id")),
    request_body = DisclosureRequest,
    responses(
        (status = 204, description = "The disclosure was recorded"),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    )
)]
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

/// Erase a subject (Art. 17)
///
/// Values, index entries, activities and the subject's key are destroyed. Values a legal
/// obligation still holds (bookkeeping) are moved to the archive, sealed under a key that dies
/// on their shred day; the answer names them, their archive references and the obligation. A
/// record of the erasure without personal data remains, so a restored backup erases again.
#[utoipa::path(
    delete,
    path = "/subjects/{id}",
    tag = "subjects",
    params(("id" = SubjectId, Path, description = "The subject's id")),
    responses(
        (status = 200, description = "The subject was erased", body = ErasureResponse),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
    )
)]
pub(crate) async fn erase(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(subject): Path<SubjectId>,
) -> ApiResult<Json<ErasureResponse>> {
    let outcome = state.vault.erase(&actor, subject, "request").await?;
    Ok(Json(ErasureResponse::new(outcome, &state).await?))
}

/// Export a subject's data (Art. 15)
///
/// Every value and activity of the subject, for the subject's own copy. Audited as an export.
#[utoipa::path(
    get,
    path = "/subjects/{id}/export",
    tag = "subjects",
    params(("id" = SubjectId, Path, description = "The subject's id")),
    responses(
        (status = 200, description = "Everything held about the subject (`purpose` is null)", body = SubjectView),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    )
)]
pub(crate) async fn export(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(subject): Path<SubjectId>,
) -> ApiResult<Response> {
    let view = state.vault.export(&actor, subject).await?;
    let mut response = Json(view).into_response();
    if let Ok(value) =
        HeaderValue::from_str(&format!("attachment; filename=\"subject-{subject}.json\""))
    {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

/// Open an archive entry
///
/// By its reference and a stated reason, which is written to the audit log.
#[utoipa::path(
    post,
    path = "/archive/{reference}/read",
    tag = "archive",
    params(("reference" = String, Path, description = "The archive reference: `ar_` and 32 hex digits",
        example = "ar_5f0c3e9a1b7d4c2e8f6a0b1c2d3e4f50")),
    request_body = ArchiveReadRequest,
    responses(
        (status = 200, description = "The archived values", body = ArchiveView),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    )
)]
pub(crate) async fn read_archive(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(reference): Path<String>,
    Json(request): Json<ArchiveReadRequest>,
) -> ApiResult<Json<ArchiveView>> {
    let reference = ArchiveRef::parse(&reference).ok_or_else(|| ApiError::BadPath {
        field: "reference",
        message: "an archive reference is `ar_` followed by 32 hex digits".into(),
    })?;
    let view = (state.vault)
        .read_archive(&actor, &reference, &request.reason)
        .await?;
    Ok(Json(view))
}

/// The policy in force
///
/// The whole policy as data, with its version id (a hash of its normalised content).
#[utoipa::path(
    get,
    path = "/policy",
    tag = "policy",
    responses((status = 200, description = "The policy and its version", body = PolicyResponse))
)]
pub(crate) async fn policy(State(state): State<AppState>, Caller(_): Caller) -> Response {
    let loaded = state.vault.policy();
    Json(PolicyResponse {
        version: &loaded.version,
        policy: &loaded.policy,
    })
    .into_response()
}

/// The language of a notice.
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum NoticeLang {
    /// Swedish.
    #[default]
    Sv,
    /// English.
    En,
}

/// The format of a notice.
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum NoticeFormat {
    /// A standalone HTML page.
    #[default]
    Html,
    /// Markdown (CommonMark with pipe tables).
    Md,
}

/// Which notice to render.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct NoticeQuery {
    /// `sv` (default) or `en`.
    #[serde(default)]
    #[param(inline)]
    pub lang: Option<NoticeLang>,
    /// `html` (default) or `md`.
    #[serde(default)]
    #[param(inline)]
    pub format: Option<NoticeFormat>,
}

/// The format of the register.
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RegisterFormat {
    /// JSON with W3C DPV terms.
    #[default]
    Json,
    /// CSV, one row per purpose.
    Csv,
}

/// Which rendering of the register.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RegisterQuery {
    /// `json` (default) or `csv`.
    #[serde(default)]
    #[param(inline)]
    pub format: Option<RegisterFormat>,
}

pub(crate) const HTML: &str = "text/html; charset=utf-8";
pub(crate) const MARKDOWN: &str = "text/markdown; charset=utf-8";
const CSV: &str = "text/csv; charset=utf-8";

pub(crate) fn with_content_type(body: String, content_type: &'static str) -> Response {
    let mut response = body.into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

fn notice_response(state: &AppState, query: NoticeQuery) -> Response {
    let loaded = state.vault.policy();
    let lang = match query.lang.unwrap_or_default() {
        NoticeLang::Sv => Lang::Sv,
        NoticeLang::En => Lang::En,
    };
    let (format, content_type) = match query.format.unwrap_or_default() {
        NoticeFormat::Html => (Format::Html, HTML),
        NoticeFormat::Md => (Format::Markdown, MARKDOWN),
    };
    let text = render_notice(&loaded.policy, &loaded.version, lang, format);
    let mut response = with_content_type(text, content_type);
    response.headers_mut().insert(
        header::CONTENT_LANGUAGE,
        HeaderValue::from_static(lang.as_str()),
    );
    response
}

/// The privacy notice
///
/// Rendered from the policy in force, in Swedish or English, as an HTML page or Markdown.
/// Public: the shop links to it.
#[utoipa::path(
    get,
    path = "/policy/notice",
    tag = "policy",
    params(NoticeQuery),
    responses(
        (status = 200, description = "The privacy notice", content(
            (String = "text/html"),
            (String = "text/markdown"),
        )),
    )
)]
pub(crate) async fn policy_notice(
    State(state): State<AppState>,
    Query(query): Query<NoticeQuery>,
) -> Response {
    notice_response(&state, query)
}

/// The privacy notice (short address)
///
/// The same as `/api/v1/policy/notice`, for links from the shop's pages.
#[utoipa::path(
    get,
    path = "/notice",
    tag = "policy",
    params(NoticeQuery),
    responses(
        (status = 200, description = "The privacy notice", content(
            (String = "text/html"),
            (String = "text/markdown"),
        )),
    )
)]
pub(crate) async fn notice(
    State(state): State<AppState>,
    Query(query): Query<NoticeQuery>,
) -> Response {
    notice_response(&state, query)
}

/// The record of processing activities (Art. 30)
///
/// One record per purpose, from the policy in force, as JSON (with W3C DPV terms) or CSV.
#[utoipa::path(
    get,
    path = "/policy/register",
    tag = "policy",
    params(RegisterQuery),
    responses(
        (status = 200, description = "The register", content(
            (crate::openapi::Register = "application/json"),
            (String = "text/csv"),
        )),
        (status = 500, response = Internal),
    )
)]
pub(crate) async fn policy_register(
    State(state): State<AppState>,
    Caller(_): Caller,
    Query(query): Query<RegisterQuery>,
) -> ApiResult<Response> {
    let loaded = state.vault.policy();
    Ok(match query.format.unwrap_or_default() {
        RegisterFormat::Json => {
            Json(render_ropa_json(&loaded.policy, &loaded.version)).into_response()
        }
        RegisterFormat::Csv => match render_ropa_csv(&loaded.policy, &loaded.version) {
            Ok(csv) => with_content_type(csv, CSV),
            Err(error) => {
                tracing::error!(%error, "cannot render the register as CSV");
                return Ok(crate::error::internal().into_response());
            }
        },
    })
}
