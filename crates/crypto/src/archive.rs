//! Crypto-shredding of the archive, so that it reaches backups.
//!
//! Archive entries hold data kept only because a law requires it (bookkeeping records kept
//! until the end of the seventh year, say). Each entry has a *shred day*: the last day it must
//! be kept. After that day the entry has to become unreadable everywhere, including in the
//! database backups that nobody can edit any more.
//!
//! # Layout
//!
//! * Every entry has its own random [`ArchiveKey`]; its content is sealed under it with
//!   [`seal_archive`], bound to the entry's reference (e.g. its id).
//! * The archive key is stored only wrapped ([`wrap_archive_key`]) under the [`DayKey`] of the
//!   entry's shred day, bound to the reference and the day.
//! * Day keys are derived from an [`ArchiveRatchet`], kept in a key file (`archive.keys`,
//!   [`ArchiveKeyFile`]) beside the other key files and **never in the database**.
//!
//! # The ratchet
//!
//! The file holds one day `D` and one 32-byte chain key `C_D`. Everything else is derived:
//!
//! ```text
//! C_{d+1}  = HMAC-SHA256(C_d, "integritet/archive-ratchet/next")
//! DayKey_d = HMAC-SHA256(C_d, "integritet/archive-ratchet/day-key")
//! ```
//!
//! (HMAC keys are the 32 bytes of the chain key; the input is the ASCII label, nothing else.)
//!
//! [`ArchiveRatchet::advance_to`]`(today)` replaces `(D, C_D)` by `(today, C_today)`, and
//! [`ArchiveKeyFile::advance`] writes that to the file atomically. From then on the day key of
//! every day before `today` is underivable: going back would mean inverting HMAC-SHA256. That
//! holds for the file, for the database (which never held any of these keys) and for every
//! backup of the database, so entries whose shred day has passed are gone there too, without
//! touching a single backup.
//!
//! Why hash forward rather than keep one random key per day: one secret covers every future
//! day, so an entry can be wrapped for a shred day ten years ahead the moment it is created,
//! with no list of thousands of keys to generate, store and prune; destroying the past is one
//! atomic file replacement; and the past cannot be recovered from anything the file still
//! holds. The day keys are a separate HMAC output, not the chain keys themselves, so a day key
//! that leaks (a memory dump of a process wrapping entries) exposes that day's entries only, not
//! the days after it.
//!
//! Derivation is deterministic, so several servers that share one database and a copy of the
//! same `archive.keys` derive the same day keys without coordinating; each advances its own
//! copy. Deriving day `d` costs `d - D` hashes (a few thousand for 7 to 10 years, a few
//! milliseconds); the ratchet memoises what it derived, so wrapping entries for a million
//! subjects that share a handful of shred days derives each day's key once.
//!
//! # Shred days
//!
//! An entry wrapped for shred day `s` stays readable while the ratchet is at `s` or earlier and
//! becomes unreadable once it advances to any later day. For "keep until the end of the
//! seventh year" use the last day of that year. [`ArchiveRatchet::day_key`] for a day before
//! the ratchet's day fails with [`CryptoError::Shredded`]: such an entry is already due, so do
//! not archive it at all.
//!
//! Advance every running copy daily (at start-up and from a daily job). `today` is always a
//! parameter; it must come from a clock you trust: advancing to a wrong date far in the future
//! destroys every day before it at once and cannot be undone, so callers should refuse
//! implausible jumps (e.g. more than a few days past the file's day) without an operator's
//! confirmation.
//!
//! # What to keep apart, and what to back up
//!
//! * **Never put `archive.keys` in the database or in the same backup as the database.** A
//!   database backup together with a copy of the file from before an entry's shred day can read
//!   the entry.
//! * **Do back the file up**, apart from the database: losing it shreds the whole archive at
//!   once, years before the law allows. But let those backups expire: a copy of the file taken
//!   on day `B` derives every day from `B` on, so an entry with shred day `s` is really gone
//!   only once no copy from day `s` or earlier is left anywhere (the live file, other servers'
//!   copies, key backups, file-system snapshots). Keep the key backups' retention short (days or
//!   weeks) and count it in the time to shred. Restoring an old copy revives every day since.
//! * A rename removes the old file's name, not necessarily its bytes: journals, snapshots and
//!   SSD remapping can keep them. Keep the key directory on an encrypted volume and out of
//!   long-lived snapshots.
//!
//! # Wrapped archive key format (version 1)
//!
//! ```text
//! offset  length  content
//! 0       1       format version, 0x01
//! 1       4       shred day as a Julian day number, i32 big-endian
//! 5       24      XChaCha20-Poly1305 nonce, random per wrap
//! 29      32      encrypted archive key
//! 61      16      Poly1305 tag
//! ```
//!
//! Encrypted under the day key of the shred day. Associated data:
//! `"integritet/archive-wrap" || version || shred day (4 bytes) || u32 BE len(reference) ||
//! reference`, so a wrapped key only unwraps for the entry and day it was made for, and its day
//! cannot be edited.
//!
//! # Archive blob format (version 1)
//!
//! ```text
//! offset  length  content
//! 0       1       format version, 0x01
//! 1       24      XChaCha20-Poly1305 nonce, random per blob
//! 25      n       ciphertext (n = plaintext length)
//! 25+n    16      Poly1305 tag
//! ```
//!
//! Encrypted under the entry's archive key. Associated data:
//! `"integritet/archive" || version || u32 BE len(reference) || reference`.
//!
//! # Key file format
//!
//! UTF-8 text, blank lines and `#` comments ignored, the key in standard base64 with padding:
//!
//! ```text
//! integritet-archive-ratchet v1
//! day 2026-11-25
//! key GkYfzdc1U1ca4/SNmLnOUIpZ8BWvzl60D3TanBQRNCw=
//! ```
//!
//! It follows the rules of the other key files (see [`KeyFiles`]): created with mode 0600 and
//! published with a hard link so an existing file is never overwritten, refused while group or
//! others may read it, replaced by temporary file + fsync + rename + directory fsync under an
//! exclusive lock (`.archive.keys.lock`). Saving never moves the file backwards: a ratchet that
//! is behind the file, or that is not the file's ratchet at all, is refused
//! ([`CryptoError::ArchiveRatchetConflict`]).
//!
//! ```
//! use integritet_crypto::{
//!     ArchiveKey, ArchiveKeyFile, CryptoError, open_archive, seal_archive, unwrap_archive_key,
//!     wrap_archive_key,
//! };
//! use time::macros::date;
//! # use rand::SeedableRng;
//! # fn main() -> Result<(), CryptoError> {
//! # let dir = tempfile::tempdir().map_err(|e| CryptoError::Io {
//! #     action: "create", path: "tmp".into(), source: e })?;
//! let mut rng = rand::rngs::StdRng::seed_from_u64(1); // production: an OS-seeded CSPRNG
//! let file = ArchiveKeyFile::in_dir(dir.path().join("keys"));
//! let mut ratchet = file.load_or_create(&mut rng, date!(2026 - 11 - 25))?;
//!
//! // Archiving an invoice that must be kept until the end of 2033.
//! let shred_day = date!(2033 - 12 - 31);
//! let key = ArchiveKey::generate(&mut rng);
//! let blob = seal_archive(&key, &mut rng, "invoice/4711", b"invoice 4711: 1 250,00 SEK")?;
//! let day_key = ratchet.day_key(shred_day)?;
//! let wrapped = wrap_archive_key(&day_key, &mut rng, "invoice/4711", &key)?;
//! // Store `blob`, `wrapped` and the shred day in the database.
//!
//! // Reading it back in 2030.
//! file.advance(&mut ratchet, date!(2030 - 03 - 01))?;
//! let key = unwrap_archive_key(&ratchet.day_key(shred_day)?, "invoice/4711", &wrapped)?;
//! assert_eq!(&*open_archive(&key, "invoice/4711", &blob)?, b"invoice 4711: 1 250,00 SEK");
//!
//! // On 2034-01-01 the day key of 2033-12-31 is destroyed, in every database backup too.
//! file.advance(&mut ratchet, date!(2034 - 01 - 01))?;
//! assert!(matches!(ratchet.day_key(shred_day), Err(CryptoError::Shredded { .. })));
//! # Ok(())
//! # }
//! ```
//!
//! [`KeyFiles`]: crate::KeyFiles

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use hmac::Mac;
use rand_core::CryptoRng;
use time::{Date, Month};
use zeroize::{Zeroize, Zeroizing};

