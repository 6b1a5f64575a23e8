//! One-click unsubscribe (RFC 8058) at `/u/{token}`, for anyone holding a link.
//!
//! `GET` never changes anything — mail scanners follow links — and shows a small page (Swedish
//! or English, no JavaScript) with one button. `POST` with the body
//! `List-Unsubscribe=One-Click`, as `application/x-www-form-urlencoded` or
//! `multipart/form-data`, unsubscribes at once and answers 200 with an empty body: no redirect,
//! no cookie, session or CSRF token asked for. The page's own button posts the same body and
//! gets a page back. Both are rate-limited per client address. A link that is not one of ours
//! and a spent one say nothing about anyone.

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use integritet_app::vault::{LinkState, LinkTarget, ONE_CLICK};
use integritet_domain::policy::{Lang, MarketingChannel};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{Path, Query};
use crate::page_texts::{self, PageTexts};
use crate::throttle;

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(confirm_page, one_click))
}

/// The largest body a one-click POST may have.
const MAX_BODY: usize = 8 * 1024;

/// The page's language.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// `sv` (the default) or `en`; without it the browser's `Accept-Language` decides.
    #[param(value_type = Option<String>, example = "en")]
    pub lang: Option<Lang>,
}

/// The unsubscribe page of a link
///
/// Shows what the link stops, with one button that unsubscribes. Changes nothing by itself.
#[utoipa::path(
    get,
    path = "/u/{token}",
    tag = "marketing",
    params(("token" = String, Path, description = "The link's token"), PageQuery),
    responses(
        (status = 200, description = "The page with the button", body = String, content_type = "text/html"),
        (status = 404, description = "Not a link of this server: a page for a browser (`Accept: text/html`), a problem document for anyone else", content(
            (String = "text/html"),
            (Problem = "application/problem+json"),
        )),
        (status = 410, description = "The link was used or revoked: a page for a browser, a problem document for anyone else", content(
            (String = "text/html"),
            (Problem = "application/problem+json"),
        )),
        (status = 429, description = "Too many requests from this address", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn confirm_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Query(query): Query<PageQuery>,
    headers: HeaderMap,
    request: Request,
) -> Result<Response, ApiError> {
    limit(&state, &request)?;
    let lang = query
        .lang
        .unwrap_or_else(|| page_texts::from_headers(&headers));
    let texts = page_texts::of(lang);
    let link = state.vault().unsubscribe_state(&token).await?;
    if !wants_html(&headers) {
        problem_for(&link)?;
    }
    Ok(page_for(&state, &texts, lang, &token, &link, false))
}

/// Unsubscribe (one click)
///
/// The body is `List-Unsubscribe=One-Click` (RFC 8058), form-encoded or multipart. A mail
/// client's POST gets 200 and an empty body; the page's button (which adds `page=1`) gets the
/// page saying it is done.
#[utoipa::path(
    post,
    path = "/u/{token}",
    tag = "marketing",
    params(("token" = String, Path, description = "The link's token"), PageQuery),
    request_body(content = String, content_type = "application/x-www-form-urlencoded", example = "List-Unsubscribe=One-Click"),
    responses(
        (status = 200, description = "Unsubscribed: an empty body, or the page for the page's button"),
        (status = 400, description = "The body is not `List-Unsubscribe=One-Click`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not a link of this server", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "The link was used or revoked", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many requests from this address", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn one_click(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Query(query): Query<PageQuery>,
    request: Request,
) -> Result<Response, ApiError> {
    limit(&state, &request)?;
    let headers = request.headers().clone();
    let lang = query
        .lang
        .unwrap_or_else(|| page_texts::from_headers(&headers));
    let Ok(body) = axum::body::to_bytes(request.into_body(), MAX_BODY).await else {
        return Err(ApiError::NotOneClick(
            "the body is larger than 8 KiB; send only List-Unsubscribe=One-Click",
        ));
    };
    let Some(fields) = form_fields(&headers, &body) else {
        return Err(ApiError::NotOneClick(
            "send the body List-Unsubscribe=One-Click as application/x-www-form-urlencoded or \
             multipart/form-data",
        ));
    };
    if !fields
        .iter()
        .any(|(k, v)| k == "List-Unsubscribe" && v == "One-Click")
    {
        return Err(ApiError::NotOneClick(
            "the body must hold List-Unsubscribe=One-Click",
        ));
    }
    let from_page = fields.iter().any(|(k, v)| k == "page" && v == "1");
    let link = state.vault().unsubscribe(&token).await?;
    if from_page && wants_html(&headers) {
        let texts = page_texts::of(lang);
        return Ok(page_for(&state, &texts, lang, &token, &link, true));
    }
    problem_for(&link)?;
    Ok(StatusCode::OK.into_response())
}

/// Whether the client reads pages (a browser) rather than problem documents.
fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

/// A link that is not valid, as the problem a program reads.
fn problem_for(link: &LinkState) -> Result<(), ApiError> {
    match link {
        LinkState::Valid(_) => Ok(()),
        LinkState::Spent { .. } => Err(ApiError::SpentLink),
        LinkState::Invalid => Err(ApiError::NoSuchLink),
    }
}

fn limit(state: &AppState, request: &Request) -> Result<(), ApiError> {
    state
        .throttle()
        .check_public(throttle::client_address(request))
        .map_err(|t| ApiError::Throttled(t.retry_after))
}

/// The fields of a form body, url-encoded or multipart; `None` for any other body.
fn form_fields(headers: &HeaderMap, body: &Bytes) -> Option<Vec<(String, String)>> {
    let kind = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/x-www-form-urlencoded");
    let essence = kind
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "application/x-www-form-urlencoded" => {
            Some(form_urlencoded::parse(body).into_owned().collect())
        }
        "multipart/form-data" => {
            let boundary = kind.split(';').skip(1).find_map(|p| {
                let (k, v) = p.trim().split_once('=')?;
                k.eq_ignore_ascii_case("boundary")
                    .then(|| v.trim_matches('"').to_owned())
            })?;
            multipart_fields(std::str::from_utf8(body).ok()?, &boundary)
        }
        _ => None,
    }
}

/// The text fields of a `multipart/form-data` body (RFC 7578): each part's `name` and value.
fn multipart_fields(body: &str, boundary: &str) -> Option<Vec<(String, String)>> {
    if boundary.is_empty() || boundary.len() > 70 {
        return None;
    }
    let delimiter = format!("--{boundary}");
    let mut fields = Vec::new();
    for part in body.split(delimiter.as_str()).skip(1) {
        if part.starts_with("--") {
            break;
        }
        let part = part.strip_prefix("\r\n").unwrap_or(part);
        let (head, value) = part.split_once("\r\n\r\n")?;
        let name = head.lines().find_map(|line| {
            let (key, rest) = line.split_once(':')?;
            if !key.trim().eq_ignore_ascii_case("content-disposition") {
                return None;
            }
            rest.split(';').find_map(|p| {
                let (k, v) = p.trim().split_once('=')?;
                (k == "name").then(|| v.trim_matches('"').to_owned())
            })
        })?;
        fields.push((name, value.strip_suffix("\r\n").unwrap_or(value).to_owned()));
    }
    Some(fields)
}

fn page_for(
    state: &AppState,
    texts: &PageTexts,
    lang: Lang,
    token: &str,
    link: &LinkState,
    done: bool,
) -> Response {
    let opt_out = &state
        .vault()
        .policy()
        .policy
        .requests
        .marketing_opt_out
        .email;
    let (status, title, body) = match link {
        LinkState::Invalid => (
            StatusCode::NOT_FOUND,
            texts.link_invalid_title,
            paragraph(&texts.link_invalid(opt_out)),
        ),
        LinkState::Spent { .. } if !done => (
            StatusCode::GONE,
            texts.link_spent_title,
            paragraph(&texts.link_spent(opt_out)),
        ),
        LinkState::Spent { target, .. } | LinkState::Valid(target) if done => (
            StatusCode::OK,
            texts.unsubscribed_title,
            paragraph(&texts.unsubscribed(&what(state, lang, target))),
        ),
        LinkState::Spent { .. } => (
            StatusCode::GONE,
            texts.link_spent_title,
            paragraph(&texts.link_spent(opt_out)),
        ),
        LinkState::Valid(target) => (
            StatusCode::OK,
            texts.unsubscribe_title,
            format!(
                "{}\n<form method=\"post\" action=\"/u/{token}?lang={}\">\
                 <input type=\"hidden\" name=\"{}\" value=\"{}\">\
                 <input type=\"hidden\" name=\"page\" value=\"1\">\
                 <button type=\"submit\">{}</button></form>",
                paragraph(&texts.unsubscribe_question(&what(state, lang, target))),
                lang.as_str(),
                ONE_CLICK.split('=').next().unwrap_or(""),
                ONE_CLICK.split('=').nth(1).unwrap_or(""),
                escape(texts.unsubscribe_button),
            ),
        ),
    };
    let other = match lang {
        Lang::Sv => Lang::En,
        Lang::En => Lang::Sv,
    };
    let html = format!(
        "<!doctype html>\n<html lang=\"{lang}\">\n<head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title></head>\n<body>\n<main>\n<h1>{title}</h1>\n{body}\n\
         <p><a href=\"/u/{token}?lang={other}\" hreflang=\"{other}\" lang=\"{other}\">{switch}</a></p>\n\
         </main>\n</body>\n</html>\n",
        lang = lang.as_str(),
        title = escape(title),
        other = other.as_str(),
        switch = escape(page_texts::of(other).in_this_language),
    );
    let mut response = (status, html).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// "the newsletter by e-mail": the purpose's label and the channel, in the page's language.
fn what(state: &AppState, lang: Lang, target: &LinkTarget) -> String {
    let policy = &state.vault().policy().policy;
    let label = policy
        .purposes
        .get(&target.purpose)
        .map_or_else(|| target.purpose.clone(), |p| p.label.get(lang).to_owned());
    let texts = page_texts::of(lang);
    let channel = match target.channel {
        MarketingChannel::Email => texts.by_email,
        MarketingChannel::Sms => texts.by_sms,
        MarketingChannel::Phone => texts.by_phone,
        MarketingChannel::Post => texts.by_post,
    };
    format!("{label} {channel}")
}

fn paragraph(text: &str) -> String {
    format!("<p>{}</p>", escape(text))
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn one_click_bodies_parse_in_both_encodings() {
        let mut headers = HeaderMap::new();
        let body = Bytes::from_static(b"List-Unsubscribe=One-Click");
        assert_eq!(
            form_fields(&headers, &body).unwrap(),
            vec![("List-Unsubscribe".to_owned(), "One-Click".to_owned())]
        );
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("multipart/form-data; boundary=\"XyZ\""),
        );
        let body = Bytes::from_static(
            b"--XyZ\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n--XyZ--\r\n",
        );
        assert_eq!(
            form_fields(&headers, &body).unwrap(),
            vec![("List-Unsubscribe".to_owned(), "One-Click".to_owned())]
        );
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        assert!(form_fields(&headers, &body).is_none());
    }

    #[test]
    fn page_text_is_escaped() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
