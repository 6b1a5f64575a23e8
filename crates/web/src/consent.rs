//! Cookie consent on the server: the banner's decisions kept as records (`POST /consent`), a
//! visitor's own record by its id (`GET /consent/{id}`), their export as JSON-LD for staff
//! (`GET /api/v1/consent/records`), and `/.well-known/gpc.json`. The rules are the vault's and
//! the domain's; these handlers only translate.

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use integritet_app::vault::ConsentReceipt;
use integritet_domain::consent::DecisionInput;
use serde::Deserialize;
use time::Date;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;
use crate::api::Caller;
use crate::error::{ApiError, Problem};
use crate::extract::{Json, Path, Query};
use crate::openapi::{Forbidden, Invalid};
use crate::throttle;

/// The largest decision accepted: a banner's is a few hundred bytes.
pub const CONSENT_BODY_LIMIT: usize = 4 * 1024;

/// The public routes.
pub(crate) fn public_routes() -> OpenApiRouter<AppState> {
    // The banner runs on the shop's pages, another origin: its POST carries no credentials,
    // so any origin may send one.
    let cors = tower_http::cors::CorsLayer::new()
        .allow_origin(tower_http::cors::Any)
        .allow_methods([axum::http::Method::POST, axum::http::Method::GET])
        .allow_headers([header::CONTENT_TYPE]);
    OpenApiRouter::new()
        .routes(routes!(record))
        // The browser's preflight, answered by the CORS layer; not part of the API document.
        .route(
            "/consent",
            axum::routing::options(|| async { StatusCode::NO_CONTENT }),
        )
        .layer(DefaultBodyLimit::max(CONSENT_BODY_LIMIT))
        .layer(cors)
        .routes(routes!(receipt))
        .routes(routes!(gpc))
}

/// The staff routes, under `/api/v1`.
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(export))
}

/// Keep a visitor's cookie decision
///
/// What the banner (`/consent.js`) sends after every choice: the visitor's pseudonymous id,
/// the banner version and the hash of the text shown, the language, the choice per category
/// (refusals included), the GPC flag and the page. No IP address is kept. The answer is the
/// record, which the visitor can read again by its id.
#[utoipa::path(
    post,
    path = "/consent",
    tag = "consent",
    request_body(content = DecisionInput, example = json!({
        "visitor": "q3Zk1o9VbH2mX0cW7yTn4A",
        "banner_version": "5f0c2a9e4b1d7c3a",
        "text_hash": "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262",
        "lang": "sv",
        "choices": {"preferences": false, "statistics": false},
        "gpc": false,
        "page": "https://smart-telematik.se/"
    })),
    responses(
        (status = 201, description = "Kept; the record", body = Object),
        (status = 413, description = "The body is larger than 4 KiB", body = Problem, content_type = "application/problem+json"),
        (status = 422, response = Invalid),
        (status = 429, description = "Too many requests from this address", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn record(
    State(state): State<AppState>,
    request: Request,
) -> Result<Response, ApiError> {
    state
        .throttle()
        .check_public(throttle::client_address(&request))
        .map_err(|t| ApiError::Throttled(t.retry_after))?;
    let Json(input) = <Json<DecisionInput> as axum::extract::FromRequest<AppState>>::from_request(
        request, &state,
    )
    .await?;
    let receipt = state.vault().record_consent(input).await?;
    Ok((StatusCode::CREATED, Json(receipt)).into_response())
}

/// A visitor's own consent record
///
/// By the record's id, which only the visitor's browser holds: a receipt of what was chosen.
#[utoipa::path(
    get,
    path = "/consent/{id}",
    tag = "consent",
    params(("id" = Uuid, Path, description = "The record's id")),
    responses(
        (status = 200, description = "The record", body = Object),
        (status = 404, description = "No such record", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many requests from this address", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn receipt(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    request: Request,
) -> Result<Json<ConsentReceipt>, ApiError> {
    state
        .throttle()
        .check_public(throttle::client_address(&request))
        .map_err(|t| ApiError::Throttled(t.retry_after))?;
    state
        .vault()
        .consent_receipt(id)
        .await?
        .map(Json)
        .ok_or(ApiError::NoSuchRecord)
}

/// Which records.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// Records made on this day or later (YYYY-MM-DD); all when left out.
    #[param(value_type = Option<String>, format = Date, example = "2026-12-01")]
    #[serde(default, with = "day_option")]
    pub since: Option<Date>,
}

mod day_option {
    use serde::{Deserialize, Deserializer};
    use time::Date;

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Date>, D::Error> {
        let text: Option<String> = Option::deserialize(d)?;
        text.map(|t| {
            let format = time::macros::format_description!("[year]-[month]-[day]");
            Date::parse(&t, format)
                .map_err(|_| serde::de::Error::custom("since: write the day as YYYY-MM-DD"))
        })
        .transpose()
    }
}

/// The consent records as JSON-LD
///
/// Following the W3C DPV guide to ISO/IEC TS 27560 (`dct:conformsTo` the dpv-27560
/// `record-eu-gdpr` schema): each record's status (`dpv:ConsentGiven`, `ConsentRefused`,
/// `ConsentWithdrawn`, `ConsentExpired`), time, notice with its version, purposes, personal
/// data, controller and withdrawal control. For roles that handle requests; audited.
#[utoipa::path(
    get,
    path = "/consent/records",
    tag = "consent",
    params(ExportQuery),
    responses(
        (status = 200, description = "The records", body = Object, content_type = "application/ld+json"),
        (status = 403, response = Forbidden),
    )
)]
pub(crate) async fn export(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Query(query): Query<ExportQuery>,
) -> Result<Response, ApiError> {
    let since = query.since.map_or(time::OffsetDateTime::UNIX_EPOCH, |day| {
        day.midnight().assume_utc()
    });
    let document = state.vault().consent_export(&actor, since).await?;
    let mut response = Json(document).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/ld+json"),
    );
    Ok(response)
}

/// Global Privacy Control support
///
/// Whether this site honours GPC, and since when (`lastUpdate`, the day the policy in force
/// was put in force).
#[utoipa::path(
    get,
    path = "/.well-known/gpc.json",
    tag = "consent",
    responses(
        (status = 200, description = "The statement", body = Object, content_type = "application/json",
         example = json!({"gpc": true, "lastUpdate": "2026-12-04"})),
    )
)]
pub(crate) async fn gpc(State(state): State<AppState>) -> Result<Response, ApiError> {
    let (honoured, since) = state.vault().gpc_statement().await?;
    let body = serde_json::json!({
        "gpc": honoured,
        "lastUpdate": since.to_string(),
    });
    Ok(Json(body).into_response())
}
