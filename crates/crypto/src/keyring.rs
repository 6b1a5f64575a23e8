//! Key-encryption keys (KEKs): the ring that wraps every subject's [`DataKey`].
//!
//! The ring has exactly one *active* KEK, used for every new wrap, and may hold older ones that
//! are kept only to unwrap keys not yet re-wrapped. Rotation is:
//!
//! 1. `let ring = ring.rotate(rng);` and save it ([`crate::KeyFiles::save_key_ring`]);
//! 2. for every stored wrapped key with [`KeyRing::needs_rewrap`], store
//!    [`KeyRing::rewrap`]'s result instead;
//! 3. `let ring = ring.retire("k1")?;` and save it again.
//!
//! Ids are short labels (`k1`, `k2`, ...) recorded in each wrapped key, so the ring knows
//! which KEK to use and an operator can see which keys are still in use.
//!
//! # Wrapped key format (version 1)
//!
//! ```text
//! offset  length  content
//! 0       1       format version, 0x01
//! 1       1       length L of the KEK id (1..=32)
//! 2       L       KEK id, ASCII
//! 2+L     24      XChaCha20-Poly1305 nonce, random per wrap
//! 26+L    32      encrypted data key
//! 58+L    16      Poly1305 tag
//! ```
//!
//! Associated data: `"integritet/wrap" || version || L || KEK id || subject id (16 bytes)`, so a
//! wrapped key only unwraps for the subject it was made for, and its KEK id cannot be edited.

use std::fmt;

use rand_core::CryptoRng;

use crate::envelope::DataKey;
use crate::error::CryptoError;
use crate::sealing::{self, NONCE_LEN, TAG_LEN};
use crate::secret::{KEY_LEN, Key32};

/// Version byte at the start of every wrapped key this code writes.
pub const WRAPPED_KEY_VERSION: u8 = 1;

const WRAP_AAD_LABEL: &[u8] = b"integritet/wrap";
const MAX_ID_LEN: usize = 32;
const WHAT: &str = "wrapped key";

/// The id of one KEK in a [`KeyRing`]: 1 to 32 characters from `a-z`, `0-9`, `-`, `_`.
///
/// Not secret; it is stored next to every wrapped key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KekId(String);

