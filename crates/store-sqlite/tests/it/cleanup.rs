//! Index entries of values that went: found by no lookup from the moment their value goes,
//! and gone from the file once the writer's cleanup has run (`src/cleanup.rs`), whether a
//! few subjects wait (one by one) or many (the token-range scan).

use std::sync::Arc;
use std::time::Duration;

use integritet_app::conformance::{draft, new_subject, subject_id, token, value_id};
use integritet_app::store::{ErasureRecord, Maintenance, SubjectStore, Writes};
use integritet_domain::audit::AuditAction;
use integritet_store_sqlite::SqliteStore;

use crate::scratch_dir;

async fn erase(store: &SqliteStore, n: u64) {
    let existed = store
        .erase_subject(
            ErasureRecord {
                subject: subject_id(n),
                at: time::macros::datetime!(2026-03-01 10:00 UTC),
                erased: vec!["email".into(), "name".into()],
                archived: vec![],
                reason: "retention".into(),
            },
            vec![],
            None,
            vec![draft(AuditAction::Erase, Some(subject_id(n)))],
        )
        .await
        .unwrap();
    assert!(existed);
}

async fn email_finds(store: &SqliteStore, n: u64) -> Vec<integritet_domain::subject::SubjectId> {
    store
        .lookup("email", &token(&format!("user{n}@example.se")))
        .await
        .unwrap()
}

/// Waits for the writer's cleanup to finish, as a user of the file would.
async fn cleaned(store: &SqliteStore) {
    for _ in 0..3_000 {
        if !store.index_cleanup_waiting().await.unwrap() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the index cleanup did not finish within 30 s");
}

/// The index rows in the file itself, left-over entries included.
fn entries_in_file(path: &std::path::Path) -> i64 {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.query_row("SELECT count(*) FROM blind_index", [], |row| row.get(0))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn entries_of_erased_subjects_find_no_one_at_once_and_leave_the_file_after_the_cleanup() {
    let path = scratch_dir().join("vault.db");
    let store = Arc::new(SqliteStore::open(&path).await.unwrap());
    let subjects: Vec<_> = (1..=2_000).map(new_subject).collect();
    store
        .insert_subjects(subjects, vec![draft(AuditAction::Import, None)])
        .await
        .unwrap();
    assert_eq!(entries_in_file(&path), 2_000);

    // A few erasures: cleaned one by one.
    for n in 1..=10 {
        erase(&store, n).await;
        assert!(email_finds(&store, n).await.is_empty(), "subject {n}");
    }
    assert_eq!(store.counts().await.unwrap().index_entries, 1_990);
    cleaned(&store).await;
    assert_eq!(entries_in_file(&path), 1_990);

    // Many at once: cleaned by scanning token ranges.
    let erasing: Vec<_> = (11..=1_500)
        .map(|n| {
            let store = store.clone();
            tokio::spawn(async move { erase(&store, n).await })
        })
        .collect();
    for erasure in erasing {
        erasure.await.unwrap();
    }
    assert!(email_finds(&store, 1_000).await.is_empty());
    assert_eq!(store.counts().await.unwrap().index_entries, 500);
    // A removed value without an entry leaves the subject's other entries in place.
    assert!(
        store
            .remove_values(
                subject_id(1_999),
                vec![value_id(1_999, 2)],
                vec![],
                vec![value_id(1_999, 1), value_id(1_999, 2)],
                vec![draft(AuditAction::Erase, Some(subject_id(1_999)))],
            )
            .await
            .unwrap()
    );
    cleaned(&store).await;
    assert_eq!(entries_in_file(&path), 500);
    assert_eq!(email_finds(&store, 1_999).await, vec![subject_id(1_999)]);
    assert_eq!(email_finds(&store, 1_501).await, vec![subject_id(1_501)]);
    assert!(email_finds(&store, 1_500).await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn entries_left_by_an_earlier_process_are_cleaned_after_the_next_open() {
    let path = scratch_dir().join("vault.db");
    let store = SqliteStore::open(&path).await.unwrap();
    store
        .insert_subjects(vec![new_subject(1)], vec![draft(AuditAction::Import, None)])
        .await
        .unwrap();
    store.close().await;
    // What a process stopped before its cleanup leaves: an entry whose value is gone, and the
    // subject named for cleanup.
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute(
            "INSERT INTO blind_index (kind, token, subject_id, value_id) VALUES ('email', ?1, ?2, ?3)",
            (
                token("gone@example.se").as_slice(),
                subject_id(1).as_bytes().as_slice(),
                value_id(1, 9).as_bytes().as_slice(),
            ),
        )
        .unwrap();
        conn.execute(
            "INSERT INTO index_cleanup (subject_id) VALUES (?1)",
            [subject_id(1).as_bytes().as_slice()],
        )
        .unwrap();
    }
    assert_eq!(entries_in_file(&path), 2);
    let store = SqliteStore::open(&path).await.unwrap();
    let gone = store
        .lookup("email", &token("gone@example.se"))
        .await
        .unwrap();
    assert!(gone.is_empty());
    assert_eq!(store.counts().await.unwrap().index_entries, 1);
    cleaned(&store).await;
    assert_eq!(entries_in_file(&path), 1);
    assert_eq!(email_finds(&store, 1).await, vec![subject_id(1)]);
}
