//! Console logins and sessions: `POST /console/login`, `POST /console/logout` and
//! `GET /console/session`, and the session half of the `/api/v1` middleware.
//!
//! A login sets the cookie `__Host-integritet_session` (`Secure`, `HttpOnly`,
//! `SameSite=Strict`, `Path=/`): the browser sends it only to this origin, scripts cannot read
//! it, and other sites cannot make the browser send it. The session's CSRF token comes back in
//! the JSON body (and from `GET /console/session`); every unsafe request made with the cookie
//! must send it in the `x-csrf-token` header, or it is refused with 403 before any handler
//! runs. A request with an `Authorization` header is authenticated by its token alone and the
//! cookie is ignored, so a token client needs no CSRF token.
//!
//! Every refused login gets the same 401, bilingual, whether the name exists or not; the
//! lockout in [`integritet_app::users`] bounds how many guesses an account takes.

use axum::extract::{FromRequest, Request, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, COOKIE, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use integritet_app::store::StoreError;
use integritet_app::users::{LoginAttempt, LoginError, Password, Session, SessionError};
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::ApiError;
use crate::extract::Json;
use crate::throttle::LoginClient;

/// The session cookie. The `__Host-` prefix makes browsers refuse it unless it is `Secure`,
/// has `Path=/` and no `Domain`, so no other host can set or shadow it.
pub const SESSION_COOKIE: &str = "__Host-integritet_session";
/// The cookie that makes a browser known to the account that logged in from it, so that a
/// lock others caused does not keep its owner out (`integritet_app::known_devices`).
pub const DEVICE_COOKIE: &str = "__Host-integritet_device";
/// The header that carries the session's CSRF token on unsafe requests.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The console routes, for the public part of the router (they check the cookie themselves).
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(session))
}

/// A console login, as JSON or as an HTML form (`application/x-www-form-urlencoded`).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "anna.svensson", "password": "correct horse battery staple"}))]
pub struct LoginRequest {
    /// The login name (any case).
    #[schema(max_length = 64)]
    pub name: String,
    /// The password.
    #[schema(format = Password, max_length = 1024)]
    pub password: String,
}

impl std::fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginRequest")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// Who is logged in, and the token unsafe requests must carry.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "user": "anna.svensson",
    "role": "support",
    "actor": "user:anna.svensson",
    "csrf_token": "5f0c3a6e1d2b4c7a8e9f0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f",
    "expires_at": "2026-03-01T10:30:00Z"
}))]
pub struct SessionView {
    /// The login name.
    pub user: String,
    /// The user's role: a role of the policy, or `admin`.
    pub role: String,
    /// The id the audit log names this user by.
    pub actor: String,
    /// Send this in the `x-csrf-token` header of every POST, PUT, PATCH and DELETE made with
    /// the session cookie.
    pub csrf_token: String,
    /// When the session ends unless used before (30 minutes after the last request, at most
    /// 12 hours after login).
    #[schema(format = DateTime)]
    pub expires_at: String,
}

impl SessionView {
    fn new(session: &Session) -> SessionView {
        SessionView {
            user: session.user.clone(),
            role: session.role.clone(),
            actor: session.actor().id(),
            csrf_token: session.csrf.to_hex(),
            expires_at: session
                .expires_at
                .format(&Rfc3339)
                .unwrap_or_else(|_| session.expires_at.to_string()),
        }
    }
}

/// The value of the session cookie, if the request has one.
pub(crate) fn session_cookie(headers: &HeaderMap) -> Option<String> {
    named_cookie(headers, SESSION_COOKIE)
}

fn named_cookie(headers: &HeaderMap, wanted: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == wanted)
        .map(|(_, value)| value.trim().to_owned())
}

/// Whether the request carries the session's CSRF token.
fn csrf_ok(headers: &HeaderMap, session: &Session) -> bool {
    headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|presented| session.csrf.matches(presented))
}

/// A problem for a store that failed while checking a login or a session.
fn store_problem(error: &StoreError) -> Response {
    if matches!(error, StoreError::Unavailable(_)) {
        tracing::error!(%error, "sessions cannot be checked");
        crate::error::unavailable().into_response()
    } else {
        tracing::error!(%error, "sessions cannot be checked");
        crate::error::internal().into_response()
    }
}

