//! Identity numbers: personnummer, samordningsnummer and organisationsnummer.

use integritet_domain::identity::{Birth, IdentityNumber, Organisationsnummer, Personnummer};
use time::{Date, Duration};

/// The first two bytes choose the reference date (a day from 1900-01-01 on, up to 2079), the
/// rest is the input as UTF-8.
///
/// Beyond "never panics", it checks what holds for every accepted number: its long form and
/// (within 200 years) its short form read back to the same number, and `Debug` never shows
/// its digits.
pub fn identity_parse(data: &[u8]) {
    let (reference, input) = match data {
        [a, b, rest @ ..] => {
            let days = i64::from(u16::from_le_bytes([*a, *b]));
            let start: Date = time::macros::date!(1900 - 01 - 01);
            (start + Duration::days(days), rest)
        }
        _ => return,
    };
    let Ok(input) = std::str::from_utf8(input) else {
        return;
    };

    if let Ok(number) = IdentityNumber::parse(input, reference) {
        let long = number.long_form();
        assert_eq!(IdentityNumber::parse(&long, reference), Ok(number));
        assert_eq!(number.to_string(), long);
        let debug = format!("{number:?}");
        assert!(!debug.contains(&number.digits()[4..]), "{debug}");
    }

    if let Ok(person) = Personnummer::parse(input, reference) {
        assert_eq!(
            Personnummer::parse(&person.long_form(), reference),
            Ok(person)
        );
        if reference.year() - birth_year(&person) < 199 {
            let short = person.short_form(reference);
            assert_eq!(Personnummer::parse(&short, reference), Ok(person));
        }
        assert!(person.birth_date().is_none_or(|birth| birth <= reference));
    }

    if let Ok(org) = Organisationsnummer::parse(input, reference) {
        let sole_trader_too_old = org
            .personnummer()
            .is_some_and(|owner| reference.year() - birth_year(owner) >= 199);
        if !sole_trader_too_old {
            assert_eq!(
                Organisationsnummer::parse(&org.long_form(), reference),
                Ok(org)
            );
        }
        assert_eq!(org.vat_number(), format!("SE{}01", org.digits()));
    }
}

/// The year of birth, whole or partial.
fn birth_year(person: &Personnummer) -> i32 {
    match person.birth() {
        Birth::Date(date) => date.year(),
        Birth::Partial { year, .. } => year,
    }
}
