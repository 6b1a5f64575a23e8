//! Identity numbers: personnummer, samordningsnummer and organisationsnummer. The target and what
//! it checks live in `integritet_fuzzing::identity_parse` (crates/fuzzing), which CI also runs for
//! a bounded time (crates/fuzzing/tests/bounded.rs).

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| integritet_fuzzing::identity_parse(data));
