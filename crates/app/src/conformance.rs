//! The conformance suite: the behaviour every [`Store`] must show, run by each backend's tests
//! through [`conformance_tests!`](crate::conformance_tests). Each test gets a fresh, empty store.
//!
//! The records here carry made-up bytes as "ciphertext": the suite tests storage, not crypto.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use integritet_domain::audit::{AuditAction, AuditDraft, ChainKey};
use integritet_domain::subject::{ArchiveRef, Provenance, SubjectId, SubjectKind, ValueId};
use time::OffsetDateTime;
use time::macros::{date, datetime};

use crate::audit_log;
use crate::store::{
    ActivityRecord, ArchiveRecord, ErasureRecord, IndexEntry, NewSubject, Store, StoreError,
    SubjectRecord, SuppressionEntry, TokenRecord, ValueRecord, WrappedKeyRow, Writes,
};

const T0: OffsetDateTime = datetime!(2026-03-01 10:00 UTC);

pub mod integrity;
pub mod racing;
mod requests;
mod users;
pub use requests::*;
pub use users::*;

/// Generates one `#[tokio::test]` per conformance test. `$make` is an async expression that
/// yields a fresh `Arc<dyn Store>` each time it is evaluated.
#[macro_export]
macro_rules! conformance_tests {
    ($make:expr) => {
        $crate::conformance_tests!(@each $make;
            insert_and_read_back,
            missing_subject_is_none,
            lookup_by_token,
            rectification_replaces_value_and_index,
            add_values_and_activities,
            erasure_removes_everything_but_the_record,
            an_erasure_planned_from_an_old_read_is_refused,
            reshuffled_archive_entries_read_back_as_they_were,
            archive_is_read_by_reference_and_shredded,
            audit_chain_is_whole_and_ordered,
            wrapped_keys_page_and_rewrap,
            concurrent_writers_keep_the_chain,
            large_batch,
            counts_add_up,
            nanosecond_times_and_variants_round_trip,
            audit_pages_past_one_page,
            audit_links_hash_what_is_stored,
            carried_entries_must_continue_the_log,
            tokens_insert_find_list_revoke,
            unknown_token_hash_is_none,
            revoking_an_unknown_token_is_false,
            token_times_round_trip,
            tokens_issue_authenticate_revoke,
            users_insert_find_list,
            login_failures_lock_and_unlock,
            concurrent_login_failures_are_all_counted,
            sessions_start_find_touch_end,
            expired_sessions_are_purged,
            disabling_a_user_ends_its_sessions,
            login_lockout_and_session_expiry,
            restriction_and_objections_round_trip,
            policy_versions_are_recorded_once,
            requests_are_written_once_per_version_and_listed_by_due,
            a_daily_job_runs_once_a_day_and_one_at_a_time,
            the_nix_register_is_replaced_whole_and_links_are_spent_once,
        );
    };
    (@each $make:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let store: ::std::sync::Arc<dyn $crate::store::Store> = $make.await;
                $crate::conformance::$name(store).await;
            }
        )*
    };
}

pub fn subject_id(n: u64) -> SubjectId {
    let mut random = [0u8; 10];
    random[..8].copy_from_slice(&n.to_be_bytes());
    SubjectId::from_parts(1_700_000_000_000 + n, random)
}

pub fn value_id(subject: u64, n: u8) -> ValueId {
    let mut random = [n; 10];
    random[..8].copy_from_slice(&subject.to_be_bytes());
    ValueId::from_parts(1_700_000_000_000 + subject, random)
}

pub fn token(text: &str) -> [u8; 32] {
    *blake3::hash(text.as_bytes()).as_bytes()
}

fn value(subject: u64, n: u8, category: &str) -> ValueRecord {
    ValueRecord {
        id: value_id(subject, n),
        category: category.into(),
        ciphertext: format!("ct:{subject}:{n}:{category}").into_bytes(),
        provenance: Provenance::Provided,
        collected_at: T0,
        purposes: vec!["purchase".into(), "customer_care".into()],
        policy_version: "pv1-test".into(),
    }
}

pub fn new_subject(n: u64) -> NewSubject {
    let record = SubjectRecord {
        id: subject_id(n),
        kind: SubjectKind::Person,
        created_at: T0,
        wrapped_key: format!("wk:{n}").into_bytes(),
        restricted: false,
        objections: vec![],
        values: vec![value(n, 1, "email"), value(n, 2, "name")],
        activities: vec![ActivityRecord {
            kind: "purchase".into(),
            at: T0,
        }],
    };
    let index = vec![IndexEntry {
        kind: "email".into(),
        token: token(&format!("user{n}@example.se")),
        value: value_id(n, 1),
    }];
    NewSubject { record, index }
}

pub fn draft(action: AuditAction, subject: Option<SubjectId>) -> AuditDraft {
    AuditDraft {
        at: T0,
        actor: "test".into(),
        role: Some("support".into()),
        purpose: Some("purchase".into()),
        subject: subject.map(|s| s.0),
        categories: vec!["email".into()],
        action,
        policy_version: "pv1-test".into(),
        detail: None,
    }
}

