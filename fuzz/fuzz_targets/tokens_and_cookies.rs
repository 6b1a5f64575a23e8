//! Session cookies, CSRF tokens, login names, archive references and token lifetimes. The target
//! and what it checks live in `integritet_fuzzing::tokens_and_cookies` (crates/fuzzing), which CI
//! also runs for a bounded time (crates/fuzzing/tests/bounded.rs).

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| integritet_fuzzing::tokens_and_cookies(data));
