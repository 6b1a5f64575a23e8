//! Envelope encryption of stored values under a per-subject [`DataKey`].
//!
//! Each subject gets its own data key; the key is stored only wrapped by a KEK (see
//! [`crate::keyring`]). Destroying a subject's wrapped key crypto-shreds every value of that
//! subject, including the copies in backups.
//!
//! # Value blob format (version 1)
//!
//! ```text
//! offset  length  content
//! 0       1       format version, 0x01
//! 1       24      XChaCha20-Poly1305 nonce, random per value
//! 25      n       ciphertext (n = plaintext length)
//! 25+n    16      Poly1305 tag
//! ```
//!
//! Version 2 is the same layout with the version byte 0x02; the vault writes only version 2.
//!
//! The associated data (authenticated, not stored) is
//! `"integritet/value" || version || subject id (16 bytes) || u32 BE category length || category`,
//! so a blob only decrypts for the subject and category it was written for. The category is
//! length-prefixed so no two (subject, category) pairs encode to the same bytes. Version 2
//! appends what the value is granted for: `u32 BE count || (u32 BE length || purpose)… ||
//! collected-at (i128 BE Unix nanoseconds) || u32 BE length || provenance`, so that someone who
//! edits a stored value's purposes, collection time or provenance (to widen what it may be used
//! for, or to keep it past its retention) makes it fail to decrypt. Version 1 blobs (written
//! before that) are still read; `store verify` counts them.

use std::fmt;

use rand_core::CryptoRng;
use zeroize::Zeroizing;

use crate::error::CryptoError;
use crate::sealing::{self, NONCE_LEN, TAG_LEN};
use crate::secret::Key32;

/// Version byte at the start of every value blob this code writes with a [`ValueGrant`].
pub const VALUE_BLOB_VERSION: u8 = 2;
/// The version of blobs bound only to subject and category (written without a grant).
pub const UNBOUND_VALUE_BLOB_VERSION: u8 = 1;

/// Bytes a value blob adds to its plaintext: version + nonce + tag.
pub const VALUE_BLOB_OVERHEAD: usize = 1 + NONCE_LEN + TAG_LEN;

const VALUE_AAD_LABEL: &[u8] = b"integritet/value";

/// A subject's 256-bit data key. Zeroed on drop; `Debug` prints no key bytes.
///
/// Only ever stored wrapped ([`crate::wrap`]); there is deliberately no way to get the raw
/// bytes out.
pub struct DataKey(pub(crate) Key32);

impl DataKey {
    /// A fresh random data key for a new subject.
    pub fn generate(rng: &mut (impl CryptoRng + ?Sized)) -> Self {
        Self(Key32::random(rng))
    }
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey([REDACTED])")
    }
}

/// What a value belongs to. Bound into the ciphertext so a value cannot be moved to another
/// subject or category (e.g. by someone with write access to the database) without decryption
/// failing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValueAad<'a> {
    subject_id: [u8; 16],
    category: &'a str,
    grant: Option<ValueGrant<'a>>,
}

/// What a stored value may be used for and since when, bound into version-2 blobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValueGrant<'a> {
    /// The purposes, in the order they are stored.
    pub purposes: &'a [String],
    /// When the value was collected, in Unix nanoseconds.
    pub collected_at_nanos: i128,
    /// Where it came from (`provided`, `observed`, `derived`).
    pub provenance: &'a str,
}

impl<'a> ValueAad<'a> {
    /// `subject_id` is the subject's UUID bytes (`Uuid::as_bytes()`); `category` is the policy
    /// category name the value is stored under.
    pub fn new(subject_id: [u8; 16], category: &'a str) -> Self {
        Self {
            subject_id,
            category,
            grant: None,
        }
    }

    /// The same, bound to what the value is granted for: encrypting then writes version 2.
    pub fn granting(self, grant: ValueGrant<'a>) -> Self {
        Self {
            grant: Some(grant),
            ..self
        }
    }

    /// The subject this value belongs to.
    pub fn subject_id(&self) -> [u8; 16] {
        self.subject_id
    }

