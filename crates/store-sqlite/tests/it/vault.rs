//! The vault's scenarios over SQLite, and a scan of the raw database file for plaintext.

use std::sync::Arc;

use integritet_app::store::Store;
use integritet_app::vault_conformance::{KNOWN_VALUES, store_known_values};
use integritet_store_sqlite::SqliteStore;

use crate::scratch_dir;

integritet_app::vault_tests!(crate::fresh_store());

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_file_holds_no_plaintext() {
    let dir = scratch_dir();
    let path = dir.join("vault.db");
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).await.unwrap());
    let (_vault, _id) = store_known_values(store.clone()).await;

    // The main file and the write-ahead log, as they lie on disk (no checkpoint forced, so
    // recent pages are in the WAL; both must be clean).
    let mut bytes = Vec::new();
    for name in ["vault.db", "vault.db-wal"] {
        if let Ok(mut file) = std::fs::read(dir.join(name)) {
            bytes.append(&mut file);
        }
    }
    assert!(bytes.len() > 20_000, "only {} bytes to scan", bytes.len());
    for (category, known) in KNOWN_VALUES {
        assert!(
            !contains(&bytes, known.as_bytes()),
            "the database holds the {category} in clear"
        );
        assert!(
            !contains(&bytes, known.to_lowercase().as_bytes()),
            "the database holds the {category} in clear (lower case)"
        );
    }
    // The backup is a database file too.
    let backup = dir.join("backup.db");
    store.backup_to(&backup).await.unwrap();
    let copy = std::fs::read(&backup).unwrap();
    for (category, known) in KNOWN_VALUES {
        assert!(
            !contains(&copy, known.as_bytes()),
            "the backup holds the {category}"
        );
    }
}