use crate::blind::hmac_sha256;
use crate::error::CryptoError;
use crate::keyfile::{
    self, Created, KeyFiles, check_header, create_new, damaged, decode_key, exists, push_key,
    read_secret, records, replace,
};
use crate::sealing::{self, NONCE_LEN, TAG_LEN};
use crate::secret::{KEY_LEN, Key32};

/// Version byte at the start of every wrapped archive key this code writes.
pub const WRAPPED_ARCHIVE_KEY_VERSION: u8 = 1;

/// Length of a wrapped archive key: version + day + nonce + key + tag.
pub const WRAPPED_ARCHIVE_KEY_LEN: usize = 1 + 4 + NONCE_LEN + KEY_LEN + TAG_LEN;

/// Version byte at the start of every archive blob this code writes.
pub const ARCHIVE_BLOB_VERSION: u8 = 1;

/// Bytes an archive blob adds to its plaintext: version + nonce + tag.
pub const ARCHIVE_BLOB_OVERHEAD: usize = 1 + NONCE_LEN + TAG_LEN;

const NEXT_LABEL: &[u8] = b"integritet/archive-ratchet/next";
const DAY_KEY_LABEL: &[u8] = b"integritet/archive-ratchet/day-key";
const WRAP_AAD_LABEL: &[u8] = b"integritet/archive-wrap";
const BLOB_AAD_LABEL: &[u8] = b"integritet/archive";
const FILE_HEADER: &str = "integritet-archive-ratchet v1";
const WRAPPED_WHAT: &str = "wrapped archive key";
const BLOB_WHAT: &str = "archive entry";

/// How many derived days one ratchet remembers. Entries share few shred days (one per
/// retention rule and year), so this is far more than needed; it only bounds memory.
const MEMO_CAP: usize = 1024;

/// HMAC-SHA256(key, label) as a new key; the intermediate output is zeroed.
fn derive(key: &Key32, label: &[u8]) -> Key32 {
    let mut mac = hmac_sha256(key.bytes());
    mac.update(label);
    let mut out = mac.finalize().into_bytes();
    let derived = Key32::from_fn(|k| k.copy_from_slice(&out));
    out.as_mut_slice().zeroize();
    derived
}