    /// The category this value is stored under.
    pub fn category(&self) -> &'a str {
        self.category
    }

    fn version(&self) -> u8 {
        match self.grant {
            Some(_) => VALUE_BLOB_VERSION,
            None => UNBOUND_VALUE_BLOB_VERSION,
        }
    }

    fn encode(&self, version: u8) -> Result<Vec<u8>, CryptoError> {
        let cat = self.category.as_bytes();
        let mut aad = Vec::with_capacity(VALUE_AAD_LABEL.len() + 1 + 16 + 4 + cat.len() + 64);
        aad.extend_from_slice(VALUE_AAD_LABEL);
        aad.push(version);
        aad.extend_from_slice(&self.subject_id);
        aad.extend_from_slice(&len_u32(cat.len()).to_be_bytes());
        aad.extend_from_slice(cat);
        if version == UNBOUND_VALUE_BLOB_VERSION {
            return Ok(aad);
        }
        let grant = self.grant.ok_or(CryptoError::Malformed {
            what: "encrypted value",
            reason: "it is bound to its purposes, and none were given to check".to_owned(),
        })?;
        aad.extend_from_slice(&len_u32(grant.purposes.len()).to_be_bytes());
        for purpose in grant.purposes {
            aad.extend_from_slice(&len_u32(purpose.len()).to_be_bytes());
            aad.extend_from_slice(purpose.as_bytes());
        }
        aad.extend_from_slice(&grant.collected_at_nanos.to_be_bytes());
        aad.extend_from_slice(&len_u32(grant.provenance.len()).to_be_bytes());
        aad.extend_from_slice(grant.provenance.as_bytes());
        Ok(aad)
    }
}

/// The format version of a stored value blob, if it has one this build reads.
pub fn value_blob_version(blob: &[u8]) -> Option<u8> {
    blob.first()
        .copied()
        .filter(|v| *v == VALUE_BLOB_VERSION || *v == UNBOUND_VALUE_BLOB_VERSION)
}

/// Category names are short; saturating keeps this total without a panic path. Two names
/// longer than 4 GiB would also differ in their bytes, which are authenticated as well.
fn len_u32(len: usize) -> u32 {
    u32::try_from(len).unwrap_or(u32::MAX)
}

/// Encrypts one value for storage. See the module docs for the blob layout.
///
/// Fails only for plaintexts too large for one AEAD message (about 256 GiB).
pub fn encrypt_value(
    key: &DataKey,
    rng: &mut (impl CryptoRng + ?Sized),
    aad: &ValueAad<'_>,
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let version = aad.version();
    let mut blob = Vec::with_capacity(VALUE_BLOB_OVERHEAD + plaintext.len());
    blob.push(version);
    sealing::seal_into(
        &mut blob,
        key.0.bytes(),
        rng,
        &aad.encode(version)?,
        plaintext,
    )?;
    Ok(blob)
}

