//! The use cases of Integritet and the storage interface beneath them.
//!
//! `domain` says what is allowed; this crate carries it out against a [`store::Store`]:
//! encrypting values before they reach the store, writing the audit entries, erasing and
//! archiving. Backends live in their own crates and pass [`conformance`].

pub mod audit_log;
#[cfg(feature = "conformance")]
pub mod conformance;
pub mod import;
pub mod keys;
pub mod known_devices;
pub mod store;
pub mod tokens;
pub mod users;
pub mod vault;
#[cfg(feature = "conformance")]
pub mod vault_conformance;
