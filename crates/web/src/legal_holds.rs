//! Legal holds (`/api/v1/legal-holds`): stop the erasure of a subject's data while a dispute
//! lasts, list the holds, release one early. The rules are the vault's; these handlers only
//! translate.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use integritet_app::vault::LegalHold;
use integritet_domain::subject::SubjectId;
use serde::Deserialize;
use time::Date;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;
use crate::api::Caller;
use crate::error::ApiError;
use crate::extract::{Json, Path};
use crate::openapi::{Forbidden, Invalid, NotFound};

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(set))
        .routes(routes!(list))
        .routes(routes!(release))
}

type ApiResult<T> = Result<T, ApiError>;

time::serde::format_description!(day, Date, "[year]-[month]-[day]");

/// A hold to set.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewHoldBody {
    /// The hold's last day (YYYY-MM-DD), today or later.
    #[serde(with = "day")]
    #[schema(value_type = String, format = Date, example = "2027-06-30")]
    pub until: Date,
    /// Why, in 10 to 500 characters, without personal data (it is audited).
    #[schema(example = "tvist om faktura 7000")]
    pub reason: String,
}

/// Set a legal hold on a subject
///
/// Neither the retention sweep nor an erasure request removes anything of the subject until
/// the hold's last day has passed (GDPR Art. 17(3)(e)).
#[utoipa::path(
    post,
    path = "/subjects/{id}/legal-holds",
    tag = "legal holds",
    params(("id" = SubjectId, Path, description = "The subject's id")),
    request_body(content = NewHoldBody, example = json!({"until": "2027-06-30", "reason": "tvist om faktura 7000"})),
    responses(
        (status = 201, description = "The hold is in force", body = LegalHold),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 422, response = Invalid),
    )
)]
pub(crate) async fn set(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(subject): Path<SubjectId>,
    Json(body): Json<NewHoldBody>,
) -> ApiResult<impl IntoResponse> {
    let hold = state
        .vault()
        .set_legal_hold(&actor, subject, &body.reason, body.until)
        .await?;
    Ok((StatusCode::CREATED, Json(hold)))
}

/// Every legal hold, in force or not
#[utoipa::path(
    get,
    path = "/legal-holds",
    tag = "legal holds",
    responses(
        (status = 200, description = "The holds", body = Vec<LegalHold>),
        (status = 403, response = Forbidden),
    )
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    Caller(actor): Caller,
) -> ApiResult<Json<Vec<LegalHold>>> {
    Ok(Json(state.vault().legal_holds(&actor).await?))
}

/// Release a legal hold before its day
#[utoipa::path(
    post,
    path = "/legal-holds/{id}/release",
    tag = "legal holds",
    params(("id" = Uuid, Path, description = "The hold's id")),
    responses(
        (status = 200, description = "Released", body = LegalHold),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 422, response = Invalid),
    )
)]
pub(crate) async fn release(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<LegalHold>> {
    Ok(Json(state.vault().release_legal_hold(&actor, id).await?))
}
