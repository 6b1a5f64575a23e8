//! Validation and normalisation of personal-data values by their category's kind.
//!
//! A value that passed [`normalise`] is in the one form the system stores and indexes, so an
//! e-mail written `Anna@Example.SE` and `anna@example.se` finds the same person.

use std::net::IpAddr;

use time::Date;

use crate::identity::IdentityNumber;
use crate::policy::ValueKind;

/// Why a value was refused. The caller adds which field it was.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ValueError {
    /// Stable machine code, e.g. `invalid_email`.
    pub code: &'static str,
    /// What was wrong and what to do, without echoing the value (it is personal data).
    pub message: String,
}

impl ValueError {
    fn new(code: &'static str, message: impl Into<String>) -> ValueError {
        ValueError {
            code,
            message: message.into(),
        }
    }
}

/// Longest value of any kind: keeps rows and request bodies bounded.
pub const MAX_VALUE_CHARS: usize = 10_000;

/// Validates `raw` as a value of `kind` and returns its normalised form. `today` decides the
/// century of 10-digit identity numbers.
pub fn normalise(kind: ValueKind, raw: &str, today: Date) -> Result<String, ValueError> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(ValueError::new("empty_value", "the value is empty"));
    }
    if trimmed.chars().count() > MAX_VALUE_CHARS {
        return Err(ValueError::new(
            "value_too_long",
            format!("the value is longer than {MAX_VALUE_CHARS} characters"),
        ));
    }
    if trimmed.contains('\0') {
        return Err(ValueError::new(
            "control_character",
            "the value contains a NUL character",
        ));
    }
    match kind {
        ValueKind::IdentityNumber => IdentityNumber::parse(trimmed, today)
            .map(|number| number.long_form())
            .map_err(|e| {
                ValueError::new(
                    "invalid_identity_number",
                    format!("not a valid personnummer, samordningsnummer or organisationsnummer: {e}"),
                )
            }),
        ValueKind::Email => normalise_email(trimmed),
        ValueKind::Phone => normalise_phone(trimmed),
        ValueKind::PersonName => single_line(trimmed, 200, "invalid_name", "a name"),
        ValueKind::PostalAddress => {
            bounded(trimmed, 500, "invalid_postal_address", "a postal address")
        }
        ValueKind::CustomerNumber => normalise_customer_number(trimmed),
        ValueKind::PaymentReference => normalise_payment_reference(trimmed),
        ValueKind::IpAddress => trimmed
            .parse::<IpAddr>()
            .map(|ip| ip.to_string())
            .map_err(|_| {
                ValueError::new(
                    "invalid_ip_address",
                    "not an IP address: give an IPv4 address like 192.0.2.1 or an IPv6 address like 2001:db8::1",
                )
            }),
        ValueKind::Geolocation => normalise_geolocation(trimmed),
        ValueKind::Date => Date::parse(
            trimmed,
            time::macros::format_description!("[year]-[month]-[day]"),
        )
        .map(|date| date.to_string())
        .map_err(|_| {
            ValueError::new("invalid_date", "not a date: write it as YYYY-MM-DD")
        }),
        ValueKind::FreeText => Ok(trimmed.to_owned()),
    }
}

fn bounded(
    text: &str,
    max_chars: usize,
    code: &'static str,
    what: &str,
) -> Result<String, ValueError> {
    if text.chars().count() > max_chars {
        return Err(ValueError::new(
            code,
            format!("{what} may be at most {max_chars} characters"),
        ));
    }
    if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(ValueError::new(
            code,
            format!("{what} may not contain control characters"),
        ));
    }
    Ok(text.to_owned())
}

fn single_line(
    text: &str,
    max_chars: usize,
    code: &'static str,
    what: &str,
) -> Result<String, ValueError> {
    if text.chars().any(char::is_control) {
        return Err(ValueError::new(
            code,
            format!("{what} must be one line without control characters"),
        ));
    }
    bounded(text, max_chars, code, what)
}

/// Lower-cases the whole address: mail systems in practice treat the local part
/// case-insensitively, and a lookup must not miss a customer over a capital letter.
fn normalise_email(text: &str) -> Result<String, ValueError> {
    let invalid = || {
        ValueError::new(
            "invalid_email",
            "not an e-mail address: write it as name@example.se",
        )
    };
    if text.len() > 254 || text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid());
    }
    let (local, domain) = text.rsplit_once('@').ok_or_else(invalid)?;
    if local.is_empty() || local.len() > 64 || local.contains('@') {
        return Err(invalid());
    }
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok = |label: &&str| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| c.is_alphanumeric() || c == '-')
    };
    if labels.len() < 2 || !labels.iter().all(label_ok) {
        return Err(invalid());
    }
    Ok(text.to_lowercase())
}

/// E.164: `+` and 8 to 15 digits. A number without country code is read as Swedish, the home
/// market; `00` is the international prefix.
fn normalise_phone(text: &str) -> Result<String, ValueError> {
    let invalid = |why: &str| {
        ValueError::new(
            "invalid_phone",
            format!("not a phone number ({why}): write it as +46 70 123 45 67 or 070-123 45 67"),
        )
    };
    let mut digits = String::new();
    let mut plus = false;
    for (i, c) in text.chars().enumerate() {
        match c {
            '0'..='9' => digits.push(c),
            '+' if i == 0 => plus = true,
            ' ' | '-' | '(' | ')' | '.' | '/' => {}
            _ => {
                return Err(invalid(
                    "it contains a character other than digits, space, - or +",
                ));
            }
        }
    }
    let international = if plus {
        digits
    } else if let Some(rest) = digits.strip_prefix("00") {
        rest.to_owned()
    } else if let Some(rest) = digits.strip_prefix('0') {
        format!("46{rest}")
    } else {
        return Err(invalid("it has neither a country code nor a leading 0"));
    };
    if international.starts_with('0') {
        return Err(invalid("a country code never starts with 0"));
    }
    if !(8..=15).contains(&international.len()) {
        return Err(invalid("E.164 numbers have 8 to 15 digits"));
    }
    Ok(format!("+{international}"))
}

