//! Known devices: the browser an account logged in from gets a cookie bound to that account,
//! so that the account's lockout holds back only clients that never logged in to it. A
//! stranger who fails logins on purpose locks out other strangers, never the owner at their
//! own browser (the "device cookie" defence of OWASP's authentication cheat sheet).
//!
//! The cookie holds a random nonce, the time it was issued and a MAC under the record key
//! over the account name, the nonce and that time; it names no account, and nobody without
//! the key directory can make one. Each successful login issues a fresh one.

use integritet_crypto::RecordKey;
use time::{Duration, OffsetDateTime};

/// How long a browser stays known after its last login.
pub const KNOWN_FOR: Duration = Duration::days(180);

const NONCE_LEN: usize = 16;
const MAC_TABLE: &str = "known_device";

/// The cookie value for `user`'s browser, issued at `now`.
pub fn issue(key: &RecordKey, user: &str, nonce: [u8; NONCE_LEN], now: OffsetDateTime) -> String {
    let issued = now.unix_timestamp();
    let mac = mac(key, user, &nonce, issued);
    format!("{}.{issued}.{}", hex(&nonce), hex(&mac))
}

/// Whether `presented` was issued for `user` by this installation within [`KNOWN_FOR`] of
/// `now`.
pub fn is_known(key: &RecordKey, user: &str, presented: &str, now: OffsetDateTime) -> bool {
    let mut parts = presented.split('.');
    let (Some(nonce), Some(issued), Some(stored), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let (Some(nonce), Ok(issued), Some(stored)) = (
        unhex::<NONCE_LEN>(nonce),
        issued.parse::<i64>(),
        unhex::<32>(stored),
    ) else {
        return false;
    };
    let Ok(issued_at) = OffsetDateTime::from_unix_timestamp(issued) else {
        return false;
    };
    // Not from the future either: a clock set back must not lengthen a cookie's life.
    if issued_at > now + Duration::minutes(5) || now - issued_at > KNOWN_FOR {
        return false;
    }
    key.record(MAC_TABLE)
        .text(user)
        .bytes(&nonce)
        .number(i128::from(issued))
        .verify(&stored)
}

fn mac(key: &RecordKey, user: &str, nonce: &[u8; NONCE_LEN], issued: i64) -> [u8; 32] {
    key.record(MAC_TABLE)
        .text(user)
        .bytes(nonce)
        .number(i128::from(issued))
        .finish()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex<const N: usize>(text: &str) -> Option<[u8; N]> {
    if text.len() != 2 * N || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut out = [0u8; N];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use integritet_crypto::rand_core::SeedableRng;
    use integritet_crypto::{BlindIndexKey, RecordKey};
    use time::macros::datetime;

    use super::*;

    fn key(seed: u64) -> RecordKey {
        RecordKey::derive(&BlindIndexKey::generate(
            &mut rand::rngs::StdRng::seed_from_u64(seed),
        ))
    }

    #[test]
    fn a_device_is_known_only_to_its_account_and_installation_and_for_a_while() {
        let now = datetime!(2026-03-01 10:00 UTC);
        let cookie = issue(&key(1), "anna", [7; NONCE_LEN], now);
        assert!(is_known(&key(1), "anna", &cookie, now));
        assert!(is_known(
            &key(1),
            "anna",
            &cookie,
            now + Duration::days(179)
        ));
        assert!(!is_known(
            &key(1),
            "anna",
            &cookie,
            now + Duration::days(181)
        ));
        assert!(!is_known(&key(1), "bertil", &cookie, now));
        assert!(!is_known(&key(2), "anna", &cookie, now));
        assert!(!cookie.contains("anna"));
        // Any change to the cookie, its time above all, makes it unknown.
        let later = now.unix_timestamp() + 86_400 * 100;
        let parts: Vec<&str> = cookie.split('.').collect();
        let moved = format!("{}.{later}.{}", parts[0], parts[2]);
        assert!(!is_known(
            &key(1),
            "anna",
            &moved,
            now + Duration::days(200)
        ));
        for bad in ["", "x", "a.b.c", &format!("{cookie}.x"), &cookie[1..]] {
            assert!(!is_known(&key(1), "anna", bad, now), "{bad}");
        }
        // Issued in the future: refused.
        let ahead = issue(&key(1), "anna", [7; NONCE_LEN], now + Duration::hours(1));
        assert!(!is_known(&key(1), "anna", &ahead, now));
    }
}
