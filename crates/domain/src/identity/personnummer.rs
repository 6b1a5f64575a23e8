//! Personnummer and samordningsnummer.

use std::fmt;

use time::{Date, Month};

use super::lex::{self, Lexed, Separator};
use super::{IdentityError, IdentityKind, Organisationsnummer};

/// The first birth year supported.
const MIN_YEAR: i32 = 1800;
/// The last birth year supported.
const MAX_YEAR: i32 = 2099;
/// What is added to the day of birth in a samordningsnummer.
const SAMORDNING_OFFSET: u8 = 60;

/// A Swedish personal identity number (*personnummer*) or coordination number
/// (*samordningsnummer*, the same shape with 60 added to the day of birth).
///
/// A personnummer always holds a real date of birth. A samordningsnummer may not: Skatteverket
/// writes 00 for a birth month or day it does not know (so day 60 once 60 is added), and some
/// of its numbers carry a day that is no calendar date; both are valid, and such a number has
/// only a partial birth date ([`Personnummer::birth`]) and no known age.
///
/// Parse with [`Personnummer::parse`]; build from parts with [`Personnummer::new`] or
/// [`Personnummer::new_samordningsnummer`]. [`Display`](fmt::Display) and serde give the long
/// form `YYYYMMDD-XXXX`; [`Debug`](fmt::Debug) hides everything but the century, so that a number
/// does not leak into logs.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Personnummer {
    /// The year of birth.
    year: i32,
    /// The month of birth, 1–12; 0 when unknown (a samordningsnummer only).
    month: u8,
    /// The day of birth (for a samordningsnummer, without the 60), 1–31; 0 when unknown. For a
    /// personnummer year, month and day always form a calendar date.
    day: u8,
    /// The three serial digits, 1–999.
    serial: u16,
    /// The Luhn check digit.
    check: u8,
    samordningsnummer: bool,
}

/// Legal sex as recorded in a personnummer: the third serial digit is odd for men, even for
/// women.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Sex {
    Female,
    Male,
}

impl Sex {
    /// `"female"` or `"male"`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Female => "female",
            Self::Male => "male",
        }
    }
}

impl fmt::Display for Sex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a number says of its holder's birth.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Birth {
    /// The date of birth.
    Date(Date),
    /// Only part of it (a samordningsnummer): the year, and the month when known.
    Partial { year: i32, month: Option<Month> },
}

impl Personnummer {
    /// Parses a personnummer or samordningsnummer in any of its written forms:
    /// `YYMMDD-XXXX`, `YYMMDD+XXXX`, `YYMMDDXXXX`, `YYYYMMDD-XXXX`, `YYYYMMDD+XXXX` and
    /// `YYYYMMDDXXXX`, with surrounding whitespace ignored.
    ///
    /// `reference` is the date the number is read at (normally today, from a
    /// [`Clock`](crate::Clock)). It decides the century of a 10-digit form: the most recent one
    /// in which the birth date is not after `reference` — and, with `+`, at least 100 years
    /// before it. A 12-digit form must not be born after `reference`, and with `+` must be at
    /// least 100 years old at `reference`.
    ///
    /// # Errors
    ///
    /// An [`IdentityError`] saying what is wrong: the shape, the date, serial 000, the check
    /// digit, an interim number ([`IdentityError::InterimNumber`] — these are not
    /// personnummer), or an organisationsnummer ([`IdentityError::NotPersonnummer`]).
    pub fn parse(input: &str, reference: Date) -> Result<Self, IdentityError> {
        let lexed = lex::lex(input)?;
        // A valid organisationsnummer is never a personnummer (its "month" is 20 or more); say so
        // rather than "no such date".
        if lexed.looks_like_organisation() && Organisationsnummer::legal_from_lexed(&lexed).is_ok()
        {
            return Err(IdentityError::NotPersonnummer);
        }
        Self::from_lexed(&lexed, reference)
    }

    /// Builds the personnummer of someone born on `birth_date` with the serial number `serial`
    /// (1–999), computing the check digit.
    ///
    /// # Errors
    ///
    /// [`IdentityError::SerialOutOfRange`] or [`IdentityError::ZeroSerial`] for a bad serial,
    /// [`IdentityError::BirthYearOutOfRange`] for a birth year outside 1800–2099.
    pub fn new(birth_date: Date, serial: u16) -> Result<Self, IdentityError> {
        Self::build(birth_date, serial, false)
    }

    /// Builds the samordningsnummer of someone born on `birth_date` (the real date; 60 is added
    /// to the day in the number) with the serial number `serial` (1–999).
    ///
    /// # Errors
    ///
    /// As [`Personnummer::new`].
    pub fn new_samordningsnummer(birth_date: Date, serial: u16) -> Result<Self, IdentityError> {
        Self::build(birth_date, serial, true)
    }

