//! Marketing (`/api/v1/marketing/…`): the audience a purpose may reach by a channel today,
//! one-click unsubscribe links and their headers, and opt-outs that came by letter, phone or
//! e-mail. The rules are the vault's; these handlers only translate.

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use integritet_app::vault::{LinkState, LookupKind};
use integritet_domain::personal::PersonalValue;
use integritet_domain::policy::MarketingChannel;
use integritet_domain::subject::SubjectId;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::api::Caller;
use crate::error::ApiError;
use crate::extract::{Json, Query};
use crate::openapi::{Forbidden, Invalid, NotFound};

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(audience))
        .routes(routes!(new_link))
        .routes(routes!(revoke_link))
        .routes(routes!(opt_out))
}

type ApiResult<T> = Result<T, ApiError>;

/// Which audience, and in which form.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AudienceQuery {
    /// A marketing purpose of the policy.
    #[param(example = "direct_marketing")]
    pub purpose: String,
    /// A channel the purpose markets by.
    #[param(value_type = String, example = "email")]
    pub channel: MarketingChannel,
    /// A campaign the unsubscribe links name (1 to 64 letters, digits, `.`, `_`, `-`).
    #[param(example = "spring-2026")]
    pub campaign: Option<String>,
    /// `json` (the default) or `csv`.
    #[param(example = "csv")]
    pub format: Option<AudienceFormat>,
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AudienceFormat {
    Json,
    Csv,
}

/// The contacts a purpose may use by a channel today.
#[derive(Debug, Serialize, ToSchema)]
pub struct AudienceBody {
    pub purpose: String,
    #[schema(value_type = String, example = "email")]
    pub channel: MarketingChannel,
    /// The day the audience holds for (YYYY-MM-DD): draw it again for another day.
    #[schema(example = "2026-12-04")]
    pub on: String,
    pub contacts: Vec<ContactBody>,
}

/// One contact, with its one-click unsubscribe link for e-mail and SMS.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactBody {
    #[schema(value_type = String, format = Uuid)]
    pub subject: SubjectId,
    /// The address or number to use, normalised.
    #[schema(example = "anna@example.se")]
    pub contact: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unsubscribe: Option<LinkBody>,
}

/// An unsubscribe link and the header values a message carrying it has (RFC 8058).
#[derive(Debug, Serialize, ToSchema)]
pub struct LinkBody {
    /// The link's token: opaque, valid until used or revoked.
    pub token: String,
    /// The link, for the message's body.
    #[schema(example = "https://shop.example/u/Qm9…")]
    pub url: String,
    /// The `List-Unsubscribe` header value.
    #[schema(
        example = "<https://shop.example/u/Qm9…>, <mailto:webbshop@smart-telematik.se?subject=unsubscribe>"
    )]
    pub list_unsubscribe: String,
    /// The `List-Unsubscribe-Post` header value.
    #[schema(example = "List-Unsubscribe=One-Click")]
    pub list_unsubscribe_post: String,
}

fn link(state: &AppState, token: String) -> LinkBody {
    let headers = state.vault().list_unsubscribe(&token, state.public_url());
    LinkBody {
        token,
        url: headers.url,
        list_unsubscribe: headers.list_unsubscribe,
        list_unsubscribe_post: headers.list_unsubscribe_post.to_owned(),
    }
}

/// The audience of a marketing purpose by a channel
///
/// Only the contacts that may be used right now: not objected, not suppressed, not restricted,
/// not erased, within retention, with consent where the purpose needs it, and for calls not in
/// the NIX-Telefon register. Every draw is audited with its purpose and size. Draw it again
/// before each send: it changes as people object and unsubscribe.
#[utoipa::path(
    get,
    path = "/marketing/audience",
    tag = "marketing",
    params(AudienceQuery),
    responses(
        (status = 200, description = "The audience", content(
            (AudienceBody = "application/json"),
            (String = "text/csv"),
        )),
        (status = 403, response = Forbidden),
        (status = 422, response = Invalid),
    )
)]
pub(crate) async fn audience(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Query(query): Query<AudienceQuery>,
) -> ApiResult<Response> {
    let drawn = state
        .vault()
        .audience(
            &actor,
            &query.purpose,
            query.channel,
            query.campaign.as_deref(),
        )
        .await?;
    let body = AudienceBody {
        purpose: drawn.purpose,
        channel: drawn.channel,
        on: drawn.on.to_string(),
        contacts: drawn
            .contacts
            .into_iter()
            .map(|c| ContactBody {
                subject: c.subject,
                contact: c.contact.expose().to_owned(),
                unsubscribe: c.unsubscribe_token.map(|t| link(&state, t)),
            })
            .collect(),
    };
    Ok(match query.format.unwrap_or(AudienceFormat::Json) {
        AudienceFormat::Json => Json(body).into_response(),
        AudienceFormat::Csv => {
            let mut response = audience_csv(&body).into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            );
            response
        }
    })
}

