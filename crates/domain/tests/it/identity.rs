//! Swedish identity numbers against the outside test data in `shared/testdata` (personnummer/meta,
//! organisationsnummer/meta, Skatteverket's test personnummer), plus property tests.

use std::collections::{BTreeMap, HashSet};

use integritet_domain::identity::{
    IdentityError, IdentityKind, IdentityNumber, LegalForm, Organisationsnummer, Personnummer, Sex,
};
use proptest::prelude::*;
use serde::Deserialize;
use time::macros::date;
use time::{Date, Duration, Month};

/// The date every data-file test reads numbers at. It must be on or after 2023-12-31 (the
/// youngest birth date in allPins.json) and before 2045-11-20 (when the sole trader
/// `451180-9891` of organisationsnummer/list.json turns 100 and would need `+`).
const REFERENCE: Date = date!(2025 - 06 - 01);

const TESTDATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/testdata/");

fn read(path: &str) -> String {
    let full = format!("{TESTDATA}{path}");
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("cannot read {full}: {e}"))
}

fn json<T: for<'de> Deserialize<'de>>(path: &str) -> T {
    serde_json::from_str(&read(path)).unwrap_or_else(|e| panic!("cannot parse {path}: {e}"))
}

/// The Luhn check digit, written independently of the crate's.
fn luhn(first_nine: &str) -> u32 {
    let sum: u32 = first_nine
        .chars()
        .map(|c| c.to_digit(10).unwrap())
        .zip([2, 1].iter().cycle())
        .map(|(d, w)| {
            let p = d * w;
            p / 10 + p % 10
        })
        .sum();
    (10 - sum % 10) % 10
}

/// `YYYYMMDDXXXX` → `YYYYMMDD-XXXX`.
fn dashed_long(twelve: &str) -> String {
    format!("{}-{}", &twelve[..8], &twelve[8..])
}

fn date_of(year: i32, month: u8, day: u8) -> Date {
    Date::from_calendar_date(year, Month::try_from(month).unwrap(), day).unwrap()
}

// ---------------------------------------------------------------------------------------------
// personnummer/allPins.json
// ---------------------------------------------------------------------------------------------

#[test]
fn every_pin_of_skatteverkets_test_data_is_valid() {
    let pins: Vec<String> = json("personnummer/allPins.json");
    assert_eq!(pins.len(), 41_129);
    // Two numbers are listed twice: 202001092390 and 202101012397.
    assert_eq!(pins.iter().collect::<HashSet<_>>().len(), 41_127);

    let mut centenarians = 0;
    let mut kinds = BTreeMap::new();
    for pin in &pins {
        let expected_date = date_of(
            pin[..4].parse().unwrap(),
            pin[4..6].parse().unwrap(),
            pin[6..8].parse().unwrap(),
        );
        let p = Personnummer::parse(pin, REFERENCE).unwrap_or_else(|e| panic!("{pin}: {e}"));
        assert_eq!(p.birth_date(), Some(expected_date), "{pin}");
        assert_eq!(p.digits(), *pin);
        assert_eq!(p.long_form(), dashed_long(pin));
        *kinds.entry(p.kind()).or_insert(0) += 1;

        // The same number through the general parser and in its other forms.
        let any = IdentityNumber::parse(pin, REFERENCE).unwrap();
        assert_eq!(any, IdentityNumber::Person(p));
        assert_eq!(Personnummer::parse(&dashed_long(pin), REFERENCE), Ok(p));
        let short = p.short_form(REFERENCE);
        assert_eq!(Personnummer::parse(&short, REFERENCE), Ok(p), "{short}");
        if p.age_at(REFERENCE).unwrap() >= 100 {
            centenarians += 1;
            assert!(short.contains('+'), "{short}");
            let plus_long = format!("{}+{}", &pin[..8], &pin[8..]);
            assert_eq!(Personnummer::parse(&plus_long, REFERENCE), Ok(p));
        } else {
            assert!(short.contains('-'), "{short}");
        }
    }
    // The data set has no samordningsnummer; born 1890–1925-06-01 are 100 or older.
    assert_eq!(
        kinds,
        BTreeMap::from([(IdentityKind::Personnummer, 41_129)])
    );
    assert_eq!(centenarians, 7_876);
}

// ---------------------------------------------------------------------------------------------
// personnummer/list.json
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
struct ListEntry {
    integer: u64,
    long_format: String,
    short_format: String,
    separated_format: String,
    separated_long: String,
    valid: bool,
    #[serde(rename = "type")]
    kind: String,
    #[serde(rename = "isMale")]
    is_male: bool,
    #[serde(rename = "isFemale")]
    is_female: bool,
}

