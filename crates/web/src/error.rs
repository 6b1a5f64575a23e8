//! The one place where errors become HTTP responses: RFC 9457 `application/problem+json`.

use axum::extract::rejection::{FormRejection, JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use integritet_app::store::StoreError;
use integritet_app::vault::VaultError;
use integritet_domain::input_error::without_input;
use serde::Serialize;

/// The media type of problem documents.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Everything a handler can answer with besides success. Converted to a problem document in
/// [`IntoResponse`], and nowhere else.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// No bearer token, or one that is not valid.
    #[error("a valid bearer token is required")]
    Unauthorized,
    /// The request body is not JSON, or not the JSON this endpoint takes.
    #[error(transparent)]
    Json(#[from] JsonRejection),
    #[error(transparent)]
    Path(#[from] PathRejection),
    #[error(transparent)]
    Query(#[from] QueryRejection),
    /// A path segment that cannot name anything (`field` says which).
    #[error("{field}: {message}")]
    BadPath {
        field: &'static str,
        message: String,
    },
    /// No such route.
    #[error("no such resource")]
    NoRoute,
    /// The route exists but not for this method.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// A console login form that does not fit.
    #[error(transparent)]
    Form(#[from] FormRejection),
    /// A console login was refused: one answer for an unknown name, a wrong password, a
    /// locked and a disabled account.
    #[error("wrong user name or password")]
    LoginFailed,
    /// No valid console session cookie.
    #[error("no valid console session")]
    NoSession,
    /// A request made with the session cookie without the session's CSRF token, or a
    /// cross-site login.
    #[error("missing or wrong CSRF token")]
    Csrf,
    /// Too many attempts: from this address, for this account, or by this caller.
    #[error("too many attempts; retry after {0:?}")]
    Throttled(std::time::Duration),
    /// The queue in front of password hashing is full.
    #[error("too many logins are being checked at once")]
    Busy,
    /// An unsubscribe link that is not one of this server's (forged, altered, cut short).
    #[error("no such unsubscribe link")]
    NoSuchLink,
    /// An unsubscribe link that was used or revoked.
    #[error("the unsubscribe link was used or revoked")]
    SpentLink,
    /// No consent record with that id (or one that does not open).
    #[error("no such consent record")]
    NoSuchRecord,
    /// A one-click unsubscribe POST without the RFC 8058 body.
    #[error("{0}")]
    NotOneClick(&'static str),
}

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(example = json!({
    "type": "https://integritet.dev/problems/invalid",
    "title": "Invalid input",
    "status": 422,
    "detail": "values[1].value: not an e-mail address",
    "field": "values[1].value",
    "code": "invalid_email"
}))]
pub struct Problem {
    /// A URI naming the kind of problem.
    #[serde(rename = "type")]
    #[schema(format = "uri")]
    pub kind: String,
    /// A short summary of the kind of problem.
    pub title: &'static str,
    /// The HTTP status code.
    #[schema(minimum = 400, maximum = 599)]
    pub status: u16,
    /// What was wrong and what to do about it. Never holds personal data sent by the caller.
    pub detail: String,
    /// Where in the input the problem is, e.g. `values[2].value` (for invalid input).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// A stable, machine-readable code, e.g. `invalid_email`, `unknown_purpose`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

impl Problem {
    fn new(status: StatusCode, slug: &str, title: &'static str, detail: impl Into<String>) -> Self {
        Problem {
            kind: format!("https://integritet.dev/problems/{slug}"),
            title,
            status: status.as_u16(),
            detail: detail.into(),
            field: None,
            code: None,
        }
    }

    fn with(mut self, field: Option<String>, code: impl Into<String>) -> Self {
        self.field = field;
        self.code = Some(code.into());
        self
    }
}

impl ApiError {
    /// The problem document for this error. Causes of server-side failures are logged here
    /// (they carry no personal data: store and crypto errors name operations, not values) and
    /// never sent to the caller.
    pub fn problem(&self) -> Problem {
        match self {
            ApiError::Vault(e) => vault_problem(e),
            ApiError::Unauthorized => Problem::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "Unauthorized",
                "send a valid token as `Authorization: Bearer <token>`",
            ),
            ApiError::Json(rejection) => json_problem(rejection),
            ApiError::Path(rejection) => Problem::new(
                rejection.status(),
                "bad-path",
                "Bad path",
                without_input(&rejection.body_text()),
            )
            .with(None, "bad_path"),
            ApiError::Query(rejection) => Problem::new(
                StatusCode::BAD_REQUEST,
                "bad-query",
                "Bad query",
                format!(
                    "{}; /openapi.json lists the parameters of every endpoint",
                    without_input(&rejection.body_text())
                ),
            )
            .with(None, "bad_query"),
            ApiError::BadPath { field, message } => Problem::new(
                StatusCode::BAD_REQUEST,
                "bad-path",
                "Bad path",
                format!("{field}: {message}"),
            )
            .with(Some((*field).to_owned()), "bad_path"),
            ApiError::NoRoute => Problem::new(
                StatusCode::NOT_FOUND,
                "not-found",
                "Not found",
                "no such resource; the API lives under /api/v1",
            ),
            ApiError::MethodNotAllowed => Problem::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "Method not allowed",
                "this resource does not take that method",
            ),
            ApiError::Form(rejection) => Problem::new(
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    StatusCode::PAYLOAD_TOO_LARGE
                } else {
                    StatusCode::UNPROCESSABLE_ENTITY
                },
                "invalid",
                "Invalid input",
                format!(
                    "{}; send the fields name and password",
                    without_input(&rejection.body_text())
                ),
            )
            .with(None, "invalid_body"),
            ApiError::LoginFailed => Problem::new(
                StatusCode::UNAUTHORIZED,
                "login-failed",
                "Login failed",
                integritet_app::users::LoginError::UnknownUser.public_message(),
            ),
            ApiError::NoSession => Problem::new(
                StatusCode::UNAUTHORIZED,
                "no-session",
                "No session",
                "Ingen giltig session: logga in igen. / No valid session: log in again \
                 (POST /console/login).",
            ),
            ApiError::Csrf => Problem::new(
                StatusCode::FORBIDDEN,
                "csrf",
                "Forbidden",
                "Begäran saknar rätt CSRF-token. / The request lacks the session's CSRF token: \
                 send the csrf_token from the login (or GET /console/session) in the \
                 x-csrf-token header.",
            )
            .with(None, "csrf"),
            ApiError::Throttled(wait) => Problem::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too-many",
                "Too many attempts",
                format!(
                    "För många försök; försök igen om {s} s. / Too many attempts; try again in \
                     {s} s.",
                    s = retry_seconds(*wait)
                ),
            ),
            ApiError::Busy => Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                "Busy",
                integritet_app::users::LoginError::Busy.public_message(),
            ),
            ApiError::NoSuchLink => Problem::new(
                StatusCode::NOT_FOUND,
                "no-such-link",
                "No such link",
                "this is not an unsubscribe link of this server: check that the whole link was \
                 copied, or write to the address in the message to opt out",
            ),
            ApiError::SpentLink => Problem::new(
                StatusCode::GONE,
                "spent-link",
                "Link used",
                "this unsubscribe link was used or revoked already; nothing more is to be done",
            ),
            ApiError::NoSuchRecord => Problem::new(
                StatusCode::NOT_FOUND,
                "no-such-record",
                "No such record",
                "there is no consent record with this id; the banner keeps the id of the last choice",
            ),
            ApiError::NotOneClick(detail) => Problem::new(
                StatusCode::BAD_REQUEST,
                "not-one-click",
                "Not one click",
                *detail,
            )
            .with(None, "not_one_click"),
        }
    }

    /// Seconds to wait before trying again, when the answer says so.
    fn retry_after(&self) -> Option<u64> {
        match self {
            ApiError::Throttled(wait) => Some(retry_seconds(*wait)),
            ApiError::Busy => Some(1),
            _ => None,
        }
    }
}

