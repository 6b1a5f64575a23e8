//! Reading the characters of an input into digits and a separator, and the Luhn check digit.
//! Shared by the personnummer and organisationsnummer parsers.

use super::IdentityError;

/// The letters Skatteverket uses in place of the first serial digit of an interim number.
const INTERIM_LETTERS: &[char] = &['T', 'R', 'S', 'U', 'W', 'X', 'J', 'K', 'L', 'M', 'N'];

/// The separator between the date part and the last four digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Separator {
    /// `-`: under 100 years old (for a personnummer), or any organisationsnummer.
    Dash,
    /// `+`: 100 years or older at the reference date.
    Plus,
}

/// An input read into digits: 10 digits, an optional 2-digit prefix (for 12-digit input) and
/// the separator, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Lexed {
    /// The first two digits of a 12-digit input: a century, or `16` for an organisationsnummer.
    pub prefix: Option<u8>,
    /// The 10-digit form.
    pub digits: [u8; 10],
    /// The separator before the last four digits, if one was written.
    pub separator: Option<Separator>,
}

impl Lexed {
    /// The third and fourth digits as a number: the month of a personnummer, 20 or more in an
    /// organisationsnummer.
    pub fn month_pair(&self) -> u8 {
        let [_, _, m1, m2, ..] = self.digits;
        m1 * 10 + m2
    }

    /// Whether the third and fourth digits mark an organisationsnummer (20 or more).
    pub fn looks_like_organisation(&self) -> bool {
        self.month_pair() >= 20
    }
}

/// Reads `input` (trimmed) into digits and a separator, checking only the shape: 10 or 12
/// digits, at most one `-` or `+`, right before the last four digits.
pub(crate) fn lex(input: &str) -> Result<Lexed, IdentityError> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(IdentityError::Empty);
    }
    let leading = input.chars().take_while(|c| c.is_whitespace()).count();

    let mut all = [0u8; 12];
    let mut count = 0usize;
    // The separator and how many digits came before it.
    let mut separator: Option<(Separator, usize)> = None;

    // `position` is 1-based, in characters of the untrimmed input.
    for (position, (byte_index, ch)) in (leading + 1..).zip(trimmed.char_indices()) {
        match ch {
            '0'..='9' => {
                if let Some(slot) = all.get_mut(count) {
                    *slot = digit_value(ch);
                }
                count += 1;
            }
            '-' | '+' => {
                if separator.is_some() {
                    return Err(IdentityError::MisplacedSeparator);
                }
                let kind = if ch == '-' {
                    Separator::Dash
                } else {
                    Separator::Plus
                };
                separator = Some((kind, count));
            }
            other => {
                let rest = trimmed.get(byte_index + other.len_utf8()..).unwrap_or("");
                let separator_ok = separator.is_none_or(|(_, before)| before == count);
                if is_interim_letter(other)
                    && (count == 6 || count == 8)
                    && separator_ok
                    && rest.len() == 3
                    && rest.bytes().all(|b| b.is_ascii_digit())
                {
                    return Err(IdentityError::InterimNumber {
                        letter: other.to_ascii_uppercase(),
                    });
                }
                return Err(IdentityError::InvalidCharacter {
                    character: other,
                    position,
                });
            }
        }
    }

    if count != 10 && count != 12 {
        return Err(IdentityError::WrongLength { digits: count });
    }
    if let Some((_, before)) = separator
        && before + 4 != count
    {
        return Err(IdentityError::MisplacedSeparator);
    }

    let (prefix, digits) = match all {
        [p1, p2, rest @ ..] if count == 12 => (Some(p1 * 10 + p2), rest),
        [d0, d1, d2, d3, d4, d5, d6, d7, d8, d9, _, _] => {
            (None, [d0, d1, d2, d3, d4, d5, d6, d7, d8, d9])
        }
    };

    Ok(Lexed {
        prefix,
        digits,
        separator: separator.map(|(kind, _)| kind),
    })
}

/// The value of an ASCII digit.
fn digit_value(ch: char) -> u8 {
    // `ch` is an ASCII digit, so the subtraction and the cast are exact.
    (u32::from(ch).saturating_sub(u32::from('0')) % 10) as u8
}

fn is_interim_letter(ch: char) -> bool {
    INTERIM_LETTERS.contains(&ch.to_ascii_uppercase())
}

/// The Luhn check digit over the first nine digits of a 10-digit form: weights 2, 1, 2, ...,
/// products' digits summed, and the digit that brings the sum to a multiple of ten.
pub(crate) fn luhn_check_digit(digits: &[u8; 10]) -> u8 {
    let sum: u32 = digits
        .iter()
        .take(9)
        .enumerate()
        .map(|(i, &d)| {
            let product = u32::from(d) * if i % 2 == 0 { 2 } else { 1 };
            product / 10 + product % 10
        })
        .sum();
    // `(10 - sum % 10) % 10` is below 10, so the cast is exact.
    ((10 - sum % 10) % 10) as u8
}

/// Checks the last digit against [`luhn_check_digit`].
pub(crate) fn check_luhn(digits: &[u8; 10]) -> Result<(), IdentityError> {
    let expected = luhn_check_digit(digits);
    let [.., got] = *digits;
    if expected == got {
        Ok(())
    } else {
        Err(IdentityError::BadChecksum { expected, got })
    }
}

/// Writes digits as ASCII characters.
pub(crate) fn push_digits(out: &mut String, digits: &[u8]) {
    out.extend(digits.iter().map(|&d| char::from(b'0' + d % 10)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_of_a_known_number() {
        assert_eq!(luhn_check_digit(&[8, 1, 1, 2, 1, 8, 9, 8, 7, 0]), 6);
        assert_eq!(luhn_check_digit(&[5, 5, 6, 0, 1, 6, 0, 6, 8, 0]), 0);
    }

    #[test]
    fn lexes_every_shape() {
        let ten = lex(" 8112189876 ").unwrap();
        assert_eq!(ten.prefix, None);
        assert_eq!(ten.separator, None);
        let long = lex("19811218+9876").unwrap();
        assert_eq!(long.prefix, Some(19));
        assert_eq!(long.separator, Some(Separator::Plus));
        assert_eq!(long.digits, ten.digits);
        assert_eq!(lex("811218-98-76"), Err(IdentityError::MisplacedSeparator));
        assert_eq!(lex("81121-89876"), Err(IdentityError::MisplacedSeparator));
        assert_eq!(
            lex("  x"),
            Err(IdentityError::InvalidCharacter {
                character: 'x',
                position: 3
            })
        );
        assert_eq!(
            lex("000101-t220"),
            Err(IdentityError::InterimNumber { letter: 'T' })
        );
    }
}
