//! The SQLite store's tests: the shared conformance suite, then what only a file-backed store
//! can show (tampering with the file, backups, reopening).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod cleanup;
mod files;
mod tamper;
mod vault;
mod writes;

use std::path::PathBuf;
use std::sync::Arc;

use integritet_app::store::Store;
use integritet_store_sqlite::SqliteStore;

/// A directory that lives as long as the test process: the store's file must outlive every
/// connection, and tests are short.
fn scratch_dir() -> PathBuf {
    let dir: &'static tempfile::TempDir = Box::leak(Box::new(tempfile::tempdir().unwrap()));
    dir.path().to_path_buf()
}

async fn fresh_store() -> Arc<dyn Store> {
    Arc::new(
        SqliteStore::open(&scratch_dir().join("vault.db"))
            .await
            .unwrap(),
    )
}

integritet_app::conformance_tests!(fresh_store());
