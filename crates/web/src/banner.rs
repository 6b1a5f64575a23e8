//! The cookie banner: `/consent.js` (plain JavaScript, `assets/consent.js`, with the policy's
//! categories, the texts in Swedish and English and the banner version put in) and
//! `/consent.css`. A shop's page embeds it with one script tag; its decisions go to
//! `POST /consent`, which answers any origin (no credentials are sent or accepted).

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use integritet_domain::consent::text_hash;
use integritet_domain::policy::Lang;
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::page_texts::{self, BannerTexts};

const SCRIPT: &str = include_str!("../assets/consent.js");
const STYLE: &str = include_str!("../assets/consent.css");
/// Where the script takes its configuration.
const CONFIG_MARK: &str = "/*CONFIG*/ {}";

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(script))
        .routes(routes!(style))
}

/// The texts a visitor reads in `lang`, as the banner shows them: what the text hash covers.
fn texts(state: &AppState, lang: Lang) -> Value {
    let policy = &state.vault().policy().policy;
    let BannerTexts {
        title,
        body,
        accept,
        reject,
        settings,
        save,
        categories,
        gpc,
        gpc_confirm,
    } = page_texts::banner(lang);
    json!({
        "title": title,
        "body": body,
        "accept": accept,
        "reject": reject,
        "settings": settings,
        "save": save,
        "categories": categories,
        "gpc": gpc,
        "gpcConfirm": gpc_confirm,
        "labels": policy.cookies.categories.iter().map(|(key, c)| {
            json!({"key": key, "label": c.label.get(lang), "description": c.description.get(lang)})
        }).collect::<Vec<_>>(),
    })
}

/// The banner's configuration: the policy's categories and texts, the version, the endpoint.
pub fn config(state: &AppState) -> Value {
    let policy = &state.vault().policy().policy;
    let texts_of = |lang| texts(state, lang);
    let (sv, en) = (texts_of(Lang::Sv), texts_of(Lang::En));
    let hash = |texts: &Value| text_hash(&texts.to_string());
    json!({
        "endpoint": state.public_url(),
        "version": state.vault().banner_version(),
        "validMonths": policy.cookies.consent_valid_months,
        "honourGpc": policy.cookies.honour_gpc,
        "categories": policy.cookies.categories.iter().map(|(key, c)| json!({
            "key": key,
            "necessary": c.strictly_necessary,
            "gpcRefuses": c.markets_or_shares,
            "label": {"sv": c.label.get(Lang::Sv), "en": c.label.get(Lang::En)},
            "description": {"sv": c.description.get(Lang::Sv), "en": c.description.get(Lang::En)},
        })).collect::<Vec<_>>(),
        "textHash": {"sv": hash(&sv), "en": hash(&en)},
        "texts": {"sv": sv, "en": en},
    })
}

/// The cookie banner
///
/// One `<script src="…/consent.js" defer></script>` on every page. Gate a script with
/// `<script type="text/plain" data-category="statistics" data-src="/stats.js">`; reopen the
/// choices with any element marked `data-integritet-consent="open"`, withdraw with
/// `data-integritet-consent="withdraw"`; listen for `integritet:consent` events.
#[utoipa::path(
    get,
    path = "/consent.js",
    tag = "consent",
    responses((status = 200, description = "The banner", body = String, content_type = "text/javascript"))
)]
pub(crate) async fn script(State(state): State<AppState>) -> Response {
    let script = SCRIPT.replacen(CONFIG_MARK, &config(&state).to_string(), 1);
    asset(script, "text/javascript; charset=utf-8")
}

/// The cookie banner's stylesheet
#[utoipa::path(
    get,
    path = "/consent.css",
    tag = "consent",
    responses((status = 200, description = "The stylesheet", body = String, content_type = "text/css"))
)]
pub(crate) async fn style() -> Response {
    asset(STYLE.to_owned(), "text/css; charset=utf-8")
}

fn asset(body: String, content_type: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_has_one_place_for_its_configuration() {
        assert_eq!(SCRIPT.matches(CONFIG_MARK).count(), 1);
        assert!(!SCRIPT.contains("eval(") && !SCRIPT.contains("innerHTML"));
        assert!(!SCRIPT.contains(".style."), "no inline styles");
    }
}