/// The session of a request's cookie; the error is the response to send.
async fn current_session(state: &AppState, headers: &HeaderMap) -> Result<Session, Response> {
    let Some(accounts) = state.accounts() else {
        return Err(ApiError::NoSession.into_response());
    };
    let Some(cookie) = session_cookie(headers) else {
        return Err(ApiError::NoSession.into_response());
    };
    match accounts.session(&cookie).await {
        Ok(session) => Ok(session),
        Err(SessionError::Store(error)) => Err(store_problem(&error)),
        Err(reason) => {
            tracing::debug!(%reason, "session refused");
            Err(ApiError::NoSession.into_response())
        }
    }
}

/// The `/api/v1` middleware's way in for a request without a bearer token: a valid session
/// cookie, and on unsafe methods the session's CSRF token. The actor is `user:<name>`.
pub(crate) async fn via_session(
    state: &AppState,
    mut request: Request,
    next: Next,
) -> Result<Response, Response> {
    if session_cookie(request.headers()).is_none() {
        return Err(ApiError::Unauthorized.into_response());
    }
    let session = match current_session(state, request.headers()).await {
        Ok(session) => session,
        Err(response) if response.status() == StatusCode::UNAUTHORIZED => {
            return Err(ApiError::Unauthorized.into_response());
        }
        Err(response) => return Err(response),
    };
    if !request.method().is_safe() && !csrf_ok(request.headers(), &session) {
        return Err(ApiError::Csrf.into_response());
    }
    let actor = session.actor();
    tracing::Span::current().record("actor", actor.id().as_str());
    request.extensions_mut().insert(actor);
    Ok(next.run(request).await)
}

/// `Set-Cookie` for a session, or for ending one (`max_age` 0).
fn cookie(value: &str, max_age: i64) -> Option<HeaderValue> {
    named_cookie_header(SESSION_COOKIE, value, max_age)
}

fn named_cookie_header(name: &str, value: &str, max_age: i64) -> Option<HeaderValue> {
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age={max_age}"
    ))
    .ok()
}

/// A response that must never be cached (it holds a CSRF token or sets a cookie).
fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Refuses a request another site made the browser send (`Sec-Fetch-Site: cross-site`), so a
/// hostile page cannot log a visitor in under its own account.
fn cross_site(headers: &HeaderMap) -> bool {
    headers
        .get("sec-fetch-site")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"cross-site"))
}

/// Reads the login body: a form when it says so, JSON otherwise (which answers 415 for any
/// other content type).
async fn credentials(state: &AppState, request: Request) -> Result<LoginRequest, ApiError> {
    let form = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';').next().is_some_and(|t| {
                t.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            })
        });
    if form {
        let axum::Form(body) = axum::Form::<LoginRequest>::from_request(request, state).await?;
        Ok(body)
    } else {
        let Json(body) = Json::<LoginRequest>::from_request(request, state).await?;
        Ok(body)
    }
}

