//! Import rows, JSON Lines and CSV, as `integritet import` parses them. The target and what it
//! checks live in `integritet_fuzzing::import_row` (crates/fuzzing), which CI also runs for a
//! bounded time (crates/fuzzing/tests/bounded.rs).

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| integritet_fuzzing::import_row(data));
