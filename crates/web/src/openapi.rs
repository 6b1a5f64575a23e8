//! The OpenAPI 3.1 document served at `/openapi.json`, generated with utoipa from the handlers
//! themselves, so the routes and their description cannot drift apart.
//!
//! # Adding an endpoint
//!
//! 1. Annotate the handler with `#[utoipa::path(...)]`: method, path (relative to `/api/v1`),
//!    parameters, request body, the success response, and the errors particular to it, e.g.
//!    `(status = 404, response = NotFound)` with the problem responses of this module.
//! 2. Add one line to `protected_routes()` in `lib.rs` (or `public_routes()` for an endpoint
//!    without a token): `.routes(routes!(requests::restrict))`. That line both routes the
//!    request and documents it.
//!
//! Types in the request or response derive `utoipa::ToSchema` (types of the app and domain
//! crates under their `openapi` feature: `#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]`).
//! What every endpoint of a kind shares is added by [`finish`] and need not be written:
//! bearer security and `401` for protected endpoints, `500`/`503` for those that reach the
//! store, and the problems of a bad body (`400`, `413`, `415`, `422`), path (`400`) or query
//! (`400`). The test `openapi` in `tests/it` checks that every route is in the document.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use utoipa::openapi::path::{Operation, ParameterIn, PathItem};
use utoipa::openapi::response::{Response as ApiResponse, ResponseBuilder};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi as Document, Ref, RefOr};
use utoipa::{OpenApi, ToResponse};

use integritet_domain::policy::Policy;
use serde_json::Value;

use crate::AppState;
use crate::error::PROBLEM_JSON;

/// The name of the bearer security scheme.
pub const BEARER: &str = "bearer";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Integritet API",
        description = "Personal data kept encrypted and bound to the purposes of the controller's \
            privacy policy. Every read states one purpose; every read, change, export and \
            disclosure is written to a hash-chained audit log. Errors are RFC 9457 problem \
            documents (`application/problem+json`).",
        license(name = "AGPL-3.0-or-later", identifier = "AGPL-3.0-or-later"),
    ),
    components(schemas(crate::error::Problem)),
    tags(
        (name = "subjects", description = "Data subjects and their values"),
        (name = "archive", description = "Values kept only for a legal obligation, read by reference and reason"),
        (name = "policy", description = "The privacy policy, its notice and the Art. 30 register"),
        (name = "legal holds", description = "Holds that stop erasure while a dispute lasts (Art. 17(3)(e))"),
        (name = "marketing", description = "Audiences, one-click unsubscribe (RFC 8058) and opt-outs"),
        (name = "consent", description = "Cookie consent records, their JSON-LD export and Global Privacy Control"),
        (name = "operations", description = "Health, readiness, metrics and this document"),
    )
)]
struct ApiDoc;

/// The document's base: info, tags and the shared schemas, without paths.
pub(crate) fn base() -> Document {
    ApiDoc::openapi()
}

/// Marks every operation of `document` as needing a bearer token, which adds `401`.
pub(crate) fn require_bearer(document: &mut Document) {
    for item in document.paths.paths.values_mut() {
        for operation in operations(item) {
            operation.security = Some(vec![SecurityRequirement::new(BEARER, Vec::<String>::new())]);
        }
    }
}

/// Adds what endpoints of a kind share (see the module's documentation) and the security
/// scheme, and serialises the document.
pub(crate) fn finish(mut document: Document) -> Document {
    for item in document.paths.paths.values_mut() {
        for operation in operations(item) {
            add_shared_responses(operation);
        }
    }
    let components = document.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        BEARER,
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("itg_ and 64 hex digits, from `integritet token create`")
                .description(Some(
                    "A staff API token: `Authorization: Bearer itg_…`. It carries one role of the policy.",
                ))
                .build(),
        ),
    );
    for (name, response) in problem_responses() {
        components
            .responses
            .insert(name.to_owned(), RefOr::T(response));
    }
    document
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        item.get.as_mut(),
        item.put.as_mut(),
        item.post.as_mut(),
        item.delete.as_mut(),
        item.patch.as_mut(),
        item.head.as_mut(),
        item.options.as_mut(),
        item.trace.as_mut(),
    ]
    .into_iter()
    .flatten()
}

/// The reference to a problem response of this module.
fn reference<R: for<'r> ToResponse<'r>>() -> RefOr<ApiResponse> {
    R::response().1
}

