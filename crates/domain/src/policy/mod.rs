//! The policy as code: the model of `policy.toml`, how it is read, its version id, and the
//! checks (`lint`) that hold it to the law.

pub mod lint;
pub mod model;
mod source;

use std::fmt;

pub use model::*;
pub use source::SourceMap;

/// A policy read from a file, with the text it came from (for locating findings) and its
/// version id.
#[derive(Debug, Clone)]
pub struct LoadedPolicy {
    pub policy: Policy,
    pub version: PolicyVersion,
    pub source: SourceMap,
}

/// Identifies a policy's content: a BLAKE3 hash of its normalised form. Formatting, comments
/// and key order inside a table do not change it; any change of meaning does.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(
    feature = "openapi",
    schema(value_type = String, example = "pv1-3f2a9c1e5b7d4a6c8e0f1a2b3c4d5e6f")
)]
#[serde(transparent)]
pub struct PolicyVersion(String);

impl PolicyVersion {
    /// Computes the version of a policy from its normalised content.
    pub fn of(policy: &Policy) -> PolicyVersion {
        // serde_json of the model is canonical for our purpose: fields in declaration order,
        // maps in file order, no comments or whitespace from the source.
        let normalised = serde_json::to_vec(policy).unwrap_or_default();
        let hash = blake3::hash(&normalised);
        PolicyVersion(format!("pv1-{}", &hash.to_hex()[..32]))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Wraps a version id read back from storage.
    pub fn from_stored(id: String) -> PolicyVersion {
        PolicyVersion(id)
    }
}

impl fmt::Display for PolicyVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a policy file could not be read. Names the line, the key and what is expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.render())]
pub struct PolicyParseError {
    /// The file name as the user gave it (for messages only).
    pub file: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// Dotted key path, e.g. `purposes.marketing.legal_basis`, when known.
    pub key: Option<String>,
    pub message: String,
}

impl PolicyParseError {
    fn render(&self) -> String {
        let mut out = self.file.clone();
        if let Some(line) = self.line {
            out.push_str(&format!(":{line}"));
            if let Some(column) = self.column {
                out.push_str(&format!(":{column}"));
            }
        }
        out.push_str(": ");
        if let Some(key) = &self.key {
            out.push_str(&format!("at key `{key}`: "));
        }
        out.push_str(&self.message);
        out
    }
}

/// Parses policy text. `file` is only used in error messages.
pub fn parse(file: &str, text: &str) -> Result<LoadedPolicy, PolicyParseError> {
    let source = SourceMap::new(text.to_owned());
    let deserializer = toml::Deserializer::parse(text).map_err(|e| {
        let (line, column) = source.position_of_span(e.span());
        PolicyParseError {
            file: file.to_owned(),
            line,
            column,
            key: None,
            message: first_line(e.message()),
        }
    })?;
    let policy: Policy = serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let key = dotted_path(e.path());
        let inner = e.into_inner();
        // The deserializer's span points at the offending value or table; prefer the key's own
        // line when we can find it, because that is what a person edits.
        let (mut line, mut column) = source.position_of_span(inner.span());
        if let Some(key) = &key
            && let Some(key_line) = source.line_of_path(&key.split('.').collect::<Vec<_>>())
        {
            line = Some(key_line);
            column = None;
        }
        PolicyParseError {
            file: file.to_owned(),
            line,
            column,
            key,
            message: explain_serde_message(inner.message()),
        }
    })?;
    let version = PolicyVersion::of(&policy);
    Ok(LoadedPolicy {
        policy,
        version,
        source,
    })
}

fn dotted_path(path: &serde_path_to_error::Path) -> Option<String> {
    let rendered = path.to_string();
    if rendered.is_empty() || rendered == "." {
        None
    } else {
        Some(rendered)
    }
}

fn first_line(message: &str) -> String {
    message.lines().next().unwrap_or_default().trim().to_owned()
}

/// Serde's messages name Rust-ish things ("variant"); say it the way a policy author reads it.
fn explain_serde_message(message: &str) -> String {
    first_line(message)
        .replace("unknown variant", "unknown value")
        .replace("expected one of", "expected one of:")
        .replace("expected one of::", "expected one of:")
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL_BROKEN: &str = r#"
[controller]
name = "X AB"
org_number = "556800-7610"
email = "a@b.se"
website = "https://x.se"
postal_address = { street = "S 1", postal_code = "111 11", city = "Sthlm", country = "SE" }
supervisory_authority = { name = "IMY", website = "https://www.imy.se" }

[data_subjects.customer]
label = { sv = "Kunder", en = "Customers" }
dpv = "dpv:Customer"
existing_customers = true

[categories.email]
label = { sv = "E-post", en = "E-mail" }
dpv = "dpv-pd:EmailAddress"
kind = "emial"
"#;

    #[test]
    fn parse_error_names_line_key_and_expectation() {
        let err = parse("policy.toml", MINIMAL_BROKEN).unwrap_err();
        assert_eq!(err.key.as_deref(), Some("categories.email.kind"));
        assert_eq!(err.line, Some(18));
        assert!(err.message.contains("emial"), "{}", err.message);
        assert!(err.message.contains("identity_number"), "{}", err.message);
        let shown = err.to_string();
        assert!(
            shown.starts_with("policy.toml:18: at key `categories.email.kind`"),
            "{shown}"
        );
    }

    #[test]
    fn syntax_error_names_line() {
        let err = parse("p.toml", "[controller]\nname = \"X\nx = 1\n").unwrap_err();
        assert_eq!(err.line, Some(2));
        assert!(err.to_string().starts_with("p.toml:2:"), "{err}");
    }
}

#[cfg(test)]
mod example_tests {
    #[test]
    fn corrected_example_parses() {
        let text = include_str!("../../../../examples/seed-shop/policy.toml");
        let loaded = super::parse("policy.toml", text).unwrap();
        assert_eq!(loaded.policy.purposes.len(), 9);
    }
}
