//! The one place key bytes live: a heap box that is zeroed on drop and never printed.

use std::fmt;

use rand_core::CryptoRng;
use secrecy::{ExposeSecret, SecretBox};

/// Length of every symmetric key in this crate.
pub(crate) const KEY_LEN: usize = 32;

/// 32 secret bytes. Boxed so that moving a key never leaves a copy on the stack; zeroed on drop.
pub(crate) struct Key32(SecretBox<[u8; KEY_LEN]>);

impl Key32 {
    /// Fresh random key bytes, written straight into the box.
    pub(crate) fn random(rng: &mut (impl CryptoRng + ?Sized)) -> Self {
        Self(SecretBox::init_with_mut(|k: &mut [u8; KEY_LEN]| {
            rng.fill_bytes(k)
        }))
    }

    /// Key bytes from a slice of exactly [`KEY_LEN`] bytes.
    pub(crate) fn from_slice(bytes: &[u8]) -> Option<Self> {
        if bytes.len() != KEY_LEN {
            return None;
        }
        Some(Self(SecretBox::init_with_mut(|k: &mut [u8; KEY_LEN]| {
            k.copy_from_slice(bytes)
        })))
    }

    /// Key bytes written by `fill` straight into the box (e.g. a derived key).
    pub(crate) fn from_fn(fill: impl FnOnce(&mut [u8; KEY_LEN])) -> Self {
        Self(SecretBox::init_with_mut(fill))
    }

    /// The raw bytes, for handing to a cipher. Keep the borrow short.
    pub(crate) fn bytes(&self) -> &[u8; KEY_LEN] {
        self.0.expose_secret()
    }
}

impl Clone for Key32 {
    fn clone(&self) -> Self {
        let src = self.bytes();
        Self(SecretBox::init_with_mut(|k: &mut [u8; KEY_LEN]| {
            k.copy_from_slice(src)
        }))
    }
}

impl fmt::Debug for Key32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[REDACTED]")
    }
}
