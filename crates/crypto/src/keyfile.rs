//! Key files on disk: the KEK ring and the blind-index key, each in its own text file that only
//! the service user may read.
//!
//! Keep both files apart from the database and its backups: crypto-shredding only works if a
//! stolen or restored database cannot be read without them, and losing them loses every value.
//!
//! # Formats
//!
//! Both are UTF-8 text. Blank lines and lines starting with `#` are ignored; fields are
//! separated by spaces; keys are 32 bytes in standard base64 with padding.
//!
//! Key ring (default name `kek.keys`): a header, one `active` line, one `key <id> <base64>`
//! line per KEK (oldest first) and one `retired <id>` line per retired KEK (so its id is never
//! reused):
//!
//! ```text
//! integritet-keyring v1
//! active k3
//! key k2 NRCI4bTsze9v7CLr8HfUYD0b0ZKLdkpdn/LygWJtiMI=
//! key k3 GkYfzdc1U1ca4/SNmLnOUIpZ8BWvzl60D3TanBQRNCw=
//! retired k1
//! ```
//!
//! Blind-index key (default name `blind-index.key`):
//!
//! ```text
//! integritet-blind-index-key v1
//! key /zmQAQ6R4sBXTUSAV4KpibZMGGsdG02tLTQsFROokMg=
//! ```
//!
//! # Safety rules
//!
//! * Creating and saving happen under an exclusive lock on `.<key ring name>.lock` (0600, left
//!   in place) next to the key ring, so two processes starting or rotating at once take turns.
//! * New files are created with mode 0600 and published with a hard link, which fails if the
//!   name already exists: even without the lock an existing key is never overwritten, and
//!   nobody ever sees a half-written file.
//! * A key file that group or others may access is refused until it is `chmod 600`.
//! * Saving after a rotation writes a 0600 temporary file, fsyncs it, renames it over the old
//!   file and fsyncs the directory, so a crash leaves either the old or the new ring. Before
//!   that it re-reads the file and refuses to drop or change a key the ring does not know it
//!   retired (a stale ring, or two rotations racing).
//! * If exactly one of the two files exists, nothing is created: a new key would silently make
//!   existing data unreadable or unsearchable.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use rand_core::CryptoRng;
use zeroize::Zeroizing;

use crate::blind::BlindIndexKey;
use crate::error::CryptoError;
use crate::keyring::{KekId, KeyRing};
use crate::secret::{KEY_LEN, Key32};

const RING_HEADER: &str = "integritet-keyring v1";
const INDEX_HEADER: &str = "integritet-blind-index-key v1";
/// Key files are tiny; anything larger is not one of ours.
const MAX_FILE_LEN: u64 = 64 * 1024;

/// Where the two key files live. Paths come from the caller (data directory, config or env).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyFiles {
    key_ring: PathBuf,
    index_key: PathBuf,
}

impl KeyFiles {
    /// File name of the KEK ring inside a key directory.
    pub const KEY_RING_FILE: &'static str = "kek.keys";
    /// File name of the blind-index key inside a key directory.
    pub const INDEX_KEY_FILE: &'static str = "blind-index.key";

    /// Both files in `dir`, under their default names.
    pub fn in_dir(dir: impl AsRef<Path>) -> Self {
        let dir = dir.as_ref();
        Self {
            key_ring: dir.join(Self::KEY_RING_FILE),
            index_key: dir.join(Self::INDEX_KEY_FILE),
        }
    }

    /// Explicit paths for the KEK ring and the blind-index key.
    pub fn new(key_ring: impl Into<PathBuf>, index_key: impl Into<PathBuf>) -> Self {
        Self {
            key_ring: key_ring.into(),
            index_key: index_key.into(),
        }
    }

    /// Path of the KEK ring file.
    pub fn key_ring_path(&self) -> &Path {
        &self.key_ring
    }

    /// Path of the blind-index key file.
    pub fn index_key_path(&self) -> &Path {
        &self.index_key
    }