fn normalise_customer_number(text: &str) -> Result<String, ValueError> {
    if text.len() > 40 || !text.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(ValueError::new(
            "invalid_customer_number",
            "a customer number has 1 to 40 letters A-Z, digits or -",
        ));
    }
    Ok(text.to_ascii_uppercase())
}

/// Payment details are kept as the payment provider's reference. A card number must never be
/// stored here (PCI DSS), so anything that looks like one is refused.
fn normalise_payment_reference(text: &str) -> Result<String, ValueError> {
    let digits: String = text.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    if (12..=19).contains(&digits.len())
        && digits.chars().all(|c| c.is_ascii_digit())
        && luhn_valid(&digits)
    {
        return Err(ValueError::new(
            "card_number_refused",
            "this looks like a payment card number; store the payment provider's reference instead",
        ));
    }
    single_line(
        text,
        200,
        "invalid_payment_reference",
        "a payment reference",
    )
}

fn luhn_valid(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if !i.is_multiple_of(2) {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// `lat,lon` in decimal degrees, or a place name.
fn normalise_geolocation(text: &str) -> Result<String, ValueError> {
    if let Some((lat, lon)) = text.split_once(',')
        && let (Ok(lat), Ok(lon)) = (lat.trim().parse::<f64>(), lon.trim().parse::<f64>())
    {
        if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) {
            return Err(ValueError::new(
                "invalid_geolocation",
                "latitude must be within -90..90 and longitude within -180..180",
            ));
        }
        return Ok(format!("{lat},{lon}"));
    }
    single_line(text, 200, "invalid_geolocation", "a place")
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const TODAY: Date = date!(2026 - 11 - 25);

    fn ok(kind: ValueKind, raw: &str) -> String {
        normalise(kind, raw, TODAY).unwrap()
    }

    fn code(kind: ValueKind, raw: &str) -> &'static str {
        normalise(kind, raw, TODAY).unwrap_err().code
    }

    #[test]
    fn emails() {
        assert_eq!(ok(ValueKind::Email, " Anna@Example.SE "), "anna@example.se");
        assert_eq!(
            ok(ValueKind::Email, "a.b+c@sub.exempel.se"),
            "a.b+c@sub.exempel.se"
        );
        for bad in [
            "anna",
            "anna@",
            "@x.se",
            "anna@x",
            "an na@x.se",
            "a@-x.se",
            "a@x..se",
        ] {
            assert_eq!(code(ValueKind::Email, bad), "invalid_email", "{bad}");
        }
    }

    #[test]
    fn phones_become_e164() {
        assert_eq!(ok(ValueKind::Phone, "070-123 45 67"), "+46701234567");
        assert_eq!(ok(ValueKind::Phone, "+46 70 123 45 67"), "+46701234567");
        assert_eq!(ok(ValueKind::Phone, "0046701234567"), "+46701234567");
        assert_eq!(ok(ValueKind::Phone, "019-12 34 56"), "+4619123456");
        for bad in [
            "12345",
            "070-12a",
            "+0701234567",
            "+4670123456789012",
            "7012345",
        ] {
            assert_eq!(code(ValueKind::Phone, bad), "invalid_phone", "{bad}");
        }
    }

    #[test]
    fn identity_numbers_take_their_long_form() {
        assert_eq!(ok(ValueKind::IdentityNumber, "556800-7610"), "556800-7610");
        assert_eq!(
            code(ValueKind::IdentityNumber, "556800-7611"),
            "invalid_identity_number"
        );
    }

    #[test]
    fn card_numbers_are_never_payment_references() {
        assert_eq!(
            code(ValueKind::PaymentReference, "4111 1111 1111 1111"),
            "card_number_refused"
        );
        assert_eq!(
            ok(ValueKind::PaymentReference, "klarna:ord_8812"),
            "klarna:ord_8812"
        );
    }

    #[test]
    fn other_kinds() {
        assert_eq!(ok(ValueKind::IpAddress, "2001:DB8::1"), "2001:db8::1");
        assert_eq!(
            code(ValueKind::IpAddress, "300.1.1.1"),
            "invalid_ip_address"
        );
        assert_eq!(ok(ValueKind::CustomerNumber, "k-1001"), "K-1001");
        assert_eq!(
            code(ValueKind::CustomerNumber, "k 1001"),
            "invalid_customer_number"
        );
        assert_eq!(ok(ValueKind::Geolocation, "59.27, 15.21"), "59.27,15.21");
        assert_eq!(code(ValueKind::Geolocation, "91,0"), "invalid_geolocation");
        assert_eq!(ok(ValueKind::Date, "2026-02-28"), "2026-02-28");
        assert_eq!(code(ValueKind::Date, "2026-02-30"), "invalid_date");
        assert_eq!(
            code(ValueKind::PersonName, "Anna\nSvensson"),
            "invalid_name"
        );
        assert_eq!(code(ValueKind::FreeText, "   "), "empty_value");
    }

    #[test]
    fn errors_never_echo_the_value() {
        let secret = "hemlig.person@nowhere";
        let err = normalise(ValueKind::Email, secret, TODAY).unwrap_err();
        assert!(!err.message.contains("hemlig"));
    }
}
