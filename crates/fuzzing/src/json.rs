//! JSON request bodies of the HTTP API, read the way the server reads them.
//!
//! The server's body types are private to the web crate; the ones here have the same fields,
//! names and serde attributes, and wrap the same app and domain types (`NewSubjectInput`,
//! `NewValue`, `NewActivity`, `LookupKind`, `PersonalValue`). The router itself, with its real
//! types, is driven by the web crate's test `no_5xx`.

#![allow(dead_code)] // the fields are read by serde only

use axum::Json;
use integritet_app::vault::{LookupKind, NewActivity, NewSubjectInput, NewValue};
use integritet_domain::personal::PersonalValue;
use integritet_web::ApiError;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use std::sync::OnceLock;

use crate::echo::{Echoes, SERDE_WORDS, Vocabulary, json_strings};

#[derive(Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
struct LookupRequest {
    kind: LookupKind,
    value: PersonalValue,
    purpose: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RectifyRequest {
    value: PersonalValue,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AddValuesRequest {
    values: Vec<NewValue>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DisclosureRequest {
    recipient: String,
    purpose: String,
    categories: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ArchiveReadRequest {
    reason: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RestrictionRequest {
    restricted: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ObjectionRequest {
    purpose: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewTokenRequest {
    role: String,
    #[serde(default)]
    label: Option<String>,
    #[serde(default)]
    expires_in_days: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginRequest {
    name: String,
    password: String,
}

/// Our words: the body types' names, fields and variants, and axum's own sentences.
const BODY_WORDS: &[&str] = &[
    "Failed to deserialize the JSON body into the target type: ",
    "Failed to parse the request body as JSON: ",
    "kind",
    "values",
    "value",
    "activities",
    "category",
    "provenance",
    "purposes",
    "purpose",
    "collected_at",
    "recipient",
    "categories",
    "reason",
    "restricted",
    "role",
    "label",
    "expires_in_days",
    "name",
    "password",
    "person",
    "organisation",
    "provided",
    "observed",
    "derived",
    "email",
    "phone",
    "identity_number",
    "customer_number",
    "NewSubjectInput",
    "NewValue",
    "NewActivity",
    "LookupKind",
    "SubjectKind",
    "Provenance",
    "PersonalValue",
    "OffsetDateTime",
    "LookupRequest",
    "RectifyRequest",
    "AddValuesRequest",
    "DisclosureRequest",
    "ArchiveReadRequest",
    "RestrictionRequest",
    "ObjectionRequest",
    "NewTokenRequest",
    "LoginRequest",
    "`kind`, `values`, `activities`",
    "`category`, `value`, `provenance`, `purposes`, `collected_at`",
    "`kind`, `at`",
    "`kind`, `value`, `purpose`",
    "`recipient`, `purpose`, `categories`",
    "`role`, `label`, `expires_in_days`",
    "`name` or `password`",
    "`person` or `organisation`",
    "`provided`, `observed`, `derived`",
    "`email`, `phone`, `identity_number`, `customer_number`",
    "`reason`",
    "`restricted`",
    "`values`",
    "`value`",
    "`purpose`",
    "u32",
    "a boolean",
    "values[",
    "activities[",
    "categories[",
];

/// Each body type of the API reads the input with axum's `Json` extractor, as the server
/// does. A refused body gets the server's own problem document: 400 or 422, whose detail
/// repeats nothing of the body beyond our own words (field names, expected values, serde's
/// phrases). Accepted activities and lookups serialise back to what reads as the same.
pub fn json_bodies(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut inputs = vec![text.to_string()];
    inputs.extend(json_strings(&text));
    let inputs: Vec<&str> = inputs.iter().map(String::as_str).collect();
    static OURS: OnceLock<Vocabulary<'static>> = OnceLock::new();
    let ours = OURS.get_or_init(|| {
        let words: Vec<&str> = SERDE_WORDS.iter().chain(BODY_WORDS).copied().collect();
        Vocabulary::new(&words)
    });
    let body = Body {
        data,
        echoes: Echoes::new(&inputs, ours),
    };

    body.read::<NewSubjectInput>();
    body.read::<AddValuesRequest>();
    if let Some(activities) = body.read::<Vec<NewActivity>>() {
        round_trip(&activities);
    }
    if let Some(lookup) = body.read::<LookupRequest>() {
        round_trip(&lookup);
    }
    body.read::<RectifyRequest>();
    body.read::<DisclosureRequest>();
    body.read::<ArchiveReadRequest>();
    body.read::<RestrictionRequest>();
    body.read::<ObjectionRequest>();
    body.read::<NewTokenRequest>();
    body.read::<LoginRequest>();
}

struct Body<'a> {
    data: &'a [u8],
    echoes: Echoes<'a>,
}

impl Body<'_> {
    fn read<T: DeserializeOwned>(&self) -> Option<T> {
        let rejection = match Json::<T>::from_bytes(self.data) {
            Ok(Json(value)) => return Some(value),
            Err(rejection) => rejection,
        };
        let problem = ApiError::Json(rejection).problem();
        assert!(
            problem.status == 400 || problem.status == 422,
            "{} for {}",
            problem.status,
            std::any::type_name::<T>()
        );
        assert!(!problem.detail.is_empty());
        if let Some(piece) = self.echoes.find(&problem.detail) {
            crate::broken(format_args!(
                "the problem for {} repeats the body ({piece:?}): {}",
                std::any::type_name::<T>(),
                problem.detail
            ));
        }
        None
    }
}

/// What was read, written and read again, is the same.
fn round_trip<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(value: &T) {
    let written = serde_json::to_vec(value);
    assert!(written.is_ok(), "{value:?} cannot be written");
    if let Ok(written) = written {
        let again = serde_json::from_slice::<T>(&written);
        assert!(
            again.as_ref().is_ok_and(|again| again == value),
            "{value:?} reads back as {again:?}"
        );
    }
}
