#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Renders the seed shop's policy in every format and checks what a reader relies on.

mod access_report;
mod notice;
mod ropa;

use integritet_domain::policy::{LoadedPolicy, parse};

pub const SEED: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../examples/seed-shop/policy.toml"
));

pub fn seed() -> LoadedPolicy {
    parse("policy.toml", SEED).unwrap()
}
