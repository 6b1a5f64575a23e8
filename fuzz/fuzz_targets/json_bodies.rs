//! The API's JSON request bodies, read the way the server reads them. The target and what it checks
//! live in `integritet_fuzzing::json_bodies` (crates/fuzzing), which CI also runs for a bounded
//! time (crates/fuzzing/tests/bounded.rs).

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| integritet_fuzzing::json_bodies(data));
