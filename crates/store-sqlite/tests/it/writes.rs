//! Small concurrent writes share transactions (group commit), yet each stays atomic and one
//! caller's mistake fails only that caller.

use std::sync::Arc;

use integritet_app::audit_log;
use integritet_app::conformance::{draft, new_subject, subject_id};
use integritet_app::store::{Maintenance, StoreError, Writes};
use integritet_domain::audit::AuditAction;
use integritet_store_sqlite::SqliteStore;

use crate::scratch_dir;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_write_among_many_fails_alone() {
    let store = Arc::new(
        SqliteStore::open(&scratch_dir().join("vault.db"))
            .await
            .unwrap(),
    );
    store
        .insert_subjects(vec![new_subject(1)], vec![draft(AuditAction::Create, None)])
        .await
        .unwrap();
    // Forty writers at once; the fifth re-creates subject 1, which must fail.
    let mut tasks = Vec::new();
    for n in 2..=41u64 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let subject = if n == 5 { 1 } else { n };
            let created = store
                .insert_subjects(
                    vec![new_subject(subject)],
                    vec![draft(AuditAction::Create, Some(subject_id(subject)))],
                )
                .await;
            let read = store
                .append_audit(vec![draft(AuditAction::Read, Some(subject_id(n)))])
                .await;
            (n, created, read)
        }));
    }
    for task in tasks {
        let (n, created, read) = task.await.unwrap();
        read.unwrap();
        if n == 5 {
            assert!(
                matches!(created, Err(StoreError::Conflict(_))),
                "{created:?}"
            );
        } else {
            created.unwrap();
        }
    }
    let counts = store.counts().await.unwrap();
    assert_eq!(counts.subjects, 40);
    // 1 + 39 creates + 40 reads: the failed create left no audit entry behind.
    assert_eq!(
        audit_log::verify(store.as_ref(), |_| {})
            .await
            .unwrap()
            .entries,
        80
    );
    assert_eq!(counts.audit_entries, 80);
}

/// As when `integritet serve` runs and an operator uses the CLI on the same file: two stores
/// (two writers) take turns through SQLite's write lock, and the chain stays whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_stores_on_one_file_keep_one_chain() {
    let path = scratch_dir().join("vault.db");
    let first = Arc::new(SqliteStore::open(&path).await.unwrap());
    let second = Arc::new(SqliteStore::open(&path).await.unwrap());
    let mut tasks = Vec::new();
    for n in 1..=40u64 {
        let store = if n % 2 == 0 {
            first.clone()
        } else {
            second.clone()
        };
        tasks.push(tokio::spawn(async move {
            store
                .insert_subjects(
                    vec![new_subject(n)],
                    vec![draft(AuditAction::Create, Some(subject_id(n)))],
                )
                .await
                .unwrap();
            store
                .append_audit(vec![draft(AuditAction::Read, Some(subject_id(n)))])
                .await
                .unwrap();
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    for store in [&first, &second] {
        assert_eq!(
            audit_log::verify(store.as_ref(), |_| {})
                .await
                .unwrap()
                .entries,
            80
        );
        assert_eq!(store.counts().await.unwrap().subjects, 40);
    }
}