/// A wait in whole seconds, rounded up and at least one.
fn retry_seconds(wait: std::time::Duration) -> u64 {
    (wait.as_millis().div_ceil(1000) as u64).max(1)
}

fn vault_problem(error: &VaultError) -> Problem {
    match error {
        VaultError::Invalid {
            field,
            code,
            message,
        } => Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            "Invalid input",
            format!("{field}: {message}"),
        )
        .with(Some(field.clone()), *code),
        VaultError::NotFound { what } => Problem::new(
            StatusCode::NOT_FOUND,
            "not-found",
            "Not found",
            format!("no such {what}"),
        ),
        VaultError::Forbidden(message) => Problem::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "Forbidden",
            message.clone(),
        ),
        VaultError::Policy(message) => Problem::new(
            StatusCode::CONFLICT,
            "policy",
            "The policy does not allow this",
            message.clone(),
        ),
        VaultError::Store(StoreError::Unavailable(_)) => {
            tracing::error!(error = %error, "store unavailable");
            unavailable()
        }
        VaultError::Integrity { .. } => {
            tracing::error!(error = %error, "stored data fails its integrity check");
            Problem::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "integrity",
                "Stored data fails its integrity check",
                "a stored value was changed outside Integritet and is refused; the refusal is in \
                 the audit log, and `integritet store verify` lists every such row",
            )
        }
        // Two people changed one record at once: the later is told to read it again.
        VaultError::Store(StoreError::Conflict(message)) => Problem::new(
            StatusCode::CONFLICT,
            "conflict",
            "Changed meanwhile",
            message.clone(),
        ),
        VaultError::Store(_) | VaultError::Crypto(_) => {
            tracing::error!(error = %error, "internal error");
            internal()
        }
    }
}