    fn build(
        birth_date: Date,
        serial: u16,
        samordningsnummer: bool,
    ) -> Result<Self, IdentityError> {
        if serial == 0 {
            return Err(IdentityError::ZeroSerial);
        }
        if serial > 999 {
            return Err(IdentityError::SerialOutOfRange { serial });
        }
        check_year(birth_date.year())?;
        let mut number = Self {
            year: birth_date.year(),
            month: u8::from(birth_date.month()),
            day: birth_date.day(),
            serial,
            check: 0,
            samordningsnummer,
        };
        number.check = lex::luhn_check_digit(&number.ten_digits());
        Ok(number)
    }

    /// Reads an already lexed input.
    pub(crate) fn from_lexed(lexed: &Lexed, reference: Date) -> Result<Self, IdentityError> {
        let [y1, y2, m1, m2, d1, d2, s1, s2, s3, _] = lexed.digits;
        let yy = i32::from(y1 * 10 + y2);
        let month = m1 * 10 + m2;
        let raw_day = d1 * 10 + d2;
        // Day 60 is a samordningsnummer whose day of birth is unknown.
        let samordningsnummer = raw_day >= SAMORDNING_OFFSET;
        let day = if samordningsnummer {
            raw_day - SAMORDNING_OFFSET
        } else {
            raw_day
        };
        let plus = lexed.separator == Some(Separator::Plus);

        let year = match lexed.prefix {
            Some(century @ 18..=20) => i32::from(century) * 100 + yy,
            Some(prefix) => return Err(IdentityError::BadPrefix { prefix }),
            None => infer_year(yy, month, day, plus, reference),
        };
        check_year(year)?;

        let no_such_date = IdentityError::NoSuchDate {
            year,
            month,
            day,
            samordningsnummer,
        };
        let calendar_date = Month::try_from(month)
            .ok()
            .and_then(|m| Date::from_calendar_date(year, m, day).ok());
        // A samordningsnummer needs only a month and a day in range (0: unknown).
        if calendar_date.is_none() && !(samordningsnummer && month <= 12 && day <= 31) {
            return Err(no_such_date);
        }

        let serial = u16::from(s1) * 100 + u16::from(s2) * 10 + u16::from(s3);
        if serial == 0 {
            return Err(IdentityError::ZeroSerial);
        }
        lex::check_luhn(&lexed.digits)?;

        // The earliest birth the number allows: an unknown month or day counts as the first.
        let earliest = (year, month, day);
        let earliest_date = calendar_date.unwrap_or_else(|| {
            let month = Month::try_from(month.max(1)).unwrap_or(Month::January);
            Date::from_calendar_date(year, month, day.clamp(1, month.length(year)))
                .unwrap_or(Date::MIN)
        });
        if earliest
            > (
                reference.year(),
                u8::from(reference.month()),
                reference.day(),
            )
        {
            return Err(IdentityError::BornAfterReference {
                birth_date: earliest_date,
                reference,
            });
        }
        if plus && age_between(earliest_date, reference) < 100 {
            return Err(IdentityError::SeparatorMismatch {
                birth_date: earliest_date,
                reference,
            });
        }

        let [.., check] = lexed.digits;
        Ok(Self {
            year,
            month,
            day,
            serial,
            check,
            samordningsnummer,
        })
    }

    /// [`IdentityKind::Personnummer`] or [`IdentityKind::Samordningsnummer`].
    #[must_use]
    pub const fn kind(&self) -> IdentityKind {
        if self.samordningsnummer {
            IdentityKind::Samordningsnummer
        } else {
            IdentityKind::Personnummer
        }
    }

    /// Whether this is a samordningsnummer (day of birth + 60).
    #[must_use]
    pub const fn is_samordningsnummer(&self) -> bool {
        self.samordningsnummer
    }

    /// The real date of birth (for a samordningsnummer, the day without the 60), when the
    /// number holds a whole one.
    #[must_use]
    pub fn birth_date(&self) -> Option<Date> {
        Month::try_from(self.month)
            .ok()
            .and_then(|month| Date::from_calendar_date(self.year, month, self.day).ok())
    }

    /// What the number says of the birth: a date, or only the year and perhaps the month.
    #[must_use]
    pub fn birth(&self) -> Birth {
        match self.birth_date() {
            Some(date) => Birth::Date(date),
            None => Birth::Partial {
                year: self.year,
                month: Month::try_from(self.month).ok(),
            },
        }
    }

    /// Age in whole years on `date`; 0 if `date` is before the birth date; `None` when the
    /// number holds no whole birth date (it is not guessed). Someone born on 29 February
    /// becomes a year older on 1 March in common years.
    #[must_use]
    pub fn age_at(&self, date: Date) -> Option<u32> {
        self.birth_date().map(|birth| age_between(birth, date))
    }

    /// Legal sex from the third serial digit (odd: male, even: female).
    #[must_use]
    pub const fn sex(&self) -> Sex {
        if self.serial % 2 == 1 {
            Sex::Male
        } else {
            Sex::Female
        }
    }

