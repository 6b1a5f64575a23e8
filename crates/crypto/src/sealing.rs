//! XChaCha20-Poly1305 with a random 192-bit nonce, shared by value encryption and key wrapping.
//!
//! The sealed part of every blob is `nonce (24) || ciphertext (len of plaintext) || tag (16)`.
//! 192-bit random nonces make collisions negligible even for billions of messages under one
//! key, so no nonce counter has to be stored or coordinated between servers.

use chacha20poly1305::{AeadInOut, KeyInit, XChaCha20Poly1305};
use rand_core::CryptoRng;
use zeroize::Zeroizing;

use crate::error::CryptoError;
use crate::secret::KEY_LEN;

/// Nonce length of XChaCha20-Poly1305.
pub(crate) const NONCE_LEN: usize = 24;
/// Poly1305 tag length.
pub(crate) const TAG_LEN: usize = 16;

/// Appends `nonce || ciphertext || tag` for `plaintext` to `out`.
pub(crate) fn seal_into(
    out: &mut Vec<u8>,
    key: &[u8; KEY_LEN],
    rng: &mut (impl CryptoRng + ?Sized),
    aad: &[u8],
    plaintext: &[u8],
) -> Result<(), CryptoError> {
    let mut nonce = [0u8; NONCE_LEN];
    rng.fill_bytes(&mut nonce);
    // Reserve up front: a reallocation would leave an un-zeroed copy of the plaintext behind.
    out.reserve_exact(NONCE_LEN + plaintext.len() + TAG_LEN);
    let begin = out.len();
    out.extend_from_slice(&nonce);
    let start = out.len();
    out.extend_from_slice(plaintext);
    let cipher = XChaCha20Poly1305::new(key.into());
    match cipher.encrypt_inout_detached((&nonce).into(), aad, (&mut out[start..]).into()) {
        Ok(tag) => {
            out.extend_from_slice(&tag);
            Ok(())
        }
        Err(_) => {
            // Only possible for absurdly long input; do not leave plaintext in `out`.
            zeroize::Zeroize::zeroize(&mut out[start..]);
            out.truncate(begin);
            Err(CryptoError::ValueTooLarge {
                len: plaintext.len(),
            })
        }
    }
}

/// Opens `nonce || ciphertext || tag`; the plaintext is zeroed when dropped.
pub(crate) fn open(
    key: &[u8; KEY_LEN],
    aad: &[u8],
    sealed: &[u8],
    what: &'static str,
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let too_short = || CryptoError::Malformed {
        what,
        reason: format!(
            "{} bytes is shorter than nonce and tag ({} bytes)",
            sealed.len(),
            NONCE_LEN + TAG_LEN
        ),
    };
    let (nonce, rest) = sealed
        .split_first_chunk::<NONCE_LEN>()
        .ok_or_else(too_short)?;
    let (ciphertext, tag) = rest.split_last_chunk::<TAG_LEN>().ok_or_else(too_short)?;
    let mut buf = Zeroizing::new(ciphertext.to_vec());
    let cipher = XChaCha20Poly1305::new(key.into());
    cipher
        .decrypt_inout_detached(nonce.into(), aad, buf.as_mut_slice().into(), tag.into())
        .map_err(|_| CryptoError::Decrypt)?;
    Ok(buf)
}