impl KekId {
    /// Checks and wraps an id. The character set keeps ids safe in file names, logs and the
    /// one-line-per-key file format.
    pub fn new(id: &str) -> Result<Self, CryptoError> {
        let ok = !id.is_empty()
            && id.len() <= MAX_ID_LEN
            && id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if ok {
            Ok(Self(id.to_owned()))
        } else {
            Err(CryptoError::InvalidKeyId { id: id.to_owned() })
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `kN` ids are numbered; anything else counts as 0 for choosing the next number.
    fn number(&self) -> u64 {
        self.0
            .strip_prefix('k')
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    }
}

impl fmt::Display for KekId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One active key-encryption key plus the older ones still needed for unwrapping.
///
/// Immutable: [`KeyRing::rotate`] and [`KeyRing::retire`] return a new ring, so the caller can
/// save it before switching over. `Debug` shows ids only.
#[derive(Clone)]
pub struct KeyRing {
    active: KekId,
    /// In the order the keys were added (oldest first); ids are unique.
    keys: Vec<(KekId, Key32)>,
    /// Ids removed by [`KeyRing::retire`]: never reused, and saving knows their absence is
    /// intended rather than a stale ring overwriting a newer file.
    retired: Vec<KekId>,
}

impl KeyRing {
    /// A new ring with a single fresh KEK `k1`, for a new installation.
    pub fn generate(rng: &mut (impl CryptoRng + ?Sized)) -> Self {
        let id = KekId("k1".to_owned());
        Self {
            active: id.clone(),
            keys: vec![(id, Key32::random(rng))],
            retired: Vec::new(),
        }
    }

    /// Builds a ring from stored parts; `Err` says what is inconsistent.
    pub(crate) fn from_parts(
        active: KekId,
        keys: Vec<(KekId, Key32)>,
        retired: Vec<KekId>,
    ) -> Result<Self, String> {
        for (i, (id, _)) in keys.iter().enumerate() {
            if keys[..i].iter().any(|(other, _)| other == id) {
                return Err(format!("key id {id} appears twice"));
            }
            if retired.contains(id) {
                return Err(format!("key id {id} is both present and retired"));
            }
        }
        if !keys.iter().any(|(id, _)| *id == active) {
            return Err(format!("the active key {active} is not in the file"));
        }
        Ok(Self {
            active,
            keys,
            retired,
        })
    }

    /// Why saving `self` over `on_disk` would lose a key, if it would: a key on disk must be
    /// in `self` with the same bytes, or retired by `self`. Catches two rotations racing and a
    /// stale ring overwriting a newer file.
    pub(crate) fn conflict_with(&self, on_disk: &KeyRing) -> Option<String> {
        on_disk.keys.iter().find_map(|(id, disk_key)| {
            match self.keys.iter().find(|(k, _)| k == id) {
                Some((_, key)) if key.bytes() == disk_key.bytes() => None,
                Some(_) => Some(format!("key {id} in the file is a different key")),
                None if self.retired.contains(id) => None,
                None => Some(format!("key {id} in the file would be lost")),
            }
        })
    }

    /// Ids retired from this ring, oldest first.
    pub fn retired_ids(&self) -> impl Iterator<Item = &KekId> {
        self.retired.iter()
    }

    /// The stored keys, oldest first, for writing the key file.
    pub(crate) fn entries(&self) -> impl Iterator<Item = (&KekId, &Key32)> {
        self.keys.iter().map(|(id, key)| (id, key))
    }

    /// The KEK used for every new wrap.
    pub fn active_id(&self) -> &KekId {
        &self.active
    }

    /// All ids in the ring, oldest first.
    pub fn ids(&self) -> impl Iterator<Item = &KekId> {
        self.keys.iter().map(|(id, _)| id)
    }

    /// Whether the ring can unwrap keys made with `id`.
    pub fn contains(&self, id: &str) -> bool {
        self.keys.iter().any(|(k, _)| k.as_str() == id)
    }

    fn key(&self, id: &KekId) -> Result<&Key32, CryptoError> {
        self.keys
            .iter()
            .find(|(k, _)| k == id)
            .map(|(_, key)| key)
            .ok_or_else(|| CryptoError::UnknownKek { id: id.0.clone() })
    }

    /// A new ring with a fresh active KEK (`k<highest number + 1>`); the old KEKs stay for
    /// unwrapping until they are retired.
    pub fn rotate(&self, rng: &mut (impl CryptoRng + ?Sized)) -> Self {
        let mut n = self
            .ids()
            .chain(&self.retired)
            .map(KekId::number)
            .max()
            .unwrap_or(0);
        let id = loop {
            n = n.saturating_add(1);
            let candidate = KekId(format!("k{n}"));
            if !self.contains(candidate.as_str()) && !self.retired.contains(&candidate) {
                break candidate;
            }
        };
        let mut keys = self.keys.clone();
        keys.push((id.clone(), Key32::random(rng)));
        Self {
            active: id,
            keys,
            retired: self.retired.clone(),
        }
    }

    /// A new ring without KEK `id`. Call only once no stored key is wrapped with it any more
    /// (see [`KeyRing::needs_rewrap`]): anything still wrapped with it becomes unreadable.
    pub fn retire(&self, id: &str) -> Result<Self, CryptoError> {
        if self.active.as_str() == id {
            return Err(CryptoError::RetireActive { id: id.to_owned() });
        }
        if !self.contains(id) {
            return Err(CryptoError::UnknownKek { id: id.to_owned() });
        }
        let (gone, keys): (Vec<_>, Vec<_>) = self
            .keys
            .iter()
            .cloned()
            .partition(|(k, _)| k.as_str() == id);
        let mut retired = self.retired.clone();
        retired.extend(gone.into_iter().map(|(k, _)| k));
        Ok(Self {
            active: self.active.clone(),
            keys,
            retired,
        })
    }

    /// Whether `wrapped` was made with an older KEK and should be re-wrapped with the active one.
    pub fn needs_rewrap(&self, wrapped: &WrappedKey) -> bool {
        wrapped.kek_id != self.active
    }

    /// Unwraps with whichever KEK `wrapped` names and wraps again with the active KEK.
    pub fn rewrap(
        &self,
        rng: &mut (impl CryptoRng + ?Sized),
        subject_id: [u8; 16],
        wrapped: &WrappedKey,
    ) -> Result<WrappedKey, CryptoError> {
        let key = unwrap(self, subject_id, wrapped)?;
        wrap(self, rng, subject_id, &key)
    }
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyRing")
            .field("active", &self.active.as_str())
            .field("ids", &self.ids().map(KekId::as_str).collect::<Vec<_>>())
            .field(
                "retired",
                &self.retired.iter().map(KekId::as_str).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// A [`DataKey`] encrypted under one KEK of the ring. Safe to store in the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrappedKey {
    kek_id: KekId,
    /// `nonce || encrypted key || tag`.
    sealed: Vec<u8>,
}

const SEALED_LEN: usize = NONCE_LEN + KEY_LEN + TAG_LEN;

impl WrappedKey {
    /// The KEK this key was wrapped with.
    pub fn kek_id(&self) -> &KekId {
        &self.kek_id
    }

    /// The storable form; see the module docs for the layout.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(2 + self.kek_id.0.len() + SEALED_LEN);
        out.push(WRAPPED_KEY_VERSION);
        out.extend_from_slice(&id_header(&self.kek_id));
        out.extend_from_slice(&self.sealed);
        out
    }

    /// Parses [`WrappedKey::to_bytes`] output. Checks only the layout; authenticity is checked
    /// by [`unwrap`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        let malformed = |reason: String| CryptoError::Malformed { what: WHAT, reason };
        let [version, id_len, rest @ ..] = bytes else {
            return Err(malformed(format!("{} bytes is too short", bytes.len())));
        };
        if *version != WRAPPED_KEY_VERSION {
            return Err(malformed(format!(
                "unknown format version {version} (this build reads {WRAPPED_KEY_VERSION})"
            )));
        }
        let id_len = usize::from(*id_len);
        let (id, sealed) = rest
            .split_at_checked(id_len)
            .ok_or_else(|| malformed("it ends inside the key id".to_owned()))?;
        let id = std::str::from_utf8(id)
            .ok()
            .and_then(|id| KekId::new(id).ok())
            .ok_or_else(|| malformed("the key id is not a valid id".to_owned()))?;
        if sealed.len() != SEALED_LEN {
            return Err(malformed(format!(
                "expected {SEALED_LEN} bytes after the key id, found {}",
                sealed.len()
            )));
        }
        Ok(Self {
            kek_id: id,
            sealed: sealed.to_vec(),
        })
    }
}

/// `L || id`; `KekId` guarantees `L <= 32`.
fn id_header(id: &KekId) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + id.0.len());
    out.push(u8::try_from(id.0.len()).unwrap_or(u8::MAX));
    out.extend_from_slice(id.0.as_bytes());
    out
}

