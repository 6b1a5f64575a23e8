//! Records read back exactly as written: nanosecond times, lists of any length, batches.

use integritet_app::audit_log;
use integritet_app::conformance::{draft, new_subject, subject_id, value_id};
use integritet_app::store::prelude::*;
use integritet_app::store::{ArchiveRecord, ErasureRecord};
use integritet_domain::audit::AuditAction;
use integritet_domain::subject::ArchiveRef;
use time::macros::{date, datetime};

use crate::fresh;

#[tokio::test]
async fn nanosecond_times_round_trip() {
    let fresh = fresh().await;
    let at = datetime!(2026-03-01 10:00:00.123456789 +01:00);
    let mut subject = new_subject(1);
    subject.record.created_at = at;
    subject.record.values[0].collected_at = at + time::Duration::nanoseconds(1);
    subject.record.activities[0].at = at + time::Duration::nanoseconds(2);
    let mut audit = draft(AuditAction::Create, Some(subject_id(1)));
    audit.at = at + time::Duration::nanoseconds(3);
    fresh
        .store
        .insert_subjects(vec![subject.clone()], vec![audit.clone()])
        .await
        .unwrap();
    let got = fresh.store.subject(subject_id(1)).await.unwrap().unwrap();
    assert_eq!(got, subject.record);
    let entries = fresh.store.audit_entries(0, u64::MAX, 10).await.unwrap();
    assert_eq!(entries[0].draft, audit);
    audit_log::verify(&fresh.store, |_| {}).await.unwrap();
}

#[tokio::test]
async fn lists_of_any_length_keep_their_items() {
    let fresh = fresh().await;
    let lists: Vec<Vec<String>> = vec![
        vec![],
        vec!["one".into()],
        vec![
            "with, comma".into(),
            "with \"quotes\"".into(),
            "{braces}".into(),
            "NULL".into(),
            String::new(),
            "back\\slash".into(),
        ],
        vec![],
    ];
    let subjects: Vec<_> = (1..=lists.len() as u64)
        .map(|n| {
            let mut subject = new_subject(n);
            subject.record.values[0].purposes = lists[n as usize - 1].clone();
            subject.record.values[1].purposes = lists[lists.len() - n as usize].clone();
            subject
        })
        .collect();
    let mut audit = Vec::new();
    for list in &lists {
        let mut entry = draft(AuditAction::Import, None);
        entry.categories = list.clone();
        entry.role = None;
        entry.detail = Some("batch".into());
        audit.push(entry);
    }
    fresh
        .store
        .insert_subjects(subjects.clone(), audit.clone())
        .await
        .unwrap();
    for subject in &subjects {
        let got = fresh
            .store
            .subject(subject.record.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(got, subject.record);
    }
    let entries = fresh.store.audit_entries(0, u64::MAX, 100).await.unwrap();
    let drafts: Vec<_> = entries.into_iter().map(|e| e.draft).collect();
    assert_eq!(drafts, audit);

    let archive = ArchiveRecord {
        reference: ArchiveRef::from_random([7; 16]),
        created_at: datetime!(2026-03-01 10:00:00.5 UTC),
        shred_after: date!(2033 - 12 - 31),
        purposes: vec![],
        categories: lists[2].clone(),
        wrapped_key: vec![1; 40],
        ciphertext: vec![2; 10],
        policy_version: "pv1-test".into(),
    };
    fresh
        .store
        .erase_subject(
            ErasureRecord {
                subject: subject_id(1),
                at: datetime!(2026-03-01 10:00:00.000000001 UTC),
                erased: lists[2].clone(),
                archived: vec![],
                reason: "request".into(),
            },
            vec![archive.clone()],
            None,
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        fresh.store.archive_entry(&archive.reference).await.unwrap(),
        Some(archive)
    );
    assert_eq!(fresh.store.erasures().await.unwrap()[0].erased, lists[2]);
}

#[tokio::test]
async fn an_index_entry_for_another_subjects_value_is_refused() {
    let fresh = fresh().await;
    let mut subject = new_subject(1);
    subject.index[0].value = value_id(2, 1);
    let result = fresh.store.insert_subjects(vec![subject], vec![]).await;
    assert!(result.is_err(), "{result:?}");
    assert_eq!(fresh.store.counts().await.unwrap().subjects, 0);
}
