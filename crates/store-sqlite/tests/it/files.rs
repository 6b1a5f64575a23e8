//! What lives in the file: it survives reopening, backs up while in use, and is private.

use integritet_app::audit_log;
use integritet_app::conformance::{draft, new_subject, subject_id};
use integritet_app::store::{AuditStore, Maintenance, StoreError, SubjectStore, Writes};
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

/// A file that an earlier version brought up with sqlx's migrator (values in a rowid table,
/// sqlx's own history table) opens, is migrated, and keeps every subject.
#[tokio::test]
async fn a_database_of_the_earlier_layout_is_taken_over() {
    let path = scratch_dir().join("old.db");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;")
            .unwrap();
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/");
        for (version, name) in [
            (1, "0001_schema.sql"),
            (2, "0002_tokens.sql"),
            (3, "0003_requests.sql"),
            (4, "0004_users.sql"),
        ] {
            let sql = std::fs::read_to_string(format!("{root}{name}")).unwrap();
            conn.execute_batch(&sql).unwrap();
            if version == 1 {
                conn.execute_batch(
                    "CREATE TABLE _sqlx_migrations (version BIGINT PRIMARY KEY,
                         description TEXT NOT NULL, installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
                         success BOOLEAN NOT NULL, checksum BLOB NOT NULL,
                         execution_time BIGINT NOT NULL)",
                )
                .unwrap();
            }
            conn.execute(
                "INSERT INTO _sqlx_migrations (version, description, success, checksum,
                                               execution_time) VALUES (?1, ?2, 1, x'00', 0)",
                (version, name),
            )
            .unwrap();
        }
        let subject = subject_id(1);
        let record = new_subject(1).record;
        conn.execute(
            "INSERT INTO subjects (id, kind, created_at, wrapped_key) VALUES (?1, 'person', ?2, ?3)",
            (
                subject.as_bytes().as_slice(),
                i64::try_from(record.created_at.unix_timestamp_nanos()).unwrap(),
                record.wrapped_key.as_slice(),
            ),
        )
        .unwrap();
        for value in &record.values {
            conn.execute(
                "INSERT INTO subject_values (id, subject_id, category, ciphertext, provenance,
                                             collected_at, purposes, policy_version)
                 VALUES (?1, ?2, ?3, ?4, 'provided', ?5, ?6, ?7)",
                (
                    value.id.as_bytes().as_slice(),
                    subject.as_bytes().as_slice(),
                    &value.category,
                    value.ciphertext.as_slice(),
                    i64::try_from(value.collected_at.unix_timestamp_nanos()).unwrap(),
                    serde_json::to_string(&value.purposes).unwrap(),
                    &value.policy_version,
                ),
            )
            .unwrap();
        }
        let index = &new_subject(1).index[0];
        conn.execute(
            "INSERT INTO blind_index (kind, token, subject_id, value_id) VALUES (?1, ?2, ?3, ?4)",
            (
                &index.kind,
                index.token.as_slice(),
                subject.as_bytes().as_slice(),
                index.value.as_bytes().as_slice(),
            ),
        )
        .unwrap();
    }
    let store = SqliteStore::open(&path).await.unwrap();
    let read = store.subject(subject_id(1)).await.unwrap().unwrap();
    let mut expected = new_subject(1).record;
    expected.activities.clear();
    assert_eq!(read.values, expected.values);
    let index = &new_subject(1).index[0];
    assert_eq!(
        store.lookup(&index.kind, &index.token).await.unwrap(),
        vec![subject_id(1)]
    );
    // The index entry still goes with its value.
    store
        .erase_subject(
            integritet_app::store::ErasureRecord {
                subject: subject_id(1),
                at: read.created_at,
                erased: vec![],
                archived: vec![],
                reason: "request".into(),
            },
            vec![],
            None,
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(store.counts().await.unwrap().index_entries, 0);
    store.close().await;
    // A second open finds nothing left to do.
    SqliteStore::open(&path).await.unwrap();
}
