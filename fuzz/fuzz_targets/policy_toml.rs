//! The policy file: parsing, the legal checks and the rendered notice and register. The target and
//! what it checks live in `integritet_fuzzing::policy_toml` (crates/fuzzing), which CI also runs
//! for a bounded time (crates/fuzzing/tests/bounded.rs).

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| integritet_fuzzing::policy_toml(data));