    /// The normalised long form, `YYYYMMDD-XXXX` (a samordningsnummer keeps its day + 60).
    #[must_use]
    pub fn long_form(&self) -> String {
        self.render(true, Some('-'))
    }

    /// The traditional 10-digit form, `YYMMDD-XXXX`, or `YYMMDD+XXXX` if the person is 100 or
    /// older on `reference` — the form [`Personnummer::parse`] reads back to the same number at
    /// the same reference date.
    #[must_use]
    pub fn short_form(&self, reference: Date) -> String {
        let separator = if self.max_age_at(reference) >= 100 {
            '+'
        } else {
            '-'
        };
        self.render(false, Some(separator))
    }

    /// The 12 digits `YYYYMMDDXXXX`, without separator.
    #[must_use]
    pub fn digits(&self) -> String {
        self.render(true, None)
    }

    /// The 10-digit form without century or separator, `YYMMDDXXXX` (the form the Luhn check
    /// runs over). Ambiguous on its own: prefer [`Personnummer::long_form`].
    #[must_use]
    pub fn ten_digit_form(&self) -> String {
        self.render(false, None)
    }

    /// The 10 digits `YYMMDDNNNC`.
    pub(crate) fn ten_digits(&self) -> [u8; 10] {
        let year = self.year.rem_euclid(100);
        let month = self.month;
        let day = self.day
            + if self.samordningsnummer {
                SAMORDNING_OFFSET
            } else {
                0
            };
        let [yy, s] = [year, i32::from(self.serial)].map(|v| v.unsigned_abs());
        [
            digit(yy / 10),
            digit(yy),
            digit(u32::from(month / 10)),
            digit(u32::from(month)),
            digit(u32::from(day / 10)),
            digit(u32::from(day)),
            digit(s / 100),
            digit(s / 10),
            digit(s),
            self.check,
        ]
    }

    fn render(&self, century: bool, separator: Option<char>) -> String {
        let digits = self.ten_digits();
        let (date_part, last_four) = digits.split_at(6);
        let mut out = String::with_capacity(13);
        if century {
            let cc = self.year.div_euclid(100).unsigned_abs();
            lex::push_digits(&mut out, &[digit(cc / 10), digit(cc)]);
        }
        lex::push_digits(&mut out, date_part);
        if let Some(separator) = separator {
            out.push(separator);
        }
        lex::push_digits(&mut out, last_four);
        out
    }
}

impl Personnummer {
    /// The age on `date` of someone born as early as the number allows (an unknown month or
    /// day taken as the first): what decides between `-` and `+`.
    pub(crate) fn max_age_at(&self, date: Date) -> u32 {
        let month = Month::try_from(self.month.max(1)).unwrap_or(Month::January);
        let day = self.day.clamp(1, month.length(self.year));
        Date::from_calendar_date(self.year, month, day).map_or(0, |birth| age_between(birth, date))
    }
}

/// The last decimal digit of `value`.
fn digit(value: u32) -> u8 {
    // Below 10, so exact.
    (value % 10) as u8
}

fn check_year(year: i32) -> Result<(), IdentityError> {
    if (MIN_YEAR..=MAX_YEAR).contains(&year) {
        Ok(())
    } else {
        Err(IdentityError::BirthYearOutOfRange { year })
    }
}

/// The most recent year ending in `yy` such that `yy`-`month`-`day` is not after `reference`
/// (with `plus`: not after `reference` less 100 years). Compares plain numbers, so it works
/// for impossible dates too (they are rejected afterwards with the inferred year).
fn infer_year(yy: i32, month: u8, day: u8, plus: bool, reference: Date) -> i32 {
    let bound_year = reference.year() - if plus { 100 } else { 0 };
    let bound = (bound_year, u8::from(reference.month()), reference.day());
    let year = bound_year - bound_year.rem_euclid(100) + yy;
    if (year, month, day) > bound {
        year - 100
    } else {
        year
    }
}

/// Whole years from `birth` to `date`, 0 if `date` is before `birth`.
fn age_between(birth: Date, date: Date) -> u32 {
    let mut age = date.year() - birth.year();
    if (u8::from(date.month()), date.day()) < (u8::from(birth.month()), birth.day()) {
        age -= 1;
    }
    u32::try_from(age).unwrap_or(0)
}

impl fmt::Display for Personnummer {
    /// The long form, `YYYYMMDD-XXXX`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.long_form())
    }
}

impl fmt::Debug for Personnummer {
    /// Redacted: `Personnummer(19******-****)`, showing only the century.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = if self.samordningsnummer {
            "Samordningsnummer"
        } else {
            "Personnummer"
        };
        write!(f, "{name}({:02}******-****)", self.year.div_euclid(100))
    }
}

impl serde::Serialize for Personnummer {
    /// As the long form string, `YYYYMMDD-XXXX`.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}