fn wrap_aad(version: u8, id: &KekId, subject_id: [u8; 16]) -> Vec<u8> {
    let mut aad = Vec::with_capacity(WRAP_AAD_LABEL.len() + 2 + id.0.len() + 16);
    aad.extend_from_slice(WRAP_AAD_LABEL);
    aad.push(version);
    aad.extend_from_slice(&id_header(id));
    aad.extend_from_slice(&subject_id);
    aad
}

/// Wraps a subject's data key with the ring's active KEK, bound to `subject_id` (the subject's
/// UUID bytes).
///
/// Returns `Result` only because the underlying AEAD call does; wrapping 32 bytes never fails.
pub fn wrap(
    ring: &KeyRing,
    rng: &mut (impl CryptoRng + ?Sized),
    subject_id: [u8; 16],
    key: &DataKey,
) -> Result<WrappedKey, CryptoError> {
    let kek = ring.key(&ring.active)?;
    let mut sealed = Vec::with_capacity(SEALED_LEN);
    sealing::seal_into(
        &mut sealed,
        kek.bytes(),
        rng,
        &wrap_aad(WRAPPED_KEY_VERSION, &ring.active, subject_id),
        key.0.bytes(),
    )?;
    Ok(WrappedKey {
        kek_id: ring.active.clone(),
        sealed,
    })
}

