//! A wrapper for personal data in clear, so it cannot end up in a log by accident.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A personal-data value in clear. `Debug` never shows it; `Display` is deliberately absent:
/// reach for [`PersonalValue::expose`] where the value really is meant to leave.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(
    feature = "openapi",
    schema(
        value_type = String,
        description = "A value in clear, validated and normalised by its category's kind (e-mail, phone, identity number, …)",
        example = "astrid@example.se"
    )
)]
#[serde(transparent)]
pub struct PersonalValue(String);

impl PersonalValue {
    pub fn new(value: impl Into<String>) -> PersonalValue {
        PersonalValue(value.into())
    }

    /// The value itself, for encryption, for the subject's own copy, or for a reader whose
    /// purpose allows it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

impl fmt::Debug for PersonalValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PersonalValue(<{} chars>)", self.0.chars().count())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_value() {
        let value = PersonalValue::new("anna@example.se");
        assert_eq!(format!("{value:?}"), "PersonalValue(<15 chars>)");
        assert_eq!(value.expose(), "anna@example.se");
    }
}
