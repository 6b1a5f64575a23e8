//! Keyed hashes of login secrets and MACs over the rows that grant access, so that the
//! database alone grants nothing.
//!
//! Someone who can write the database but not read the key directory must not be able to
//! insert a token or session whose secret they chose, nor widen a stored grant (a token's
//! role, a user's password hash). Hence:
//!
//! * a secret is stored as `HMAC-SHA256(record key, "integritet/secret\0" || kind || 0x00 ||
//!   secret)`: without the key nobody can compute the hash of a secret of their own;
//! * a row that grants access carries `HMAC-SHA256(record key, "integritet/record\0" || table
//!   || 0x00 || field₁ || field₂ …)`, each field prefixed with its length (`u32` BE) and absent
//!   optional fields written as `0xFFFFFFFF`, so no two rows encode alike.
//!
//! The record key is derived from the blind-index key (`HMAC(index key,
//! "integritet/record-key")`): one more secret in the key directory would be one more file to
//! lose, and the derivation keeps the two uses apart.

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::blind::{BlindIndexKey, hmac_sha256};
use crate::secret::Key32;

const DERIVATION_LABEL: &[u8] = b"integritet/record-key";
const SECRET_LABEL: &[u8] = b"integritet/secret\0";
const RECORD_LABEL: &[u8] = b"integritet/record\0";
const SEAL_LABEL: &[u8] = b"integritet/seal\0";
/// Written in place of a length for a field that is absent.
const ABSENT: [u8; 4] = u32::MAX.to_be_bytes();
/// What every sealed token is bound to besides its kind's key.
const TOKEN_AAD: &[u8] = b"integritet/token-v1";
/// Longer tokens are refused before decoding: none this installation makes comes near.
const MAX_TOKEN_LEN: usize = 1024;

/// The key of secret hashes and record MACs. Zeroed on drop; `Debug` prints no key bytes.
#[derive(Clone)]
pub struct RecordKey(Key32);

impl RecordKey {
    /// The record key of an installation, derived from its blind-index key.
    pub fn derive(index_key: &BlindIndexKey) -> Self {
        let mut mac = hmac_sha256(index_key.0.bytes());
        mac.update(DERIVATION_LABEL);
        let derived: [u8; 32] = mac.finalize().into_bytes().into();
        Self(Key32::from_fn(|k| k.copy_from_slice(&derived)))
    }

    /// What the store keeps for a login secret of `kind` (`"token"`, `"session"`): a secret
    /// of one kind never matches a stored hash of another.
    pub fn secret_hash(&self, kind: &str, secret: &[u8]) -> [u8; 32] {
        let mut mac = hmac_sha256(self.0.bytes());
        mac.update(SECRET_LABEL);
        mac.update(kind.as_bytes());
        mac.update(&[0]);
        mac.update(secret);
        mac.finalize().into_bytes().into()
    }

    /// Encrypts a record of `table` that is no subject's (a data subject's request, say) under a
    /// key of that table's own, bound to `aad` (the row's id): XChaCha20-Poly1305, as values.
    pub fn seal(
        &self,
        table: &str,
        aad: &[u8],
        plaintext: &[u8],
        rng: &mut (impl rand_core::CryptoRng + ?Sized),
    ) -> Result<Vec<u8>, crate::CryptoError> {
        let key = self.table_key(table);
        let mut out = Vec::new();
        crate::sealing::seal_into(&mut out, key.bytes(), rng, aad, plaintext)?;
        Ok(out)
    }

    /// Opens what [`RecordKey::seal`] sealed for `table` and `aad`; an edited or moved blob is
    /// refused.
    pub fn open(
        &self,
        table: &str,
        aad: &[u8],
        sealed: &[u8],
    ) -> Result<zeroize::Zeroizing<Vec<u8>>, crate::CryptoError> {
        let key = self.table_key(table);
        crate::sealing::open(key.bytes(), aad, sealed, "a sealed record")
    }