/// Stores [`new_subject`] `n` with its `create` entry.
pub async fn insert_subject(store: &dyn Store, n: u64) {
    insert(store, n).await;
}

async fn insert(store: &dyn Store, n: u64) {
    store
        .insert_subjects(
            vec![new_subject(n)],
            vec![draft(AuditAction::Create, Some(subject_id(n)))],
        )
        .await
        .unwrap();
}

pub async fn insert_and_read_back(store: Arc<dyn Store>) {
    insert(store.as_ref(), 1).await;
    let got = store.subject(subject_id(1)).await.unwrap().unwrap();
    let want = new_subject(1).record;
    assert_eq!(got.id, want.id);
    assert_eq!(got.kind, want.kind);
    assert_eq!(got.created_at, want.created_at);
    assert_eq!(got.wrapped_key, want.wrapped_key);
    assert!(!got.restricted);
    let mut values = got.values.clone();
    values.sort_by_key(|v| v.id);
    assert_eq!(values, want.values);
    assert_eq!(got.activities, want.activities);
}

pub async fn missing_subject_is_none(store: Arc<dyn Store>) {
    assert!(store.subject(subject_id(42)).await.unwrap().is_none());
    assert!(!store.is_erased(subject_id(42)).await.unwrap());
}

pub async fn lookup_by_token(store: Arc<dyn Store>) {
    insert(store.as_ref(), 1).await;
    insert(store.as_ref(), 2).await;
    let found = store
        .lookup("email", &token("user2@example.se"))
        .await
        .unwrap();
    assert_eq!(found, vec![subject_id(2)]);
    assert!(
        store
            .lookup("phone", &token("user2@example.se"))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .lookup("email", &token("nobody@example.se"))
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn rectification_replaces_value_and_index(store: Arc<dyn Store>) {
    insert(store.as_ref(), 1).await;
    let mut new = value(1, 9, "email");
    new.ciphertext = b"ct:new".to_vec();
    let index = vec![IndexEntry {
        kind: "email".into(),
        token: token("new@example.se"),
        value: new.id,
    }];
    let replaced = store
        .replace_value(
            subject_id(1),
            value_id(1, 1),
            new.clone(),
            index,
            vec![draft(AuditAction::Update, Some(subject_id(1)))],
        )
        .await
        .unwrap();
    assert!(replaced);
    let got = store.subject(subject_id(1)).await.unwrap().unwrap();
    assert!(got.values.iter().all(|v| v.id != value_id(1, 1)));
    assert!(got.values.iter().any(|v| v.ciphertext == b"ct:new"));
    assert!(
        store
            .lookup("email", &token("user1@example.se"))
            .await
            .unwrap()
            .is_empty(),
        "the old index entry must go with the old value"
    );
    assert_eq!(
        store
            .lookup("email", &token("new@example.se"))
            .await
            .unwrap(),
        vec![subject_id(1)]
    );
    let missing = store
        .replace_value(
            subject_id(1),
            value_id(1, 77),
            value(1, 78, "email"),
            vec![],
            vec![draft(AuditAction::Update, Some(subject_id(1)))],
        )
        .await
        .unwrap();
    assert!(!missing);
}

pub async fn add_values_and_activities(store: Arc<dyn Store>) {
    insert(store.as_ref(), 1).await;
    let phone = value(1, 3, "phone");
    let added = store
        .add_values(
            subject_id(1),
            vec![phone.clone()],
            vec![IndexEntry {
                kind: "phone".into(),
                token: token("+46701234567"),
                value: phone.id,
            }],
            vec![draft(AuditAction::Update, Some(subject_id(1)))],
        )
        .await
        .unwrap();
    assert!(added);
    let later = T0 + time::Duration::days(30);
    assert!(
        store
            .add_activities(
                subject_id(1),
                vec![ActivityRecord {
                    kind: "support_contact".into(),
                    at: later,
                }],
                vec![draft(AuditAction::ActivityAdded, Some(subject_id(1)))],
            )
            .await
            .unwrap()
    );
    let got = store.subject(subject_id(1)).await.unwrap().unwrap();
    assert_eq!(got.values.len(), 3);
    assert_eq!(got.activities.len(), 2);
    assert!(
        got.activities
            .iter()
            .any(|a| a.at == later && a.kind == "support_contact")
    );
    assert_eq!(
        store.lookup("phone", &token("+46701234567")).await.unwrap(),
        vec![subject_id(1)]
    );
    assert!(
        !store
            .add_values(subject_id(9), vec![value(9, 1, "email")], vec![], vec![])
            .await
            .unwrap()
    );
    assert!(
        !store
            .add_activities(subject_id(9), vec![], vec![])
            .await
            .unwrap()
    );
}

pub fn archive_record(n: u8, shred_after: time::Date) -> ArchiveRecord {
    ArchiveRecord {
        reference: ArchiveRef::from_random([n; 16]),
        created_at: T0,
        shred_after,
        purposes: vec!["bookkeeping".into()],
        categories: vec!["name".into(), "identity_number".into()],
        wrapped_key: vec![n; 40],
        ciphertext: vec![n; 100],
        policy_version: "pv1-test".into(),
    }
}

pub async fn erasure_removes_everything_but_the_record(store: Arc<dyn Store>) {
    insert(store.as_ref(), 1).await;
    insert(store.as_ref(), 2).await;
    let erasure = ErasureRecord {
        subject: subject_id(1),
        at: T0,
        erased: vec!["email".into()],
        archived: vec!["name".into()],
        reason: "request".into(),
    };
    let archive = archive_record(1, date!(2033 - 12 - 31));
    let erased = store
        .erase_subject(
            erasure.clone(),
            vec![archive.clone()],
            None,
            vec![
                draft(AuditAction::Archive, Some(subject_id(1))),
                draft(AuditAction::Erase, Some(subject_id(1))),
            ],
        )
        .await
        .unwrap();
    assert!(erased);
    assert!(store.subject(subject_id(1)).await.unwrap().is_none());
    assert!(
        store
            .lookup("email", &token("user1@example.se"))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.is_erased(subject_id(1)).await.unwrap());
    assert!(!store.is_erased(subject_id(2)).await.unwrap());
    assert_eq!(store.erasures().await.unwrap(), vec![erasure.clone()]);
    assert_eq!(
        store.archive_entry(&archive.reference).await.unwrap(),
        Some(archive)
    );
    let keys = store.wrapped_keys(None, 100).await.unwrap();
    assert_eq!(keys.len(), 1, "the erased subject's key must be gone");
    assert!(store.subject(subject_id(2)).await.unwrap().is_some());

    // A replayed erasure of a subject that is already gone still succeeds and changes nothing.
    let again = store
        .erase_subject(
            erasure,
            vec![],
            None,
            vec![draft(AuditAction::Erase, Some(subject_id(1)))],
        )
        .await
        .unwrap();
    assert!(!again);
}

/// An erasure planned from an older read of the subject changes nothing and says so, so the
/// caller plans again: a value added meanwhile is never dropped past the archive rules.
pub async fn an_erasure_planned_from_an_old_read_is_refused(store: Arc<dyn Store>) {
    insert(store.as_ref(), 1).await;
    let planned: Vec<ValueId> = store
        .subject(subject_id(1))
        .await
        .unwrap()
        .unwrap()
        .values
        .iter()
        .map(|v| v.id)
        .collect();
    let erasure = ErasureRecord {
        subject: subject_id(1),
        at: T0,
        erased: vec!["email".into()],
        archived: vec![],
        reason: "request".into(),
    };
    let mut later = new_subject(2).record.values.remove(0);
    later.id = ValueId(uuid::Uuid::from_u128(0xadd));
    store
        .add_values(subject_id(1), vec![later], Vec::new(), Vec::new())
        .await
        .unwrap();
    let refused = store
        .erase_subject(
            erasure.clone(),
            vec![],
            Some(planned.clone()),
            vec![draft(AuditAction::Erase, Some(subject_id(1)))],
        )
        .await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(_))),
        "{refused:?}"
    );
    assert!(store.subject(subject_id(1)).await.unwrap().is_some());
    assert!(store.erasures().await.unwrap().is_empty());
    assert_eq!(
        store.audit_head().await.unwrap().map(|(seq, _)| seq),
        Some(1)
    );

    let current: Vec<ValueId> = store
        .subject(subject_id(1))
        .await
        .unwrap()
        .unwrap()
        .values
        .iter()
        .map(|v| v.id)
        .collect();
    assert!(
        store
            .erase_subject(
                erasure,
                vec![],
                Some(current),
                vec![draft(AuditAction::Erase, Some(subject_id(1)))],
            )
            .await
            .unwrap()
    );
    assert!(store.subject(subject_id(1)).await.unwrap().is_none());
}