    /// Loads both files, or creates both with fresh keys on first start.
    ///
    /// Missing parent directories are created with mode 0700.
    pub fn load_or_create(
        &self,
        rng: &mut (impl CryptoRng + ?Sized),
    ) -> Result<(KeyRing, BlindIndexKey), CryptoError> {
        if exists(&self.key_ring)? && exists(&self.index_key)? {
            return self.load();
        }
        // Decide under the lock: another process may be between creating the two files.
        let _lock = self.lock()?;
        let ring_exists = exists(&self.key_ring)?;
        let index_exists = exists(&self.index_key)?;
        match (ring_exists, index_exists) {
            (true, true) => return self.load(),
            (true, false) => return Err(missing(&self.index_key, &self.key_ring)),
            (false, true) => return Err(missing(&self.key_ring, &self.index_key)),
            (false, false) => {}
        }
        let index = BlindIndexKey::generate(rng);
        let index = match create_new(&self.index_key, &index_text(&index))? {
            Created::Ours => index,
            // Another process won the race: use its key, never overwrite it.
            Created::Theirs => load_index(&self.index_key)?,
        };
        let ring = KeyRing::generate(rng);
        let ring = match create_new(&self.key_ring, &ring_text(&ring))? {
            Created::Ours => ring,
            Created::Theirs => load_ring(&self.key_ring)?,
        };
        Ok((ring, index))
    }

    /// Loads both files; never creates anything. For commands that must not invent keys.
    pub fn load(&self) -> Result<(KeyRing, BlindIndexKey), CryptoError> {
        Ok((load_ring(&self.key_ring)?, load_index(&self.index_key)?))
    }

    /// Atomically replaces the KEK ring file, e.g. after [`KeyRing::rotate`] or
    /// [`KeyRing::retire`]. Returns only once the new file is durable.
    ///
    /// Fails with [`CryptoError::KeyRingConflict`], writing nothing, if the file holds a key that
    /// `ring` neither has nor retired (the file changed since `ring` was loaded).
    pub fn save_key_ring(&self, ring: &KeyRing) -> Result<(), CryptoError> {
        let _lock = self.lock()?;
        if exists(&self.key_ring)? {
            let on_disk = load_ring(&self.key_ring)?;
            if let Some(reason) = ring.conflict_with(&on_disk) {
                return Err(CryptoError::KeyRingConflict {
                    path: self.key_ring.clone(),
                    reason,
                });
            }
        }
        replace(&self.key_ring, &ring_text(ring))
    }

    /// Exclusive lock serialising creation and saving between processes; released on drop.
    fn lock(&self) -> Result<File, CryptoError> {
        lock_file(&self.key_ring)
    }
}

/// Exclusive lock on `.<name of key_file>.lock` (0600, left in place) next to `key_file`;
/// released when the returned handle is dropped.
pub(crate) fn lock_file(key_file: &Path) -> Result<File, CryptoError> {
    let dir = parent_dir(key_file);
    create_dir(dir, key_file)?;
    let name = file_name(key_file);
    let path = dir.join(format!(".{name}.lock"));
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(&path)
        .map_err(io_err("open the lock file for", key_file))?;
    file.lock()
        .map_err(io_err("lock the lock file for", key_file))?;
    Ok(file)
}

