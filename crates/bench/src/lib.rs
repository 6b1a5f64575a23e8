//! What the two benchmark programs share: the generated customers ([`data`]), the vault as the
//! benchmarks build it ([`setup`]), the machine and the process's resources ([`sys`]), and
//! PostgreSQL URL handling ([`pgurl`]).
//!
//! - `integritet-bench` measures the vault in process against raw database baselines;
//! - `integritet-load` measures the HTTP server under concurrent clients beside the vault in
//!   process.
//!
//! Results and the commands that produced them are recorded in `docs/BENCHMARKS.md`.

/// The allocator the `integritet` binary runs with, so the server measured in process is the
/// one that ships.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub mod data;
pub mod limit;
pub mod pgurl;
pub mod setup;
pub mod sys;