/// Writing a day's archive entries again changes none of them and loses none.
pub async fn reshuffled_archive_entries_read_back_as_they_were(store: Arc<dyn Store>) {
    let day = T0.date();
    let mut written = Vec::new();
    for n in 1..=3u8 {
        insert(store.as_ref(), u64::from(n)).await;
        let mut entry = archive_record(n, date!(2033 - 12 - 31));
        entry.created_at = day.midnight().assume_utc();
        written.push(entry.clone());
        store
            .erase_subject(
                ErasureRecord {
                    subject: subject_id(u64::from(n)),
                    at: T0,
                    erased: vec![],
                    archived: vec!["name".into()],
                    reason: "request".into(),
                },
                vec![entry],
                None,
                vec![draft(AuditAction::Erase, Some(subject_id(u64::from(n))))],
            )
            .await
            .unwrap();
    }
    let rewritten = store.reshuffle_archive(day).await.unwrap();
    assert!(rewritten == 0 || rewritten == 3, "{rewritten}");
    for entry in &written {
        assert_eq!(
            store
                .archive_entry(&entry.reference)
                .await
                .unwrap()
                .as_ref(),
            Some(entry)
        );
    }
    assert_eq!(
        store
            .archive_due(date!(2034 - 01 - 01))
            .await
            .unwrap()
            .len(),
        3
    );
    // Another day's entries are not touched.
    assert_eq!(
        store
            .reshuffle_archive(date!(2026 - 02 - 28))
            .await
            .unwrap(),
        0
    );
}