/// Equality of two keys in time independent of where they differ.
fn same_bytes(a: &Key32, b: &Key32) -> bool {
    a.bytes()
        .iter()
        .zip(b.bytes())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

/// A derived day: its chain key (to derive later days from) and its day key.
struct Derived {
    chain: Key32,
    day_key: Key32,
}

/// The forward-secure day ratchet: a day and the chain key of that day, from which the key of
/// every later day is derived and no earlier one can be. See the module docs.
///
/// Not `Clone` (a copy would keep days alive that the original destroys); `Debug` shows only
/// the day. Shareable between threads (`&self` derivation is memoised behind a mutex); advance
/// it through `&mut`, e.g. behind an `RwLock`.
pub struct ArchiveRatchet {
    day: Date,
    chain: Key32,
    /// Days after `day` derived so far, keyed by Julian day. Never holds a day before `day`.
    memo: Mutex<BTreeMap<i32, Derived>>,
}

impl ArchiveRatchet {
    /// A new ratchet starting at `today`, with a fresh random chain key. For a new
    /// installation; normally [`ArchiveKeyFile::load_or_create`] calls this.
    pub fn generate(rng: &mut (impl CryptoRng + ?Sized), today: Date) -> Self {
        Self::from_parts(today, Key32::random(rng))
    }

    pub(crate) fn from_parts(day: Date, chain: Key32) -> Self {
        Self {
            day,
            chain,
            memo: Mutex::new(BTreeMap::new()),
        }
    }

    /// The ratchet's day: the earliest day whose key can still be derived.
    pub fn day(&self) -> Date {
        self.day
    }

    /// Moves the ratchet to `today`, destroying in memory the key of every earlier day (the
    /// old chain key and every memoised day before `today` are zeroed). Does nothing if `today`
    /// is not after the ratchet's day. Save with [`ArchiveKeyFile::save`], or use
    /// [`ArchiveKeyFile::advance`], which does both.
    pub fn advance_to(&mut self, today: Date) {
        if today <= self.day {
            return;
        }
        let chain = self.derive_forward(today.to_julian_day()).chain;
        self.set(today, chain);
    }

    /// Replaces the state by `(day, chain)`, which must be this ratchet's chain at a later day.
    fn set(&mut self, day: Date, chain: Key32) {
        self.day = day;
        self.chain = chain; // the old chain key is zeroed on drop
        let first = day.to_julian_day();
        self.memo
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|&d, _| d >= first);
    }

    /// The key that wraps the archive keys of entries with shred day `day`.
    ///
    /// Fails with [`CryptoError::Shredded`] if `day` is before the ratchet's day: that key is
    /// destroyed. Deriving costs `day - self.day()` hashes the first time and one map look-up
    /// after that.
    pub fn day_key(&self, day: Date) -> Result<DayKey, CryptoError> {
        let target = day.to_julian_day();
        if day < self.day {
            return Err(CryptoError::Shredded { day });
        }
        let derived = self.derive_forward(target);
        Ok(DayKey {
            day,
            key: derived.day_key,
        })
    }

    /// The chain key of `day` (not before the ratchet's day) and how many hashes it took.
    fn chain_key(&self, day: Date) -> Result<(Key32, u64), CryptoError> {
        if day < self.day {
            return Err(CryptoError::Shredded { day });
        }
        let (derived, steps) = self.derive_counted(day.to_julian_day());
        Ok((derived.chain, steps))
    }

    fn derive_forward(&self, target: i32) -> Derived {
        self.derive_counted(target).0
    }

    /// Derives day `target` (a Julian day not before `self.day`) from the nearest earlier known
    /// day, memoising it. Returns copies of the keys and the number of chain steps taken.
    fn derive_counted(&self, target: i32) -> (Derived, u64) {
        let base = self.day.to_julian_day();
        let mut memo = self.memo.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(found) = memo.get(&target) {
            return (
                Derived {
                    chain: found.chain.clone(),
                    day_key: found.day_key.clone(),
                },
                0,
            );
        }
        let (mut at, mut chain) = memo
            .range(base..target)
            .next_back()
            .map(|(&d, found)| (d, found.chain.clone()))
            .unwrap_or_else(|| (base, self.chain.clone()));
        let mut steps = 0u64;
        while at < target {
            chain = derive(&chain, NEXT_LABEL);
            at += 1;
            steps += 1;
        }
        let day_key = derive(&chain, DAY_KEY_LABEL);
        let derived = Derived {
            chain: chain.clone(),
            day_key: day_key.clone(),
        };
        memo.insert(target, derived);
        if memo.len() > MEMO_CAP {
            // The earliest day is the cheapest to derive again.
            memo.pop_first();
        }
        (Derived { chain, day_key }, steps)
    }

    /// Whether `self` and `other` are the same chain: the earlier one derives the later one's
    /// chain key at the later one's day.
    fn same_chain(&self, other: &ArchiveRatchet) -> bool {
        let (early, late) = if self.day <= other.day {
            (self, other)
        } else {
            (other, self)
        };
        early
            .chain_key(late.day)
            .is_ok_and(|(key, _)| same_bytes(&key, &late.chain))
    }

    #[cfg(test)]
    fn memo_days(&self) -> Vec<Date> {
        self.memo
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .keys()
            .filter_map(|&d| Date::from_julian_day(d).ok())
            .collect()
    }
}

impl fmt::Debug for ArchiveRatchet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ArchiveRatchet")
            .field("day", &self.day)
            .field("key", &self.chain)
            .finish()
    }
}

/// The key of one shred day, from [`ArchiveRatchet::day_key`]: wraps and unwraps the archive
/// keys of entries due on that day. Zeroed on drop; `Debug` shows only the day.
pub struct DayKey {
    day: Date,
    key: Key32,
}

impl DayKey {
    /// The shred day this key belongs to.
    pub fn day(&self) -> Date {
        self.day
    }
}

impl fmt::Debug for DayKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DayKey")
            .field("day", &self.day)
            .field("key", &self.key)
            .finish()
    }
}

/// One archive entry's random 256-bit key. Zeroed on drop; `Debug` prints no key bytes.
///
/// Only ever stored wrapped ([`wrap_archive_key`]); there is no way to get the raw bytes out.
pub struct ArchiveKey(Key32);

impl ArchiveKey {
    /// A fresh random key for a new archive entry.
    pub fn generate(rng: &mut (impl CryptoRng + ?Sized)) -> Self {
        Self(Key32::random(rng))
    }
}

impl fmt::Debug for ArchiveKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ArchiveKey([REDACTED])")
    }
}

/// References are short; saturating keeps this total. Two references longer than 4 GiB would
/// also differ in their bytes, which are authenticated as well.
fn len_u32(len: usize) -> u32 {
    u32::try_from(len).unwrap_or(u32::MAX)
}

fn push_reference(aad: &mut Vec<u8>, reference: &str) {
    aad.extend_from_slice(&len_u32(reference.len()).to_be_bytes());
    aad.extend_from_slice(reference.as_bytes());
}

fn wrap_aad(version: u8, day: i32, reference: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(WRAP_AAD_LABEL.len() + 1 + 4 + 4 + reference.len());
    aad.extend_from_slice(WRAP_AAD_LABEL);
    aad.push(version);
    aad.extend_from_slice(&day.to_be_bytes());
    push_reference(&mut aad, reference);
    aad
}

