//! Keyed blind indexes for exact-match lookups (e-mail, phone, personnummer, customer number)
//! without storing the value in plaintext.
//!
//! A blind index is `HMAC-SHA256(index key, "integritet/blind-index" || 0x00 || u32 BE len(kind)
//! || kind || value)`. The key is separate from the KEKs so that a leaked index key reveals
//! nothing about encrypted values, and rotating KEKs does not require re-indexing. The `kind`
//! is length-prefixed so the same string indexed as an e-mail and as a phone number gives
//! unrelated tokens, and one kind's tokens cannot be probed with another's.
//!
//! Callers normalise the value first (trim, lower-case e-mail, E.164 phone, 12-digit
//! personnummer): the index only matches byte-identical input.

use std::fmt;

use hmac::{Hmac, KeyInit, Mac};
use rand_core::CryptoRng;
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::secret::Key32;

const BLIND_INDEX_LABEL: &[u8] = b"integritet/blind-index\0";

/// The 256-bit HMAC key for blind indexes. Zeroed on drop; `Debug` prints no key bytes.
#[derive(Clone)]
pub struct BlindIndexKey(pub(crate) Key32);

impl BlindIndexKey {
    /// A fresh random index key, for a new installation.
    pub fn generate(rng: &mut (impl CryptoRng + ?Sized)) -> Self {
        Self(Key32::random(rng))
    }

    /// Same as [`blind_index`]; convenient when the key is at hand.
    pub fn index(&self, kind: &str, normalised_value: &[u8]) -> [u8; 32] {
        blind_index(self, kind, normalised_value)
    }
}

impl fmt::Debug for BlindIndexKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BlindIndexKey([REDACTED])")
    }
}

/// HMAC-SHA256 keyed with 32 bytes. RFC 2104 zero-pads short keys to the 64-byte block, so
/// padding here is the same MAC while keeping construction infallible.
pub(crate) fn hmac_sha256(key: &[u8; 32]) -> Hmac<Sha256> {
    let mut block = Zeroizing::new([0u8; 64]);
    block[..32].copy_from_slice(key);
    <Hmac<Sha256> as KeyInit>::new((&*block).into())
}

/// The lookup token for `normalised_value` of the given `kind` (e.g. `"email"`, `"phone"`).
pub fn blind_index(key: &BlindIndexKey, kind: &str, normalised_value: &[u8]) -> [u8; 32] {
    let mut mac = hmac_sha256(key.0.bytes());
    mac.update(BLIND_INDEX_LABEL);
    mac.update(&u32::try_from(kind.len()).unwrap_or(u32::MAX).to_be_bytes());
    mac.update(kind.as_bytes());
    mac.update(normalised_value);
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;

    fn key(seed: u64) -> BlindIndexKey {
        BlindIndexKey::generate(&mut StdRng::seed_from_u64(seed))
    }

    #[test]
    fn deterministic_for_same_key_kind_and_value() {
        let k = key(1);
        assert_eq!(
            blind_index(&k, "email", b"a@example.se"),
            blind_index(&k, "email", b"a@example.se")
        );
        assert_eq!(
            k.index("email", b"a@example.se"),
            blind_index(&k, "email", b"a@example.se")
        );
    }

    #[test]
    fn kinds_are_domain_separated() {
        let k = key(1);
        assert_ne!(
            blind_index(&k, "email", b"46701234567"),
            blind_index(&k, "phone", b"46701234567")
        );
        // Moving bytes between kind and value must not collide.
        assert_ne!(blind_index(&k, "ab", b"c"), blind_index(&k, "a", b"bc"));
    }

    #[test]
    fn different_values_and_keys_differ() {
        let (k1, k2) = (key(1), key(2));
        assert_ne!(
            blind_index(&k1, "email", b"a@example.se"),
            blind_index(&k1, "email", b"b@example.se")
        );
        assert_ne!(
            blind_index(&k1, "email", b"a@example.se"),
            blind_index(&k2, "email", b"a@example.se")
        );
    }

    #[test]
    fn matches_a_plain_hmac_of_the_documented_input() {
        // Pins the documented construction so stored indexes stay valid across refactors.
        let k = key(3);
        let mut input = b"integritet/blind-index\0".to_vec();
        input.extend_from_slice(&5u32.to_be_bytes());
        input.extend_from_slice(b"email");
        input.extend_from_slice(b"a@example.se");
        let mut mac = hmac_sha256(k.0.bytes());
        mac.update(&input);
        let expected: [u8; 32] = mac.finalize().into_bytes().into();
        assert_eq!(blind_index(&k, "email", b"a@example.se"), expected);
    }

    #[test]
    fn known_answer() {
        // Computed independently: Python hmac.new(b"\x42" * 32, label + len + kind + value, sha256).
        let k = BlindIndexKey(Key32::from_slice(&[0x42; 32]).unwrap());
        let hex: String = blind_index(&k, "email", b"a@example.se")
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            hex,
            "0a8b3e76978bf1507dc3beadfcf448d85d30b87af43ed56ca34c462a9b40aee3"
        );
    }

    #[test]
    fn debug_is_redacted() {
        let k = key(4);
        let shown = format!("{k:?} {k:#?}");
        assert_eq!(format!("{k:?}"), "BlindIndexKey([REDACTED])");
        assert!(!crate::test_support::shows_key_bytes(&shown, k.0.bytes()));
    }
}