pub async fn archive_is_read_by_reference_and_shredded(store: Arc<dyn Store>) {
    insert(store.as_ref(), 1).await;
    let early = archive_record(1, date!(2026 - 12 - 31));
    let late = archive_record(2, date!(2033 - 12 - 31));
    store
        .erase_subject(
            ErasureRecord {
                subject: subject_id(1),
                at: T0,
                erased: vec![],
                archived: vec!["name".into()],
                reason: "retention".into(),
            },
            vec![early.clone(), late.clone()],
            None,
            vec![draft(AuditAction::Erase, Some(subject_id(1)))],
        )
        .await
        .unwrap();
    assert!(
        store
            .archive_due(date!(2026 - 12 - 31))
            .await
            .unwrap()
            .is_empty()
    );
    let due = store.archive_due(date!(2027 - 01 - 01)).await.unwrap();
    assert_eq!(due, vec![early.reference.clone()]);
    let shredded = store
        .shred_archive(due, vec![draft(AuditAction::Shred, None)])
        .await
        .unwrap();
    assert_eq!(shredded, 1);
    assert!(
        store
            .archive_entry(&early.reference)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .archive_entry(&late.reference)
            .await
            .unwrap()
            .is_some()
    );
    let unknown = ArchiveRef::from_random([9; 16]);
    assert!(store.archive_entry(&unknown).await.unwrap().is_none());
}

