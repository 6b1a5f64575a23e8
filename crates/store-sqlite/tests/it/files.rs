//! What lives in the file: it survives reopening, backs up while in use, and is private.

use integritet_app::audit_log;
use integritet_app::conformance::{draft, new_subject, subject_id};
use integritet_app::store::{Store, StoreError};
use integritet_domain::audit::AuditAction;
use integritet_store_sqlite::SqliteStore;

use crate::scratch_dir;

async fn fill(store: &SqliteStore, from: u64, to: u64) {
    for n in from..=to {
        store
            .insert_subjects(
                vec![new_subject(n)],
                vec![draft(AuditAction::Create, Some(subject_id(n)))],
            )
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn data_survives_reopening() {
    let path = scratch_dir().join("nested").join("vault.db");
    let store = SqliteStore::open(&path).await.unwrap();
    fill(&store, 1, 3).await;
    let before = store.subject(subject_id(2)).await.unwrap().unwrap();
    store.close().await;

    let store = SqliteStore::open(&path).await.unwrap();
    assert_eq!(store.subject(subject_id(2)).await.unwrap().unwrap(), before);
    assert_eq!(store.counts().await.unwrap().subjects, 3);
    assert_eq!(audit_log::verify(&store, |_| {}).await.unwrap().entries, 3);
    // The chain carries on from the recorded head.
    fill(&store, 4, 4).await;
    assert_eq!(audit_log::verify(&store, |_| {}).await.unwrap().entries, 4);
}

#[tokio::test]
async fn a_url_opens_the_same_file() {
    let path = scratch_dir().join("vault.db");
    let store = SqliteStore::open(&path).await.unwrap();
    fill(&store, 1, 1).await;
    store.close().await;
    let url = format!("sqlite://{}", path.display());
    let store = SqliteStore::open_url(&url).await.unwrap();
    assert!(store.subject(subject_id(1)).await.unwrap().is_some());
    assert!(matches!(
        SqliteStore::open_url("sqlite::memory:").await,
        Err(StoreError::Unavailable(_))
    ));
}

#[tokio::test]
async fn a_backup_is_a_whole_store_and_never_overwrites() {
    let dir = scratch_dir();
    let store = SqliteStore::open(&dir.join("vault.db")).await.unwrap();
    fill(&store, 1, 20).await;
    let dest = dir.join("backups").join("vault-1.db");
    store.backup_to(&dest).await.unwrap();
    // The original stays usable and later writes do not reach the backup.
    fill(&store, 21, 21).await;

    let copy = SqliteStore::open(&dest).await.unwrap();
    assert_eq!(copy.counts().await.unwrap().subjects, 20);
    assert_eq!(
        copy.subject(subject_id(7)).await.unwrap(),
        store.subject(subject_id(7)).await.unwrap()
    );
    let summary = audit_log::verify(&copy, |_| {}).await.unwrap();
    assert_eq!(summary.entries, 20);
    assert_eq!(
        Some(summary.head.unwrap()),
        copy.audit_head().await.unwrap().map(|(_, h)| h)
    );

    let again = store.backup_to(&dest).await.unwrap_err();
    assert!(matches!(again, StoreError::Unsupported(_)), "{again:?}");
    assert!(again.to_string().contains("already exists"));
    // The refused backup left the existing one alone.
    assert_eq!(copy.counts().await.unwrap().subjects, 20);
}

#[cfg(unix)]
#[tokio::test]
async fn files_are_private_to_their_owner() {
    use std::os::unix::fs::PermissionsExt;
    let dir = scratch_dir().join("data");
    let store = SqliteStore::open(&dir.join("vault.db")).await.unwrap();
    fill(&store, 1, 1).await;
    store.backup_to(&dir.join("backup.db")).await.unwrap();
    for name in ["vault.db", "vault.db-wal", "backup.db"] {
        let mode = std::fs::metadata(dir.join(name))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "{name} is readable by others: {mode:o}");
    }
    let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
    assert_eq!(mode & 0o077, 0, "the directory is open to others: {mode:o}");
}