/// Recovers a subject's data key. Fails with [`CryptoError::UnknownKek`] if the ring lacks the
/// KEK it was wrapped with and [`CryptoError::Decrypt`] if it belongs to another subject or was
/// altered.
pub fn unwrap(
    ring: &KeyRing,
    subject_id: [u8; 16],
    wrapped: &WrappedKey,
) -> Result<DataKey, CryptoError> {
    let kek = ring.key(&wrapped.kek_id)?;
    let plain = sealing::open(
        kek.bytes(),
        &wrap_aad(WRAPPED_KEY_VERSION, &wrapped.kek_id, subject_id),
        &wrapped.sealed,
        WHAT,
    )?;
    Key32::from_slice(&plain)
        .map(DataKey)
        .ok_or_else(|| CryptoError::Malformed {
            what: WHAT,
            reason: format!("it holds {} key bytes instead of {KEY_LEN}", plain.len()),
        })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;
    use crate::envelope::{ValueAad, decrypt_value, encrypt_value};

    const ALICE: [u8; 16] = [1; 16];
    const BOB: [u8; 16] = [2; 16];

    fn rng() -> StdRng {
        StdRng::seed_from_u64(11)
    }

    fn same_key(a: &DataKey, b: &DataKey) -> bool {
        a.0.bytes() == b.0.bytes()
    }

    #[test]
    fn wrap_unwrap_round_trip_through_bytes() {
        let mut rng = rng();
        let ring = KeyRing::generate(&mut rng);
        let dk = DataKey::generate(&mut rng);
        let wrapped = wrap(&ring, &mut rng, ALICE, &dk).unwrap();
        assert_eq!(wrapped.kek_id().as_str(), "k1");
        let bytes = wrapped.to_bytes();
        assert_eq!(bytes.len(), 2 + 2 + SEALED_LEN);
        assert_eq!(bytes[0], WRAPPED_KEY_VERSION);
        let parsed = WrappedKey::from_bytes(&bytes).unwrap();
        assert_eq!(parsed, wrapped);
        assert!(same_key(&unwrap(&ring, ALICE, &parsed).unwrap(), &dk));
    }

    /// Made independently (see `envelope::tests::GOLDEN_V1`): data key `[7; 32]` wrapped for
    /// subject `[1; 16]` with KEK `k1 = [9; 32]` and nonce `101..=124`.
    const GOLDEN_V1: &str = "01026b3165666768696a6b6c6d6e6f707172737475767778797a7b7c2d3f2726f1\
                             02b84df1086b5f47a364f4e65fb2fc8c782902f0fd0e50484d74e9fc6d50489acf\
                             14595fb120bd6a0eedca";

    #[test]
    fn unwraps_independently_made_v1_key() {
        let kek = Key32::from_slice(&[9; 32]).unwrap();
        let k1 = KekId::new("k1").unwrap();
        let ring = KeyRing::from_parts(k1.clone(), vec![(k1, kek)], vec![]).unwrap();
        let bytes = crate::test_support::hex(&GOLDEN_V1.replace(' ', ""));
        let wrapped = WrappedKey::from_bytes(&bytes).unwrap();
        assert_eq!(wrapped.to_bytes(), bytes);
        let dk = unwrap(&ring, ALICE, &wrapped).unwrap();
        assert_eq!(dk.0.bytes(), &[7; 32]);
    }

    #[test]
    fn wrapped_key_does_not_contain_the_data_key() {
        let mut rng = rng();
        let ring = KeyRing::generate(&mut rng);
        let dk = DataKey::generate(&mut rng);
        let bytes = wrap(&ring, &mut rng, ALICE, &dk).unwrap().to_bytes();
        assert!(
            !bytes
                .windows(8)
                .any(|w| dk.0.bytes().windows(8).any(|k| k == w))
        );
    }

    #[test]
    fn unwrap_for_another_subject_fails() {
        let mut rng = rng();
        let ring = KeyRing::generate(&mut rng);
        let dk = DataKey::generate(&mut rng);
        let wrapped = wrap(&ring, &mut rng, ALICE, &dk).unwrap();
        assert!(matches!(
            unwrap(&ring, BOB, &wrapped),
            Err(CryptoError::Decrypt)
        ));
    }

    #[test]
    fn unwrap_with_another_ring_fails() {
        let mut rng = rng();
        let ring = KeyRing::generate(&mut rng);
        let other = KeyRing::generate(&mut rng); // also "k1", different key
        let dk = DataKey::generate(&mut rng);
        let wrapped = wrap(&ring, &mut rng, ALICE, &dk).unwrap();
        assert!(matches!(
            unwrap(&other, ALICE, &wrapped),
            Err(CryptoError::Decrypt)
        ));
    }

    #[test]
    fn every_tampered_byte_of_a_wrapped_key_fails() {
        let mut rng = rng();
        let ring = KeyRing::generate(&mut rng).rotate(&mut rng);
        let dk = DataKey::generate(&mut rng);
        let bytes = wrap(&ring, &mut rng, ALICE, &dk).unwrap().to_bytes();
        for i in 0..bytes.len() {
            let mut bad = bytes.clone();
            bad[i] ^= 0x01;
            let result = WrappedKey::from_bytes(&bad).and_then(|w| unwrap(&ring, ALICE, &w));
            assert!(result.is_err(), "flipping byte {i} was not detected");
        }
    }

    #[test]
    fn malformed_wrapped_keys_are_rejected() {
        for bad in [
            &[][..],
            &[1][..],
            &[2, 2, b'k', b'1'][..],
            &[1, 5, b'k', b'1'][..],
            &[1, 2, b'K', b'1'][..],
            &[1, 2, b'k', b'1', 0, 0][..],
        ] {
            assert!(
                matches!(
                    WrappedKey::from_bytes(bad),
                    Err(CryptoError::Malformed { .. })
                ),
                "{bad:?} accepted"
            );
        }
    }

    #[test]
    fn unknown_kek_says_what_to_check() {
        let mut rng = rng();
        let ring = KeyRing::generate(&mut rng);
        let newer = ring.rotate(&mut rng).rotate(&mut rng);
        let dk = DataKey::generate(&mut rng);
        let wrapped = wrap(&newer, &mut rng, ALICE, &dk).unwrap();
        assert_eq!(wrapped.kek_id().as_str(), "k3");
        let err = unwrap(&ring, ALICE, &wrapped).unwrap_err();
        assert!(matches!(err, CryptoError::UnknownKek { .. }));
        assert_eq!(
            err.to_string(),
            "no key with id k3 in the key ring: was the key file replaced or a key retired too early?"
        );
    }

    #[test]
    fn rotation_rewrap_and_retire() {
        let mut rng = rng();
        let ring1 = KeyRing::generate(&mut rng);
        let dk = DataKey::generate(&mut rng);
        let aad = ValueAad::new(ALICE, "email");
        let value = encrypt_value(&dk, &mut rng, &aad, b"alice@example.se").unwrap();
        let old = wrap(&ring1, &mut rng, ALICE, &dk).unwrap();
        assert!(!ring1.needs_rewrap(&old));

        let ring2 = ring1.rotate(&mut rng);
        assert_eq!(ring2.active_id().as_str(), "k2");
        assert_eq!(
            ring2.ids().map(KekId::as_str).collect::<Vec<_>>(),
            ["k1", "k2"]
        );
        // The old ring is untouched; the new one still unwraps old keys.
        assert_eq!(ring1.active_id().as_str(), "k1");
        assert!(ring2.needs_rewrap(&old));
        assert!(same_key(&unwrap(&ring2, ALICE, &old).unwrap(), &dk));
        // New wraps use the new KEK.
        assert_eq!(
            wrap(&ring2, &mut rng, BOB, &dk).unwrap().kek_id().as_str(),
            "k2"
        );

        let new = ring2.rewrap(&mut rng, ALICE, &old).unwrap();
        assert_eq!(new.kek_id().as_str(), "k2");
        assert!(!ring2.needs_rewrap(&new));

        let ring3 = ring2.retire("k1").unwrap();
        assert!(!ring3.contains("k1"));
        assert_eq!(
            ring3.retired_ids().map(KekId::as_str).collect::<Vec<_>>(),
            ["k1"]
        );
        assert!(matches!(
            unwrap(&ring3, ALICE, &old),
            Err(CryptoError::UnknownKek { .. })
        ));
        // The stored value is still readable through the re-wrapped key.
        let dk_again = unwrap(&ring3, ALICE, &new).unwrap();
        assert_eq!(
            decrypt_value(&dk_again, &aad, &value).unwrap().as_slice(),
            b"alice@example.se"
        );
        // Ids keep counting up after a retirement.
        assert_eq!(ring3.rotate(&mut rng).active_id().as_str(), "k3");
    }

    #[test]
    fn retire_refuses_active_and_unknown_ids() {
        let mut rng = rng();
        let ring = KeyRing::generate(&mut rng).rotate(&mut rng);
        assert!(matches!(
            ring.retire("k2"),
            Err(CryptoError::RetireActive { .. })
        ));
        assert!(matches!(
            ring.retire("k9"),
            Err(CryptoError::UnknownKek { .. })
        ));
    }

    #[test]
    fn retired_ids_are_never_reused() {
        let mut rng = rng();
        let ring = KeyRing::generate(&mut rng)
            .rotate(&mut rng)
            .rotate(&mut rng);
        let ring = ring.retire("k1").unwrap().retire("k2").unwrap();
        // Only k3 is left, but a new key must not reuse "k1" or "k2"; numbering continues.
        assert_eq!(ring.rotate(&mut rng).active_id().as_str(), "k4");
    }

    #[test]
    fn conflicts_are_detected() {
        let mut rng = rng();
        let base = KeyRing::generate(&mut rng);
        let a = base.rotate(&mut rng);
        let b = base.rotate(&mut rng); // also "k2", different key
        assert!(a.conflict_with(&base).is_none(), "adding a key is fine");
        assert!(a.conflict_with(&a).is_none());
        let why = b.conflict_with(&a).unwrap();
        assert!(why.contains("k2") && why.contains("different"), "{why}");
        let why = base.conflict_with(&a).unwrap();
        assert!(why.contains("k2") && why.contains("lost"), "{why}");
        let retired = a.retire("k1").unwrap();
        assert!(
            retired.conflict_with(&a).is_none(),
            "an intended retirement is fine"
        );
    }

    #[test]
    fn kek_ids_are_checked() {
        for ok in ["k1", "2026-rotation", "a_b", &"x".repeat(32)] {
            assert!(KekId::new(ok).is_ok(), "{ok}");
        }
        for bad in ["", "K1", "k 1", "k1\n", "ä", &"x".repeat(33)] {
            assert!(
                matches!(KekId::new(bad), Err(CryptoError::InvalidKeyId { .. })),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn from_parts_rejects_inconsistent_rings() {
        let mut rng = rng();
        let id = |s: &str| KekId::new(s).unwrap();
        let key = |rng: &mut StdRng| Key32::random(rng);
        let dup = vec![(id("k1"), key(&mut rng)), (id("k1"), key(&mut rng))];
        assert!(KeyRing::from_parts(id("k1"), dup, vec![]).is_err());
        let no_active = vec![(id("k1"), key(&mut rng))];
        assert!(KeyRing::from_parts(id("k2"), no_active, vec![]).is_err());
        let retired_twice = vec![(id("k1"), key(&mut rng))];
        assert!(KeyRing::from_parts(id("k1"), retired_twice, vec![id("k1")]).is_err());
    }

    #[test]
    fn debug_shows_ids_only() {
        let mut rng = rng();
        let ring = KeyRing::generate(&mut rng).rotate(&mut rng);
        let shown = format!("{ring:?} {ring:#?}");
        assert_eq!(
            format!("{ring:?}"),
            r#"KeyRing { active: "k2", ids: ["k1", "k2"], retired: [] }"#
        );
        for (_, key) in ring.entries() {
            assert!(!crate::test_support::shows_key_bytes(&shown, key.bytes()));
        }
        let dk = DataKey::generate(&mut rng);
        let wrapped = wrap(&ring, &mut rng, ALICE, &dk).unwrap();
        assert!(!crate::test_support::shows_key_bytes(
            &format!("{wrapped:?}"),
            dk.0.bytes()
        ));
    }
}
