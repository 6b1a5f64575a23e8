//! Subjects (the people and organisations data is about) and the facts kept about their values.
//! The values themselves never appear here in clear: they travel as ciphertext below the
//! application layer.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! uuid_id {
    ($(#[$meta:meta])* $name:ident, $prefix:literal) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[cfg_attr(
            feature = "openapi",
            schema(value_type = String, format = Uuid, example = "0195f3a2-7c4e-7d1a-9b8e-2f6d4c1a0e53")
        )]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A UUID v7 from a time (milliseconds since the Unix epoch) and 10 random bytes,
            /// both given by the caller so ids are reproducible in tests.
            pub fn from_parts(unix_millis: u64, random: [u8; 10]) -> $name {
                $name(uuid::Builder::from_unix_timestamp_millis(unix_millis, &random).into_uuid())
            }

            pub fn as_bytes(&self) -> &[u8; 16] {
                self.0.as_bytes()
            }

            pub fn from_slice(bytes: &[u8]) -> Option<$name> {
                Uuid::from_slice(bytes).ok().map($name)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($prefix, "({})"), self.0)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map($name)
            }
        }
    };
}

uuid_id!(
    /// Identifies a subject. Carries no personal data, so it may appear in logs and audit entries.
    SubjectId,
    "SubjectId"
);
uuid_id!(
    /// Identifies one stored value of a subject.
    ValueId,
    "ValueId"
);

/// A natural person or an organisation (a sole trader is both: a person with an org number).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SubjectKind {
    Person,
    Organisation,
}

impl SubjectKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SubjectKind::Person => "person",
            SubjectKind::Organisation => "organisation",
        }
    }

    pub fn parse(text: &str) -> Option<SubjectKind> {
        match text {
            "person" => Some(SubjectKind::Person),
            "organisation" => Some(SubjectKind::Organisation),
            _ => None,
        }
    }
}

/// Where a value came from (Art. 14 and the portability right, which covers only what the
/// subject provided).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Provenance {
    /// Given by the subject.
    Provided,
    /// Observed from the subject's use of a service (IP address, usage).
    Observed,
    /// Inferred or computed by the controller.
    Derived,
}

impl Provenance {
    pub fn as_str(self) -> &'static str {
        match self {
            Provenance::Provided => "provided",
            Provenance::Observed => "observed",
            Provenance::Derived => "derived",
        }
    }

    pub fn parse(text: &str) -> Option<Provenance> {
        match text {
            "provided" => Some(Provenance::Provided),
            "observed" => Some(Provenance::Observed),
            "derived" => Some(Provenance::Derived),
            _ => None,
        }
    }
}

/// A reference to an archived bundle: random, so it reveals neither person nor time.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ArchiveRef(String);

impl ArchiveRef {
    pub const PREFIX: &'static str = "ar_";

    /// Builds a reference from 16 random bytes.
    pub fn from_random(random: [u8; 16]) -> ArchiveRef {
        let hex: String = random.iter().map(|b| format!("{b:02x}")).collect();
        ArchiveRef(format!("{}{hex}", Self::PREFIX))
    }

    /// Parses a reference a person typed or a system sent.
    pub fn parse(text: &str) -> Option<ArchiveRef> {
        let hex = text.trim().strip_prefix(Self::PREFIX)?;
        (hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| ArchiveRef(format!("{}{}", Self::PREFIX, hex.to_ascii_lowercase())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// On the wire a reference is a string: `ar_` and 32 lower-case hex digits.
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for ArchiveRef {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some("^ar_[0-9a-f]{32}$"))
            .description(Some(
                "A reference to an archive entry: `ar_` and 32 hex digits, random, so it reveals neither person nor time.",
            ))
            .examples([serde_json::json!("ar_5f0c3e9a1b7d4c2e8f6a0b1c2d3e4f50")])
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for ArchiveRef {}

impl fmt::Display for ArchiveRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ArchiveRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ArchiveRef({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_reproducible_and_ordered_by_time() {
        let a = SubjectId::from_parts(1_000, [1; 10]);
        let b = SubjectId::from_parts(2_000, [0; 10]);
        assert_eq!(a, SubjectId::from_parts(1_000, [1; 10]));
        assert!(a < b);
        assert_eq!(a.to_string().parse::<SubjectId>().unwrap(), a);
        assert_eq!(a.0.get_version_num(), 7);
    }

    #[test]
    fn archive_refs_parse_strictly() {
        let r = ArchiveRef::from_random([0xab; 16]);
        assert_eq!(ArchiveRef::parse(r.as_str()), Some(r.clone()));
        assert_eq!(
            ArchiveRef::parse(&r.as_str().to_uppercase().replace("AR_", "ar_")),
            Some(r)
        );
        assert_eq!(ArchiveRef::parse("ar_123"), None);
        assert_eq!(ArchiveRef::parse("19121212-1212"), None);
    }
}
