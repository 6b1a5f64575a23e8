//! Swedish identity numbers: personnummer, samordningsnummer and organisationsnummer.
//!
//! Everything here is pure: "today" comes in as a `reference` date, which decides the century
//! of a 10-digit personnummer (`YYMMDD-XXXX`). Parse an input whose kind is not known with
//! [`IdentityNumber::parse`], or a known kind with [`Personnummer::parse`] or
//! [`Organisationsnummer::parse`].
//!
//! ```
//! use integritet_domain::identity::{IdentityKind, IdentityNumber};
//! use time::macros::date;
//!
//! let today = date!(2025 - 06 - 01);
//! let number = IdentityNumber::parse("811218-9876", today)?;
//! assert_eq!(number.kind(), IdentityKind::Personnummer);
//! assert_eq!(number.long_form(), "19811218-9876");
//! assert_eq!(format!("{number:?}"), "Personnummer(19******-****)");
//!
//! let error = IdentityNumber::parse("811218-9875", today).unwrap_err();
//! assert_eq!(error.code(), "bad_checksum");
//! assert_eq!(error.to_string(), "check digit is wrong: expected 6, got 5 — check for a typo");
//! # Ok::<(), integritet_domain::identity::IdentityError>(())
//! ```
//!
//! Rules (Skatteverket; the `personnummer/meta` and `organisationsnummer/meta` specifications):
//! the last digit is a Luhn check over the 10-digit form; serial 000 is never issued; a
//! samordningsnummer has 60 added to the day of birth; `+` instead of `-` marks a person aged
//! 100 or more; an organisationsnummer has third and fourth digits of 20 or more (so it is
//! never a valid date) and may be prefixed with `16`. Interim numbers (a letter in place of the
//! first serial digit) are rejected with [`IdentityError::InterimNumber`]: they are temporary
//! numbers of other authorities, not personnummer.

mod error;
mod lex;
mod organisationsnummer;
mod personnummer;

use std::fmt;

use time::Date;

pub use error::IdentityError;
pub use organisationsnummer::{LegalForm, Organisationsnummer};
pub use personnummer::{Birth, Personnummer, Sex};

/// Which kind of identity number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum IdentityKind {
    /// A personnummer: a person registered in Sweden.
    Personnummer,
    /// A samordningsnummer: a person not (or not yet) registered; day of birth + 60.
    Samordningsnummer,
    /// An organisationsnummer: a legal person, or a sole trader.
    Organisationsnummer,
}

impl IdentityKind {
    /// `"personnummer"`, `"samordningsnummer"` or `"organisationsnummer"`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Personnummer => "personnummer",
            Self::Samordningsnummer => "samordningsnummer",
            Self::Organisationsnummer => "organisationsnummer",
        }
    }

    /// Whether the number identifies a natural person (personnummer or samordningsnummer).
    #[must_use]
    pub const fn is_person(self) -> bool {
        matches!(self, Self::Personnummer | Self::Samordningsnummer)
    }
}

impl fmt::Display for IdentityKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A personnummer, samordningsnummer or organisationsnummer.
///
/// [`Display`](fmt::Display) and serde give the long form; [`Debug`](fmt::Debug) is redacted.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdentityNumber {
    /// A personnummer or samordningsnummer.
    Person(Personnummer),
    /// An organisationsnummer ([`IdentityNumber::parse`] gives only legal persons here).
    Organisation(Organisationsnummer),
}

impl IdentityNumber {
    /// Parses any Swedish identity number, in any of the forms [`Personnummer::parse`] and
    /// [`Organisationsnummer::parse`] read. The third and fourth digits tell them apart: 20 or
    /// more (or a `16` prefix) is an organisationsnummer, anything else is read as a
    /// personnummer or samordningsnummer. A personnummer is always
    /// [`IdentityNumber::Person`], never a sole trader's organisationsnummer.
    ///
    /// `reference` is the date the number is read at (normally today); see
    /// [`Personnummer::parse`].
    ///
    /// # Errors
    ///
    /// An [`IdentityError`] from the parser of the kind the input looks like.
    pub fn parse(input: &str, reference: Date) -> Result<Self, IdentityError> {
        let lexed = lex::lex(input)?;
        match (lexed.prefix, lexed.looks_like_organisation()) {
            (None, true) | (Some(16), _) => {
                Organisationsnummer::legal_from_lexed(&lexed).map(Self::Organisation)
            }
            _ => Personnummer::from_lexed(&lexed, reference).map(Self::Person),
        }
    }

    /// The kind of number.
    #[must_use]
    pub const fn kind(&self) -> IdentityKind {
        match self {
            Self::Person(p) => p.kind(),
            Self::Organisation(o) => o.kind(),
        }
    }

    /// The normalised long form: `YYYYMMDD-XXXX` for a person, `NNNNNN-NNNN` for an
    /// organisation.
    #[must_use]
    pub fn long_form(&self) -> String {
        match self {
            Self::Person(p) => p.long_form(),
            Self::Organisation(o) => o.long_form(),
        }
    }

    /// The digits of the long form without separator: 12 for a person, 10 for an
    /// organisation.
    #[must_use]
    pub fn digits(&self) -> String {
        match self {
            Self::Person(p) => p.digits(),
            Self::Organisation(o) => o.digits(),
        }
    }

    /// The personnummer or samordningsnummer, if this is one.
    #[must_use]
    pub const fn as_personnummer(&self) -> Option<&Personnummer> {
        match self {
            Self::Person(p) => Some(p),
            Self::Organisation(_) => None,
        }
    }

    /// The organisationsnummer, if this is one.
    #[must_use]
    pub const fn as_organisationsnummer(&self) -> Option<&Organisationsnummer> {
        match self {
            Self::Person(_) => None,
            Self::Organisation(o) => Some(o),
        }
    }

    /// The real date of birth of a person; `None` for an organisation, and for a
    /// samordningsnummer that holds only part of a birth date.
    #[must_use]
    pub fn birth_date(&self) -> Option<Date> {
        match self {
            Self::Person(p) => p.birth_date(),
            Self::Organisation(_) => None,
        }
    }
}

impl From<Personnummer> for IdentityNumber {
    fn from(value: Personnummer) -> Self {
        Self::Person(value)
    }
}

impl From<Organisationsnummer> for IdentityNumber {
    fn from(value: Organisationsnummer) -> Self {
        Self::Organisation(value)
    }
}

impl fmt::Display for IdentityNumber {
    /// The long form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Person(p) => fmt::Display::fmt(p, f),
            Self::Organisation(o) => fmt::Display::fmt(o, f),
        }
    }
}

impl fmt::Debug for IdentityNumber {
    /// Redacted, as the inner number's `Debug`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Person(p) => fmt::Debug::fmt(p, f),
            Self::Organisation(o) => fmt::Debug::fmt(o, f),
        }
    }
}

impl serde::Serialize for IdentityNumber {
    /// As the long form string.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}