/// The problem for a failure on our side; the cause belongs in the server log.
pub(crate) fn internal() -> Problem {
    Problem::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "Internal error",
        "something went wrong on our side; the cause is in the server log",
    )
}

/// The problem for a store that does not answer.
pub(crate) fn unavailable() -> Problem {
    Problem::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "unavailable",
        "Service unavailable",
        "the database is not available; try again shortly",
    )
}

fn json_problem(rejection: &JsonRejection) -> Problem {
    let status = rejection.status();
    // The rejection's text names what was wrong (syntax at line/column, the field that does not
    // fit, a missing content type), without any value the caller sent: what is in the wrong
    // place may be personal data. It goes to the caller, never to the log.
    let detail = without_input(&rejection.body_text());
    match rejection {
        JsonRejection::JsonSyntaxError(_) => Problem::new(
            StatusCode::BAD_REQUEST,
            "malformed-json",
            "Malformed JSON",
            detail,
        )
        .with(None, "malformed_json"),
        JsonRejection::JsonDataError(_) => Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            "Invalid input",
            detail,
        )
        .with(None, "invalid_body"),
        JsonRejection::MissingJsonContentType(_) => Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "Unsupported media type",
            "send the body as JSON with `Content-Type: application/json`",
        )
        .with(None, "content_type"),
        _ if status == StatusCode::PAYLOAD_TOO_LARGE => Problem::new(
            status,
            "too-large",
            "Request body too large",
            format!(
                "the request body exceeds {} bytes; send less at a time",
                crate::BODY_LIMIT
            ),
        )
        .with(None, "too_large"),
        _ => Problem::new(status, "bad-body", "Bad request body", detail).with(None, "bad_body"),
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let unauthorized = status == StatusCode::UNAUTHORIZED;
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if unauthorized {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let retry_after = self.retry_after();
        let mut response = self.problem().into_response();
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}
