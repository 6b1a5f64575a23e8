//! The Ed25519 key that signs checkpoints of the audit log's head.
//!
//! The audit chain's hashes can be recomputed by anyone who can write the database; a signed
//! checkpoint cannot. A server signs the head every minute and at shutdown, so rewriting the
//! log before the last checkpoint, even with every hash and the head recomputed, is caught by
//! `audit verify`. The public key can be given to an auditor, who can then check checkpoints
//! without any secret.
//!
//! File (default name `audit-signing.key`, mode 0600, beside the other keys):
//!
//! ```text
//! integritet-audit-signing-key v1
//! key <32-byte Ed25519 seed, standard base64>
//! ```

use std::fmt;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use rand_core::CryptoRng;
use zeroize::Zeroizing;

use crate::error::CryptoError;
use crate::keyfile::{
    self, Created, check_header, create_new, damaged, decode_key, exists, push_key, read_secret,
    records,
};
use crate::secret::Key32;

const HEADER: &str = "integritet-audit-signing-key v1";

/// The checkpoint signing key. Its seed is zeroed on drop; `Debug` prints only the public key.
pub struct AuditSigningKey {
    seed: Key32,
    signing: SigningKey,
}

impl AuditSigningKey {
    /// A fresh key, for a new installation.
    pub fn generate(rng: &mut (impl CryptoRng + ?Sized)) -> Self {
        Self::from_seed(Key32::random(rng))
    }

    fn from_seed(seed: Key32) -> Self {
        let signing = SigningKey::from_bytes(seed.bytes());
        Self { seed, signing }
    }

    /// The key that verifies this key's signatures.
    pub fn public_key(&self) -> AuditPublicKey {
        AuditPublicKey(self.signing.verifying_key())
    }

    /// The signature of `message`.
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.signing.sign(message).to_bytes()
    }
}

impl fmt::Debug for AuditSigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AuditSigningKey(public {})", self.public_key())
    }
}

/// The public half: verifies checkpoints, printable and shareable.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct AuditPublicKey(VerifyingKey);

impl AuditPublicKey {
    /// Whether `signature` is this key's signature of `message`.
    pub fn verify(&self, message: &[u8], signature: &[u8; 64]) -> bool {
        self.0
            .verify(message, &Signature::from_bytes(signature))
            .is_ok()
    }

    /// The key as standard base64 of its 32 bytes.
    pub fn to_base64(&self) -> String {
        BASE64.encode(self.0.to_bytes())
    }

    /// A key printed by [`AuditPublicKey::to_base64`].
    pub fn from_base64(text: &str) -> Option<AuditPublicKey> {
        let bytes = BASE64.decode(text.trim()).ok()?;
        let bytes = <[u8; 32]>::try_from(bytes.as_slice()).ok()?;
        VerifyingKey::from_bytes(&bytes).ok().map(AuditPublicKey)
    }
}

impl fmt::Display for AuditPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_base64())
    }
}

impl fmt::Debug for AuditPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AuditPublicKey({self})")
    }
}

/// Where the signing key lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditSigningKeyFile {
    path: PathBuf,
}

impl AuditSigningKeyFile {
    /// File name inside a key directory.
    pub const FILE_NAME: &'static str = "audit-signing.key";

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
    pub fn load(&self) -> Result<AuditSigningKey, CryptoError> {
        let text = read_secret(&self.path)?;
        let mut recs = records(&text);
        check_header(&self.path, &mut recs, HEADER)?;
        let seed = match recs.next() {
            Some((line, fields)) => match fields.as_slice() {
                ["key", b64] => decode_key(&self.path, line, "the signing key", b64)?,
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
        Ok(AuditSigningKey::from_seed(seed))
    }

    /// Loads the key, or creates the file with a new key on first use (under the same lock
    /// and publish-by-link rules as the other key files, so two processes agree on one key).
    pub fn load_or_create(
        &self,
        rng: &mut (impl CryptoRng + ?Sized),
    ) -> Result<AuditSigningKey, CryptoError> {
        if exists(&self.path)? {
            return self.load();
        }
        let _lock = keyfile::lock_file(&self.path)?;
        if exists(&self.path)? {
            return self.load();
        }
        let key = AuditSigningKey::generate(rng);
        let mut text = Zeroizing::new(format!("{HEADER}\nkey "));
        push_key(&mut text, &key.seed);
        text.push('\n');
        match create_new(&self.path, &text)? {
            Created::Ours => Ok(key),
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
    fn signatures_verify_only_for_their_message_and_key() {
        let key = AuditSigningKey::generate(&mut StdRng::seed_from_u64(1));
        let other = AuditSigningKey::generate(&mut StdRng::seed_from_u64(2));
        let sig = key.sign(b"head 5");
        assert!(key.public_key().verify(b"head 5", &sig));
        assert!(!key.public_key().verify(b"head 6", &sig));
        assert!(!other.public_key().verify(b"head 5", &sig));
        let mut bent = sig;
        bent[10] ^= 1;
        assert!(!key.public_key().verify(b"head 5", &bent));
        let printed = key.public_key().to_base64();
        assert_eq!(
            AuditPublicKey::from_base64(&printed),
            Some(key.public_key())
        );
        assert_eq!(AuditPublicKey::from_base64("not base64"), None);
    }

    #[test]
    fn the_file_is_created_once_private_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let file = AuditSigningKeyFile::in_dir(dir.path().join("keys"));
        assert!(!file.exists().unwrap());
        let made = file.load_or_create(&mut StdRng::seed_from_u64(3)).unwrap();
        let again = file.load_or_create(&mut StdRng::seed_from_u64(4)).unwrap();
        assert_eq!(made.public_key(), again.public_key());
        assert_eq!(file.load().unwrap().public_key(), made.public_key());
        let mode = std::fs::metadata(file.path()).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let text = std::fs::read_to_string(file.path()).unwrap();
        assert!(!format!("{made:?}").contains(text.lines().nth(1).unwrap()));
    }
}
