//! Concurrent writes share transactions (group commit), yet each stays atomic and one caller's
//! mistake fails only that caller.

use integritet_app::audit_log;
use integritet_app::conformance::{draft, new_subject, subject_id};
use integritet_app::store::StoreError;
use integritet_app::store::prelude::*;
use integritet_domain::audit::AuditAction;
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_write_among_many_fails_alone() {
    let fresh = Arc::new(crate::fresh().await);
    fresh
        .insert_subjects(vec![new_subject(1)], vec![draft(AuditAction::Create, None)])
        .await
        .unwrap();
    // Forty writers at once; the fifth re-creates subject 1, which must fail.
    let mut tasks = Vec::new();
    for n in 2..=41u64 {
        let store = fresh.clone();
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
    let counts = fresh.counts().await.unwrap();
    assert_eq!(counts.subjects, 40);
    // 1 + 39 creates + 40 reads: the failed create left no audit entry behind.
    assert_eq!(
        audit_log::verify(fresh.as_ref(), |_| {})
            .await
            .unwrap()
            .entries,
        80
    );
}