impl ListEntry {
    /// Every input form with its name.
    fn forms(&self) -> [(&'static str, String); 5] {
        [
            ("integer", self.integer.to_string()),
            ("long_format", self.long_format.clone()),
            ("short_format", self.short_format.clone()),
            ("separated_format", self.separated_format.clone()),
            ("separated_long", self.separated_long.clone()),
        ]
    }
}

#[test]
fn list_json_every_input_format() {
    let entries: Vec<ListEntry> = json("personnummer/list.json");
    assert_eq!(entries.len(), 14);

    let mut accepted = 0;
    let mut rejected: BTreeMap<&str, usize> = BTreeMap::new();
    for entry in &entries {
        assert_ne!(entry.is_male, entry.is_female);
        for (format, input) in entry.forms() {
            let parsed = Personnummer::parse(&input, REFERENCE);
            let general = IdentityNumber::parse(&input, REFERENCE);
            if !entry.valid {
                let Err(error) = parsed else {
                    panic!("{format} {input} must be invalid");
                };
                assert_eq!(general, Err(error), "{input}");
                *rejected.entry(error.code()).or_insert(0) += 1;
                continue;
            }
            let p = parsed.unwrap_or_else(|e| panic!("{format} {input}: {e}"));
            assert_eq!(general, Ok(IdentityNumber::Person(p)));
            accepted += 1;

            let expected_kind = match entry.kind.as_str() {
                "ssn" => IdentityKind::Personnummer,
                "con" => IdentityKind::Samordningsnummer,
                other => panic!("unknown type {other}"),
            };
            assert_eq!(p.kind(), expected_kind, "{input}");
            let expected_sex = if entry.is_male {
                Sex::Male
            } else {
                Sex::Female
            };
            assert_eq!(p.sex(), expected_sex, "{input}");

            // The data's long form is the century-true one. A bare 10-digit form (no `+`) of
            // someone 100 or older can only mean the later century: the data notes it as
            // "short_format" of a 1909 birth, and the reader takes 2009 (just as valid).
            let data_long = entry.separated_long.replace('+', "-");
            let born_as_data = Personnummer::parse(&entry.long_format, REFERENCE).unwrap();
            if format == "short_format" && born_as_data.age_at(REFERENCE).unwrap() >= 100 {
                let year: i32 = data_long[..4].parse().unwrap();
                assert_eq!(
                    p.long_form(),
                    format!("{}{}", year + 100, &data_long[4..]),
                    "{input}"
                );
            } else {
                assert_eq!(p.long_form(), data_long, "{format} {input}");
                assert_eq!(p.digits(), entry.long_format);
                assert_eq!(p.short_form(REFERENCE), entry.separated_format);
            }
        }
    }
    // 8 valid entries × 5 forms; 6 invalid × 5.
    assert_eq!(accepted, 40);
    assert_eq!(
        rejected,
        BTreeMap::from([
            // 197004289895, 194205669899, 196004309886, 197210869924
            ("bad_checksum", 20),
            // 201509160006 has a correct check digit but serial 000
            ("zero_serial", 5),
            // "19090527 1474": a space is no separator
            ("invalid_character", 4),
            // its `integer` is 0
            ("wrong_length", 1),
        ])
    );
}

// ---------------------------------------------------------------------------------------------
// personnummer/structured.json
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
struct ValidInvalid<T> {
    valid: Vec<T>,
    invalid: Vec<T>,
}

#[derive(Debug, Deserialize)]
struct Structured {
    integer: ValidInvalid<u64>,
    string: ValidInvalid<String>,
}

#[test]
fn structured_json_valid_and_invalid() {
    let data: BTreeMap<String, Structured> = json("personnummer/structured.json");
    let mut counts = BTreeMap::new();
    for (kind, groups) in &data {
        let expected_kind = match kind.as_str() {
            "ssn" => IdentityKind::Personnummer,
            "con" => IdentityKind::Samordningsnummer,
            other => panic!("unknown kind {other}"),
        };
        let valid = groups
            .integer
            .valid
            .iter()
            .map(u64::to_string)
            .chain(groups.string.valid.iter().cloned());
        let invalid = groups
            .integer
            .invalid
            .iter()
            .map(u64::to_string)
            .chain(groups.string.invalid.iter().cloned());
        for input in valid {
            let p = Personnummer::parse(&input, REFERENCE)
                .unwrap_or_else(|e| panic!("{kind} {input}: {e}"));
            assert_eq!(p.kind(), expected_kind, "{input}");
            assert_eq!(
                IdentityNumber::parse(&input, REFERENCE).unwrap().kind(),
                expected_kind
            );
            *counts.entry((kind.clone(), true)).or_insert(0) += 1;
        }
        for input in invalid {
            assert!(
                Personnummer::parse(&input, REFERENCE).is_err(),
                "{kind} {input} must be invalid"
            );
            assert!(IdentityNumber::parse(&input, REFERENCE).is_err());
            *counts.entry((kind.clone(), false)).or_insert(0) += 1;
        }
    }
    assert_eq!(
        counts,
        BTreeMap::from([
            (("con".to_owned(), false), 10),
            (("con".to_owned(), true), 10),
            (("ssn".to_owned(), false), 20),
            (("ssn".to_owned(), true), 30),
        ])
    );
}

// ---------------------------------------------------------------------------------------------
// personnummer/interim.json
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
struct InterimEntry {
    long_format: String,
    short_format: String,
    separated_format: String,
    separated_long: String,
    valid: bool,
}

/// The data marks interim numbers `valid` as the personnummer/meta libraries do with their
/// opt-in `allowInterimNumber`. They are not personnummer, so this crate rejects them all —
/// the well-formed ones with the reason `interim_number`.
#[test]
fn interim_numbers_are_rejected_with_a_reason() {
    let entries: Vec<InterimEntry> = json("personnummer/interim.json");
    assert_eq!(entries.len(), 12);
    let mut codes: BTreeMap<&str, usize> = BTreeMap::new();
    for entry in &entries {
        let letter = entry.long_format.chars().nth(8).unwrap();
        for input in [
            &entry.long_format,
            &entry.short_format,
            &entry.separated_format,
            &entry.separated_long,
        ] {
            let error = Personnummer::parse(input, REFERENCE).unwrap_err();
            assert_eq!(IdentityNumber::parse(input, REFERENCE), Err(error));
            assert_eq!(Organisationsnummer::parse(input, REFERENCE), Err(error));
            if entry.valid {
                assert_eq!(error, IdentityError::InterimNumber { letter }, "{input}");
            } else {
                // `E` is no interim letter (and its check digit is wrong).
                assert_eq!(error.code(), "invalid_character", "{input}");
            }
            *codes.entry(error.code()).or_insert(0) += 1;
        }
    }
    assert_eq!(
        codes,
        BTreeMap::from([("interim_number", 44), ("invalid_character", 4)])
    );
    assert_eq!(
        Personnummer::parse("000101-T220", REFERENCE)
            .unwrap_err()
            .to_string(),
        "interim number (the letter 'T' in place of the first serial digit): interim numbers \
         are temporary and are not personnummer or samordningsnummer — ask for the person's \
         personnummer or samordningsnummer"
    );
}

// ---------------------------------------------------------------------------------------------
// personnummer/orgnumber.json
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
struct OrgNumberEntry {
    integer: u64,
    short_format: String,
    separated_format: String,
    valid: bool,
}

#[test]
fn organisation_numbers_are_not_personnummer() {
    let entries: Vec<OrgNumberEntry> = json("personnummer/orgnumber.json");
    assert_eq!(entries.len(), 6);
    let mut checked = 0;
    for entry in &entries {
        assert!(!entry.valid);
        for input in [
            entry.integer.to_string(),
            entry.short_format.clone(),
            entry.separated_format.clone(),
        ] {
            assert_eq!(
                Personnummer::parse(&input, REFERENCE),
                Err(IdentityError::NotPersonnummer),
                "{input}"
            );
            // They are valid organisationsnummer (AP-fonder), and read as such.
            let org = Organisationsnummer::parse(&input, REFERENCE).unwrap();
            assert_eq!(org.long_form(), entry.separated_format);
            assert_eq!(
                IdentityNumber::parse(&input, REFERENCE).unwrap().kind(),
                IdentityKind::Organisationsnummer
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 18);
}

// ---------------------------------------------------------------------------------------------
// organisationsnummer/list.json
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
struct OrgEntry {
    input: String,
    long_format: String,
    short_format: String,
    valid: bool,
    #[serde(rename = "type")]
    legal_form: String,
    vat_number: String,
}

#[test]
fn organisationsnummer_list_validity_legal_form_and_vat() {
    let entries: Vec<OrgEntry> = json("organisationsnummer/list.json");
    assert_eq!(entries.len(), 24);
    let mut counts: BTreeMap<(&str, bool), usize> = BTreeMap::new();
    for entry in &entries {
        *counts
            .entry((entry.legal_form.as_str(), entry.valid))
            .or_insert(0) += 1;
        let parsed = Organisationsnummer::parse(&entry.input, REFERENCE);
        if !entry.valid {
            let error = parsed.unwrap_err();
            assert_eq!(error.code(), "bad_checksum", "{}", entry.input);
            assert!(IdentityNumber::parse(&entry.input, REFERENCE).is_err());
            // The data still names the legal form of the (invalid) number's group digit.
            let group = entry.short_format[..1].parse().unwrap();
            assert_eq!(
                LegalForm::from_group_number(group).unwrap().as_str(),
                entry.legal_form
            );
            continue;
        }
        let org = parsed.unwrap_or_else(|e| panic!("{}: {e}", entry.input));
        assert_eq!(org.kind(), IdentityKind::Organisationsnummer);
        assert_eq!(
            org.legal_form().as_str(),
            entry.legal_form,
            "{}",
            entry.input
        );
        assert_eq!(org.long_form(), entry.long_format, "{}", entry.input);
        assert_eq!(org.digits(), entry.short_format);
        assert_eq!(org.vat_number(), entry.vat_number);
        assert_eq!(org.to_string(), entry.long_format);
        assert_eq!(
            Organisationsnummer::parse(&entry.long_format, REFERENCE),
            Ok(org)
        );

        let general = IdentityNumber::parse(&entry.input, REFERENCE).unwrap();
        if org.legal_form() == LegalForm::SoleTrader {
            // A sole trader's number is the owner's personnummer: read on its own, it is one.
            let owner = *org.personnummer().unwrap();
            assert_eq!(general, IdentityNumber::Person(owner));
            assert!(general.kind().is_person());
            assert_eq!(owner.digits(), entry.input);
        } else {
            assert!(!org.is_personnummer());
            assert_eq!(general, IdentityNumber::Organisation(org));
            assert_eq!(general.long_form(), entry.long_format);
            // The 10 bare digits are unambiguous for a legal person.
            assert_eq!(
                Organisationsnummer::parse(&entry.short_format, REFERENCE),
                Ok(org)
            );
        }
    }
    assert_eq!(
        counts,
        BTreeMap::from([
            (("Aktiebolag", false), 4),
            (("Aktiebolag", true), 8),
            (("Enskild firma", true), 12),
        ])
    );
}

// ---------------------------------------------------------------------------------------------
// Rules the data files do not cover
// ---------------------------------------------------------------------------------------------

fn error_of(input: &str, reference: Date) -> IdentityError {
    IdentityNumber::parse(input, reference).unwrap_err()
}

#[test]
fn error_messages_say_what_is_wrong() {
    let cases = [
        (
            "811218-9875",
            "bad_checksum",
            "check digit is wrong: expected 6, got 5 — check for a typo",
        ),
        (
            "811218-987",
            "wrong_length",
            "wrong length: expected 10 or 12 digits, got 9",
        ),
        (
            "900230-0008",
            "no_such_date",
            "no such date: the day digits are no day of that month — check the birth date",
        ),
        (
            "900292-0005",
            "no_such_date",
            "no such date: the day digits are no day of that month (a samordningsnummer, after \
             taking 60 from the day) — check the birth date",
        ),
        (
            "811218-0003",
            "zero_serial",
            "serial number 000 is never issued — check for a typo",
        ),
        (
            "   ",
            "empty",
            "empty input: expected a personnummer (YYYYMMDD-XXXX) or an organisationsnummer \
             (NNNNNN-NNNN)",
        ),
        (
            " 811218/9876",
            "invalid_character",
            "unexpected character '/' at position 8: use only digits, with at most one '-' or \
             '+' right before the last four",
        ),
        (
            "8112-189876",
            "misplaced_separator",
            "misplaced separator: write at most one '-' or '+', right before the last four \
             digits (YYMMDD-XXXX, YYYYMMDD-XXXX or NNNNNN-NNNN)",
        ),
        (
            "178112189876",
            "bad_prefix",
            "a 12-digit number must start with 18, 19 or 20 (the birth century of a \
             personnummer) or 16 (an organisationsnummer), not 17",
        ),
        (
            "20811218-9876",
            "born_after_reference",
            "the birth date is after the reference date 2025-06-01: nobody has a personnummer \
             before being born — check the year",
        ),
        (
            "19811218+9876",
            "separator_mismatch",
            "'+' marks a person aged 100 or more, but the birth date is less than 100 years \
             before the reference date 2025-06-01 — use '-'",
        ),
        (
            "556016+0680",
            "plus_in_organisationsnummer",
            "'+' does not belong in an organisationsnummer: write it as NNNNNN-NNNN or \
             NNNNNNNNNN",
        ),
        (
            "1612121212-12",
            "misplaced_separator",
            "misplaced separator: write at most one '-' or '+', right before the last four \
             digits (YYMMDD-XXXX, YYYYMMDD-XXXX or NNNNNN-NNNN)",
        ),
        (
            "161212121212",
            "not_organisationsnummer",
            "not an organisationsnummer: the third and fourth digits must be 20 or more (a sole \
             trader's organisationsnummer is the owner's personnummer)",
        ),
        (
            "0020000004",
            "bad_group_number",
            "not an organisationsnummer: the first digit is the group number and is never 0 — \
             check for a typo",
        ),
    ];
    for (input, code, message) in cases {
        let error = error_of(input, REFERENCE);
        assert_eq!(
            (error.code(), error.to_string().as_str()),
            (code, message),
            "{input}"
        );
    }

    // Errors only the typed parsers give.
    let error = Personnummer::parse("556016-0680", REFERENCE).unwrap_err();
    assert_eq!(error.code(), "not_personnummer");
    assert_eq!(
        error.to_string(),
        "not a personnummer: this is an organisationsnummer (its third and fourth digits are 20 \
         or more)"
    );
    assert_eq!(
        Personnummer::parse("165560160680", REFERENCE),
        Err(IdentityError::NotPersonnummer)
    );
    // Whatever the reference date (found by proptest: at 1800-01-01 the century inference
    // gave 1721 and complained about the birth year instead).
    assert_eq!(
        Personnummer::parse("2120000001", date!(1800 - 01 - 01)),
        Err(IdentityError::NotPersonnummer)
    );
    assert_eq!(
        Organisationsnummer::parse("811299-9876", REFERENCE),
        Err(IdentityError::NotOrganisationsnummer)
    );
    assert_eq!(
        Organisationsnummer::parse("198556016068", REFERENCE),
        Err(IdentityError::BadPrefix { prefix: 19 })
    );
    let error = Personnummer::new(date!(1990 - 01 - 01), 1000).unwrap_err();
    assert_eq!(error.code(), "serial_out_of_range");
    assert_eq!(
        error.to_string(),
        "serial number 1000 is out of range: it has three digits, 001–999"
    );
    let error = Personnummer::new(date!(1700 - 01 - 01), 1).unwrap_err();
    assert_eq!(error.code(), "birth_year_out_of_range");
    assert_eq!(
        error.to_string(),
        "the birth year is out of range: only birth years 1800–2099 are supported"
    );
    assert_eq!(
        Personnummer::new(date!(1990 - 01 - 01), 0),
        Err(IdentityError::ZeroSerial)
    );
}

#[test]
fn century_inference_follows_the_reference_date() {
    let p =
        |input: &str, reference: Date| Personnummer::parse(input, reference).map(|p| p.long_form());
    // Born on the reference date: this century. A day later: the previous one.
    assert_eq!(p("250601-0012", REFERENCE).unwrap(), "20250601-0012");
    assert_eq!(p("2506010012", REFERENCE).unwrap(), "20250601-0012");
    assert_eq!(p("250602-0011", REFERENCE).unwrap(), "19250602-0011");
    // `+`: at least 100 years before the reference date.
    assert_eq!(p("250601+0012", REFERENCE).unwrap(), "19250601-0012");
    assert_eq!(p("250602+0011", REFERENCE).unwrap(), "18250602-0011");
    // A samordningsnummer compares its real day.
    assert_eq!(p("250661-0019", REFERENCE).unwrap(), "20250661-0019");
    assert_eq!(p("250662-0018", REFERENCE).unwrap(), "19250662-0018");
    // 29 February: 2000 is a leap year, 1900 is not.
    assert_eq!(p("000229-2399", REFERENCE).unwrap(), "20000229-2399");
    assert_eq!(
        Personnummer::parse("000229+2399", REFERENCE),
        Err(IdentityError::NoSuchDate {
            year: 1900,
            month: 2,
            day: 29,
            samordningsnummer: false
        })
    );
    // The same short form means different people at different reference dates.
    assert_eq!(
        p("090527-1474", date!(2005 - 01 - 01)).unwrap(),
        "19090527-1474"
    );
    assert_eq!(
        p("090527-1474", date!(2010 - 01 - 01)).unwrap(),
        "20090527-1474"
    );
    // A 12-digit form keeps its century, and `+` there must be true.
    assert_eq!(p("19090527+1474", REFERENCE).unwrap(), "19090527-1474");
    assert_eq!(
        p("19090527+1474", date!(2009 - 05 - 26))
            .unwrap_err()
            .code(),
        "separator_mismatch"
    );
    assert!(p("19090527+1474", date!(2009 - 05 - 27)).is_ok());
    // Impossible dates.
    for input in [
        "900230-0011",
        "901301-0011",
        "900001-0011",
        "900100-0011",
        "010229-0011",
        "900132-0011",
        "900192-0011",
        "901360-0011",
    ] {
        assert_eq!(
            Personnummer::parse(input, REFERENCE).unwrap_err().code(),
            "no_such_date",
            "{input}"
        );
    }
}

#[test]
fn person_details() {
    let p = Personnummer::parse(" 19730288-9931\n", REFERENCE).unwrap();
    assert_eq!(p.kind(), IdentityKind::Samordningsnummer);
    assert!(p.is_samordningsnummer());
    assert_eq!(p.birth_date(), Some(date!(1973 - 02 - 28)));
    assert_eq!(p.long_form(), "19730288-9931");
    assert_eq!(p.short_form(REFERENCE), "730288-9931");
    assert_eq!(p.ten_digit_form(), "7302889931");
    assert_eq!(p.sex(), Sex::Male);
    assert_eq!(p.age_at(date!(2024 - 02 - 27)), Some(50));
    assert_eq!(p.age_at(date!(2024 - 02 - 28)), Some(51));
    assert_eq!(p.age_at(date!(1900 - 01 - 01)), Some(0));
    assert_eq!(
        Personnummer::new_samordningsnummer(date!(1973 - 02 - 28), 993),
        Ok(p)
    );

    let leap = Personnummer::parse("20000229-2399", REFERENCE).unwrap();
    assert_eq!(leap.age_at(date!(2001 - 02 - 28)), Some(0));
    assert_eq!(leap.age_at(date!(2001 - 03 - 01)), Some(1));
    assert_eq!(leap.age_at(date!(2004 - 02 - 29)), Some(4));

    let woman = Personnummer::parse("460823-9986", REFERENCE).unwrap();
    assert_eq!(woman.sex(), Sex::Female);
    assert_eq!(woman.sex().as_str(), "female");

    assert_eq!(IdentityKind::Personnummer.as_str(), "personnummer");
    assert_eq!(
        IdentityKind::Samordningsnummer.as_str(),
        "samordningsnummer"
    );
    assert_eq!(
        IdentityKind::Organisationsnummer.to_string(),
        "organisationsnummer"
    );

    let any = IdentityNumber::parse("730288-9931", REFERENCE).unwrap();
    assert_eq!(any.birth_date(), Some(date!(1973 - 02 - 28)));
    assert_eq!(any.as_personnummer(), Some(&p));
    assert_eq!(any.as_organisationsnummer(), None);
    assert_eq!(any.digits(), "197302889931");

    let org = IdentityNumber::parse("5560160680", REFERENCE).unwrap();
    assert_eq!(org.birth_date(), None);
    assert_eq!(org.long_form(), "556016-0680");
    assert_eq!(org.digits(), "5560160680");
    assert_eq!(
        org.as_organisationsnummer().unwrap().legal_form(),
        LegalForm::LimitedCompany
    );
}

#[test]
fn every_group_number_has_its_legal_form() {
    let expected = [
        (1, "Dödsbon"),
        (2, "Stat, landsting, kommun eller församling"),
        (
            3,
            "Utländska företag som bedriver näringsverksamhet eller äger fastigheter i Sverige",
        ),
        (4, "Okänt"),
        (5, "Aktiebolag"),
        (6, "Enkelt bolag"),
        (7, "Ekonomisk förening eller bostadsrättsförening"),
        (8, "Ideella förening och stiftelse"),
        (9, "Handelsbolag, kommanditbolag och enkelt bolag"),
    ];
    for (group, name) in expected {
        let first_nine = format!("{group}02000000");
        let input = format!("{first_nine}{}", luhn(&first_nine));
        let org = Organisationsnummer::parse(&input, REFERENCE).unwrap();
        assert_eq!(org.legal_form().as_str(), name);
        assert_eq!(org.legal_form().to_string(), name);
    }
    assert_eq!(LegalForm::from_group_number(0), None);
    assert_eq!(LegalForm::SoleTrader.as_str(), "Enskild firma");
}

#[test]
fn debug_never_shows_the_number() {
    let p = Personnummer::parse("811218-9876", REFERENCE).unwrap();
    assert_eq!(format!("{p:?}"), "Personnummer(19******-****)");
    assert_eq!(
        format!("{:?}", IdentityNumber::Person(p)),
        "Personnummer(19******-****)"
    );
    assert_eq!(
        format!("{:?}", Ok::<_, ()>(p)),
        "Ok(Personnummer(19******-****))"
    );
    let s = Personnummer::parse("20210791-9967", REFERENCE).unwrap();
    assert_eq!(format!("{s:?}"), "Samordningsnummer(20******-****)");

    let org = Organisationsnummer::parse("556016-0680", REFERENCE).unwrap();
    assert_eq!(
        format!("{org:?}"),
        "Organisationsnummer(Aktiebolag, ******-****)"
    );
    let firm = Organisationsnummer::parse("195102179974", REFERENCE).unwrap();
    assert_eq!(
        format!("{firm:?}"),
        "Organisationsnummer(Enskild firma, ******-****)"
    );
    assert!(!format!("{firm:#?}").contains("9974"));

    // Display and serde give the long form.
    assert_eq!(p.to_string(), "19811218-9876");
    assert_eq!(IdentityNumber::Person(p).to_string(), "19811218-9876");
    assert_eq!(serde_json::to_string(&p).unwrap(), "\"19811218-9876\"");
    assert_eq!(
        serde_json::to_string(&IdentityNumber::Organisation(org)).unwrap(),
        "\"556016-0680\""
    );
    assert_eq!(serde_json::to_string(&firm).unwrap(), "\"510217-9974\"");
    assert_eq!(
        serde_json::to_string(&(s.kind(), s.sex(), org.legal_form())).unwrap(),
        r#"["samordningsnummer","female","Aktiebolag"]"#
    );
}

#[test]
fn error_codes_are_distinct() {
    let errors = [
        IdentityError::Empty,
        IdentityError::InvalidCharacter {
            character: 'x',
            position: 1,
        },
        IdentityError::InterimNumber { letter: 'T' },
        IdentityError::MisplacedSeparator,
        IdentityError::WrongLength { digits: 3 },
        IdentityError::BadPrefix { prefix: 17 },
        IdentityError::NoSuchDate {
            year: 1990,
            month: 2,
            day: 30,
            samordningsnummer: false,
        },
        IdentityError::ZeroSerial,
        IdentityError::SerialOutOfRange { serial: 1000 },
        IdentityError::BadChecksum {
            expected: 1,
            got: 2,
        },
        IdentityError::BornAfterReference {
            birth_date: REFERENCE,
            reference: REFERENCE,
        },
        IdentityError::SeparatorMismatch {
            birth_date: REFERENCE,
            reference: REFERENCE,
        },
        IdentityError::BirthYearOutOfRange { year: 1700 },
        IdentityError::NotOrganisationsnummer,
        IdentityError::NotPersonnummer,
        IdentityError::PlusInOrganisationsnummer,
        IdentityError::BadGroupNumber,
    ];
    let codes: HashSet<&str> = errors.iter().map(IdentityError::code).collect();
    assert_eq!(codes.len(), errors.len());
    for code in codes {
        assert!(
            code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
            "{code}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Property tests
// ---------------------------------------------------------------------------------------------

const FIRST_BIRTH: Date = date!(1800 - 01 - 01);
const LAST_BIRTH: Date = date!(2099 - 12 - 31);

fn birth_dates() -> impl Strategy<Value = Date> {
    (FIRST_BIRTH.to_julian_day()..=LAST_BIRTH.to_julian_day())
        .prop_map(|day| Date::from_julian_day(day).unwrap())
}

/// A person (birth date, serial, samordningsnummer?) and a reference date from the birth date
/// up to just under 200 years later, the span a 10-digit form (with `-` or `+`) can express.
fn people() -> impl Strategy<Value = (Date, u16, bool, Date)> {
    (birth_dates(), 1u16..=999, any::<bool>(), 0i64..73_000).prop_map(
        |(birth, serial, samordning, days)| {
            let reference = birth.checked_add(Duration::days(days)).unwrap();
            (birth, serial, samordning, reference)
        },
    )
}

/// The 12 digits of a person's number, written independently of the crate.
fn twelve_digits(birth: Date, serial: u16, samordning: bool) -> String {
    let day = birth.day() + if samordning { 60 } else { 0 };
    let yymmdd_serial = format!(
        "{:02}{:02}{day:02}{serial:03}",
        birth.year() % 100,
        u8::from(birth.month())
    );
    format!(
        "{:02}{yymmdd_serial}{}",
        birth.year() / 100,
        luhn(&yymmdd_serial)
    )
}

fn age(birth: Date, at: Date) -> i32 {
    let mut years = at.year() - birth.year();
    if (u8::from(at.month()), at.day()) < (u8::from(birth.month()), birth.day()) {
        years -= 1;
    }
    years
}

proptest! {
    #[test]
    fn every_written_form_reads_back_to_the_same_number(
        (birth, serial, samordning, reference) in people(),
        pad_left in "[ \t]{0,2}",
        pad_right in "[ \t\n]{0,2}",
    ) {
        let twelve = twelve_digits(birth, serial, samordning);
        let built = if samordning {
            Personnummer::new_samordningsnummer(birth, serial)
        } else {
            Personnummer::new(birth, serial)
        }
        .unwrap();
        prop_assert_eq!(built.digits(), twelve.clone());
        let long = dashed_long(&twelve);
        prop_assert_eq!(built.long_form(), long.clone());

        let (date8, last4) = twelve.split_at(8);
        let date6 = &date8[2..];
        let old = age(birth, reference) >= 100;
        let short = format!("{date6}{}{last4}", if old { '+' } else { '-' });
        prop_assert_eq!(built.short_form(reference), short.clone());
        let mut forms = vec![twelve.clone(), long.clone(), short];
        if old {
            forms.push(format!("{date8}+{last4}"));
        } else {
            forms.push(format!("{date6}{last4}"));
        }

        let kind = if samordning {
            IdentityKind::Samordningsnummer
        } else {
            IdentityKind::Personnummer
        };
        for form in forms {
            let input = format!("{pad_left}{form}{pad_right}");
            let p = Personnummer::parse(&input, reference)
                .map_err(|e| TestCaseError::fail(format!("{input:?} at {reference}: {e}")))?;
            prop_assert_eq!(p, built);
            prop_assert_eq!(p.long_form(), long.clone());
            prop_assert_eq!(p.birth_date(), Some(birth));
            prop_assert_eq!(p.kind(), kind);
            let any = IdentityNumber::parse(&input, reference).unwrap();
            prop_assert_eq!(any.long_form(), long.clone());
            prop_assert_eq!(any.kind(), kind);
            // As a sole trader's organisationsnummer.
            let firm = Organisationsnummer::parse(&input, reference).unwrap();
            prop_assert_eq!(firm.personnummer(), Some(&built));
            prop_assert_eq!(firm.legal_form(), LegalForm::SoleTrader);
        }
    }

    #[test]
    fn any_single_wrong_digit_is_caught(
        (birth, serial, samordning, reference) in people(),
        position in 2usize..12,
        bump in 1u32..10,
    ) {
        let twelve = twelve_digits(birth, serial, samordning);
        let mut chars: Vec<char> = twelve.chars().collect();
        let old = chars[position].to_digit(10).unwrap();
        chars[position] = char::from_digit((old + bump) % 10, 10).unwrap();
        let typo: String = chars.into_iter().collect();
        prop_assert!(Personnummer::parse(&typo, reference).is_err(), "{}", typo);
        prop_assert!(IdentityNumber::parse(&typo, reference).is_err(), "{}", typo);
    }

    #[test]
    fn organisation_numbers_read_back_in_every_form(
        group in 1u8..=9,
        second in 0u8..=9,
        pair in 20u8..=99,
        rest in 0u32..100_000,
        reference in birth_dates(),
    ) {
        let first_nine = format!("{group}{second}{pair}{rest:05}");
        let ten = format!("{first_nine}{}", luhn(&first_nine));
        let long = format!("{}-{}", &ten[..6], &ten[6..]);
        for input in [ten.clone(), long.clone(), format!("16{ten}"), format!("16{long}")] {
            let org = Organisationsnummer::parse(&input, reference)
                .map_err(|e| TestCaseError::fail(format!("{input}: {e}")))?;
            prop_assert_eq!(org.long_form(), long.clone());
            prop_assert_eq!(org.digits(), ten.clone());
            prop_assert_eq!(org.vat_number(), format!("SE{ten}01"));
            prop_assert_eq!(Some(org.legal_form()), LegalForm::from_group_number(group));
            let any = IdentityNumber::parse(&input, reference).unwrap();
            prop_assert_eq!(any, IdentityNumber::Organisation(org));
            prop_assert_eq!(Personnummer::parse(&input, reference), Err(IdentityError::NotPersonnummer));
        }
    }

    #[test]
    fn random_strings_never_panic(input in any::<String>(), julian in Date::MIN.to_julian_day()..=Date::MAX.to_julian_day()) {
        check_total(&input, Date::from_julian_day(julian).unwrap())?;
    }

    #[test]
    fn number_like_strings_never_panic(
        input in r"\s?(16|18|19|20|17)?[0-9]{6}[-+ T]?[0-9T]{4}[0-9]?\s?",
        reference in birth_dates(),
    ) {
        check_total(&input, reference)?;
    }
}

/// The year of birth, whole or partial.
fn birth_year(person: &Personnummer) -> i32 {
    match person.birth() {
        integritet_domain::identity::Birth::Date(date) => date.year(),
        integritet_domain::identity::Birth::Partial { year, .. } => year,
    }
}

/// Parsing never panics, and whatever parses reads back from its long form.
fn check_total(input: &str, reference: Date) -> Result<(), TestCaseError> {
    if let Ok(any) = IdentityNumber::parse(input, reference) {
        prop_assert_eq!(IdentityNumber::parse(&any.long_form(), reference), Ok(any));
        let _ = format!("{any:?} {any}");
    }
    if let Ok(p) = Personnummer::parse(input, reference) {
        prop_assert_eq!(Personnummer::parse(&p.long_form(), reference), Ok(p));
        // A 10-digit form spans 200 years (`-` and `+`); older numbers need all 12 digits.
        if reference.year() - birth_year(&p) < 199 {
            prop_assert_eq!(
                Personnummer::parse(&p.short_form(reference), reference),
                Ok(p)
            );
        }
    }
    if let Ok(org) = Organisationsnummer::parse(input, reference)
        && org
            .personnummer()
            .is_none_or(|owner| reference.year() - birth_year(owner) < 199)
    {
        prop_assert_eq!(
            Organisationsnummer::parse(&org.long_form(), reference),
            Ok(org)
        );
    }
    Ok(())
}

/// An error about a number never tells its reader the birth date in it.
#[test]
fn errors_never_show_the_birth_date() {
    for (input, date_forms) in [
        ("900230-0008", ["900230", "1990-02-30", "19900230"]),
        ("901390-0008", ["901390", "1990-13-90", "19901390"]),
        ("20811218-9876", ["811218", "2081-12-18", "20811218"]),
        ("19811218+9876", ["811218", "1981-12-18", "19811218"]),
        ("811218-9875", ["811218", "1981-12-18", "19811218"]),
        ("17811218-9876", ["811218", "1781-12-18", "17811218"]),
    ] {
        let Err(error) = IdentityNumber::parse(input, REFERENCE) else {
            panic!("{input} parsed");
        };
        let message = error.to_string();
        for form in date_forms {
            assert!(!message.contains(form), "{input}: {message}");
        }
    }
}

/// The 10-digit form `nine` digits and their Luhn check digit.
fn with_check(nine: &str) -> String {
    let sum: u32 = nine
        .bytes()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0') * if i % 2 == 0 { 2 } else { 1 };
            d / 10 + d % 10
        })
        .sum();
    format!("{nine}{}", (10 - sum % 10) % 10)
}

/// Skatteverket writes 00 for a birth month or day it does not know (day 60 once 60 is added),
/// and issues samordningsnummer whose day is no calendar date: all valid, with only part of a
/// birth date and no age. A personnummer keeps its strict date check.
#[test]
fn samordningsnummer_without_a_whole_birth_date_are_valid() {
    use integritet_domain::identity::{Birth, IdentityKind};
    use time::Month;
    let cases = [
        (
            "900060123",
            Birth::Partial {
                year: 1990,
                month: None,
            },
        ),
        (
            "900360123",
            Birth::Partial {
                year: 1990,
                month: Some(Month::March),
            },
        ),
        (
            "900290123",
            Birth::Partial {
                year: 1990,
                month: Some(Month::February),
            },
        ),
        (
            "900491123",
            Birth::Partial {
                year: 1990,
                month: Some(Month::April),
            },
        ),
        (
            "900061123",
            Birth::Partial {
                year: 1990,
                month: None,
            },
        ),
    ];
    for (nine, birth) in cases {
        let number = with_check(nine);
        let p = Personnummer::parse(&number, REFERENCE).unwrap_or_else(|e| panic!("{number}: {e}"));
        assert_eq!(p.kind(), IdentityKind::Samordningsnummer, "{number}");
        assert_eq!(p.birth(), birth, "{number}");
        assert_eq!(p.birth_date(), None, "{number}");
        assert_eq!(
            p.age_at(REFERENCE),
            None,
            "age is unknown, not guessed: {number}"
        );
        // It reads back from every form it writes.
        assert_eq!(Personnummer::parse(&p.long_form(), REFERENCE), Ok(p));
        assert_eq!(
            Personnummer::parse(&p.short_form(REFERENCE), REFERENCE),
            Ok(p)
        );
        assert_eq!(p.ten_digit_form(), number);
        assert!(!format!("{p:?}").contains(&number[..6]));
    }
    // A whole date in a samordningsnummer still gives the date and the age.
    let whole = Personnummer::parse(&with_check("900361123"), REFERENCE).unwrap();
    assert_eq!(whole.birth_date(), Some(date!(1990 - 03 - 01)));
    assert!(whole.age_at(REFERENCE).is_some());
    // Personnummer keep the strict check: no day 00, no 30 February.
    for nine in ["900300123", "900230123", "900003123"] {
        let number = with_check(nine);
        assert_eq!(
            Personnummer::parse(&number, REFERENCE).unwrap_err().code(),
            "no_such_date",
            "{number}"
        );
    }
    // Nor may a samordningsnummer hold a month above 12 or a day above 31.
    for nine in ["901360123", "900192123"] {
        let number = with_check(nine);
        assert_eq!(
            Personnummer::parse(&number, REFERENCE).unwrap_err().code(),
            "no_such_date",
            "{number}"
        );
    }
}