pub(crate) fn io_err(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> CryptoError {
    let path = path.to_path_buf();
    move |source| CryptoError::Io {
        action,
        path,
        source,
    }
}

pub(crate) fn damaged(path: &Path, reason: impl Into<String>) -> CryptoError {
    CryptoError::KeyFileDamaged {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

fn missing(missing: &Path, present: &Path) -> CryptoError {
    CryptoError::KeyFileMissing {
        missing: missing.to_path_buf(),
        present: present.to_path_buf(),
    }
}

pub(crate) fn exists(path: &Path) -> Result<bool, CryptoError> {
    match fs::symlink_metadata(path) {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(io_err("inspect", path)(e)),
    }
}

// ---- reading ----

/// Reads a key file after checking, on the open handle, that only the owner can access it.
pub(crate) fn read_secret(path: &Path) -> Result<Zeroizing<String>, CryptoError> {
    let mut file = File::open(path).map_err(io_err("read", path))?;
    let meta = file.metadata().map_err(io_err("read", path))?;
    if !meta.is_file() {
        return Err(damaged(path, "it is not a regular file"));
    }
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(CryptoError::KeyFileReadable {
            path: path.to_path_buf(),
            mode,
        });
    }
    if meta.len() > MAX_FILE_LEN {
        return Err(damaged(
            path,
            format!("it is {} bytes, far larger than a key file", meta.len()),
        ));
    }
    // Exact capacity up front so reading never reallocates and leaves key text behind.
    let cap = usize::try_from(meta.len()).unwrap_or(0).saturating_add(1);
    let mut text = Zeroizing::new(String::with_capacity(cap));
    file.read_to_string(&mut text).map_err(|e| {
        if e.kind() == io::ErrorKind::InvalidData {
            damaged(path, "it is not UTF-8 text")
        } else {
            io_err("read", path)(e)
        }
    })?;
    Ok(text)
}

/// Non-comment, non-blank lines with their 1-based line numbers, split into fields.
pub(crate) fn records(text: &str) -> impl Iterator<Item = (usize, Vec<&str>)> {
    text.lines().enumerate().filter_map(|(i, line)| {
        let line = line.trim();
        (!line.is_empty() && !line.starts_with('#'))
            .then(|| (i + 1, line.split_whitespace().collect()))
    })
}

pub(crate) fn decode_key(
    path: &Path,
    line: usize,
    label: &str,
    b64: &str,
) -> Result<Key32, CryptoError> {
    let bytes = Zeroizing::new(
        BASE64
            .decode(b64)
            .map_err(|_| damaged(path, format!("line {line}: {label} is not valid base64")))?,
    );
    Key32::from_slice(&bytes).ok_or_else(|| {
        damaged(
            path,
            format!(
                "line {line}: {label} is {} bytes, expected {KEY_LEN}",
                bytes.len()
            ),
        )
    })
}

pub(crate) fn check_header<'a>(
    path: &Path,
    records: &mut impl Iterator<Item = (usize, Vec<&'a str>)>,
    header: &str,
) -> Result<(), CryptoError> {
    match records.next() {
        Some((_, fields)) if fields.join(" ") == header => Ok(()),
        Some((line, _)) => Err(damaged(
            path,
            format!("line {line}: expected the header `{header}`"),
        )),
        None => Err(damaged(path, "it is empty")),
    }
}

pub(crate) fn load_ring(path: &Path) -> Result<KeyRing, CryptoError> {
    let text = read_secret(path)?;
    parse_ring(path, &text)
}

fn parse_ring(path: &Path, text: &str) -> Result<KeyRing, CryptoError> {
    let mut recs = records(text);
    check_header(path, &mut recs, RING_HEADER)?;
    let mut active = None;
    let mut keys = Vec::new();
    let mut retired = Vec::new();
    let bad_id = |line: usize| damaged(path, format!("line {line}: the key id is not valid"));
    for (line, fields) in recs {
        match fields.as_slice() {
            ["active", id] if active.is_none() => {
                active = Some(KekId::new(id).map_err(|_| bad_id(line))?);
            }
            ["active", _] => {
                return Err(damaged(
                    path,
                    format!("line {line}: a second `active` line"),
                ));
            }
            ["key", id, b64] => {
                let id = KekId::new(id).map_err(|_| bad_id(line))?;
                let key = decode_key(path, line, &format!("the key for {id}"), b64)?;
                keys.push((id, key));
            }
            ["retired", id] => {
                retired.push(KekId::new(id).map_err(|_| bad_id(line))?);
            }
            _ => {
                return Err(damaged(
                    path,
                    format!(
                        "line {line}: expected `active <id>`, `key <id> <base64>` or `retired <id>`"
                    ),
                ));
            }
        }
    }
    let active = active.ok_or_else(|| damaged(path, "it has no `active <id>` line"))?;
    KeyRing::from_parts(active, keys, retired).map_err(|reason| damaged(path, reason))
}

fn load_index(path: &Path) -> Result<BlindIndexKey, CryptoError> {
    let text = read_secret(path)?;
    parse_index(path, &text)
}

fn parse_index(path: &Path, text: &str) -> Result<BlindIndexKey, CryptoError> {
    let mut recs = records(text);
    check_header(path, &mut recs, INDEX_HEADER)?;
    let mut key = None;
    for (line, fields) in recs {
        match fields.as_slice() {
            ["key", b64] if key.is_none() => {
                key = Some(decode_key(path, line, "the key", b64)?);
            }
            _ => {
                return Err(damaged(
                    path,
                    format!("line {line}: expected a single `key <base64>` line"),
                ));
            }
        }
    }
    key.map(BlindIndexKey)
        .ok_or_else(|| damaged(path, "it has no `key <base64>` line"))
}

// ---- writing ----

/// Base64 of a key appended to `out`; `out` must already have room so nothing reallocates.
pub(crate) fn push_key(out: &mut Zeroizing<String>, key: &Key32) {
    BASE64.encode_string(key.bytes(), out);
}

fn ring_text(ring: &KeyRing) -> Zeroizing<String> {
    let n = ring.entries().count() + ring.retired_ids().count();
    let mut out = Zeroizing::new(String::with_capacity(512 + n * 96));
    out.push_str("# Integritet key-encryption keys. Keep secret (chmod 600) and back up apart\n");
    out.push_str("# from the database: without this file no stored value can be read.\n");
    out.push_str(RING_HEADER);
    out.push('\n');
    out.push_str("active ");
    out.push_str(ring.active_id().as_str());
    out.push('\n');
    for (id, key) in ring.entries() {
        out.push_str("key ");
        out.push_str(id.as_str());
        out.push(' ');
        push_key(&mut out, key);
        out.push('\n');
    }
    for id in ring.retired_ids() {
        out.push_str("retired ");
        out.push_str(id.as_str());
        out.push('\n');
    }
    out
}

fn index_text(key: &BlindIndexKey) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::with_capacity(512));
    out.push_str("# Integritet blind-index key. Keep secret (chmod 600) and back up apart from\n");
    out.push_str("# the database: without it exact-match lookups find nothing.\n");
    out.push_str(INDEX_HEADER);
    out.push('\n');
    out.push_str("key ");
    push_key(&mut out, &key.0);
    out.push('\n');
    out
}