/// Decrypts a value blob written by [`encrypt_value`] with the same key and associated data.
///
/// The plaintext is zeroed when the returned buffer is dropped.
pub fn decrypt_value(
    key: &DataKey,
    aad: &ValueAad<'_>,
    blob: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    const WHAT: &str = "encrypted value";
    let (&version, sealed) = blob.split_first().ok_or(CryptoError::Malformed {
        what: WHAT,
        reason: "it is empty".to_owned(),
    })?;
    if value_blob_version(blob).is_none() {
        return Err(CryptoError::Malformed {
            what: WHAT,
            reason: format!(
                "unknown format version {version} (this build reads {UNBOUND_VALUE_BLOB_VERSION} and {VALUE_BLOB_VERSION})"
            ),
        });
    }
    sealing::open(key.0.bytes(), &aad.encode(version)?, sealed, WHAT)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use std::collections::HashSet;

    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;

    const ALICE: [u8; 16] = [1; 16];
    const BOB: [u8; 16] = [2; 16];

    fn rng() -> StdRng {
        StdRng::seed_from_u64(7)
    }

    fn purposes(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| (*n).to_owned()).collect()
    }

    fn grant<'a>(purposes: &'a [String], at: i128, provenance: &'a str) -> ValueGrant<'a> {
        ValueGrant {
            purposes,
            collected_at_nanos: at,
            provenance,
        }
    }

    #[test]
    fn round_trip() {
        let mut rng = rng();
        let key = DataKey::generate(&mut rng);
        let orders = purposes(&["orders"]);
        let aad = ValueAad::new(ALICE, "email").granting(grant(&orders, 1, "provided"));
        let blob = encrypt_value(&key, &mut rng, &aad, b"alice@example.se").unwrap();
        assert_eq!(blob.len(), VALUE_BLOB_OVERHEAD + 16);
        assert_eq!(blob[0], VALUE_BLOB_VERSION);
        assert_eq!(value_blob_version(&blob), Some(VALUE_BLOB_VERSION));
        let plain = decrypt_value(&key, &aad, &blob).unwrap();
        assert_eq!(plain.as_slice(), b"alice@example.se");
        let unbound = ValueAad::new(ALICE, "email");
        let old = encrypt_value(&key, &mut rng, &unbound, b"a").unwrap();
        assert_eq!(value_blob_version(&old), Some(UNBOUND_VALUE_BLOB_VERSION));
        // A version-1 blob reads whatever grant the reader holds: it never had one.
        assert_eq!(decrypt_value(&key, &aad, &old).unwrap().as_slice(), b"a");
    }

    #[test]
    fn a_widened_grant_fails_to_decrypt() {
        let mut rng = rng();
        let key = DataKey::generate(&mut rng);
        let orders = purposes(&["orders"]);
        let aad = ValueAad::new(ALICE, "email").granting(grant(&orders, 10, "provided"));
        let blob = encrypt_value(&key, &mut rng, &aad, b"a").unwrap();
        let widened = purposes(&["orders", "direct_marketing"]);
        let reordered_into_one = purposes(&["ordersdirect_marketing"]);
        for edited in [
            grant(&widened, 10, "provided"),
            grant(&reordered_into_one, 10, "provided"),
            grant(&orders, 11, "provided"),
            grant(&orders, 10, "observed"),
        ] {
            let aad = ValueAad::new(ALICE, "email").granting(edited);
            assert!(
                matches!(decrypt_value(&key, &aad, &blob), Err(CryptoError::Decrypt)),
                "{edited:?}"
            );
        }
        // Without a grant to check, a version-2 blob is refused, not read unchecked.
        let err = decrypt_value(&key, &ValueAad::new(ALICE, "email"), &blob).unwrap_err();
        assert!(matches!(err, CryptoError::Malformed { .. }), "{err}");
        // Relabelled as version 1 it fails too: the version is authenticated.
        let mut downgraded = blob.clone();
        downgraded[0] = UNBOUND_VALUE_BLOB_VERSION;
        assert!(matches!(
            decrypt_value(&key, &aad, &downgraded),
            Err(CryptoError::Decrypt)
        ));
    }

    /// A version-1 blob made by an independent implementation (Python: HChaCha20 +
    /// `cryptography`'s ChaCha20Poly1305, checked against the XChaCha draft's test vector) with
    /// key `[7; 32]` and nonce `1..=24`. If this fails, stored data would become unreadable.
    const GOLDEN_V1: &str = "010102030405060708090a0b0c0d0e0f10111213141516171823a937834abc1896\
                             f702f9e4de4785cc62cba0beb754f40cce40858b17a6cbda";

    #[test]
    fn decrypts_independently_made_v1_blob() {
        let key = DataKey(Key32::from_slice(&[7; 32]).unwrap());
        let blob = crate::test_support::hex(&GOLDEN_V1.replace(' ', ""));
        let plain = decrypt_value(&key, &ValueAad::new(ALICE, "email"), &blob).unwrap();
        assert_eq!(plain.as_slice(), b"alice@example.se");
        assert!(decrypt_value(&key, &ValueAad::new(ALICE, "phone"), &blob).is_err());
    }

    #[test]
    fn empty_plaintext_round_trips() {
        let mut rng = rng();
        let key = DataKey::generate(&mut rng);
        let aad = ValueAad::new(ALICE, "note");
        let blob = encrypt_value(&key, &mut rng, &aad, b"").unwrap();
        assert_eq!(blob.len(), VALUE_BLOB_OVERHEAD);
        assert!(decrypt_value(&key, &aad, &blob).unwrap().is_empty());
    }

    #[test]
    fn ciphertext_does_not_contain_plaintext() {
        let mut rng = rng();
        let key = DataKey::generate(&mut rng);
        let aad = ValueAad::new(ALICE, "email");
        let blob = encrypt_value(&key, &mut rng, &aad, b"alice@example.se").unwrap();
        assert!(!blob.windows(5).any(|w| w == b"alice"));
    }

    #[test]
    fn wrong_key_fails() {
        let mut rng = rng();
        let key = DataKey::generate(&mut rng);
        let other = DataKey::generate(&mut rng);
        let aad = ValueAad::new(ALICE, "email");
        let blob = encrypt_value(&key, &mut rng, &aad, b"x").unwrap();
        assert!(matches!(
            decrypt_value(&other, &aad, &blob),
            Err(CryptoError::Decrypt)
        ));
    }

    #[test]
    fn swapping_between_subjects_fails() {
        // Even with the same data key (the worst case), a value moved to another subject fails.
        let mut rng = rng();
        let key = DataKey::generate(&mut rng);
        let blob = encrypt_value(&key, &mut rng, &ValueAad::new(ALICE, "email"), b"a").unwrap();
        let err = decrypt_value(&key, &ValueAad::new(BOB, "email"), &blob).unwrap_err();
        assert!(matches!(err, CryptoError::Decrypt));
    }

    #[test]
    fn swapping_between_categories_fails() {
        let mut rng = rng();
        let key = DataKey::generate(&mut rng);
        let email = encrypt_value(&key, &mut rng, &ValueAad::new(ALICE, "email"), b"a").unwrap();
        let phone = encrypt_value(&key, &mut rng, &ValueAad::new(ALICE, "phone"), b"b").unwrap();
        assert!(decrypt_value(&key, &ValueAad::new(ALICE, "phone"), &email).is_err());
        assert!(decrypt_value(&key, &ValueAad::new(ALICE, "email"), &phone).is_err());
    }

    #[test]
    fn category_encoding_is_unambiguous() {
        // Without a length prefix "ab" + subject could collide with "a" + shifted bytes.
        let a = ValueAad::new(ALICE, "ab").encode(1).unwrap();
        let b = ValueAad::new(ALICE, "a").encode(1).unwrap();
        assert_ne!(a, b);
        assert_ne!(a.len(), b.len());
    }

    #[test]
    fn every_tampered_byte_fails() {
        let mut rng = rng();
        let key = DataKey::generate(&mut rng);
        let aad = ValueAad::new(ALICE, "email");
        let blob = encrypt_value(&key, &mut rng, &aad, b"alice@example.se").unwrap();
        for i in 0..blob.len() {
            let mut bad = blob.clone();
            bad[i] ^= 0x01;
            assert!(
                decrypt_value(&key, &aad, &bad).is_err(),
                "flipping byte {i} was not detected"
            );
        }
    }

    #[test]
    fn truncated_and_unknown_version_are_malformed() {
        let mut rng = rng();
        let key = DataKey::generate(&mut rng);
        let aad = ValueAad::new(ALICE, "email");
        let blob = encrypt_value(&key, &mut rng, &aad, b"abc").unwrap();
        assert!(matches!(
            decrypt_value(&key, &aad, &[]),
            Err(CryptoError::Malformed { .. })
        ));
        assert!(matches!(
            decrypt_value(&key, &aad, &blob[..VALUE_BLOB_OVERHEAD - 1]),
            Err(CryptoError::Malformed { .. })
        ));
        let mut v3 = blob.clone();
        v3[0] = 3;
        let err = decrypt_value(&key, &aad, &v3).unwrap_err();
        assert!(
            err.to_string().contains("unknown format version 3"),
            "{err}"
        );
        // Cutting the tag short is an authentication failure, not a panic.
        assert!(decrypt_value(&key, &aad, &blob[..blob.len() - 1]).is_err());
    }

    #[test]
    fn nonces_are_unique_across_10k_encryptions() {
        let mut rng = StdRng::seed_from_u64(99);
        let key = DataKey::generate(&mut rng);
        let aad = ValueAad::new(ALICE, "email");
        let mut nonces = HashSet::new();
        for _ in 0..10_000 {
            let blob = encrypt_value(&key, &mut rng, &aad, b"same plaintext").unwrap();
            let nonce: [u8; NONCE_LEN] = blob[1..1 + NONCE_LEN].try_into().unwrap();
            assert!(nonces.insert(nonce), "nonce repeated");
        }
        assert_eq!(nonces.len(), 10_000);
    }

    #[test]
    fn same_plaintext_encrypts_differently() {
        let mut rng = rng();
        let key = DataKey::generate(&mut rng);
        let aad = ValueAad::new(ALICE, "email");
        let a = encrypt_value(&key, &mut rng, &aad, b"x").unwrap();
        let b = encrypt_value(&key, &mut rng, &aad, b"x").unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn debug_is_redacted() {
        let mut rng = rng();
        let key = DataKey::generate(&mut rng);
        let shown = format!("{key:?} {key:#?}");
        assert_eq!(format!("{key:?}"), "DataKey([REDACTED])");
        assert!(!crate::test_support::shows_key_bytes(&shown, key.0.bytes()));
    }
}
