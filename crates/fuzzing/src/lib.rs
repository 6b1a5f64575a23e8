//! Fuzz targets for every parser of Integritet that takes outside input: the policy file,
//! import rows, JSON request bodies, tokens and cookies, and identity numbers.
//!
//! Each target takes arbitrary bytes and asserts what must hold for every input; a panic is a
//! finding. The same functions run under libFuzzer (`fuzz/`, nightly) and, for a bounded
//! time on stable, in this crate's test `bounded` (so CI runs them on every change).
//!
//! Failing an invariant is what a target is for, so the targets use `assert!`; they never
//! `unwrap`.

mod echo;
mod identity;
mod import;
mod json;
mod policy;
mod tokens;

pub use echo::{ECHO_CHARS, Echoes, Vocabulary, echoed};
pub use identity::identity_parse;
pub use import::import_row;
pub use json::json_bodies;
pub use policy::policy_toml;
pub use tokens::tokens_and_cookies;

/// A fuzz target: takes any bytes, panics when an invariant breaks.
pub type Target = fn(&[u8]);

/// Every target by name, for drivers that run them all.
pub const TARGETS: [(&str, Target); 5] = [
    ("identity_parse", identity_parse),
    ("policy_toml", policy_toml),
    ("import_row", import_row),
    ("json_bodies", json_bodies),
    ("tokens_and_cookies", tokens_and_cookies),
];

/// Fails the target with what broke: for the invariants `assert!` cannot phrase as a
/// condition (a value that must be there).
#[allow(clippy::panic)] // failing loudly on a broken invariant is what a fuzz target is for
pub(crate) fn broken(what: std::fmt::Arguments<'_>) -> ! {
    panic!("{what}")
}