pub async fn audit_chain_is_whole_and_ordered(store: Arc<dyn Store>) {
    assert_eq!(store.audit_head().await.unwrap(), None);
    insert(store.as_ref(), 1).await;
    store
        .append_audit(vec![
            draft(AuditAction::Read, Some(subject_id(1))),
            draft(AuditAction::Lookup, None),
        ])
        .await
        .unwrap();
    let entries = store.audit_entries(0, u64::MAX, 100).await.unwrap();
    let actions: Vec<_> = entries.iter().map(|e| e.draft.action).collect();
    assert_eq!(
        actions,
        vec![AuditAction::Create, AuditAction::Read, AuditAction::Lookup]
    );
    assert_eq!(
        entries.iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    assert_eq!(
        entries[1].draft,
        draft(AuditAction::Read, Some(subject_id(1)))
    );
    let head = store.audit_head().await.unwrap().unwrap();
    assert_eq!(head, (3, entries[2].hash));
    assert_eq!(store.audit_entries(1, u64::MAX, 1).await.unwrap()[0].seq, 2);
    let summary = audit_log::verify(store.as_ref(), |_| {}).await.unwrap();
    assert_eq!(summary.entries, 3);
}

pub async fn wrapped_keys_page_and_rewrap(store: Arc<dyn Store>) {
    for n in 1..=5 {
        insert(store.as_ref(), n).await;
    }
    let first = store.wrapped_keys(None, 2).await.unwrap();
    assert_eq!(
        first.iter().map(|r| r.subject).collect::<Vec<_>>(),
        vec![subject_id(1), subject_id(2)]
    );
    let rest = store.wrapped_keys(Some(subject_id(2)), 10).await.unwrap();
    assert_eq!(rest.len(), 3);
    let rewrapped: Vec<WrappedKeyRow> = first
        .iter()
        .map(|r| WrappedKeyRow {
            subject: r.subject,
            wrapped_key: b"rewrapped".to_vec(),
        })
        .collect();
    store
        .rewrap_keys(rewrapped, vec![draft(AuditAction::KeyRotation, None)])
        .await
        .unwrap();
    let got = store.subject(subject_id(1)).await.unwrap().unwrap();
    assert_eq!(got.wrapped_key, b"rewrapped");
    let untouched = store.subject(subject_id(3)).await.unwrap().unwrap();
    assert_eq!(untouched.wrapped_key, b"wk:3");
}

pub async fn concurrent_writers_keep_the_chain(store: Arc<dyn Store>) {
    let mut tasks = Vec::new();
    for worker in 0..8u64 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..10u64 {
                let n = worker * 100 + i + 1;
                insert(store.as_ref(), n).await;
                store
                    .append_audit(vec![draft(AuditAction::Read, Some(subject_id(n)))])
                    .await
                    .unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let summary = audit_log::verify(store.as_ref(), |_| {}).await.unwrap();
    assert_eq!(summary.entries, 160);
    assert_eq!(store.counts().await.unwrap().subjects, 80);
}

pub async fn large_batch(store: Arc<dyn Store>) {
    let subjects: Vec<NewSubject> = (1..=2_000).map(new_subject).collect();
    let audit = vec![draft(AuditAction::Import, None)];
    store.insert_subjects(subjects, audit).await.unwrap();
    let counts = store.counts().await.unwrap();
    assert_eq!(counts.subjects, 2_000);
    assert_eq!(counts.values, 4_000);
    assert_eq!(counts.index_entries, 2_000);
    assert_eq!(
        store
            .lookup("email", &token("user1999@example.se"))
            .await
            .unwrap(),
        vec![subject_id(1999)]
    );
}

pub async fn counts_add_up(store: Arc<dyn Store>) {
    insert(store.as_ref(), 1).await;
    insert(store.as_ref(), 2).await;
    store
        .erase_subject(
            ErasureRecord {
                subject: subject_id(2),
                at: T0,
                erased: vec!["email".into(), "name".into()],
                archived: vec![],
                reason: "request".into(),
            },
            vec![archive_record(3, date!(2030 - 01 - 01))],
            None,
            vec![draft(AuditAction::Erase, Some(subject_id(2)))],
        )
        .await
        .unwrap();
    let counts = store.counts().await.unwrap();
    assert_eq!(counts.subjects, 1);
    assert_eq!(counts.values, 2);
    assert_eq!(counts.index_entries, 1);
    assert_eq!(counts.archive_entries, 1);
    assert_eq!(counts.erasures, 1);
    assert_eq!(counts.audit_entries, 3);
    store.ping().await.unwrap();
}

pub async fn nanosecond_times_and_variants_round_trip(store: Arc<dyn Store>) {
    let at = datetime!(2026-03-01 10:00:00.123456789 UTC);
    let mut subject = new_subject(1);
    subject.record.kind = SubjectKind::Organisation;
    subject.record.restricted = true;
    subject.record.created_at = at;
    subject.record.values[0].provenance = Provenance::Observed;
    subject.record.values[0].collected_at = at;
    subject.record.values[1].provenance = Provenance::Derived;
    subject.record.activities[0].at = at;
    // Two values sharing a token must still give the subject once.
    subject.index.push(IndexEntry {
        kind: "email".into(),
        token: token("user1@example.se"),
        value: value_id(1, 2),
    });
    let mut audit = draft(AuditAction::Create, Some(subject_id(1)));
    audit.at = at;
    store
        .insert_subjects(vec![subject.clone()], vec![audit.clone()])
        .await
        .unwrap();
    let got = store.subject(subject_id(1)).await.unwrap().unwrap();
    assert_eq!(got.kind, SubjectKind::Organisation);
    assert!(got.restricted);
    assert_eq!(got.created_at, at);
    let mut values = got.values.clone();
    values.sort_by_key(|v| v.id);
    assert_eq!(values, subject.record.values);
    assert_eq!(got.activities, subject.record.activities);
    assert_eq!(
        store
            .lookup("email", &token("user1@example.se"))
            .await
            .unwrap(),
        vec![subject_id(1)]
    );
    let entries = store.audit_entries(0, u64::MAX, 10).await.unwrap();
    assert_eq!(entries[0].draft, audit);
    audit_log::verify(store.as_ref(), |_| {}).await.unwrap();
}

pub async fn audit_pages_past_one_page(store: Arc<dyn Store>) {
    let drafts: Vec<AuditDraft> = (0..25)
        .map(|_| draft(AuditAction::Read, Some(subject_id(1))))
        .collect();
    store.append_audit(drafts).await.unwrap();
    let mut after = 0;
    let mut seen = Vec::new();
    loop {
        let page = store.audit_entries(after, u64::MAX, 10).await.unwrap();
        let Some(last) = page.last() else { break };
        after = last.seq;
        seen.extend(page.iter().map(|e| e.seq));
    }
    assert_eq!(seen, (1..=25).collect::<Vec<u64>>());
}

/// Entries of another copy of the log (the replaced database of a restore) are taken in as
/// they are, only when they continue this log exactly and verify under its key.
pub async fn carried_entries_must_continue_the_log(store: Arc<dyn Store>) {
    let key = ChainKey::new([9; 32], 1);
    store.use_chain_key(key.clone()).unwrap();
    for n in 0..3 {
        store
            .append_audit(vec![draft(AuditAction::Read, Some(subject_id(n)))])
            .await
            .unwrap();
    }
    let head = store.audit_head().await.unwrap();
    // The other copy went on from entry 3 to entry 5.
    let fourth = draft(AuditAction::Erase, Some(subject_id(7))).chain(head, &key);
    let fifth = draft(AuditAction::Export, None).chain(Some((4, fourth.hash)), &key);
    let later = vec![fourth.clone(), fifth.clone()];

    let mut edited = fifth.clone();
    edited.draft.purpose = Some("direct_marketing".into());
    let unkeyed = draft(AuditAction::Erase, Some(subject_id(7))).chain(head, &ChainKey::UNKEYED);
    for bad in [
        vec![fifth.clone()],
        vec![fourth.clone(), edited],
        vec![unkeyed],
    ] {
        let refused = store.carry_audit(bad).await;
        assert!(
            matches!(refused, Err(StoreError::Conflict(_))),
            "{refused:?}"
        );
        assert_eq!(
            store.audit_head().await.unwrap(),
            head,
            "nothing was carried"
        );
    }
    assert_eq!(store.carry_audit(later.clone()).await.unwrap(), 2);
    assert_eq!(store.audit_head().await.unwrap(), Some((5, fifth.hash)));
    // Not twice.
    assert!(store.carry_audit(later.clone()).await.is_err());
    let entries = store.audit_entries(3, u64::MAX, 10).await.unwrap();
    assert_eq!(entries, later);
    // New entries chain on after the carried ones.
    store
        .append_audit(vec![draft(AuditAction::Read, None)])
        .await
        .unwrap();
    let summary = crate::audit_log::verify(store.as_ref(), |_| {})
        .await
        .unwrap();
    assert_eq!(summary.entries, 6);
}

pub async fn audit_links_hash_what_is_stored(store: Arc<dyn Store>) {
    // The first two entries unkeyed, the others keyed: both kinds are hashed alike everywhere.
    let key = ChainKey::new([7; 32], 3);
    store.use_chain_key(key.clone()).unwrap();
    let mut bare = draft(AuditAction::Import, None);
    (bare.role, bare.purpose, bare.detail) = (None, None, None);
    bare.categories.clear();
    let mut full = draft(AuditAction::Read, Some(subject_id(1)));
    // A name with an escape in its JSON makes SQLite read the list into owned strings.
    full.categories = vec!["email".into(), "na\"me".into(), "phone".into()];
    full.detail = Some("reason \"quoted\" ünïcode".into());
    let drafts = vec![bare, full.clone(), full.clone(), full];
    store.append_audit(drafts).await.unwrap();
    let entries = store.audit_entries(0, u64::MAX, 100).await.unwrap();
    let links = store.audit_links(0, u64::MAX, 100).await.unwrap();
    assert_eq!(links.len(), 4);
    for (entry, link) in entries.iter().zip(&links) {
        assert_eq!(*link, entry.link(&key));
        if entry.seq >= 3 {
            assert_ne!(*link, entry.link(&ChainKey::UNKEYED), "entry {}", entry.seq);
        }
        assert_eq!(link.content, link.hash, "entry {}", entry.seq);
    }
    // The range is after < seq <= until, and the limit holds.
    let middle = store.audit_links(1, 3, 100).await.unwrap();
    assert_eq!(middle.iter().map(|l| l.seq).collect::<Vec<_>>(), [2, 3]);
    assert_eq!(store.audit_links(0, u64::MAX, 1).await.unwrap().len(), 1);
    assert!(store.audit_links(4, u64::MAX, 10).await.unwrap().is_empty());
}

pub fn token_record(n: u8) -> TokenRecord {
    TokenRecord {
        id: format!("tok_{n:08x}"),
        hash: token(&format!("secret-{n}")),
        role: "support".into(),
        label: None,
        created_at: T0,
        expires_at: None,
        revoked_at: None,
        mac: [n; 32],
    }
}

/// A record key for the conformance tests (a fixed index key).
pub fn test_record_key() -> integritet_crypto::RecordKey {
    use integritet_crypto::rand_core::SeedableRng;
    let index =
        integritet_crypto::BlindIndexKey::generate(&mut rand::rngs::StdRng::seed_from_u64(404));
    integritet_crypto::RecordKey::derive(&index)
}

fn token_draft(action: AuditAction, id: &str) -> AuditDraft {
    AuditDraft {
        at: T0,
        actor: "test".into(),
        role: None,
        purpose: None,
        subject: None,
        categories: Vec::new(),
        action,
        policy_version: "pv1-test".into(),
        detail: Some(id.to_owned()),
    }
}

pub async fn tokens_insert_find_list_revoke(store: Arc<dyn Store>) {
    let mut first = token_record(1);
    first.label = Some("shop backend".into());
    let second = token_record(2);
    for record in [&first, &second] {
        store
            .insert_token(
                record.clone(),
                vec![token_draft(AuditAction::TokenCreated, &record.id)],
            )
            .await
            .unwrap();
    }
    assert_eq!(
        store.token_by_hash(&first.hash).await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(
        store.list_tokens().await.unwrap(),
        vec![first.clone(), second.clone()]
    );

    // The same id or hash again is refused.
    let mut same_id = token_record(3);
    same_id.id = first.id.clone();
    let refused = store.insert_token(same_id, Vec::new()).await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(_))),
        "{refused:?}"
    );
    let mut same_hash = token_record(4);
    same_hash.hash = first.hash;
    let refused = store.insert_token(same_hash, Vec::new()).await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(_))),
        "{refused:?}"
    );

    let at = datetime!(2026-03-02 08:00 UTC);
    assert!(
        store
            .revoke_token(
                &first.id,
                at,
                [9; 32],
                vec![token_draft(AuditAction::TokenRevoked, &first.id)]
            )
            .await
            .unwrap()
    );
    // A second revocation changes nothing and is not audited.
    assert!(
        !store
            .revoke_token(
                &first.id,
                at,
                [9; 32],
                vec![token_draft(AuditAction::TokenRevoked, &first.id)]
            )
            .await
            .unwrap()
    );
    let found = store.token_by_hash(&first.hash).await.unwrap().unwrap();
    assert_eq!(found.revoked_at, Some(at));
    // The revocation's MAC replaces the issue's.
    assert_eq!(found.mac, [9; 32]);
    let listed = store.list_tokens().await.unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0].revoked_at, Some(at));
    assert_eq!(listed[1], second);

    let actions: Vec<AuditAction> = store
        .audit_entries(0, u64::MAX, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.draft.action)
        .collect();
    assert_eq!(
        actions,
        vec![
            AuditAction::TokenCreated,
            AuditAction::TokenCreated,
            AuditAction::TokenRevoked
        ]
    );
    audit_log::verify(store.as_ref(), |_| {}).await.unwrap();
}

