//! Cookie consent as proof: what a visitor's decision must hold to be kept as a consent record
//! (EDPB Guidelines 05/2020: who, when, what they were told, what they chose), checked against
//! the policy's cookie section. Pure.
//!
//! The banner's version is the hash of that section: when the categories, their cookies or
//! their texts change, the version changes and the banner asks again.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::policy::{Cookies, Lang};

/// What the banner sends.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DecisionInput {
    /// The visitor's pseudonymous id, made by the banner (16 to 64 of `A-Z a-z 0-9 - _`).
    #[cfg_attr(feature = "openapi", schema(example = "q3Zk1o9VbH2mX0cW7yTn4A"))]
    pub visitor: String,
    /// The banner version shown (from `/consent.js`).
    #[cfg_attr(feature = "openapi", schema(example = "5f0c2a9e4b1d7c3a"))]
    pub banner_version: String,
    /// BLAKE3 (hex) of the exact text the visitor was shown.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262")
    )]
    pub text_hash: String,
    pub lang: Lang,
    /// The choice per category of the policy; a category left out is refused.
    #[cfg_attr(feature = "openapi", schema(example = json!({"statistics": false, "preferences": true})))]
    pub choices: BTreeMap<String, bool>,
    /// Whether the browser sent Global Privacy Control.
    #[serde(default)]
    pub gpc: bool,
    /// The page the choice was made on (query and fragment are dropped).
    #[cfg_attr(
        feature = "openapi",
        schema(example = "https://smart-telematik.se/produkter")
    )]
    pub page: String,
    /// A withdrawal of every earlier consent (every category refused).
    #[serde(default)]
    pub withdrawal: bool,
}

/// A decision fit to be kept: every category of the policy with its choice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub visitor: String,
    pub banner_version: String,
    pub text_hash: String,
    pub lang: Lang,
    pub choices: BTreeMap<String, bool>,
    pub gpc: bool,
    /// A category that markets or shares was accepted while GPC asked to refuse it: the
    /// visitor's explicit choice, noted as against the signal.
    pub gpc_conflict: bool,
    pub page: String,
    pub status: ConsentStatus,
}

/// What the decision says, as DPV names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentStatus {
    /// At least one category that needs consent was accepted.
    Given,
    /// Every category that needs consent was refused.
    Refused,
    /// Earlier consent taken back.
    Withdrawn,
}

impl ConsentStatus {
    /// The DPV term.
    pub fn dpv(self) -> &'static str {
        match self {
            ConsentStatus::Given => "dpv:ConsentGiven",
            ConsentStatus::Refused => "dpv:ConsentRefused",
            ConsentStatus::Withdrawn => "dpv:ConsentWithdrawn",
        }
    }
}

/// Why a decision cannot be kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub field: String,
    pub code: &'static str,
    pub message: String,
}

fn refused(field: impl Into<String>, code: &'static str, message: impl Into<String>) -> Refused {
    Refused {
        field: field.into(),
        code,
        message: message.into(),
    }
}

/// The longest page address kept.
const MAX_PAGE: usize = 2048;

/// The banner version of a cookie section: the first 16 hex digits of BLAKE3 over its
/// canonical JSON.
pub fn banner_version(cookies: &Cookies) -> String {
    let json = serde_json::to_vec(cookies).unwrap_or_default();
    blake3::hash(&json).to_hex()[..16].to_owned()
}

/// The hash a banner's text is recorded by: BLAKE3, in lowercase hex.
pub fn text_hash(text: &str) -> String {
    blake3::hash(text.as_bytes()).to_hex().to_string()
}

/// Checks `input` against the policy's cookie section.
pub fn check(cookies: &Cookies, input: DecisionInput) -> Result<Decision, Refused> {
    let id_like = |text: &str, min: usize, max: usize| {
        (min..=max).contains(&text.len())
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    if !id_like(&input.visitor, 16, 64) {
        return Err(refused(
            "visitor",
            "invalid_visitor",
            "the visitor id is 16 to 64 letters, digits, '-' or '_', made by the banner",
        ));
    }
    let hex = |text: &str| {
        text.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    };
    if input.banner_version.is_empty()
        || input.banner_version.len() > 64
        || !hex(&input.banner_version)
    {
        return Err(refused(
            "banner_version",
            "invalid_banner_version",
            "the banner version is the lowercase hex digits /consent.js gives",
        ));
    }
    if input.text_hash.len() != 64 || !hex(&input.text_hash) {
        return Err(refused(
            "text_hash",
            "invalid_text_hash",
            "the text hash is BLAKE3 of the text shown, as 64 lowercase hex digits",
        ));
    }
    if let Some(unknown) = input
        .choices
        .keys()
        .find(|k| !cookies.categories.contains_key(k.as_str()))
    {
        return Err(refused(
            format!("choices.{unknown}"),
            "unknown_category",
            format!(
                "the policy has no cookie category {unknown:?}; its categories are: {}",
                cookies
                    .categories
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    let mut choices = BTreeMap::new();
    for (key, category) in &cookies.categories {
        let chosen = input.choices.get(key).copied();
        if category.strictly_necessary {
            if chosen == Some(false) {
                return Err(refused(
                    format!("choices.{key}"),
                    "necessary_category",
                    format!(
                        "{key:?} is strictly necessary: it needs no consent and cannot be refused"
                    ),
                ));
            }
            choices.insert(key.clone(), true);
        } else {
            // Nothing is pre-ticked: a category left out is refused.
            choices.insert(key.clone(), chosen.unwrap_or(false));
        }
    }
    let needs_consent = |key: &str| {
        cookies
            .categories
            .get(key)
            .is_some_and(|c| !c.strictly_necessary)
    };
    let accepted: Vec<&String> = choices
        .iter()
        .filter(|(k, granted)| **granted && needs_consent(k))
        .map(|(k, _)| k)
        .collect();
    if input.withdrawal && !accepted.is_empty() {
        return Err(refused(
            "withdrawal",
            "withdrawal_with_consent",
            "a withdrawal refuses every category that needs consent",
        ));
    }
    let gpc_conflict = input.gpc
        && cookies.honour_gpc
        && accepted.iter().any(|k| {
            cookies
                .categories
                .get(k.as_str())
                .is_some_and(|c| c.markets_or_shares)
        });
    let status = if input.withdrawal {
        ConsentStatus::Withdrawn
    } else if accepted.is_empty() {
        ConsentStatus::Refused
    } else {
        ConsentStatus::Given
    };
    Ok(Decision {
        visitor: input.visitor,
        banner_version: input.banner_version,
        text_hash: input.text_hash,
        lang: input.lang,
        choices,
        gpc: input.gpc,
        gpc_conflict,
        page: page(&input.page)?,
        status,
    })
}

/// The page's address without query or fragment, which may carry personal data.
fn page(raw: &str) -> Result<String, Refused> {
    let bare = raw.split(['?', '#']).next().unwrap_or("").trim();
    let rest = bare
        .strip_prefix("https://")
        .or_else(|| bare.strip_prefix("http://"));
    match rest {
        Some(rest)
            if !rest.is_empty()
                && bare.len() <= MAX_PAGE
                && !bare.contains(char::is_whitespace) =>
        {
            Ok(bare.to_owned())
        }
        _ => Err(refused(
            "page",
            "invalid_page",
            "the page is the http(s) address the choice was made on, at most 2048 characters",
        )),
    }
}

#[cfg(test)]
mod tests;
