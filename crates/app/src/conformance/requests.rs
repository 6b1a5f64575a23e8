//! Restriction (Art. 18), objections (Art. 21) and the policy's history, on every store.

use std::sync::Arc;

use integritet_domain::audit::AuditAction;
use time::macros::datetime;

use super::{draft, new_subject, subject_id};
use crate::audit_log;
use crate::store::{ObjectionRecord, PolicyVersionRecord, Store, Writes};

pub async fn restriction_and_objections_round_trip(store: Arc<dyn Store>) {
    let id = subject_id(1);
    store
        .insert_subjects(
            vec![new_subject(1)],
            vec![draft(AuditAction::Create, Some(id))],
        )
        .await
        .unwrap();
    assert!(
        store
            .set_restricted(id, true, vec![draft(AuditAction::Restricted, Some(id))])
            .await
            .unwrap()
    );
    let at = datetime!(2026-03-02 08:30:00.123456789 UTC);
    for purpose in ["newsletter", "customer_relationship", "newsletter"] {
        let objection = ObjectionRecord {
            purpose: purpose.into(),
            at,
        };
        assert!(
            store
                .add_objection(id, objection, vec![draft(AuditAction::Objection, Some(id))])
                .await
                .unwrap()
        );
    }
    let record = store.subject(id).await.unwrap().unwrap();
    assert!(record.restricted);
    let purposes: Vec<&str> = record
        .objections
        .iter()
        .map(|o| o.purpose.as_str())
        .collect();
    assert_eq!(purposes, ["customer_relationship", "newsletter"]);
    assert!(record.objections.iter().all(|o| o.at == at));
    assert_eq!(record.values.len(), 2, "values are untouched");

    assert!(
        store
            .withdraw_objection(
                id,
                "newsletter",
                vec![draft(AuditAction::ObjectionWithdrawn, Some(id))]
            )
            .await
            .unwrap()
    );
    assert!(
        !store
            .withdraw_objection(
                id,
                "newsletter",
                vec![draft(AuditAction::ObjectionWithdrawn, Some(id))]
            )
            .await
            .unwrap(),
        "nothing left to withdraw"
    );
    assert!(
        store
            .set_restricted(
                id,
                false,
                vec![draft(AuditAction::RestrictionLifted, Some(id))]
            )
            .await
            .unwrap()
    );
    let record = store.subject(id).await.unwrap().unwrap();
    assert!(!record.restricted);
    assert_eq!(record.objections.len(), 1);

    // Unknown subjects change nothing and write nothing.
    let before = audit_log::verify(store.as_ref(), |_| {})
        .await
        .unwrap()
        .entries;
    let ghost = subject_id(99);
    assert!(
        !store
            .set_restricted(
                ghost,
                true,
                vec![draft(AuditAction::Restricted, Some(ghost))]
            )
            .await
            .unwrap()
    );
    let objection = ObjectionRecord {
        purpose: "newsletter".into(),
        at,
    };
    assert!(
        !store
            .add_objection(
                ghost,
                objection,
                vec![draft(AuditAction::Objection, Some(ghost))]
            )
            .await
            .unwrap()
    );
    let after = audit_log::verify(store.as_ref(), |_| {})
        .await
        .unwrap()
        .entries;
    assert_eq!(before, after);
    // 1 create + 1 restrict + 3 objections + 1 withdrawal + 1 lift.
    assert_eq!(after, 7);

    // Erasure takes the objections with the subject.
    let erasure = crate::store::ErasureRecord {
        subject: id,
        at,
        erased: vec!["email".into(), "name".into()],
        archived: vec![],
        reason: "request".into(),
    };
    store
        .erase_subject(
            erasure,
            vec![],
            None,
            vec![draft(AuditAction::Erase, Some(id))],
        )
        .await
        .unwrap();
    assert!(store.subject(id).await.unwrap().is_none());
    let objection = ObjectionRecord {
        purpose: "newsletter".into(),
        at,
    };
    assert!(
        !store
            .add_objection(id, objection, vec![draft(AuditAction::Objection, Some(id))])
            .await
            .unwrap()
    );
}

pub async fn policy_versions_are_recorded_once(store: Arc<dyn Store>) {
    let first = PolicyVersionRecord {
        version: "pv1-aaaa".into(),
        activated_at: datetime!(2026-01-01 00:00:00.000000001 UTC),
        source: "[controller]\nname = \"Smart Telematik AB\"\n".into(),
    };
    let second = PolicyVersionRecord {
        version: "pv1-bbbb".into(),
        activated_at: datetime!(2026-02-01 12:00 UTC),
        source: "# changed\n".into(),
    };
    assert!(
        store
            .record_policy_version(
                first.clone(),
                vec![draft(AuditAction::PolicyActivated, None)]
            )
            .await
            .unwrap()
    );
    assert!(
        store
            .record_policy_version(
                second.clone(),
                vec![draft(AuditAction::PolicyActivated, None)]
            )
            .await
            .unwrap()
    );
    let again = PolicyVersionRecord {
        activated_at: datetime!(2026-03-01 00:00 UTC),
        ..first.clone()
    };
    assert!(
        !store
            .record_policy_version(again, vec![draft(AuditAction::PolicyActivated, None)])
            .await
            .unwrap()
    );
    assert_eq!(store.policy_versions().await.unwrap(), vec![first, second]);
    assert_eq!(
        audit_log::verify(store.as_ref(), |_| {})
            .await
            .unwrap()
            .entries,
        2
    );
}