pub async fn unknown_token_hash_is_none(store: Arc<dyn Store>) {
    assert_eq!(store.token_by_hash(&token("nothing")).await.unwrap(), None);
    store
        .insert_token(token_record(1), Vec::new())
        .await
        .unwrap();
    assert_eq!(store.token_by_hash(&token("nothing")).await.unwrap(), None);
    assert!(store.list_tokens().await.unwrap().len() == 1);
}

pub async fn revoking_an_unknown_token_is_false(store: Arc<dyn Store>) {
    let revoked = store
        .revoke_token(
            "tok_00000000",
            T0,
            [0; 32],
            vec![token_draft(AuditAction::TokenRevoked, "tok_00000000")],
        )
        .await
        .unwrap();
    assert!(!revoked);
    assert_eq!(store.audit_head().await.unwrap(), None);
}

pub async fn token_times_round_trip(store: Arc<dyn Store>) {
    let mut record = token_record(1);
    record.created_at = datetime!(2026-03-01 10:00:00.123456789 UTC);
    record.expires_at = Some(datetime!(2026-04-01 10:00:00.987654321 UTC));
    record.label = Some("läs-token \u{1f511}".into());
    store
        .insert_token(record.clone(), Vec::new())
        .await
        .unwrap();
    let revoked_at = datetime!(2026-03-15 12:34:56.000000001 UTC);
    assert!(
        store
            .revoke_token(&record.id, revoked_at, [3; 32], Vec::new())
            .await
            .unwrap()
    );
    let got = store.token_by_hash(&record.hash).await.unwrap().unwrap();
    assert_eq!(got.created_at, record.created_at);
    assert_eq!(got.expires_at, record.expires_at);
    assert_eq!(got.revoked_at, Some(revoked_at));
    assert_eq!(got.label, record.label);
}

