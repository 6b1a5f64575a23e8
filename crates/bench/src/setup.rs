//! The vault as the benchmark builds it: the seed shop's policy, keys from a seeded RNG, and a
//! clock that moves on by a microsecond each time it is read.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use integritet_app::store::Store;
use integritet_app::vault::{Actor, Vault, VaultKeys};
use integritet_crypto::rand_core::SeedableRng;
use integritet_crypto::{ArchiveRatchet, BlindIndexKey, KeyRing};
use integritet_domain::Clock;
use integritet_domain::policy::{self, LoadedPolicy};
use rand::rngs::StdRng;
use time::{Duration, OffsetDateTime};

use crate::data::START;

/// The corrected example policy of the seed shop.
pub const SEED_POLICY: &str = include_str!("../../../examples/seed-shop/policy.toml");

/// A deterministic clock that ticks one microsecond per reading. A fixed clock would give every
/// subject id (a UUID v7) the same millisecond, so ids would land at random places in the
/// B-trees; a server's ids grow with time, and so do these, without reading the system clock.
#[derive(Debug)]
pub struct TickingClock {
    start: OffsetDateTime,
    ticks: AtomicI64,
}

impl TickingClock {
    pub fn new(start: OffsetDateTime) -> TickingClock {
        TickingClock {
            start,
            ticks: AtomicI64::new(0),
        }
    }
}

impl Clock for TickingClock {
    fn now(&self) -> OffsetDateTime {
        let tick = self.ticks.fetch_add(1, Ordering::Relaxed);
        self.start + Duration::microseconds(tick)
    }
}

/// The keys, the same in every call (seeded), so the benchmark can recompute blind-index
/// tokens for store-level lookups.
pub fn keys() -> VaultKeys {
    let mut rng = StdRng::seed_from_u64(7);
    VaultKeys {
        ring: KeyRing::generate(&mut rng).into(),
        index: BlindIndexKey::generate(&mut rng),
        archive: ArchiveRatchet::generate(&mut rng, START.date()),
    }
}

pub fn policy() -> anyhow::Result<LoadedPolicy> {
    Ok(policy::parse(
        "examples/seed-shop/policy.toml",
        SEED_POLICY,
    )?)
}

/// A vault over `store` as in the vault conformance suite, with a ticking clock.
pub fn vault_over(store: Arc<dyn Store>) -> anyhow::Result<Vault> {
    Ok(Vault::new(
        store,
        Arc::new(policy()?),
        keys(),
        Arc::new(TickingClock::new(START)),
        Box::new(StdRng::seed_from_u64(11)),
    ))
}

/// Staff of the support role: creates, reads and lookups as the HTTP API would make them.
pub fn support() -> Actor {
    Actor::staff("token:bench-support", "support")
}