/// Log in to the console: sets the session cookie and returns the CSRF token.
#[utoipa::path(
    post,
    path = "/console/login",
    tag = "console",
    request_body(content(
        (LoginRequest = "application/json"),
        (LoginRequest = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 200, description = "Logged in. The session cookie `__Host-integritet_session` is set (Secure, HttpOnly, SameSite=Strict, Path=/), and the known-device cookie `__Host-integritet_device` (the same attributes, 180 days), which lets this browser log in to the account while a lock that others caused holds back everyone else.", body = SessionView,
            headers(("set-cookie" = String, description = "The session cookie"))),
        (status = 401, description = "Wrong user name or password, or the account is locked or disabled: one answer for all, in Swedish and English.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "A cross-site request (`Sec-Fetch-Site: cross-site`).", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts from this client, for this account or by this caller; wait the seconds of the `Retry-After` header.", body = crate::error::Problem, content_type = "application/problem+json",
            headers(("retry-after" = u64, description = "Seconds to wait"))),
        (status = 500, response = crate::openapi::Internal),
        (status = 503, description = "The database is not available, or too many logins are being checked at once; try again after `Retry-After` seconds when it is given.", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn login(State(state): State<AppState>, request: Request) -> Response {
    if cross_site(request.headers()) {
        return ApiError::Csrf.into_response();
    }
    let address = crate::throttle::client_address(&request);
    let device = named_cookie(request.headers(), DEVICE_COOKIE);
    let body = match credentials(&state, request).await {
        Ok(body) => body,
        Err(error) => return error.into_response(),
    };
    let Some(accounts) = state.accounts() else {
        return ApiError::LoginFailed.into_response();
    };
    let now = state.vault().now();
    let client = match &device {
        Some(device) if accounts.knows_device(&body.name, device) => {
            LoginClient::KnownDevice(device.clone())
        }
        _ => LoginClient::Address(address),
    };
    if let Err(throttled) = state.throttle().check_login(&client, &body.name, now) {
        if throttled.first
            && let Err(error) = accounts.record_throttled(throttled.retry_after).await
        {
            return store_problem(&error);
        }
        return ApiError::Throttled(throttled.retry_after).into_response();
    }
    let password = Password::new(body.password);
    let outcome = accounts
        .login(LoginAttempt {
            name: &body.name,
            password: &password,
            device: device.as_deref(),
        })
        .await;
    match &outcome {
        Ok(_) => state.throttle().login_succeeded(&client),
        Err(
            LoginError::UnknownUser
            | LoginError::WrongPassword(_)
            | LoginError::Locked { .. }
            | LoginError::Disabled
            | LoginError::Tampered,
        ) => state.throttle().login_failed(&client, now),
        Err(LoginError::Busy | LoginError::Hashing(_) | LoginError::Store(_)) => {}
    }
    match outcome {
        Err(LoginError::Busy) => ApiError::Busy.into_response(),
        Ok(new) => {
            let max_age = accounts.rules().absolute_timeout.whole_seconds();
            let mut response = axum::Json(SessionView::new(&new.session)).into_response();
            if let Some(value) = cookie(new.secret.expose(), max_age) {
                response.headers_mut().append(SET_COOKIE, value);
            }
            let known_for = integritet_app::known_devices::KNOWN_FOR.whole_seconds();
            if let Some(value) = named_cookie_header(DEVICE_COOKIE, &new.device, known_for) {
                response.headers_mut().append(SET_COOKIE, value);
            }
            no_store(response)
        }
        Err(LoginError::Store(error)) => store_problem(&error),
        Err(LoginError::Hashing(cause)) => {
            tracing::error!(%cause, "a password could not be checked");
            crate::error::internal().into_response()
        }
        Err(reason) => {
            // The reason (never the name tried) is for the log; the caller gets one answer.
            tracing::info!(%reason, "console login refused");
            ApiError::LoginFailed.into_response()
        }
    }
}

/// Log out: ends the session and clears the cookie. Without a valid session there is nothing
/// to end, and the answer is the same.
#[utoipa::path(
    post,
    path = "/console/logout",
    tag = "console",
    params(("x-csrf-token" = Option<String>, Header, description = "The session's CSRF token (required with a valid session)")),
    responses(
        (status = 204, description = "Logged out; the cookie is cleared."),
        (status = 403, description = "A valid session, but the `x-csrf-token` header is missing or wrong.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 500, response = crate::openapi::Internal),
        (status = 503, response = crate::openapi::Unavailable),
    )
)]
pub(crate) async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let cleared = || {
        let mut response = StatusCode::NO_CONTENT.into_response();
        if let Some(value) = cookie("", 0) {
            response.headers_mut().insert(SET_COOKIE, value);
        }
        no_store(response)
    };
    let (Some(accounts), Some(value)) = (state.accounts(), session_cookie(&headers)) else {
        return cleared();
    };
    match current_session(&state, &headers).await {
        Ok(session) if !csrf_ok(&headers, &session) => return ApiError::Csrf.into_response(),
        Ok(_) => {}
        Err(response) if response.status() == StatusCode::UNAUTHORIZED => return cleared(),
        Err(response) => return response,
    }
    match accounts.logout(&value).await {
        Ok(_) => cleared(),
        Err(error) => store_problem(&error),
    }
}

/// Who is logged in: the user, the role and the CSRF token.
#[utoipa::path(
    get,
    path = "/console/session",
    tag = "console",
    responses(
        (status = 200, description = "The session of the cookie", body = SessionView),
        (status = 401, description = "No valid session: log in again.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 500, response = crate::openapi::Internal),
        (status = 503, response = crate::openapi::Unavailable),
    )
)]
pub(crate) async fn session(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match current_session(&state, &headers).await {
        Ok(session) => no_store(axum::Json(SessionView::new(&session)).into_response()),
        Err(response) => response,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            COOKIE,
            HeaderValue::from_static("theme=dark; __Host-integritet_session=abc ; other=1"),
        );
        assert_eq!(session_cookie(&headers).as_deref(), Some("abc"));
        let mut none = HeaderMap::new();
        none.insert(COOKIE, HeaderValue::from_static("integritet_session=abc"));
        assert_eq!(session_cookie(&none), None);
    }

    #[test]
    fn cookies_carry_every_attribute() {
        let value = cookie("abc", 43_200).unwrap();
        assert_eq!(
            value.to_str().unwrap(),
            "__Host-integritet_session=abc; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=43200"
        );
    }
}
