//! Why an input is not a valid identity number.

use time::Date;

/// Why an input is not a valid Swedish identity number.
///
/// [`Display`](std::fmt::Display) gives a sentence for a person: what was wrong and what to do.
/// [`IdentityError::code`] gives a stable machine code for scripts (the CLI prints it in
/// `--json`); codes are never renamed.
///
/// No message quotes the number or its birth date: an error about someone's personnummer must
/// not tell whoever reads it when that person was born.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum IdentityError {
    /// The input was empty or only whitespace.
    #[error(
        "empty input: expected a personnummer (YYYYMMDD-XXXX) or an organisationsnummer (NNNNNN-NNNN)"
    )]
    Empty,

    /// A character that is neither a digit nor a separator.
    #[error(
        "unexpected character {character:?} at position {position}: use only digits, with at most one '-' or '+' right before the last four"
    )]
    InvalidCharacter {
        /// The offending character.
        character: char,
        /// Its 1-based position, counted in characters of the untrimmed input.
        position: usize,
    },

    /// An interim number (*interimsnummer*): a letter in place of the first serial digit.
    #[error(
        "interim number (the letter {letter:?} in place of the first serial digit): interim numbers are temporary and are not personnummer or samordningsnummer — ask for the person's personnummer or samordningsnummer"
    )]
    InterimNumber {
        /// The letter, upper-cased.
        letter: char,
    },

    /// More than one separator, or one that is not right before the last four digits.
    #[error(
        "misplaced separator: write at most one '-' or '+', right before the last four digits (YYMMDD-XXXX, YYYYMMDD-XXXX or NNNNNN-NNNN)"
    )]
    MisplacedSeparator,

    /// Not 10 or 12 digits.
    #[error("wrong length: expected 10 or 12 digits, got {digits}")]
    WrongLength {
        /// How many digits the input had.
        digits: usize,
    },

    /// A 12-digit number whose first two digits are no century of a personnummer (18, 19, 20)
    /// and not the organisationsnummer prefix 16.
    #[error(
        "a 12-digit number must start with 18, 19 or 20 (the birth century of a personnummer) or 16 (an organisationsnummer), not {prefix:02}"
    )]
    BadPrefix {
        /// The first two digits.
        prefix: u8,
    },

    /// The birth date part is no date in the calendar (month 13, 30 February, 29 February in a
    /// common year, day 00, ...). For a samordningsnummer only a month above 12 or a day above
    /// 31 (after taking 60) is: 00 stands for an unknown month or day, and Skatteverket issues
    /// some whose day is no calendar date.
    #[error(
        "no such date: {}{} — check the birth date",
        no_such_date_reason(*.month),
        samordningsnummer_note(.samordningsnummer)
    )]
    NoSuchDate {
        /// The birth year, with the century as given or inferred.
        year: i32,
        /// The month digits.
        month: u8,
        /// The day digits, less 60 for a samordningsnummer.
        day: u8,
        /// Whether the day digits were 61 or more (a samordningsnummer).
        samordningsnummer: bool,
    },

    /// The serial number (the three digits before the check digit) is 000.
    #[error("serial number 000 is never issued — check for a typo")]
    ZeroSerial,

    /// A serial number given to [`Personnummer::new`](super::Personnummer::new) outside 1–999.
    #[error("serial number {serial} is out of range: it has three digits, 001–999")]
    SerialOutOfRange {
        /// The serial number given.
        serial: u16,
    },

    /// The last digit is not the Luhn check digit of the first nine.
    #[error("check digit is wrong: expected {expected}, got {got} — check for a typo")]
    BadChecksum {
        /// The check digit the first nine digits call for.
        expected: u8,
        /// The last digit of the input.
        got: u8,
    },

    /// A 12-digit personnummer whose birth date is after the reference date.
    #[error(
        "the birth date is after the reference date {reference}: nobody has a personnummer before being born — check the year"
    )]
    BornAfterReference {
        /// The birth date read from the input.
        birth_date: Date,
        /// The reference date the input was parsed at.
        reference: Date,
    },

    /// `YYYYMMDD+XXXX` for a person younger than 100 at the reference date.
    #[error(
        "'+' marks a person aged 100 or more, but the birth date is less than 100 years before the reference date {reference} — use '-'"
    )]
    SeparatorMismatch {
        /// The birth date read from the input.
        birth_date: Date,
        /// The reference date the input was parsed at.
        reference: Date,
    },

    /// A birth year outside 1800–2099.
    #[error("the birth year is out of range: only birth years 1800–2099 are supported")]
    BirthYearOutOfRange {
        /// The birth year.
        year: i32,
    },

    /// An organisationsnummer was expected, but the third and fourth digits are below 20 (and
    /// it is not a personnummer, which would be the organisationsnummer of an *enskild firma*).
    #[error(
        "not an organisationsnummer: the third and fourth digits must be 20 or more (a sole trader's organisationsnummer is the owner's personnummer)"
    )]
    NotOrganisationsnummer,

    /// A personnummer was expected, but the input is a valid organisationsnummer.
    #[error(
        "not a personnummer: this is an organisationsnummer (its third and fourth digits are 20 or more)"
    )]
    NotPersonnummer,

    /// An organisationsnummer written with `+`, which only marks a personnummer of someone aged
    /// 100 or more.
    #[error("'+' does not belong in an organisationsnummer: write it as NNNNNN-NNNN or NNNNNNNNNN")]
    PlusInOrganisationsnummer,

    /// An organisationsnummer starting with 0: the first digit is the group number, 1–9.
    #[error(
        "not an organisationsnummer: the first digit is the group number and is never 0 — check for a typo"
    )]
    BadGroupNumber,
}

impl IdentityError {
    /// A stable, machine-readable code for the error, e.g. `"bad_checksum"`.
    #[must_use]
    pub const fn code(&self) -> &'static str {
        match self {
            Self::Empty => "empty",
            Self::InvalidCharacter { .. } => "invalid_character",
            Self::InterimNumber { .. } => "interim_number",
            Self::MisplacedSeparator => "misplaced_separator",
            Self::WrongLength { .. } => "wrong_length",
            Self::BadPrefix { .. } => "bad_prefix",
            Self::NoSuchDate { .. } => "no_such_date",
            Self::ZeroSerial => "zero_serial",
            Self::SerialOutOfRange { .. } => "serial_out_of_range",
            Self::BadChecksum { .. } => "bad_checksum",
            Self::BornAfterReference { .. } => "born_after_reference",
            Self::SeparatorMismatch { .. } => "separator_mismatch",
            Self::BirthYearOutOfRange { .. } => "birth_year_out_of_range",
            Self::NotOrganisationsnummer => "not_organisationsnummer",
            Self::NotPersonnummer => "not_personnummer",
            Self::PlusInOrganisationsnummer => "plus_in_organisationsnummer",
            Self::BadGroupNumber => "bad_group_number",
        }
    }
}

/// The explanation added to [`IdentityError::NoSuchDate`] for a samordningsnummer.
fn samordningsnummer_note(samordningsnummer: &bool) -> &'static str {
    if *samordningsnummer {
        " (a samordningsnummer, after taking 60 from the day)"
    } else {
        ""
    }
}

/// Which part of the birth date does not exist, without the date itself.
fn no_such_date_reason(month: u8) -> &'static str {
    if (1..=12).contains(&month) {
        "the day digits are no day of that month"
    } else {
        "the month digits are not 01–12"
    }
}