pub async fn tokens_issue_authenticate_revoke(store: Arc<dyn Store>) {
    use crate::tokens::{self, AuthError, IssueError, TokenRequest};
    use integritet_crypto::rand_core::SeedableRng;

    let policy =
        integritet_domain::policy::parse("policy.toml", crate::vault_conformance::SEED_POLICY)
            .unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    let key = test_record_key();
    let version = policy.version.to_string();
    let request = TokenRequest {
        role: "support".into(),
        label: Some("shop backend".into()),
        expires_in: Some(time::Duration::hours(12)),
    };
    let (record, secret) = tokens::issue_token(
        store.as_ref(),
        &key,
        T0,
        &mut rng,
        "test",
        request.clone(),
        &policy,
    )
    .await
    .unwrap();
    assert!(secret.expose().starts_with("itg_") && secret.expose().len() == 68);
    assert!(record.id.starts_with("tok_") && record.id.len() == 12);
    assert!(!format!("{secret:?} {record:?}").contains(secret.expose()));
    assert_eq!(record.expires_at, Some(T0 + time::Duration::hours(12)));

    let found = tokens::authenticate(store.as_ref(), &key, T0, secret.expose(), &version)
        .await
        .unwrap();
    assert_eq!(found, record);
    let later = T0 + time::Duration::hours(12);
    assert!(matches!(
        tokens::authenticate(store.as_ref(), &key, later, secret.expose(), &version).await,
        Err(AuthError::Expired { .. })
    ));
    let mut forged = secret.expose().to_owned();
    forged.replace_range(4..5, if forged[4..5] == *"0" { "1" } else { "0" });
    assert!(matches!(
        tokens::authenticate(store.as_ref(), &key, T0, &forged, &version).await,
        Err(AuthError::Unknown)
    ));
    assert!(matches!(
        tokens::authenticate(store.as_ref(), &key, T0, "Bearer nonsense", &version).await,
        Err(AuthError::Malformed)
    ));

    let unknown = TokenRequest {
        role: "janitor".into(),
        ..request
    };
    let err = tokens::issue_token(store.as_ref(), &key, T0, &mut rng, "test", unknown, &policy)
        .await
        .unwrap_err();
    assert!(matches!(err, IssueError::UnknownRole { .. }));
    assert!(err.to_string().contains("support, marketing"), "{err}");

    assert!(
        tokens::revoke_token(store.as_ref(), &key, T0, "test", &record.id, "pv")
            .await
            .unwrap()
    );
    let err = tokens::authenticate(store.as_ref(), &key, T0, secret.expose(), &version)
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::Revoked { .. }));
    assert_eq!(err.public_message(), AuthError::Unknown.public_message());
    audit_log::verify(store.as_ref(), |_| {}).await.unwrap();
}

