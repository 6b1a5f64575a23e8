//! Data subjects' requests as records (`/api/v1/requests`): register one, record who proved
//! to be asking, extend, complete, refuse, withdraw, list by deadline. The rules are the
//! domain's and the vault's; these handlers only translate.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use integritet_app::vault::{CarriedOut, Correction, LookupKind, NewRequest, RequestStep};
use integritet_domain::personal::PersonalValue;
use integritet_domain::request::{
    Channel, DeliveryMethod, Request, RequestKind, VerificationMethod,
};
use serde::Deserialize;
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;
use crate::api::Caller;
use crate::error::ApiError;
use crate::extract::{Json, Path, Query};
use crate::openapi::{Conflict, Forbidden, Invalid, NotFound};

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(receive, list))
        .routes(routes!(show))
        .routes(routes!(verify))
        .routes(routes!(start))
        .routes(routes!(extend))
        .routes(routes!(complete))
        .routes(routes!(refuse))
        .routes(routes!(withdraw))
        .routes(routes!(carry_out))
        .routes(routes!(rectify))
}

type ApiResult<T> = Result<T, ApiError>;

/// An identifier as the person wrote it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GivenIdentifier {
    pub kind: LookupKind,
    #[schema(value_type = String, example = "omar.nilsson@example.se")]
    pub value: PersonalValue,
}

fn identifiers(given: Vec<GivenIdentifier>) -> Vec<(LookupKind, PersonalValue)> {
    given.into_iter().map(|g| (g.kind, g.value)).collect()
}

/// A request as it arrived.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRequestBody {
    pub kind: RequestKind,
    pub channel: Channel,
    /// When it arrived (RFC 3339); now when left out.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub received_at: Option<OffsetDateTime>,
    /// The identifiers it names: at least one.
    pub identifiers: Vec<GivenIdentifier>,
}

/// Register a data subject's request
///
/// Due one month after the day of receipt (Art. 12(3)), moved to the next Swedish working day.
#[utoipa::path(
    post,
    path = "/requests",
    tag = "requests",
    request_body(content = NewRequestBody, example = json!({
        "kind": {"type": "access"},
        "channel": "post",
        "received_at": "2026-01-31T10:00:00+01:00",
        "identifiers": [{"kind": "email", "value": "omar.nilsson@example.se"}]
    })),
    responses(
        (status = 201, description = "Registered", body = Request),
        (status = 403, response = Forbidden),
        (status = 422, response = Invalid),
    )
)]
pub(crate) async fn receive(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Json(body): Json<NewRequestBody>,
) -> ApiResult<impl IntoResponse> {
    let request = state
        .vault()
        .receive_request(
            &actor,
            NewRequest {
                kind: body.kind,
                channel: body.channel,
                received_at: body.received_at,
                identifiers: identifiers(body.identifiers),
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(request)))
}

/// Which requests to list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only open requests due within this many days (overdue ones included).
    #[param(minimum = 0, maximum = 3650)]
    pub due_within_days: Option<u16>,
}

/// List requests, the one due first first
#[utoipa::path(
    get,
    path = "/requests",
    tag = "requests",
    params(ListQuery),
    responses(
        (status = 200, description = "The requests", body = Vec<Request>),
        (status = 403, response = Forbidden),
    )
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Query(query): Query<ListQuery>,
) -> ApiResult<Json<Vec<Request>>> {
    let mut requests = state.vault().requests(&actor).await?;
    if let Some(days) = query.due_within_days {
        let today = integritet_domain::request::stockholm_date(state.vault().now());
        let until = today + time::Duration::days(i64::from(days));
        requests.retain(|r| !r.state.is_closed() && r.due() <= until);
    }
    Ok(Json(requests))
}

/// One request
#[utoipa::path(
    get,
    path = "/requests/{id}",
    tag = "requests",
    params(("id" = Uuid, Path, description = "The request's id")),
    responses(
        (status = 200, description = "The request", body = Request),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    )
)]
pub(crate) async fn show(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<Request>> {
    Ok(Json(state.vault().request(&actor, id).await?))
}

async fn step(
    state: &AppState,
    actor: &integritet_app::vault::Actor,
    id: Uuid,
    step: RequestStep,
) -> ApiResult<Json<Request>> {
    Ok(Json(state.vault().advance_request(actor, id, step).await?))
}

/// Who proved to be asking.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyBody {
    pub method: VerificationMethod,
    /// The request's identifiers the proof covers.
    pub identifiers: Vec<GivenIdentifier>,
}

/// Record who proved to be asking
///
/// The request is carried out only after this, and only against the identifiers proven.
#[utoipa::path(
    post,
    path = "/requests/{id}/verify",
    tag = "requests",
    params(("id" = Uuid, Path, description = "The request's id")),
    request_body(content = VerifyBody, example = json!({
        "method": "id_document_checked",
        "identifiers": [{"kind": "email", "value": "omar.nilsson@example.se"}]
    })),
    responses(
        (status = 200, description = "Verified", body = Request),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 422, response = Invalid),
    )
)]
pub(crate) async fn verify(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<Uuid>,
    Json(body): Json<VerifyBody>,
) -> ApiResult<Json<Request>> {
    let verify = RequestStep::Verify {
        method: body.method,
        identifiers: identifiers(body.identifiers),
    };
    step(&state, &actor, id, verify).await
}

