//! The Art. 15 access report as data: everything the controller holds about one person and
//! what Art. 15(1)–(2) says the person must be told about it. The vault fills it; the notice
//! crate renders it (Swedish or English, printable HTML) from the same document structure as
//! the privacy notice, and the API gives it as JSON.

use serde::Serialize;
use time::{Date, OffsetDateTime};

use crate::personal::PersonalValue;
use crate::subject::{Provenance, SubjectId};

/// One person's copy (Art. 15(3)) with the information of Art. 15(1)–(2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccessReport {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub subject: SubjectId,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub generated_at: OffsetDateTime,
    /// The policy version the report was made under.
    pub policy_version: String,
    /// Art. 15(1)(b), (g) and 15(3): every value, with where it came from.
    pub values: Vec<ReportedValue>,
    /// Art. 15(1)(a), (d): each purpose that holds the person's data, and until when.
    pub purposes: Vec<ReportedPurpose>,
    /// Art. 15(1)(c): every recorded disclosure of the person's data.
    pub disclosures: Vec<ReportedDisclosure>,
    /// Processing restricted (Art. 18).
    pub restricted: bool,
    /// Purposes the person objected to (Art. 21).
    pub objections: Vec<String>,
}

/// One value held.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReportedValue {
    pub category: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub value: PersonalValue,
    /// Provided by the person, observed, or derived (Art. 15(1)(g)).
    pub provenance: Provenance,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub collected_at: OffsetDateTime,
    pub purposes: Vec<String>,
}

/// A purpose that holds some of the person's data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReportedPurpose {
    pub purpose: String,
    /// The person's categories it holds.
    pub categories: Vec<String>,
    /// The last day it keeps them as things stand today; `None` when it has no end date yet
    /// (until consent is withdrawn). A new purchase moves it.
    #[serde(serialize_with = "optional_day")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub kept_until: Option<Date>,
}

/// A recorded disclosure to a recipient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReportedDisclosure {
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub at: OffsetDateTime,
    /// The recipient's id in the policy.
    pub recipient: String,
    pub purpose: Option<String>,
    pub categories: Vec<String>,
}

fn optional_day<S: serde::Serializer>(day: &Option<Date>, s: S) -> Result<S::Ok, S::Error> {
    match day {
        Some(day) => s.collect_str(day),
        None => s.serialize_none(),
    }
}
