//! What callers present besides bodies: session cookies, CSRF tokens, login names, archive
//! references in paths, and token lifetimes (`--expires`).
//!
//! The bearer token's shape check (`tokens::well_formed`) is private and runs only inside the
//! async `tokens::authenticate` against a store; the router test `no_5xx` sends it random and
//! real tokens instead.

use integritet_app::tokens::parse_duration;
use integritet_app::users::{MAX_NAME_CHARS, SessionSecret, parse_name};
use integritet_domain::subject::ArchiveRef;
use integritet_web::SESSION_COOKIE;

/// A session secret of the right shape, whose CSRF token the input is compared with.
const KNOWN_SECRET: &str = "5f0c3a6e1d2b4c7a8e9f0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f";

/// The input (as UTF-8, lossily) is tried as each of these, and, when it holds the session
/// cookie among others (`a=b; __Host-integritet_session=…`), its value too.
///
/// - A session secret is accepted exactly when it is 64 lower-case hex digits; it reads back
///   as itself, its `Debug` does not show it, and its CSRF token matches its own hex (with
///   surrounding spaces) and nothing else of that length.
/// - A CSRF token matches a presented text exactly when the text, trimmed, is its hex.
/// - A login name is accepted in lower case, at most 64 bytes, starting with a letter or digit,
///   and normalising it again changes nothing.
/// - An archive reference reads back from its text as itself, `ar_` and 32 lower-case hex.
/// - A duration is positive, whole minutes, at most 36,500 days, and reads back from minutes.
pub fn tokens_and_cookies(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let text = text.as_ref();
    let cookie = text
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.trim());
    session_secret(text);
    if let Some(cookie) = cookie {
        session_secret(cookie);
    }

    let Some(known) = SessionSecret::parse(KNOWN_SECRET) else {
        crate::broken(format_args!("the known secret is refused"))
    };
    let csrf = known.csrf_token();
    assert_eq!(csrf.matches(text), text.trim() == csrf.to_hex());

    if let Ok(name) = parse_name(text) {
        assert_eq!(name, text.to_ascii_lowercase());
        assert!(!name.is_empty() && name.len() <= MAX_NAME_CHARS);
        assert!(name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit()));
        assert_eq!(parse_name(&name).ok().as_ref(), Some(&name));
    }

    if let Some(reference) = ArchiveRef::parse(text) {
        let hex = reference.as_str().strip_prefix(ArchiveRef::PREFIX);
        assert!(
            hex.is_some_and(|hex| hex.len() == 32
                && hex
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))),
            "{reference:?}"
        );
        assert_eq!(
            ArchiveRef::parse(reference.as_str()).as_ref(),
            Some(&reference)
        );
        assert!(text.trim().eq_ignore_ascii_case(reference.as_str()));
    }

    if let Ok(duration) = parse_duration(text) {
        assert!(duration.is_positive());
        assert!(duration <= time::Duration::days(36_500));
        assert_eq!(duration.whole_seconds() % 60, 0);
        let minutes = format!("{}m", duration.whole_minutes());
        assert_eq!(parse_duration(&minutes), Ok(duration));
    }
}

fn session_secret(presented: &str) {
    let well_formed = presented.len() == 64
        && presented
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    let parsed = SessionSecret::parse(presented);
    assert_eq!(parsed.is_some(), well_formed);
    let Some(secret) = parsed else { return };
    assert_eq!(secret.expose(), presented);
    assert!(!format!("{secret:?}").contains(presented));
    let csrf = secret.csrf_token();
    let hex = csrf.to_hex();
    assert!(csrf.matches(&hex) && csrf.matches(&format!(" {hex}\t")));
    // One digit changed, or upper case, is another token.
    let mut other = hex.clone().into_bytes();
    other[0] = if other[0] == b'0' { b'1' } else { b'0' };
    assert!(!csrf.matches(&String::from_utf8_lossy(&other)));
    if hex.bytes().any(|b| b.is_ascii_alphabetic()) {
        assert!(!csrf.matches(&hex.to_ascii_uppercase()));
    }
}