pub(crate) fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "key".to_owned())
}

/// Creates missing directories with mode 0700; existing ones are left as they are.
fn create_dir(dir: &Path, for_file: &Path) -> Result<(), CryptoError> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(io_err("create the directory for", for_file))
}

/// Makes a rename or link of `file` durable by syncing its directory.
fn sync_dir_of(file: &Path) -> Result<(), CryptoError> {
    File::open(parent_dir(file))
        .and_then(|d| d.sync_all())
        .map_err(io_err("sync the directory of", file))
}

/// Writes `contents` to a fresh 0600 file next to `path` and fsyncs it; returns its path.
fn write_temp(path: &Path, contents: &str) -> Result<PathBuf, CryptoError> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let dir = parent_dir(path);
    create_dir(dir, path)?;
    let name = file_name(path);
    let mut attempts = 0;
    let (tmp, mut file) = loop {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join(format!(".{name}.tmp.{}.{n}", std::process::id()));
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
        {
            Ok(file) => break (tmp, file),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempts < 100 => {
                attempts += 1;
            }
            Err(e) => return Err(io_err("create a temporary file for", path)(e)),
        }
    };
    if let Err(e) = file
        .write_all(contents.as_bytes())
        .and_then(|()| file.sync_all())
    {
        let _ = fs::remove_file(&tmp);
        return Err(io_err("write", path)(e));
    }
    Ok(tmp)
}

pub(crate) enum Created {
    Ours,
    Theirs,
}

/// Publishes a new key file without ever replacing an existing one.
pub(crate) fn create_new(path: &Path, contents: &str) -> Result<Created, CryptoError> {
    let tmp = write_temp(path, contents)?;
    let linked = fs::hard_link(&tmp, path);
    let _ = fs::remove_file(&tmp);
    match linked {
        Ok(()) => {
            sync_dir_of(path)?;
            Ok(Created::Ours)
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(Created::Theirs),
        Err(e) => Err(io_err("create", path)(e)),
    }
}

/// Replaces a key file atomically: readers see the old or the new content, never a mix.
pub(crate) fn replace(path: &Path, contents: &str) -> Result<(), CryptoError> {
    let tmp = write_temp(path, contents)?;
    if let Err(e) = fs::rename(&tmp, path) {
        let _ = fs::remove_file(&tmp);
        return Err(io_err("replace", path)(e));
    }
    sync_dir_of(path)
}