fn blob_aad(version: u8, reference: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(BLOB_AAD_LABEL.len() + 1 + 4 + reference.len());
    aad.extend_from_slice(BLOB_AAD_LABEL);
    aad.push(version);
    push_reference(&mut aad, reference);
    aad
}

/// Wraps an entry's archive key under the day key of its shred day ([`DayKey::day`]), bound
/// to the entry's `reference`. See the module docs for the layout
/// ([`WRAPPED_ARCHIVE_KEY_LEN`] bytes).
pub fn wrap_archive_key(
    day_key: &DayKey,
    rng: &mut (impl CryptoRng + ?Sized),
    reference: &str,
    key: &ArchiveKey,
) -> Result<Vec<u8>, CryptoError> {
    let day = day_key.day.to_julian_day();
    let mut out = Vec::with_capacity(WRAPPED_ARCHIVE_KEY_LEN);
    out.push(WRAPPED_ARCHIVE_KEY_VERSION);
    out.extend_from_slice(&day.to_be_bytes());
    sealing::seal_into(
        &mut out,
        day_key.key.bytes(),
        rng,
        &wrap_aad(WRAPPED_ARCHIVE_KEY_VERSION, day, reference),
        key.0.bytes(),
    )?;
    Ok(out)
}

/// Splits a wrapped archive key into version, Julian day and sealed part.
fn parse_wrapped(wrapped: &[u8]) -> Result<(u8, i32, &[u8]), CryptoError> {
    let malformed = |reason: String| CryptoError::Malformed {
        what: WRAPPED_WHAT,
        reason,
    };
    let (&version, rest) = wrapped
        .split_first()
        .ok_or_else(|| malformed("it is empty".to_owned()))?;
    if version != WRAPPED_ARCHIVE_KEY_VERSION {
        return Err(malformed(format!(
            "unknown format version {version} (this build reads {WRAPPED_ARCHIVE_KEY_VERSION})"
        )));
    }
    if wrapped.len() != WRAPPED_ARCHIVE_KEY_LEN {
        return Err(malformed(format!(
            "it is {} bytes, expected {WRAPPED_ARCHIVE_KEY_LEN}",
            wrapped.len()
        )));
    }
    let (day, sealed) = rest
        .split_first_chunk::<4>()
        .ok_or_else(|| malformed("it has no shred day".to_owned()))?;
    Ok((version, i32::from_be_bytes(*day), sealed))
}

/// The shred day recorded in a wrapped archive key (not secret; authenticated on unwrap).
pub fn wrapped_archive_key_day(wrapped: &[u8]) -> Result<Date, CryptoError> {
    let (_, day, _) = parse_wrapped(wrapped)?;
    Date::from_julian_day(day).map_err(|_| CryptoError::Malformed {
        what: WRAPPED_WHAT,
        reason: format!("Julian day {day} is not a supported date"),
    })
}

/// Unwraps an archive key made by [`wrap_archive_key`] for the same reference, with the day
/// key of the same shred day.
///
/// Fails with [`CryptoError::Decrypt`] for another reference, another day's key or another
/// ratchet's key, or altered bytes.
pub fn unwrap_archive_key(
    day_key: &DayKey,
    reference: &str,
    wrapped: &[u8],
) -> Result<ArchiveKey, CryptoError> {
    let (version, day, sealed) = parse_wrapped(wrapped)?;
    if day != day_key.day.to_julian_day() {
        // Would not authenticate anyway: another day's key and another day in the AAD.
        return Err(CryptoError::Decrypt);
    }
    let plain = sealing::open(
        day_key.key.bytes(),
        &wrap_aad(version, day, reference),
        sealed,
        WRAPPED_WHAT,
    )?;
    Key32::from_slice(&plain)
        .map(ArchiveKey)
        .ok_or_else(|| CryptoError::Malformed {
            what: WRAPPED_WHAT,
            reason: format!("the key is {} bytes, expected {KEY_LEN}", plain.len()),
        })
}

/// Encrypts an archive entry's content under its archive key, bound to its `reference`.
///
/// Fails only for plaintexts too large for one AEAD message (about 256 GiB).
pub fn seal_archive(
    key: &ArchiveKey,
    rng: &mut (impl CryptoRng + ?Sized),
    reference: &str,
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let mut blob = Vec::with_capacity(ARCHIVE_BLOB_OVERHEAD + plaintext.len());
    blob.push(ARCHIVE_BLOB_VERSION);
    sealing::seal_into(
        &mut blob,
        key.0.bytes(),
        rng,
        &blob_aad(ARCHIVE_BLOB_VERSION, reference),
        plaintext,
    )?;
    Ok(blob)
}

/// Decrypts a blob written by [`seal_archive`] with the same key and reference. The plaintext
/// is zeroed when the returned buffer is dropped.
pub fn open_archive(
    key: &ArchiveKey,
    reference: &str,
    blob: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let (&version, sealed) = blob.split_first().ok_or(CryptoError::Malformed {
        what: BLOB_WHAT,
        reason: "it is empty".to_owned(),
    })?;
    if version != ARCHIVE_BLOB_VERSION {
        return Err(CryptoError::Malformed {
            what: BLOB_WHAT,
            reason: format!(
                "unknown format version {version} (this build reads {ARCHIVE_BLOB_VERSION})"
            ),
        });
    }
    sealing::open(
        key.0.bytes(),
        &blob_aad(version, reference),
        sealed,
        BLOB_WHAT,
    )
}

// ---- the key file ----

/// The archive ratchet's key file (default name `archive.keys`). Paths come from the caller;
/// [`KeyFiles::archive_key_file`] puts it beside the key ring.
///
/// See the module docs for the format, the safety rules and what to back up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveKeyFile {
    path: PathBuf,
}

impl KeyFiles {
    /// The archive key file `archive.keys` in the directory of the key ring.
    pub fn archive_key_file(&self) -> ArchiveKeyFile {
        ArchiveKeyFile::in_dir(keyfile::parent_dir(self.key_ring_path()))
    }