fn add_shared_responses(operation: &mut Operation) {
    let mut add = |status: &str, response: fn() -> RefOr<ApiResponse>| {
        operation
            .responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(response);
    };
    // An empty requirement (`{}`) means "no token needed".
    let secured = operation
        .security
        .iter()
        .flatten()
        .any(|requirement| *requirement != SecurityRequirement::default());
    if secured {
        add("401", reference::<Unauthorized>);
        add("500", reference::<Internal>);
        add("503", reference::<Unavailable>);
    }
    if operation.request_body.is_some() {
        add("400", reference::<BadRequest>);
        add("413", reference::<TooLarge>);
        add("415", reference::<UnsupportedMediaType>);
        add("422", reference::<Invalid>);
    }
    let takes = |place: ParameterIn| {
        operation.parameters.iter().flatten().any(|p| match p {
            RefOr::T(p) => p.parameter_in == place,
            RefOr::Ref(_) => false,
        })
    };
    let (path, query) = (takes(ParameterIn::Path), takes(ParameterIn::Query));
    if path || query {
        add("400", reference::<BadRequest>);
    }
}

macro_rules! problem_responses {
    ($($(#[$doc:meta])* $name:ident => $description:literal,)*) => {
        $(
            $(#[$doc])*
            /// A marker for `#[utoipa::path]`: `(status = …, response = ThisType)`.
            #[derive(Debug)]
            pub enum $name {}

            impl<'r> ToResponse<'r> for $name {
                fn response() -> (&'r str, RefOr<ApiResponse>) {
                    (stringify!($name), RefOr::Ref(Ref::from_response_name(stringify!($name))))
                }
            }
        )*

        /// Every problem response, for the document's components.
        fn problem_responses() -> BTreeMap<&'static str, ApiResponse> {
            BTreeMap::from([
                $((stringify!($name), problem($description)),)*
            ])
        }
    };
}

problem_responses! {
    /// 400: a malformed body, path or query.
    BadRequest => "The request is malformed: JSON that does not parse, a path segment or query parameter that does not fit.",
    /// 401: no valid bearer token.
    Unauthorized => "A valid bearer token is required. Unknown, expired and revoked tokens get the same answer.",
    /// 403: the caller's role may not do this.
    Forbidden => "The caller's role may not act for this purpose, or the subject's state forbids it (restriction, objection).",
    /// 404: no such subject, value or archive entry.
    NotFound => "No such subject, value or archive entry.",
    /// 409: the policy cannot support the request.
    Conflict => "The policy does not allow this (e.g. a retention rule without a period).",
    /// 413: the body is larger than the limit.
    TooLarge => "The request body is larger than 256 KiB.",
    /// 415: the body is not sent as JSON.
    UnsupportedMediaType => "The body must be sent with `Content-Type: application/json`.",
    /// 422: input that breaks a rule of the policy or of its kind.
    Invalid => "The input breaks a rule: an unknown field, category or purpose, a value that is not valid for its kind. `field` names where, `code` says what.",
    /// 500: a failure on the server's side.
    Internal => "Something failed on the server's side; the cause is in the server log.",
    /// 503: the database does not answer.
    Unavailable => "The database is not available; try again shortly.",
}

fn problem(description: &str) -> ApiResponse {
    ResponseBuilder::new()
        .description(description)
        .content(
            PROBLEM_JSON,
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build()
}

/// `GET /openapi.json`.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "operations",
    summary = "This document (OpenAPI 3.1)",
    responses(
        (status = 200, description = "The OpenAPI document", body = Object, content_type = "application/json"),
    )
)]
pub(crate) async fn openapi_json(State(state): State<AppState>) -> Response {
    let mut response = state.openapi.clone().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// The Art. 30 register as JSON (`GET /api/v1/policy/register`): one record per purpose.
#[derive(Debug)]
pub struct Register;

impl utoipa::PartialSchema for Register {
    fn schema() -> RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
        let string = || ObjectBuilder::new().schema_type(Type::String);
        let object = || ObjectBuilder::new().schema_type(Type::Object);
        let texts = || {
            object()
                .property("sv", string())
                .property("en", string())
                .required("sv")
                .required("en")
        };
        let purpose = object()
            .property("id", string())
            .property("label", texts())
            .property("description", texts())
            .property("dpv", string())
            .required("id")
            .required("dpv");
        let record = object()
            .description(Some("What is processed for one purpose, and how."))
            .property("policy_version", string())
            .property("purpose", purpose)
            .property("data_subjects", ArrayBuilder::new().items(object()))
            .property("personal_data", ArrayBuilder::new().items(object()))
            .property("recipients", ArrayBuilder::new().items(object()))
            .property("retention", object())
            .property("storage", string())
            .required("policy_version")
            .required("purpose")
            .required("data_subjects")
            .required("personal_data")
            .required("recipients")
            .required("retention");
        object()
            .description(Some(
                "The record of processing activities (GDPR Art. 30(1)) with W3C DPV terms.",
            ))
            .property("policy_version", string())
            .property("controller", object())
            .property("prefixes", object())
            .property("records", ArrayBuilder::new().items(record))
            .required("policy_version")
            .required("controller")
            .required("records")
            .into()
    }
}

impl utoipa::ToSchema for Register {}

/// The document as this server serves it: where a request names something of the policy (a
/// purpose, category, activity, recipient or role), the schema lists the policy's names, so a
/// client — or a test generator — knows what is valid without reading `policy.toml`.
pub(crate) fn for_policy(document: &Document, policy: &Policy) -> Bytes {
    let mut json = match serde_json::to_value(document) {
        Ok(json) => json,
        Err(error) => {
            tracing::error!(%error, "cannot serialise the OpenAPI document");
            return Bytes::new();
        }
    };
    let names = PolicyNames::of(policy);
    for schema in request_schemas(&json) {
        if let Some(properties) = json
            .pointer_mut(&format!("/components/schemas/{schema}/properties"))
            .and_then(Value::as_object_mut)
        {
            for (property, schema) in properties.iter_mut() {
                if let Some(names) = names.for_property(property) {
                    constrain(schema, names);
                }
            }
        }
    }
    if let Some(paths) = json.get_mut("paths").and_then(Value::as_object_mut) {
        for operation in paths.values_mut().filter_map(Value::as_object_mut) {
            for parameter in operation
                .values_mut()
                .filter_map(|o| o.get_mut("parameters"))
                .filter_map(Value::as_array_mut)
                .flatten()
            {
                if parameter["name"] == "purpose"
                    && let Some(schema) = parameter.get_mut("schema")
                {
                    constrain(schema, &names.purposes);
                }
            }
        }
    }
    match serde_json::to_vec(&json) {
        Ok(bytes) => Bytes::from(bytes),
        Err(error) => {
            tracing::error!(%error, "cannot serialise the OpenAPI document");
            Bytes::new()
        }
    }
}

struct PolicyNames {
    purposes: Vec<String>,
    categories: Vec<String>,
    activities: Vec<String>,
    recipients: Vec<String>,
    roles: Vec<String>,
}

impl PolicyNames {
    fn of(policy: &Policy) -> PolicyNames {
        PolicyNames {
            purposes: policy.purposes.keys().cloned().collect(),
            categories: policy.categories.keys().cloned().collect(),
            activities: policy.activities.keys().cloned().collect(),
            recipients: policy.recipients.keys().cloned().collect(),
            roles: policy.roles.keys().cloned().collect(),
        }
    }

    fn for_property(&self, property: &str) -> Option<&[String]> {
        Some(match property {
            "purpose" | "purposes" => &self.purposes,
            "category" | "categories" => &self.categories,
            // `kind` of a request that is a plain string is an activity's kind (subject and
            // lookup kinds are enums of their own, which `constrain` leaves alone).
            "kind" => &self.activities,
            "recipient" => &self.recipients,
            "role" => &self.roles,
            _ => return None,
        })
    }
}

/// Adds `enum` to a plain string schema, or to the items of an array of plain strings.
fn constrain(schema: &mut Value, names: &[String]) {
    let plain_string = |s: &Value| {
        s.get("type") == Some(&Value::from("string"))
            && s.get("enum").is_none()
            && s.get("format").is_none()
    };
    let target = if plain_string(schema) {
        Some(schema)
    } else if schema.get("type") == Some(&Value::from("array")) {
        schema.get_mut("items").filter(|items| plain_string(items))
    } else {
        None
    };
    if let Some(target) = target
        && let Some(object) = target.as_object_mut()
    {
        object.insert("enum".into(), Value::from(names.to_vec()));
    }
}

/// The component schemas requests are made of: those a request body refers to, and those
/// they refer to in turn.
fn request_schemas(json: &Value) -> Vec<String> {
    const PREFIX: &str = "#/components/schemas/";
    fn refs(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                if let Some(name) = map
                    .get("$ref")
                    .and_then(Value::as_str)
                    .and_then(|r| r.strip_prefix(PREFIX))
                {
                    out.push(name.to_owned());
                }
                map.values().for_each(|v| refs(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let mut pending = Vec::new();
    if let Some(paths) = json.get("paths").and_then(Value::as_object) {
        for operation in paths
            .values()
            .filter_map(Value::as_object)
            .flat_map(|o| o.values())
        {
            if let Some(body) = operation.get("requestBody") {
                refs(body, &mut pending);
            }
        }
    }
    let mut seen: Vec<String> = Vec::new();
    while let Some(name) = pending.pop() {
        if seen.contains(&name) {
            continue;
        }
        if let Some(schema) = json.pointer(&format!("/components/schemas/{name}")) {
            refs(schema, &mut pending);
        }
        seen.push(name);
    }
    seen
}