    /// An opaque, unforgeable token that carries `payload` (an unsubscribe link, say):
    /// [`RecordKey::seal`] under `kind`'s own key, in URL-safe base64 without padding. Only
    /// this installation can make one or read what it carries.
    pub fn seal_token(
        &self,
        kind: &str,
        payload: &[u8],
        rng: &mut (impl rand_core::CryptoRng + ?Sized),
    ) -> Result<String, crate::CryptoError> {
        use base64::Engine;
        let sealed = self.seal(kind, TOKEN_AAD, payload, rng)?;
        Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sealed))
    }

    /// What a token of [`RecordKey::seal_token`] carries; `None` for anything else (not
    /// base64, cut short, edited, made by another installation or for another kind).
    pub fn open_token(&self, kind: &str, token: &str) -> Option<zeroize::Zeroizing<Vec<u8>>> {
        use base64::Engine;
        if token.len() > MAX_TOKEN_LEN {
            return None;
        }
        let sealed = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(token)
            .ok()?;
        self.open(kind, TOKEN_AAD, &sealed).ok()
    }

    fn table_key(&self, table: &str) -> Key32 {
        let mut mac = hmac_sha256(self.0.bytes());
        mac.update(SEAL_LABEL);
        mac.update(table.as_bytes());
        let derived: [u8; 32] = mac.finalize().into_bytes().into();
        Key32::from_fn(|k| k.copy_from_slice(&derived))
    }

    /// A MAC over one row of `table`; add the fields in a fixed order, then
    /// [`RecordMac::finish`] or [`RecordMac::verify`].
    pub fn record(&self, table: &str) -> RecordMac {
        let mut mac = hmac_sha256(self.0.bytes());
        mac.update(RECORD_LABEL);
        mac.update(table.as_bytes());
        mac.update(&[0]);
        RecordMac(mac)
    }
}

impl fmt::Debug for RecordKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RecordKey([REDACTED])")
    }
}

/// A row's MAC being computed.
pub struct RecordMac(Hmac<Sha256>);

impl fmt::Debug for RecordMac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RecordMac([REDACTED])")
    }
}

impl RecordMac {
    /// A field's bytes, length-prefixed.
    pub fn bytes(mut self, field: &[u8]) -> Self {
        let len = u32::try_from(field.len()).unwrap_or(u32::MAX - 1);
        self.0.update(&len.to_be_bytes());
        self.0.update(field);
        self
    }

    /// A text field.
    pub fn text(self, field: &str) -> Self {
        self.bytes(field.as_bytes())
    }

    /// A whole number (an instant in Unix nanoseconds, a count).
    pub fn number(self, field: i128) -> Self {
        self.bytes(&field.to_be_bytes())
    }

    /// An optional text field: absent is not the same as empty.
    pub fn optional_text(self, field: Option<&str>) -> Self {
        match field {
            Some(text) => self.text(text),
            None => self.absent(),
        }
    }

    /// An optional number: absent is not the same as zero.
    pub fn optional_number(self, field: Option<i128>) -> Self {
        match field {
            Some(n) => self.number(n),
            None => self.absent(),
        }
    }

    fn absent(mut self) -> Self {
        self.0.update(&ABSENT);
        self
    }

    /// The MAC to store with the row.
    pub fn finish(self) -> [u8; 32] {
        self.0.finalize().into_bytes().into()
    }

