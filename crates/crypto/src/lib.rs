//! Cryptography for Integritet: envelope encryption of stored values, the key-encryption-key
//! ring and its rotation, keyed blind indexes, and the key files on disk.
//!
//! Layout of the keys:
//!
//! * every subject has a random [`DataKey`]; each stored value is encrypted under it with
//!   XChaCha20-Poly1305, bound to the subject and category ([`encrypt_value`]);
//! * the data key is stored only wrapped by the active key-encryption key of the [`KeyRing`]
//!   ([`wrap`]), so erasing a subject's wrapped key crypto-shreds all its values, backups
//!   included;
//! * exact-match lookups use [`blind_index`] tokens under a separate [`BlindIndexKey`];
//! * login secrets are stored as keyed hashes and rows that grant access carry a MAC, both
//!   under a [`RecordKey`] derived from the index key, so the database alone grants nothing;
//! * checkpoints of the audit log's head are signed with an Ed25519 [`AuditSigningKey`]
//!   (`audit-signing.key`), so a log rewritten in the database is caught against them;
//! * the ring and the index key live in two 0600 files managed by [`KeyFiles`];
//! * archive entries (kept only because a law requires it) have their own [`ArchiveKey`],
//!   wrapped under the [`DayKey`] of their shred day; day keys come from a forward-secure
//!   [`ArchiveRatchet`] in a third 0600 file ([`ArchiveKeyFile`], `archive.keys`), and advancing
//!   it destroys every earlier day's key, so due entries become unreadable in every database
//!   backup too (see `archive.rs` for the scheme and what to back up).
//!
//! Nothing here knows about databases, HTTP or the clock. Randomness comes in as a parameter
//! (`&mut impl rand_core::CryptoRng`, rand_core 0.10, re-exported as [`rand_core`]), so tests
//! are deterministic; production passes an OS-seeded CSPRNG such as `rand::rng()` or
//! `rand_core::UnwrapErr(getrandom::SysRng)`.
//!
//! Key bytes live in zeroize-on-drop heap boxes and every key type's `Debug` is redacted.
//!
//! ```
//! use integritet_crypto::{
//!     DataKey, KeyFiles, ValueAad, blind_index, decrypt_value, encrypt_value, unwrap, wrap,
//! };
//! # use rand::SeedableRng;
//! # fn main() -> Result<(), integritet_crypto::CryptoError> {
//! # let dir = tempfile::tempdir().map_err(|e| integritet_crypto::CryptoError::Io {
//! #     action: "create", path: "tmp".into(), source: e })?;
//! # let data_dir = dir.path();
//! let mut rng = rand::rngs::StdRng::seed_from_u64(1); // production: an OS-seeded CSPRNG
//! let (ring, index_key) = KeyFiles::in_dir(data_dir.join("keys")).load_or_create(&mut rng)?;
//!
//! // A new subject: a data key, stored only wrapped.
//! let subject = [7u8; 16]; // the subject's UUID bytes
//! let data_key = DataKey::generate(&mut rng);
//! let stored_key: Vec<u8> = wrap(&ring, &mut rng, subject, &data_key)?.to_bytes();
//!
//! // A value, and its lookup token.
//! let aad = ValueAad::new(subject, "email");
//! let stored_value = encrypt_value(&data_key, &mut rng, &aad, b"anna@example.se")?;
//! let token = blind_index(&index_key, "email", b"anna@example.se");
//!
//! // Reading it back.
//! let wrapped = integritet_crypto::WrappedKey::from_bytes(&stored_key)?;
//! let data_key = unwrap(&ring, subject, &wrapped)?;
//! assert_eq!(&*decrypt_value(&data_key, &aad, &stored_value)?, b"anna@example.se");
//! # let _ = token;
//! # Ok(())
//! # }
//! ```

mod archive;
mod audit_chain;
mod audit_signing;
mod blind;
mod envelope;
mod error;
mod keyfile;
mod keyring;
mod live_ring;
mod record_key;
mod sealing;
mod secret;

pub use archive::{
    ARCHIVE_BLOB_OVERHEAD, ARCHIVE_BLOB_VERSION, ArchiveKey, ArchiveKeyFile, ArchiveRatchet,
    DayKey, WRAPPED_ARCHIVE_KEY_LEN, WRAPPED_ARCHIVE_KEY_VERSION, open_archive, seal_archive,
    unwrap_archive_key, wrap_archive_key, wrapped_archive_key_day,
};
pub use audit_chain::{AuditChainKeyFile, AuditChainSecret};
pub use audit_signing::{AuditPublicKey, AuditSigningKey, AuditSigningKeyFile};
pub use blind::{BlindIndexKey, blind_index};
pub use envelope::{
    DataKey, UNBOUND_VALUE_BLOB_VERSION, VALUE_BLOB_OVERHEAD, VALUE_BLOB_VERSION, ValueAad,
    ValueGrant, decrypt_value, encrypt_value, value_blob_version,
};
pub use error::CryptoError;
pub use keyfile::KeyFiles;
pub use keyring::{KekId, KeyRing, WRAPPED_KEY_VERSION, WrappedKey, unwrap, wrap};
pub use live_ring::LiveKeyRing;
pub use rand_core;
pub use record_key::{RecordKey, RecordMac};
pub use zeroize::Zeroizing;

#[cfg(test)]
mod test_support {
    /// Bytes from a hex string (test vectors only).
    pub(crate) fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap_or(0))
            .collect()
    }

    /// Whether `text` shows `key` in any of the usual encodings (hex, byte list, base64).
    pub(crate) fn shows_key_bytes(text: &str, key: &[u8; 32]) -> bool {
        use base64::Engine;
        let lower: String = key.iter().map(|b| format!("{b:02x}")).collect();
        let upper = lower.to_uppercase();
        let list = format!("{key:?}");
        let list_inner = list.trim_start_matches('[').trim_end_matches(']');
        let b64 = base64::engine::general_purpose::STANDARD.encode(key);
        // Any 8-byte window of the hex is already too much.
        let hex_leak = lower
            .as_bytes()
            .windows(16)
            .any(|w| text.contains(std::str::from_utf8(w).unwrap_or("\u{0}")))
            || upper
                .as_bytes()
                .windows(16)
                .any(|w| text.contains(std::str::from_utf8(w).unwrap_or("\u{0}")));
        hex_leak || text.contains(list_inner) || text.contains(&b64[..16])
    }
}
