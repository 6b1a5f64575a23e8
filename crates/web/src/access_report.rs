//! The Art. 15 access report of a subject (`/api/v1/subjects/{id}/access-report`): as a
//! printable page in Swedish or English, as Markdown, or as JSON. The vault makes it; the notice
//! crate renders it; this handler only translates.

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use integritet_domain::policy::Lang;
use integritet_domain::report::AccessReport;
use integritet_domain::subject::SubjectId;
use integritet_notice::{Format, render_access_report};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::api::{Caller, HTML, MARKDOWN, NoticeLang, with_content_type};
use crate::error::ApiError;
use crate::extract::{Json, Path, Query};
use crate::openapi::{Forbidden, NotFound};

/// The report's format.
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReportFormat {
    /// A standalone HTML page that prints on A4.
    #[default]
    Html,
    /// Markdown.
    Md,
    /// The report as data.
    Json,
}

/// How to give the report.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// `sv` (default) or `en`.
    #[serde(default)]
    #[param(inline)]
    pub lang: Option<NoticeLang>,
    /// `html` (default), `md` or `json`.
    #[serde(default)]
    #[param(inline)]
    pub format: Option<ReportFormat>,
}

/// A subject's access report (Art. 15)
///
/// Every value with its source, each purpose with its legal basis and the day it keeps the
/// data until, the recipients and every recorded disclosure, the person's rights and the
/// complaint to the supervisory authority. Audited as an export.
#[utoipa::path(
    get,
    path = "/subjects/{id}/access-report",
    tag = "subjects",
    params(("id" = SubjectId, Path, description = "The subject's id"), ReportQuery),
    responses(
        (status = 200, description = "The report", content(
            (String = "text/html"),
            (String = "text/markdown"),
            (AccessReport = "application/json"),
        )),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    )
)]
pub(crate) async fn access_report(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(subject): Path<SubjectId>,
    Query(query): Query<ReportQuery>,
) -> Result<Response, ApiError> {
    let report = state.vault().access_report(&actor, subject).await?;
    let lang = match query.lang.unwrap_or_default() {
        NoticeLang::Sv => Lang::Sv,
        NoticeLang::En => Lang::En,
    };
    let (format, content_type) = match query.format.unwrap_or_default() {
        ReportFormat::Json => return Ok(Json(report).into_response()),
        ReportFormat::Html => (Format::Html, HTML),
        ReportFormat::Md => (Format::Markdown, MARKDOWN),
    };
    let loaded = state.vault().policy();
    let page = render_access_report(&loaded.policy, &loaded.version, &report, lang, format);
    let mut response = with_content_type(page, content_type);
    response.headers_mut().insert(
        header::CONTENT_LANGUAGE,
        HeaderValue::from_static(lang.as_str()),
    );
    // Personal data: never kept by a cache on the way.
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
