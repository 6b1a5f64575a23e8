//! Several servers on one database, and what the PostgreSQL store leaves to PostgreSQL's tools.

use std::path::Path;
use std::sync::Arc;

use integritet_app::audit_log;
use integritet_app::conformance::{draft, new_subject, subject_id};
use integritet_app::store::prelude::*;
use integritet_app::store::{ErasureRecord, StoreError};
use integritet_domain::audit::AuditAction;
use integritet_store_postgres::PostgresStore;
use time::macros::datetime;

use crate::{fresh, fresh_database};

/// Two pools, as two `integritet serve` processes would have, started together on a new
/// database (both run the migrations) and then writing at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_servers_keep_one_chain() {
    let db = fresh_database().await;
    let (a, b) = tokio::join!(
        PostgresStore::connect(&db.url),
        PostgresStore::connect(&db.url)
    );
    let servers = [Arc::new(a.unwrap()), Arc::new(b.unwrap())];

    const WORKERS: u64 = 6;
    const ROUNDS: u64 = 25;
    let mut tasks = Vec::new();
    for worker in 0..WORKERS {
        let store = servers[(worker % 2) as usize].clone();
        tasks.push(tokio::spawn(async move {
            for round in 0..ROUNDS {
                let n = worker * 1000 + round + 1;
                store
                    .insert_subjects(
                        vec![new_subject(n)],
                        vec![draft(AuditAction::Create, Some(subject_id(n)))],
                    )
                    .await
                    .unwrap();
                store
                    .append_audit(vec![
                        draft(AuditAction::Read, Some(subject_id(n))),
                        draft(AuditAction::Lookup, None),
                    ])
                    .await
                    .unwrap();
                if round % 5 == 0 {
                    let erased = store
                        .erase_subject(
                            ErasureRecord {
                                subject: subject_id(n),
                                at: datetime!(2026-03-02 0:00 UTC),
                                erased: vec!["email".into(), "name".into()],
                                archived: vec![],
                                reason: "request".into(),
                            },
                            vec![],
                            None,
                            vec![draft(AuditAction::Erase, Some(subject_id(n)))],
                        )
                        .await
                        .unwrap();
                    assert!(erased);
                }
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }

    let erasures = WORKERS * ROUNDS / 5;
    let entries = WORKERS * ROUNDS * 3 + erasures;
    for server in &servers {
        let summary = audit_log::verify(server.as_ref(), |_| {}).await.unwrap();
        assert_eq!(summary.entries, entries);
        let counts = server.counts().await.unwrap();
        assert_eq!(counts.subjects, WORKERS * ROUNDS - erasures);
        assert_eq!(counts.erasures, erasures);
        assert_eq!(counts.audit_entries, entries);
    }
}

#[tokio::test]
async fn reconnecting_finds_the_schema_in_place() {
    let fresh = fresh().await;
    fresh
        .store
        .insert_subjects(vec![new_subject(1)], vec![draft(AuditAction::Create, None)])
        .await
        .unwrap();
    let again = PostgresStore::connect(&fresh.db.url).await.unwrap();
    assert!(again.subject(subject_id(1)).await.unwrap().is_some());
}

#[tokio::test]
async fn backup_points_to_pg_dump() {
    let fresh = fresh().await;
    match fresh.store.backup_to(Path::new("/tmp/x.db")).await {
        Err(StoreError::Unsupported(message)) => {
            assert!(message.contains("pg_dump --format=custom"), "{message}");
            assert!(message.contains(&fresh.db.name), "{message}");
            assert!(message.contains("integritet restore"), "{message}");
        }
        other => panic!("expected Unsupported, got {other:?}"),
    }
}

#[tokio::test]
async fn an_unreachable_server_is_unavailable() {
    // Port 1 on loopback: nothing listens there, so the connection is refused at once.
    let error = PostgresStore::connect("postgres://postgres@127.0.0.1:1/none")
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::Unavailable(_)), "{error:?}");
    let error = PostgresStore::connect("mysql://nope").await.unwrap_err();
    assert!(matches!(error, StoreError::Unavailable(_)), "{error:?}");
}

#[tokio::test]
async fn a_missing_database_says_how_to_create_it() {
    let db = fresh_database().await;
    let url = crate::with_database(&db.url, "integritet_test_does_not_exist");
    let error = PostgresStore::connect(&url).await.unwrap_err();
    match error {
        StoreError::Unavailable(message) => assert!(message.contains("createdb"), "{message}"),
        other => panic!("expected Unavailable, got {other:?}"),
    }
}