    /// Whether `stored` is this row's MAC, compared in constant time.
    pub fn verify(self, stored: &[u8]) -> bool {
        self.0.verify_slice(stored).is_ok()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;

    fn key(seed: u64) -> RecordKey {
        RecordKey::derive(&BlindIndexKey::generate(&mut StdRng::seed_from_u64(seed)))
    }

    #[test]
    fn secret_hashes_depend_on_key_kind_and_secret() {
        let (a, b) = (key(1), key(2));
        let h = a.secret_hash("token", b"itg_x");
        assert_eq!(h, key(1).secret_hash("token", b"itg_x"));
        assert_ne!(h, b.secret_hash("token", b"itg_x"));
        assert_ne!(h, a.secret_hash("session", b"itg_x"));
        assert_ne!(h, a.secret_hash("token", b"itg_y"));
    }

    #[test]
    fn a_token_opens_only_unchanged_under_its_own_key_and_kind() {
        let (a, b) = (key(1), key(2));
        let mut rng = StdRng::seed_from_u64(9);
        let token = a.seal_token("link", b"payload", &mut rng).unwrap();
        assert!(
            token
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
        assert_eq!(a.open_token("link", &token).unwrap().as_slice(), b"payload");
        // Two tokens of the same payload differ (random nonces): they tell nothing apart.
        assert_ne!(a.seal_token("link", b"payload", &mut rng).unwrap(), token);
        assert!(
            b.open_token("link", &token).is_none(),
            "another installation's key"
        );
        assert!(a.open_token("other", &token).is_none(), "another kind");
        let mut edited = token.clone().into_bytes();
        edited[10] = if edited[10] == b'A' { b'B' } else { b'A' };
        assert!(
            a.open_token("link", &String::from_utf8(edited).unwrap())
                .is_none()
        );
        assert!(a.open_token("link", &token[..token.len() - 2]).is_none());
        assert!(a.open_token("link", "not base64!").is_none());
        assert!(a.open_token("link", &"A".repeat(5_000)).is_none());
    }

    #[test]
    fn the_record_key_is_not_the_index_key() {
        let index = BlindIndexKey::generate(&mut StdRng::seed_from_u64(3));
        let derived = RecordKey::derive(&index);
        assert_ne!(derived.0.bytes(), index.0.bytes());
    }

    #[test]
    fn a_changed_field_or_a_moved_boundary_fails_verification() {
        let k = key(1);
        let mac = k.record("t").text("ab").text("c").number(7).finish();
        assert!(k.record("t").text("ab").text("c").number(7).verify(&mac));
        assert!(!k.record("t").text("a").text("bc").number(7).verify(&mac));
        assert!(!k.record("t").text("ab").text("c").number(8).verify(&mac));
        assert!(!k.record("u").text("ab").text("c").number(7).verify(&mac));
        assert!(
            !key(2)
                .record("t")
                .text("ab")
                .text("c")
                .number(7)
                .verify(&mac)
        );
        let none = k.record("t").optional_text(None).finish();
        assert_ne!(none, k.record("t").optional_text(Some("")).finish());
        assert_ne!(
            k.record("t").optional_number(None).finish(),
            k.record("t").optional_number(Some(0)).finish()
        );
        assert!(!k.record("t").verify(&[0u8; 32]));
        assert!(!k.record("t").verify(&[]));
    }

    #[test]
    fn debug_shows_no_key() {
        assert_eq!(format!("{:?}", key(1)), "RecordKey([REDACTED])");
    }
}

#[cfg(test)]
mod seal_tests {
    #![allow(clippy::unwrap_used)]

    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;

    #[test]
    fn a_sealed_record_opens_only_for_its_table_and_id() {
        let key = RecordKey::derive(&BlindIndexKey::generate(&mut StdRng::seed_from_u64(1)));
        let sealed = key
            .seal(
                "requests",
                b"id-1",
                b"{\"kind\":\"access\"}",
                &mut StdRng::seed_from_u64(2),
            )
            .unwrap();
        assert_eq!(
            &*key.open("requests", b"id-1", &sealed).unwrap(),
            b"{\"kind\":\"access\"}"
        );
        assert!(key.open("requests", b"id-2", &sealed).is_err());
        assert!(key.open("other", b"id-1", &sealed).is_err());
        let mut bent = sealed.clone();
        bent[30] ^= 1;
        assert!(key.open("requests", b"id-1", &bent).is_err());
        let other = RecordKey::derive(&BlindIndexKey::generate(&mut StdRng::seed_from_u64(3)));
        assert!(other.open("requests", b"id-1", &sealed).is_err());
    }
}
