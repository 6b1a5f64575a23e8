//! Integration tests of `integritet-crypto` through its public API only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod archive;
mod keyfiles;
mod properties;

use rand::SeedableRng;
use rand::rngs::StdRng;

/// Deterministic RNG so every run sees the same keys and nonces.
pub fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}
