//! The key the audit chain's hashes are keyed under, and the entry from which it applies.
//!
//! Unkeyed, the chain's hashes can be recomputed by anyone who can write the database, so the
//! entries after the last signed checkpoint could be rewritten unseen. Keyed (BLAKE3 in keyed
//! mode), they cannot be computed without this file. A log begun before the installation had
//! the key keeps its earlier entries' unkeyed hashes; `from` names the first keyed entry, and
//! since it lives here and not in the database, nobody with only the database can move it.
//!
//! File (default name `audit-chain.key`, mode 0600, beside the other keys):
//!
//! ```text
//! integritet-audit-chain-key v1
//! from 1
//! key <32 bytes, standard base64>
//! ```

use std::fmt;
use std::path::{Path, PathBuf};

use rand_core::CryptoRng;
use zeroize::Zeroizing;

use crate::error::CryptoError;
use crate::keyfile::{
    self, Created, check_header, create_new, damaged, decode_key, exists, push_key, read_secret,
    records,
};
use crate::secret::{KEY_LEN, Key32};

const HEADER: &str = "integritet-audit-chain-key v1";

/// The chain key and its first entry. The key is zeroed on drop and never printed.
#[derive(Clone)]
pub struct AuditChainSecret {
    key: Key32,
    keyed_from: u64,
}

impl AuditChainSecret {
    /// The key's bytes, for the chain's hasher.
    pub fn key_bytes(&self) -> [u8; KEY_LEN] {
        *self.key.bytes()
    }

    /// The seq of the first entry the key applies to.
    pub fn keyed_from(&self) -> u64 {
        self.keyed_from
    }
}

impl fmt::Debug for AuditChainSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuditChainSecret")
            .field("keyed_from", &self.keyed_from)
            .finish_non_exhaustive()
    }
}

/// Where the chain key lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditChainKeyFile {
    path: PathBuf,
}

impl AuditChainKeyFile {
    /// File name inside a key directory.
    pub const FILE_NAME: &'static str = "audit-chain.key";

    /// The file in `dir` under its default name.
    pub fn in_dir(dir: impl AsRef<Path>) -> Self {
        Self {
            path: dir.as_ref().join(Self::FILE_NAME),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the file exists.
    pub fn exists(&self) -> Result<bool, CryptoError> {
        exists(&self.path)
    }

    /// Loads the key; never creates one.
    pub fn load(&self) -> Result<AuditChainSecret, CryptoError> {
        let text = read_secret(&self.path)?;
        let mut recs = records(&text);
        check_header(&self.path, &mut recs, HEADER)?;
        let keyed_from = match recs.next() {
            Some((line, fields)) => match fields.as_slice() {
                ["from", seq] => {
                    seq.parse::<u64>()
                        .ok()
                        .filter(|seq| *seq >= 1)
                        .ok_or_else(|| {
                            damaged(
                                &self.path,
                                format!("line {line}: `from` must be an entry number from 1"),
                            )
                        })?
                }
                _ => {
                    return Err(damaged(
                        &self.path,
                        format!("line {line}: expected `from <entry number>`"),
                    ));
                }
            },
            None => return Err(damaged(&self.path, "it names no first entry")),
        };
        let key = match recs.next() {
            Some((line, fields)) => match fields.as_slice() {
                ["key", b64] => decode_key(&self.path, line, "the chain key", b64)?,
                _ => {
                    return Err(damaged(
                        &self.path,
                        format!("line {line}: expected `key <base64>`"),
                    ));
                }
            },
            None => return Err(damaged(&self.path, "it holds no key")),
        };
        if let Some((line, _)) = recs.next() {
            return Err(damaged(
                &self.path,
                format!("line {line}: nothing may follow the key"),
            ));
        }
        Ok(AuditChainSecret { key, keyed_from })
    }

    /// Loads the key, or creates the file with a new key that applies from the entry
    /// `keyed_from()` names (asked only when the file is made). Under the same lock and
    /// publish-by-link rules as the other key files, so two processes agree on one key.
    pub fn load_or_create(
        &self,
        rng: &mut (impl CryptoRng + ?Sized),
        keyed_from: impl FnOnce() -> Result<u64, CryptoError>,
    ) -> Result<AuditChainSecret, CryptoError> {
        if exists(&self.path)? {
            return self.load();
        }
        let _lock = keyfile::lock_file(&self.path)?;
        if exists(&self.path)? {
            return self.load();
        }
        let secret = AuditChainSecret {
            key: Key32::random(rng),
            keyed_from: keyed_from()?.max(1),
        };
        let mut text = Zeroizing::new(format!("{HEADER}\nfrom {}\nkey ", secret.keyed_from));
        push_key(&mut text, &secret.key);
        text.push('\n');
        match create_new(&self.path, &text)? {
            Created::Ours => Ok(secret),
            Created::Theirs => self.load(),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::os::unix::fs::PermissionsExt;

    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;

    #[test]
    fn the_file_is_created_once_private_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let file = AuditChainKeyFile::in_dir(dir.path().join("keys"));
        assert!(!file.exists().unwrap());
        let made = file
            .load_or_create(&mut StdRng::seed_from_u64(3), || Ok(42))
            .unwrap();
        assert_eq!(made.keyed_from(), 42);
        // Made once: a later start neither asks for the first entry nor makes a new key.
        let again = file
            .load_or_create(&mut StdRng::seed_from_u64(4), || unreachable!())
            .unwrap();
        assert_eq!(again.key_bytes(), made.key_bytes());
        assert_eq!(again.keyed_from(), 42);
        let mode = std::fs::metadata(file.path()).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let text = std::fs::read_to_string(file.path()).unwrap();
        let key_line = text.lines().nth(2).unwrap();
        assert!(!format!("{made:?}").contains(key_line.trim_start_matches("key ")));
    }

    #[test]
    fn a_damaged_file_is_refused_with_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let file = AuditChainKeyFile::in_dir(dir.path());
        for (text, says) in [
            ("integritet-audit-chain-key v1\nfrom 0\nkey x\n", "line 2"),
            ("integritet-audit-chain-key v1\nfrom 1\nkey x\n", "line 3"),
            ("integritet-audit-chain-key v1\n", "no first entry"),
            ("something else\n", "header"),
        ] {
            std::fs::write(file.path(), text).unwrap();
            std::fs::set_permissions(file.path(), std::fs::Permissions::from_mode(0o600)).unwrap();
            let err = file.load().unwrap_err().to_string();
            assert!(err.contains(says), "{text:?}: {err}");
        }
    }
}