/// Requests: a new one once per id, a change only from the version it was read at (two staff
/// members changing one request cannot overwrite each other), the list by deadline.
pub async fn requests_are_written_once_per_version_and_listed_by_due(store: Arc<dyn Store>) {
    use crate::store::RequestRow;
    let row = |n: u128, due: time::Date, version: u64| RequestRow {
        id: uuid::Uuid::from_u128(n),
        state: "received".into(),
        received_at: T0,
        due,
        sealed: vec![n as u8; 40],
        version,
    };
    let late = time::macros::date!(2026 - 04 - 10);
    let early = time::macros::date!(2026 - 03 - 02);
    let audit = || vec![draft(AuditAction::Request, None)];
    assert!(
        store
            .put_request(row(1, late, 0), None, audit())
            .await
            .unwrap()
    );
    assert!(
        store
            .put_request(row(2, early, 0), None, audit())
            .await
            .unwrap()
    );
    let again = store.put_request(row(1, late, 0), None, audit()).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");

    let mut changed = row(1, late, 1);
    changed.state = "identity_verified".into();
    changed.sealed = vec![9; 50];
    assert!(
        store
            .put_request(changed.clone(), Some(0), audit())
            .await
            .unwrap()
    );
    // A second writer who read version 0 too changes nothing, and audits nothing.
    let before = store.audit_head().await.unwrap();
    let mut stale = row(1, late, 1);
    stale.state = "refused".into();
    assert!(!store.put_request(stale, Some(0), audit()).await.unwrap());
    assert_eq!(store.audit_head().await.unwrap(), before);
    assert_eq!(
        store.request(uuid::Uuid::from_u128(1)).await.unwrap(),
        Some(changed.clone())
    );
    assert_eq!(store.request(uuid::Uuid::from_u128(3)).await.unwrap(), None);
    let listed = store.list_requests().await.unwrap();
    assert_eq!(listed, vec![row(2, early, 0), changed]);
}

pub async fn a_daily_job_runs_once_a_day_and_one_at_a_time(store: Arc<dyn Store>) {
    let day = time::macros::date!(2026 - 12 - 04);
    let first = store.take_daily_job("sweep", day).await.unwrap();
    assert!(first.is_some());
    assert!(
        store.take_daily_job("sweep", day).await.unwrap().is_none(),
        "a job another holder runs is not taken"
    );
    assert!(
        store
            .take_daily_job("other_job", day)
            .await
            .unwrap()
            .is_some(),
        "jobs are apart"
    );
    // Given up (a crash): free for the next try once the session has ended, the day still
    // to do.
    drop(first);
    let mut again = None;
    for _ in 0..200 {
        again = store.take_daily_job("sweep", day).await.unwrap();
        if again.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let again = again.expect("a crashed job's lock is freed");
    again.done().await.unwrap();
    assert!(
        store.take_daily_job("sweep", day).await.unwrap().is_none(),
        "done for the day"
    );
    assert!(
        store
            .take_daily_job("sweep", day.previous_day().unwrap())
            .await
            .unwrap()
            .is_none()
    );
    let tomorrow = store.take_daily_job("sweep", day.next_day().unwrap()).await;
    assert!(tomorrow.unwrap().is_some());
}

pub async fn the_nix_register_is_replaced_whole_and_links_are_spent_once(store: Arc<dyn Store>) {
    let hash = |n: u8| [n; 32];
    assert_eq!(
        store
            .replace_nix(
                vec![hash(1), hash(2), hash(2)],
                vec![draft(AuditAction::NixImport, None)]
            )
            .await
            .unwrap(),
        2
    );
    assert!(store.is_nix_listed(&hash(1)).await.unwrap());
    assert_eq!(
        store
            .replace_nix(vec![hash(3)], vec![draft(AuditAction::NixImport, None)])
            .await
            .unwrap(),
        1
    );
    assert!(!store.is_nix_listed(&hash(1)).await.unwrap());
    assert!(store.is_nix_listed(&hash(3)).await.unwrap());
    assert_eq!(store.nix_entries().await.unwrap(), 1);

    let link = crate::store::SpentLink {
        id: [7; 16],
        at: T0,
        reason: "used".into(),
        mac: vec![9; 32],
    };
    assert_eq!(store.spent_link([7; 16]).await.unwrap(), None);
    assert!(
        store
            .spend_link(
                link.clone(),
                vec![draft(AuditAction::UnsubscribeLink, None)]
            )
            .await
            .unwrap()
    );
    // Spent once: a second spend (another reason) changes nothing and writes no entry.
    let again = crate::store::SpentLink {
        reason: "revoked".into(),
        ..link.clone()
    };
    assert!(
        !store
            .spend_link(again, vec![draft(AuditAction::UnsubscribeLink, None)])
            .await
            .unwrap()
    );
    assert_eq!(store.spent_link([7; 16]).await.unwrap(), Some(link));

    let entry = SuppressionEntry {
        kind: "email".into(),
        hash: hash(5),
        at: T0,
    };
    assert!(
        store
            .suppress(
                vec![entry.clone()],
                vec![draft(AuditAction::Suppression, None)]
            )
            .await
            .unwrap()
    );
    assert!(store.is_suppressed("email", &hash(5)).await.unwrap());
    assert!(
        !store
            .suppress(vec![entry], vec![draft(AuditAction::Suppression, None)])
            .await
            .unwrap()
    );
    let summary = audit_log::verify(store.as_ref(), |_| {}).await.unwrap();
    assert_eq!(summary.entries, 4);
}