/// `subject,contact,unsubscribe_url,list_unsubscribe`, one row per contact.
pub fn audience_csv(body: &AudienceBody) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut rows = vec![[
        "subject".to_owned(),
        "contact".to_owned(),
        "unsubscribe_url".to_owned(),
        "list_unsubscribe".to_owned(),
    ]];
    for c in &body.contacts {
        rows.push([
            c.subject.to_string(),
            c.contact.clone(),
            c.unsubscribe
                .as_ref()
                .map(|l| l.url.clone())
                .unwrap_or_default(),
            c.unsubscribe
                .as_ref()
                .map(|l| l.list_unsubscribe.clone())
                .unwrap_or_default(),
        ]);
    }
    for row in rows {
        // Writing to memory cannot fail; a row that could not be written is left out.
        let _ = writer.write_record(row);
    }
    writer
        .into_inner()
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .unwrap_or_default()
}

/// A link to make.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLinkBody {
    #[schema(value_type = String, format = Uuid)]
    pub subject: SubjectId,
    #[schema(example = "direct_marketing")]
    pub purpose: String,
    #[schema(value_type = String, example = "email")]
    pub channel: MarketingChannel,
    #[schema(example = "spring-2026")]
    pub campaign: Option<String>,
}

/// A one-click unsubscribe link for one recipient
///
/// With the `List-Unsubscribe` and `List-Unsubscribe-Post` header values to send it with.
#[utoipa::path(
    post,
    path = "/marketing/unsubscribe-links",
    tag = "marketing",
    request_body(content = NewLinkBody, example = json!({"subject": "01890a5d-ac96-774b-bcce-b302099a8057", "purpose": "direct_marketing", "channel": "email"})),
    responses(
        (status = 201, description = "The link", body = LinkBody),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 422, response = Invalid),
    )
)]
pub(crate) async fn new_link(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Json(body): Json<NewLinkBody>,
) -> ApiResult<impl IntoResponse> {
    let token = state
        .vault()
        .unsubscribe_token(
            &actor,
            body.subject,
            &body.purpose,
            body.channel,
            body.campaign.as_deref(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(link(&state, token))))
}

/// A link to revoke.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeLinkBody {
    pub token: String,
}

/// What became of a link.
#[derive(Debug, Serialize, ToSchema)]
pub struct LinkStateBody {
    /// `revoked` (now), `used` or `revoked` (before), or `invalid` (no link of this server).
    #[schema(example = "revoked")]
    pub state: String,
}

/// Revoke an unsubscribe link before it is used
#[utoipa::path(
    post,
    path = "/marketing/unsubscribe-links/revoke",
    tag = "marketing",
    request_body(content = RevokeLinkBody),
    responses(
        (status = 200, description = "The link's state", body = LinkStateBody),
        (status = 403, response = Forbidden),
        (status = 422, response = Invalid),
    )
)]
pub(crate) async fn revoke_link(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Json(body): Json<RevokeLinkBody>,
) -> ApiResult<Json<LinkStateBody>> {
    let state = match state
        .vault()
        .revoke_unsubscribe_token(&actor, &body.token)
        .await?
    {
        LinkState::Valid(_) => "revoked".to_owned(),
        LinkState::Spent { reason, .. } => reason,
        LinkState::Invalid => "invalid".to_owned(),
    };
    Ok(Json(LinkStateBody { state }))
}

/// An opt-out that came by letter, phone or e-mail.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OptOutBody {
    /// What `value` is: `email` or `phone`.
    #[schema(value_type = String, example = "email")]
    pub identifier: LookupKind,
    /// The address or number, as written.
    #[schema(example = "anna@example.se")]
    pub value: String,
    /// One marketing purpose; every marketing purpose when left out.
    #[schema(example = "direct_marketing")]
    pub purpose: Option<String>,
}

/// What a recorded opt-out did.
#[derive(Debug, Serialize, ToSchema)]
pub struct OptOutResult {
    /// The people found by the address or number, whose objection was recorded.
    #[schema(value_type = Vec<String>)]
    pub subjects: Vec<SubjectId>,
    /// The address or number is on the suppression list (always).
    pub suppressed: bool,
}

/// Record an opt-out from direct marketing
///
/// Everyone the address or number belongs to objects to the purpose (or to every marketing
/// purpose), and the address or number goes on the suppression list whether or not anyone was
/// found, so a later import of it starts suppressed. Only the address is needed, never an
/// identity number.
#[utoipa::path(
    post,
    path = "/marketing/opt-outs",
    tag = "marketing",
    request_body(content = OptOutBody, example = json!({"identifier": "email", "value": "anna@example.se"})),
    responses(
        (status = 200, description = "Recorded", body = OptOutResult),
        (status = 403, response = Forbidden),
        (status = 422, response = Invalid),
    )
)]
pub(crate) async fn opt_out(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Json(body): Json<OptOutBody>,
) -> ApiResult<Json<OptOutResult>> {
    let done = state
        .vault()
        .record_opt_out(
            &actor,
            body.identifier,
            &PersonalValue::new(body.value),
            body.purpose.as_deref(),
        )
        .await?;
    Ok(Json(OptOutResult {
        subjects: done.subjects,
        suppressed: done.suppressed,
    }))
}