/// Work on a request begins
#[utoipa::path(
    post,
    path = "/requests/{id}/start",
    tag = "requests",
    params(("id" = Uuid, Path, description = "The request's id")),
    responses(
        (status = 200, description = "In progress", body = Request),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 422, response = Invalid),
    )
)]
pub(crate) async fn start(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<Request>> {
    step(&state, &actor, id, RequestStep::Start).await
}

/// An extension of the deadline.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtendBody {
    /// One or two.
    pub months: u32,
    /// Why (told to the person).
    pub reason: String,
    pub told_by: DeliveryMethod,
}

/// Extend the deadline by one or two months (only within the first month)
#[utoipa::path(
    post,
    path = "/requests/{id}/extend",
    tag = "requests",
    params(("id" = Uuid, Path, description = "The request's id")),
    request_body(content = ExtendBody, example = json!({
        "months": 2, "reason": "records at two warehouses", "told_by": "email"
    })),
    responses(
        (status = 200, description = "Extended", body = Request),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 422, response = Invalid),
    )
)]
pub(crate) async fn extend(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<Uuid>,
    Json(body): Json<ExtendBody>,
) -> ApiResult<Json<Request>> {
    let extend = RequestStep::Extend {
        months: body.months,
        reason: body.reason,
        told_by: body.told_by,
    };
    step(&state, &actor, id, extend).await
}

/// How the answer went out.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteBody {
    pub delivery: DeliveryMethod,
    /// The address used (kept sealed with the request).
    #[schema(value_type = Option<String>)]
    #[serde(default)]
    pub address: Option<PersonalValue>,
}

/// Record that the answer went out
#[utoipa::path(
    post,
    path = "/requests/{id}/complete",
    tag = "requests",
    params(("id" = Uuid, Path, description = "The request's id")),
    request_body(content = CompleteBody, example = json!({"delivery": "portal_download"})),
    responses(
        (status = 200, description = "Completed", body = Request),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 422, response = Invalid),
    )
)]
pub(crate) async fn complete(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<Uuid>,
    Json(body): Json<CompleteBody>,
) -> ApiResult<Json<Request>> {
    let complete = RequestStep::Complete {
        method: body.delivery,
        address: body.address,
    };
    step(&state, &actor, id, complete).await
}

/// Why a request is refused.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefuseBody {
    pub reason: String,
}

/// Refuse a request, with the reason told to the person
#[utoipa::path(
    post,
    path = "/requests/{id}/refuse",
    tag = "requests",
    params(("id" = Uuid, Path, description = "The request's id")),
    request_body(content = RefuseBody, example = json!({"reason": "the identity could not be confirmed"})),
    responses(
        (status = 200, description = "Refused", body = Request),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 422, response = Invalid),
    )
)]
pub(crate) async fn refuse(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<Uuid>,
    Json(body): Json<RefuseBody>,
) -> ApiResult<Json<Request>> {
    step(
        &state,
        &actor,
        id,
        RequestStep::Refuse {
            reason: body.reason,
        },
    )
    .await
}

/// Carry out a verified request
///
/// Against the subjects its proven identifiers lead to, and only those: an erasure erases
/// (archiving what a law keeps, with the day), a restriction restricts, an objection records
/// itself (to marketing on a channel: on every purpose that markets on it), an access request
/// gives each subject's full copy. The request is in progress afterwards; complete it when the
/// answer has gone out.
#[utoipa::path(
    post,
    path = "/requests/{id}/carry-out",
    tag = "requests",
    params(("id" = Uuid, Path, description = "The request's id")),
    responses(
        (status = 200, description = "Carried out", body = CarriedOut),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 422, response = Invalid),
    )
)]
pub(crate) async fn carry_out(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<CarriedOut>> {
    Ok(Json(state.vault().carry_out_request(&actor, id).await?))
}

/// A corrected value.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CorrectionBody {
    /// The category whose values are replaced, e.g. `email`.
    pub category: String,
    #[schema(value_type = String, example = "omar.nilsson@example.org")]
    pub value: PersonalValue,
}

/// The corrected values of a rectification request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RectifyBody {
    pub corrections: Vec<CorrectionBody>,
}

/// Carry out a verified rectification request
///
/// Every value of each corrected category, of every subject the proven identifiers lead to,
/// is replaced (Art. 16; no old plaintext is kept); the answer names the recipients that
/// received the old value and must be told (Art. 19).
#[utoipa::path(
    post,
    path = "/requests/{id}/rectify",
    tag = "requests",
    params(("id" = Uuid, Path, description = "The request's id")),
    request_body(content = RectifyBody, example = json!({
        "corrections": [{"category": "email", "value": "omar.nilsson@example.org"}]
    })),
    responses(
        (status = 200, description = "Carried out", body = CarriedOut),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 422, response = Invalid),
    )
)]
pub(crate) async fn rectify(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<Uuid>,
    Json(body): Json<RectifyBody>,
) -> ApiResult<Json<CarriedOut>> {
    let corrections = body
        .corrections
        .into_iter()
        .map(|c| Correction {
            category: c.category,
            value: c.value,
        })
        .collect();
    Ok(Json(
        state
            .vault()
            .carry_out_rectification(&actor, id, corrections)
            .await?,
    ))
}

/// The person took a request back
#[utoipa::path(
    post,
    path = "/requests/{id}/withdraw",
    tag = "requests",
    params(("id" = Uuid, Path, description = "The request's id")),
    responses(
        (status = 200, description = "Withdrawn", body = Request),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 422, response = Invalid),
    )
)]
pub(crate) async fn withdraw(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<Request>> {
    step(&state, &actor, id, RequestStep::Withdraw).await
}
