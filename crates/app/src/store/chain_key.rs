//! The audit chain's key as a store holds it: set once, after the store is open and the key
//! directory read, and unkeyed until then.

use std::sync::OnceLock;

use integritet_domain::audit::ChainKey;

use super::StoreError;

/// Where a store keeps the key it chains and verifies audit entries under.
#[derive(Debug, Default)]
pub struct ChainKeySlot(OnceLock<ChainKey>);

impl ChainKeySlot {
    /// The key, or [`ChainKey::UNKEYED`] before one is set.
    pub fn get(&self) -> &ChainKey {
        self.0.get().unwrap_or(&ChainKey::UNKEYED)
    }

    /// Sets the key; setting the same key again is fine, another one is refused (a store
    /// holds one installation's log).
    pub fn set(&self, key: ChainKey) -> Result<(), StoreError> {
        let held = self.0.get_or_init(|| key.clone());
        if *held == key {
            Ok(())
        } else {
            Err(StoreError::Conflict(
                "this store already chains its audit log under another key".into(),
            ))
        }
    }
}
