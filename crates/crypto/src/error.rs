//! One error type for the crate. Messages say what went wrong and what to do about it, and
//! never contain key material or plaintext.

use std::path::PathBuf;

/// Everything that can go wrong in this crate.
///
/// Decryption failures are deliberately opaque ([`CryptoError::Decrypt`]): telling a caller
/// *why* a ciphertext did not authenticate would help an attacker, and the cause is always one
/// of "wrong key", "wrong subject, category, archive reference or shred day" or "the bytes were
/// altered".
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// The ciphertext did not authenticate under this key and associated data.
    #[error(
        "could not decrypt: wrong key, wrong subject or category (or archive reference or shred day), or the stored bytes were altered"
    )]
    Decrypt,

    /// The archive key of this day was destroyed when the archive ratchet advanced past it.
    #[error(
        "the archive key for {day} has been destroyed: entries due on or before it are shredded"
    )]
    Shredded {
        /// The day whose key was asked for.
        day: time::Date,
    },

    /// Stored bytes are not a blob this crate wrote (too short, unknown version, bad layout).
    #[error("stored {what} is malformed: {reason}")]
    Malformed {
        /// What was being read ("encrypted value", "wrapped key").
        what: &'static str,
        /// What is wrong with it.
        reason: String,
    },

    /// A plaintext too large for one XChaCha20-Poly1305 message (about 256 GiB).
    #[error("a value of {len} bytes is too large to encrypt")]
    ValueTooLarge {
        /// Length of the rejected plaintext in bytes.
        len: usize,
    },

    /// A wrapped key names a KEK the ring does not hold.
    #[error(
        "no key with id {id} in the key ring: was the key file replaced or a key retired too early?"
    )]
    UnknownKek {
        /// The id recorded in the wrapped key.
        id: String,
    },

    /// A key id that does not follow the id rules.
    #[error("invalid key id {id:?}: use 1 to 32 characters from a-z, 0-9, '-' and '_'")]
    InvalidKeyId {
        /// The rejected id.
        id: String,
    },

    /// The active KEK cannot be retired: everything new is wrapped with it.
    #[error("key {id} is the active key and cannot be retired; rotate first")]
    RetireActive {
        /// The active id.
        id: String,
    },

    /// A key file others may read or change.
    #[error(
        "key file {path} is readable by others (mode {mode:o}); run `chmod 600 {path}` and make sure only the service user owns it",
        path = path.display()
    )]
    KeyFileReadable {
        /// The key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },

    /// A key file that exists but cannot be parsed.
    #[error("key file {path} is damaged: {reason}; restore it from a backup", path = path.display())]
    KeyFileDamaged {
        /// The key file.
        path: PathBuf,
        /// What is wrong (never includes key bytes).
        reason: String,
    },

    /// One key file exists and the other does not: creating the missing one would silently make
    /// existing data unreadable or unsearchable, so we stop.
    #[error(
        "key file {missing} is missing but {present} exists; restore {missing} from a backup (a new key would make existing data unreadable or unsearchable); only on a fresh installation with no data yet, delete {present} and start again",
        missing = missing.display(),
        present = present.display()
    )]
    KeyFileMissing {
        /// The file that is not there.
        missing: PathBuf,
        /// The file that is.
        present: PathBuf,
    },

    /// Saving would drop or replace a key that another process wrote in the meantime.
    #[error(
        "key file {path} was changed by another process after this key ring was loaded ({reason}); nothing was written: load the key ring again and repeat the operation",
        path = path.display()
    )]
    KeyRingConflict {
        /// The key ring file.
        path: PathBuf,
        /// Which key would have been lost.
        reason: String,
    },

    /// Saving the archive ratchet would move the key file backwards or replace another ratchet.
    #[error(
        "archive key file {path} does not match this archive ratchet: {reason}; nothing was written",
        path = path.display()
    )]
    ArchiveRatchetConflict {
        /// The archive key file.
        path: PathBuf,
        /// What differs and what to do (never includes key bytes).
        reason: String,
    },

    /// Reading or writing a key file failed at the OS level.
    #[error("could not {action} key file {path}: {source}", path = path.display())]
    Io {
        /// What we were doing ("read", "create", "replace", ...).
        action: &'static str,
        /// The file involved.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}