    /// The audit checkpoint signing key beside the key ring.
    pub fn audit_signing_key_file(&self) -> crate::AuditSigningKeyFile {
        crate::AuditSigningKeyFile::in_dir(keyfile::parent_dir(self.key_ring_path()))
    }

    /// The audit chain key beside the key ring.
    pub fn audit_chain_key_file(&self) -> crate::AuditChainKeyFile {
        crate::AuditChainKeyFile::in_dir(keyfile::parent_dir(self.key_ring_path()))
    }
}

impl ArchiveKeyFile {
    /// File name of the archive key file inside a key directory.
    pub const FILE_NAME: &'static str = "archive.keys";

    /// The file at an explicit path.
    pub fn at(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// The file in `dir` under its default name.
    pub fn in_dir(dir: impl AsRef<Path>) -> Self {
        Self::at(dir.as_ref().join(Self::FILE_NAME))
    }

    /// Path of the file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Loads the ratchet; never creates anything.
    pub fn load(&self) -> Result<ArchiveRatchet, CryptoError> {
        let text = read_secret(&self.path)?;
        parse_ratchet(&self.path, &text)
    }

    /// Loads the ratchet, or on first use creates the file with a new ratchet starting at
    /// `today`. Missing parent directories are created with mode 0700.
    ///
    /// The file is not advanced to `today` when it exists; call [`ArchiveKeyFile::advance`].
    /// If the database already holds archive entries, use [`ArchiveKeyFile::load`]: a new
    /// ratchet would silently make all of them unreadable.
    pub fn load_or_create(
        &self,
        rng: &mut (impl CryptoRng + ?Sized),
        today: Date,
    ) -> Result<ArchiveRatchet, CryptoError> {
        if exists(&self.path)? {
            return self.load();
        }
        let _lock = keyfile::lock_file(&self.path)?;
        if exists(&self.path)? {
            return self.load();
        }
        let ratchet = ArchiveRatchet::generate(rng, today);
        match create_new(&self.path, &ratchet_text(ratchet.day, &ratchet.chain))? {
            Created::Ours => Ok(ratchet),
            // Another process won the race: use its ratchet, never overwrite it.
            Created::Theirs => self.load(),
        }
    }

    /// Atomically replaces the file by `ratchet`'s state, e.g. after
    /// [`ArchiveRatchet::advance_to`]; the old key is gone from the file once this returns.
    ///
    /// Writes nothing and fails with [`CryptoError::ArchiveRatchetConflict`] if the file is
    /// ahead of `ratchet` (another process advanced it: load it again) or holds a different
    /// ratchet; fails if the file does not exist (restore it; [`ArchiveKeyFile::load_or_create`]
    /// is the only way to create one). Writes nothing if the file is already at this state.
    pub fn save(&self, ratchet: &ArchiveRatchet) -> Result<(), CryptoError> {
        let _lock = keyfile::lock_file(&self.path)?;
        let on_disk = self.load()?;
        if on_disk.day > ratchet.day {
            return Err(self.conflict(format!(
                "another process advanced the file to {} while this ratchet is at {}, and the \
                 keys in between are destroyed on disk; load the file again",
                on_disk.day, ratchet.day
            )));
        }
        self.check_same_chain(&on_disk, ratchet)?;
        if on_disk.day == ratchet.day {
            return Ok(());
        }
        replace(&self.path, &ratchet_text(ratchet.day, &ratchet.chain))
    }

    /// Advances `ratchet` and the file together to `today` (or to the file's day, if another
    /// process already advanced the file further) and returns once the file is durable.
    ///
    /// This is the daily operation: it never moves the file backwards, and it catches the
    /// in-memory ratchet up with the file. Fails with [`CryptoError::ArchiveRatchetConflict`]
    /// (changing nothing) if the file holds a different ratchet. On any error `ratchet` is
    /// left as it was.
    pub fn advance(&self, ratchet: &mut ArchiveRatchet, today: Date) -> Result<(), CryptoError> {
        let _lock = keyfile::lock_file(&self.path)?;
        let on_disk = self.load()?;
        self.check_same_chain(&on_disk, ratchet)?;
        let target = today.max(on_disk.day).max(ratchet.day);
        let (chain, _) = ratchet.chain_key(target)?;
        if target > on_disk.day {
            replace(&self.path, &ratchet_text(target, &chain))?;
        }
        if target > ratchet.day {
            ratchet.set(target, chain);
        }
        Ok(())
    }

    fn check_same_chain(
        &self,
        on_disk: &ArchiveRatchet,
        ratchet: &ArchiveRatchet,
    ) -> Result<(), CryptoError> {
        if on_disk.same_chain(ratchet) {
            Ok(())
        } else {
            Err(self.conflict(
                "the file holds a different ratchet, whose keys do not lead to this one's (was \
                 it replaced, or restored from another installation?); entries wrapped by this \
                 process need this ratchet, so find out which one is right before writing \
                 anything"
                    .to_owned(),
            ))
        }
    }

    fn conflict(&self, reason: String) -> CryptoError {
        CryptoError::ArchiveRatchetConflict {
            path: self.path.clone(),
            reason,
        }
    }
}

/// `YYYY-MM-DD` (at least four year digits, `-` before negative years).
fn format_day(day: Date) -> String {
    let (year, month, dom) = (day.year(), u8::from(day.month()), day.day());
    let sign = if year < 0 { "-" } else { "" };
    format!("{sign}{:04}-{month:02}-{dom:02}", year.unsigned_abs())
}

/// The inverse of [`format_day`]; `None` for anything else.
fn parse_day(text: &str) -> Option<Date> {
    let (negative, rest) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let mut parts = rest.split('-');
    let (year, month, dom) = (parts.next()?, parts.next()?, parts.next()?);
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if parts.next().is_some()
        || year.len() < 4
        || month.len() != 2
        || dom.len() != 2
        || !(digits(year) && digits(month) && digits(dom))
    {
        return None;
    }
    let year: i32 = year.parse().ok()?;
    let year = if negative { -year } else { year };
    let month = Month::try_from(month.parse::<u8>().ok()?).ok()?;
    Date::from_calendar_date(year, month, dom.parse().ok()?).ok()
}

fn parse_ratchet(path: &Path, text: &str) -> Result<ArchiveRatchet, CryptoError> {
    let mut recs = records(text);
    check_header(path, &mut recs, FILE_HEADER)?;
    let mut day = None;
    let mut key = None;
    for (line, fields) in recs {
        match fields.as_slice() {
            ["day", text] if day.is_none() => {
                day = Some(parse_day(text).ok_or_else(|| {
                    damaged(
                        path,
                        format!("line {line}: the day is not a date like 2026-11-25"),
                    )
                })?);
            }
            ["key", b64] if key.is_none() => {
                key = Some(decode_key(path, line, "the key", b64)?);
            }
            _ => {
                return Err(damaged(
                    path,
                    format!(
                        "line {line}: expected a single `day <yyyy-mm-dd>` and a single `key <base64>` line"
                    ),
                ));
            }
        }
    }
    let day = day.ok_or_else(|| damaged(path, "it has no `day <yyyy-mm-dd>` line"))?;
    let key = key.ok_or_else(|| damaged(path, "it has no `key <base64>` line"))?;
    Ok(ArchiveRatchet::from_parts(day, key))
}

fn ratchet_text(day: Date, chain: &Key32) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::with_capacity(1024));
    out.push_str(
        "# Integritet archive key ratchet: the key of the day below; later days' keys are\n",
    );
    out.push_str(
        "# derived from it, earlier days' keys are destroyed. Keep secret (chmod 600) and\n",
    );
    out.push_str(
        "# never with the database or its backups. Back it up apart, with short retention:\n",
    );
    out.push_str("# an old copy brings shredded archive entries back.\n");
    out.push_str(FILE_HEADER);
    out.push('\n');
    out.push_str("day ");
    out.push_str(&format_day(day));
    out.push('\n');
    out.push_str("key ");
    push_key(&mut out, chain);
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use rand::SeedableRng;
    use rand::rngs::StdRng;
    use time::macros::date;

    use super::*;
    use crate::test_support::{hex, shows_key_bytes};

    fn rng() -> StdRng {
        StdRng::seed_from_u64(11)
    }

    fn fixed(day: Date) -> ArchiveRatchet {
        ArchiveRatchet::from_parts(day, Key32::from_slice(&[0x42; 32]).unwrap())
    }

    fn hex_of(key: &Key32) -> String {
        key.bytes().iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn derivation_matches_the_documented_construction() {
        // Computed independently (Python hmac/hashlib): c = b"\x42" * 32; three times
        // c = hmac(c, b"integritet/archive-ratchet/next"); then hmac(c, ".../day-key").
        let r = fixed(date!(2026 - 11 - 25));
        let (chain, steps) = r.chain_key(date!(2026 - 11 - 28)).unwrap();
        assert_eq!(steps, 3);
        assert_eq!(
            hex_of(&chain),
            "debd18350151bac10fb67317cb5e3893c83d24aa0ffef693ec8601dba21249b6"
        );
        let dk = r.day_key(date!(2026 - 11 - 28)).unwrap();
        assert_eq!(
            hex_of(&dk.key),
            "1c0289420477e93772fe5a5bc39395d347c651e364e2a8ed5f85bb9a774554ab"
        );
        // The day key of the ratchet's own day is a hash of the stored key, never the key.
        let today = r.day_key(date!(2026 - 11 - 25)).unwrap();
        assert!(!same_bytes(&today.key, &r.chain));
    }

    #[test]
    fn days_before_the_ratchet_are_shredded() {
        let r = fixed(date!(2026 - 11 - 25));
        let err = r.day_key(date!(2026 - 11 - 24)).unwrap_err();
        assert!(matches!(err, CryptoError::Shredded { day } if day == date!(2026 - 11 - 24)));
        assert_eq!(
            err.to_string(),
            "the archive key for 2026-11-24 has been destroyed: entries due on or before it are shredded"
        );
        assert!(r.day_key(date!(2026 - 11 - 25)).is_ok());
    }

    #[test]
    fn advancing_forgets_the_past_and_keeps_the_future() {
        let mut r = fixed(date!(2026 - 11 - 25));
        let later = hex_of(&r.day_key(date!(2033 - 12 - 31)).unwrap().key);
        let soon = hex_of(&r.day_key(date!(2026 - 12 - 01)).unwrap().key);
        assert_eq!(
            r.memo_days(),
            [date!(2026 - 12 - 01), date!(2033 - 12 - 31)]
        );
        r.advance_to(date!(2027 - 01 - 01));
        assert_eq!(r.day(), date!(2027 - 01 - 01));
        // The memoised key of a destroyed day went with it.
        assert_eq!(
            r.memo_days(),
            [date!(2027 - 01 - 01), date!(2033 - 12 - 31)]
        );
        assert!(matches!(
            r.day_key(date!(2026 - 12 - 01)),
            Err(CryptoError::Shredded { .. })
        ));
        assert_eq!(
            hex_of(&r.day_key(date!(2033 - 12 - 31)).unwrap().key),
            later
        );
        // Same result from a fresh ratchet that never memoised anything.
        let fresh = fixed(date!(2026 - 11 - 25));
        assert_eq!(
            hex_of(&fresh.day_key(date!(2026 - 12 - 01)).unwrap().key),
            soon
        );
        assert_eq!(
            hex_of(&fresh.day_key(date!(2033 - 12 - 31)).unwrap().key),
            later
        );
    }

    #[test]
    fn advancing_backwards_or_to_the_same_day_does_nothing() {
        let mut r = fixed(date!(2026 - 11 - 25));
        let before = hex_of(&r.chain);
        r.advance_to(date!(2026 - 11 - 25));
        r.advance_to(date!(2020 - 01 - 01));
        assert_eq!(r.day(), date!(2026 - 11 - 25));
        assert_eq!(hex_of(&r.chain), before);
    }

    #[test]
    fn the_memo_derives_each_day_once_and_agrees_with_fresh_derivation() {
        let r = fixed(date!(2026 - 11 - 25));
        let shred_days = [
            date!(2033 - 12 - 31),
            date!(2036 - 12 - 31),
            date!(2029 - 06 - 30),
        ];
        let (_, first) = r.chain_key(shred_days[0]).unwrap();
        assert_eq!(first, 2593);
        for _ in 0..1000 {
            for day in shred_days {
                let _ = r.day_key(day).unwrap();
            }
        }
        // Every later look-up is free.
        for day in shred_days {
            assert_eq!(r.chain_key(day).unwrap().1, 0);
        }
        // A new day continues from the nearest memoised earlier day.
        assert_eq!(r.chain_key(date!(2034 - 01 - 01)).unwrap().1, 1);
        for day in shred_days {
            let fresh = fixed(date!(2026 - 11 - 25));
            assert!(same_bytes(
                &r.day_key(day).unwrap().key,
                &fresh.day_key(day).unwrap().key
            ));
        }
    }

    #[test]
    fn the_memo_is_capped() {
        let r = fixed(date!(2026 - 01 - 01));
        let start = date!(2026 - 01 - 01).to_julian_day();
        for i in 0..(MEMO_CAP as i32 + 50) {
            let _ = r
                .day_key(Date::from_julian_day(start + i).unwrap())
                .unwrap();
        }
        assert_eq!(r.memo_days().len(), MEMO_CAP);
        let last = Date::from_julian_day(start + MEMO_CAP as i32 + 49).unwrap();
        assert_eq!(r.chain_key(last).unwrap().1, 0);
    }

    #[test]
    fn wrap_unwrap_round_trip_and_layout() {
        let mut rng = rng();
        let r = ArchiveRatchet::generate(&mut rng, date!(2026 - 11 - 25));
        let dk = r.day_key(date!(2033 - 12 - 31)).unwrap();
        let key = ArchiveKey::generate(&mut rng);
        let wrapped = wrap_archive_key(&dk, &mut rng, "invoice/1", &key).unwrap();
        assert_eq!(wrapped.len(), WRAPPED_ARCHIVE_KEY_LEN);
        assert_eq!(wrapped[0], WRAPPED_ARCHIVE_KEY_VERSION);
        assert_eq!(
            wrapped[1..5],
            date!(2033 - 12 - 31).to_julian_day().to_be_bytes()
        );
        assert_eq!(
            wrapped_archive_key_day(&wrapped).unwrap(),
            date!(2033 - 12 - 31)
        );
        assert!(
            !wrapped
                .windows(8)
                .any(|w| key.0.bytes().windows(8).any(|k| k == w))
        );
        let back = unwrap_archive_key(&dk, "invoice/1", &wrapped).unwrap();
        assert!(same_bytes(&back.0, &key.0));
    }

    /// Made by an independent implementation (Python: HChaCha20 + `cryptography`'s
    /// ChaCha20Poly1305) with day key `[7; 32]`, nonce `1..=24`, archive key `[9; 32]`,
    /// reference "invoice/4711" and day 2033-12-31; and an archive blob under key `[9; 32]`
    /// with nonce `101..=124`. If these fail, archived data would become unreadable.
    const GOLDEN_WRAPPED_V1: &str = "01002598db0102030405060708090a0b0c0d0e0f1011121314151617184bcc57e9\
                                     26f574e79f668081b260ffa0667bc62a1e18b49a18bf856e7c6e69676af2bd\
                                     59923e2d5a8914a1149023e906";
    const GOLDEN_BLOB_V1: &str = "0165666768696a6b6c6d6e6f707172737475767778797a7b7c4356564e9f66da\
                                  6ac2385d697a8452d3d36d85d7bb4f0e56b2b1e5a1cd495f05cba3c022424c0f\
                                  a9c4c4";

    #[test]
    fn opens_independently_made_v1_blobs() {
        let dk = DayKey {
            day: date!(2033 - 12 - 31),
            key: Key32::from_slice(&[7; 32]).unwrap(),
        };
        let wrapped = hex(GOLDEN_WRAPPED_V1);
        let key = unwrap_archive_key(&dk, "invoice/4711", &wrapped).unwrap();
        assert_eq!(key.0.bytes(), &[9; 32]);
        let blob = hex(GOLDEN_BLOB_V1);
        let plain = open_archive(&key, "invoice/4711", &blob).unwrap();
        assert_eq!(plain.as_slice(), b"invoice 4711: 1 250,00 SEK");
        assert!(open_archive(&key, "invoice/4712", &blob).is_err());
    }

    #[test]
    fn wrong_reference_day_or_key_fails() {
        let mut rng = rng();
        let r = ArchiveRatchet::generate(&mut rng, date!(2026 - 11 - 25));
        let other = ArchiveRatchet::generate(&mut rng, date!(2026 - 11 - 25));
        let day = date!(2033 - 12 - 31);
        let dk = r.day_key(day).unwrap();
        let key = ArchiveKey::generate(&mut rng);
        let wrapped = wrap_archive_key(&dk, &mut rng, "invoice/1", &key).unwrap();
        let fails = |dk: &DayKey, reference: &str, bytes: &[u8]| {
            matches!(
                unwrap_archive_key(dk, reference, bytes),
                Err(CryptoError::Decrypt)
            )
        };
        assert!(fails(&dk, "invoice/2", &wrapped));
        assert!(fails(&dk, "", &wrapped));
        assert!(fails(
            &r.day_key(date!(2034 - 01 - 01)).unwrap(),
            "invoice/1",
            &wrapped
        ));
        assert!(fails(&other.day_key(day).unwrap(), "invoice/1", &wrapped));
        // Editing the recorded day (to the key's day) is caught by the AAD.
        let next = r.day_key(date!(2034 - 01 - 01)).unwrap();
        let mut moved = wrapped.clone();
        moved[1..5].copy_from_slice(&date!(2034 - 01 - 01).to_julian_day().to_be_bytes());
        assert!(fails(&next, "invoice/1", &moved));
        assert!(fails(&dk, "invoice/1", &moved));
        // A key in the right place but under the day-less chain key does not work either.
        let chain_as_day_key = DayKey {
            day,
            key: r.chain_key(day).unwrap().0,
        };
        assert!(fails(&chain_as_day_key, "invoice/1", &wrapped));
    }

    #[test]
    fn every_tampered_byte_fails() {
        let mut rng = rng();
        let r = ArchiveRatchet::generate(&mut rng, date!(2026 - 11 - 25));
        let dk = r.day_key(date!(2030 - 01 - 01)).unwrap();
        let key = ArchiveKey::generate(&mut rng);
        let wrapped = wrap_archive_key(&dk, &mut rng, "a", &key).unwrap();
        for i in 0..wrapped.len() {
            let mut bad = wrapped.clone();
            bad[i] ^= 0x01;
            assert!(unwrap_archive_key(&dk, "a", &bad).is_err(), "byte {i}");
        }
        let blob = seal_archive(&key, &mut rng, "a", b"kept for the tax office").unwrap();
        for i in 0..blob.len() {
            let mut bad = blob.clone();
            bad[i] ^= 0x01;
            assert!(open_archive(&key, "a", &bad).is_err(), "byte {i}");
        }
    }

    #[test]
    fn malformed_input_is_reported() {
        let mut rng = rng();
        let r = ArchiveRatchet::generate(&mut rng, date!(2026 - 11 - 25));
        let dk = r.day_key(date!(2030 - 01 - 01)).unwrap();
        let key = ArchiveKey::generate(&mut rng);
        let wrapped = wrap_archive_key(&dk, &mut rng, "a", &key).unwrap();
        let msg = |r: Result<ArchiveKey, CryptoError>| r.unwrap_err().to_string();
        assert!(msg(unwrap_archive_key(&dk, "a", &[])).contains("is empty"));
        assert!(
            msg(unwrap_archive_key(&dk, "a", &wrapped[..40])).contains("is 40 bytes, expected 77")
        );
        let mut v2 = wrapped.clone();
        v2[0] = 2;
        assert!(msg(unwrap_archive_key(&dk, "a", &v2)).contains("unknown format version 2"));
        let mut far = wrapped.clone();
        far[1..5].copy_from_slice(&i32::MAX.to_be_bytes());
        assert!(matches!(
            wrapped_archive_key_day(&far),
            Err(CryptoError::Malformed { .. })
        ));

        let blob = seal_archive(&key, &mut rng, "a", b"x").unwrap();
        assert!(open_archive(&key, "a", &[]).is_err());
        assert!(matches!(
            open_archive(&key, "a", &blob[..ARCHIVE_BLOB_OVERHEAD - 1]),
            Err(CryptoError::Malformed { .. })
        ));
        let mut v2 = blob.clone();
        v2[0] = 2;
        assert!(
            open_archive(&key, "a", &v2)
                .unwrap_err()
                .to_string()
                .contains("unknown format version 2")
        );
    }

    #[test]
    fn seal_open_round_trip_and_reference_binding() {
        let mut rng = rng();
        let key = ArchiveKey::generate(&mut rng);
        let other = ArchiveKey::generate(&mut rng);
        let blob = seal_archive(&key, &mut rng, "invoice/1", b"1 250,00 SEK").unwrap();
        assert_eq!(blob.len(), ARCHIVE_BLOB_OVERHEAD + 12);
        assert_eq!(blob[0], ARCHIVE_BLOB_VERSION);
        assert_eq!(
            open_archive(&key, "invoice/1", &blob).unwrap().as_slice(),
            b"1 250,00 SEK"
        );
        assert!(matches!(
            open_archive(&key, "invoice/2", &blob),
            Err(CryptoError::Decrypt)
        ));
        assert!(matches!(
            open_archive(&other, "invoice/1", &blob),
            Err(CryptoError::Decrypt)
        ));
        // Length-prefixed reference: no shifting of bytes between label and reference.
        assert_ne!(blob_aad(1, "ab"), blob_aad(1, "a"));
        assert_ne!(wrap_aad(1, 5, "ab"), wrap_aad(1, 5, "a"));
    }

    #[test]
    fn days_format_and_parse() {
        for day in [
            date!(2026 - 11 - 25),
            date!(0001 - 01 - 01),
            date!(0000 - 02 - 29),
            date!(-0042 - 03 - 01),
            Date::MIN,
            Date::MAX,
        ] {
            assert_eq!(parse_day(&format_day(day)), Some(day), "{day}");
        }
        assert_eq!(format_day(date!(2026 - 01 - 05)), "2026-01-05");
        for bad in [
            "",
            "2026-1-05",
            "2026-01-5",
            "26-01-05",
            "2026-02-30",
            "2026-13-01",
            "2026-01-05-",
            "+2026-01-05",
            "2026/01/05",
            "2026-01-0x",
            "--2026-01-05",
        ] {
            assert_eq!(parse_day(bad), None, "{bad}");
        }
    }

    #[test]
    fn debug_is_redacted() {
        let mut rng = rng();
        let r = ArchiveRatchet::generate(&mut rng, date!(2026 - 11 - 25));
        let dk = r.day_key(date!(2030 - 01 - 01)).unwrap();
        let key = ArchiveKey::generate(&mut rng);
        assert_eq!(
            format!("{r:?}"),
            "ArchiveRatchet { day: 2026-11-25, key: [REDACTED] }"
        );
        assert_eq!(
            format!("{dk:?}"),
            "DayKey { day: 2030-01-01, key: [REDACTED] }"
        );
        assert_eq!(format!("{key:?}"), "ArchiveKey([REDACTED])");
        let shown = format!("{r:?} {r:#?} {dk:?} {dk:#?} {key:?} {key:#?}");
        assert!(!shows_key_bytes(&shown, r.chain.bytes()));
        assert!(!shows_key_bytes(&shown, dk.key.bytes()));
        assert!(!shows_key_bytes(&shown, key.0.bytes()));
    }
}
