//! The vault's behaviour over a real backend: the same scenarios run on SQLite and PostgreSQL
//! through [`vault_tests!`](crate::vault_tests). Each backend also scans its raw database for
//! [`KNOWN_VALUES`] after [`store_known_values`] to prove nothing is kept in clear.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use integritet_crypto::rand_core::SeedableRng;
use integritet_crypto::{ArchiveRatchet, BlindIndexKey, KeyFiles, KeyRing, LiveKeyRing};
use integritet_domain::audit::AuditAction;
use integritet_domain::clock::ManualClock;
use integritet_domain::personal::PersonalValue;
use integritet_domain::policy::{self, LoadedPolicy};
use integritet_domain::subject::{Provenance, SubjectId, SubjectKind};
use time::OffsetDateTime;
use time::macros::datetime;

use crate::audit_log;
use crate::store::prelude::*;

mod consent;
mod marketing;
use crate::vault::{
    Actor, LookupKind, NewActivity, NewSubjectInput, NewValue, Vault, VaultError, VaultKeys,
};
pub use consent::*;
pub use marketing::*;

/// The corrected example policy of the seed shop.
pub const SEED_POLICY: &str = include_str!("../../../examples/seed-shop/policy.toml");

/// "Today" at the start of every scenario.
pub const START: OffsetDateTime = datetime!(2026-03-01 10:00 UTC);

/// Values stored by [`store_known_values`]; none may appear in clear in the database.
pub const KNOWN_VALUES: &[(&str, &str)] = &[
    ("name", "Astrid Lindqvist-Ödmark"),
    ("email", "astrid.lindqvist@example.se"),
    ("phone", "+46701234567"),
    ("identity_number", "19811228-9874"),
    ("postal_address", "Berglundavägen 99, 702 36 Örebro"),
    ("customer_number", "KUND-778812"),
    ("payment_details", "klarna:ord_4471a9"),
    ("order_history", "Order 5511: GPS-tracker TK-905 x2"),
];

/// Generates one `#[tokio::test]` per vault scenario over the backend `$make` builds.
#[macro_export]
macro_rules! vault_tests {
    ($make:expr) => {
        $crate::vault_tests!(@each $make;
            read_is_limited_to_the_purpose,
            lookups_find_by_normalised_value,
            bad_input_names_field_and_rule,
            roles_act_only_for_their_purposes,
            rectification_keeps_no_old_value,
            erasure_archives_what_the_law_holds,
            archive_is_shredded_at_its_day_backups_included,
            every_action_is_in_a_whole_chain,
            disclosures_follow_the_policy,
            a_rotation_between_wrap_and_commit_loses_nothing,
            lookups_and_changes_obey_purpose_restriction_and_objection,
            a_value_added_while_an_erasure_is_planned_is_archived_by_the_same_rules,
            a_replay_applies_again_what_subjects_said_since_the_backup,
            the_archive_keeps_each_legal_obligation_apart,
            a_request_is_kept_sealed_and_moves_by_the_rules,
            a_request_is_carried_out_against_the_proven_identifiers_only,
            a_portability_request_gives_only_what_the_subject_provided_for_consent_or_contract,
            an_objection_to_marketing_suppresses_the_person_beyond_erasure,
            the_sweep_erases_on_the_day_after_retention_ends_and_the_law_keeps_the_invoice,
            the_sweep_trims_values_no_purpose_holds_and_a_dry_run_says_exactly_what_it_does,
            a_legal_hold_stops_erasure_until_its_day_and_a_planted_hold_holds_nothing,
            a_rectification_request_replaces_the_values_and_names_whom_to_tell,
            an_audience_holds_only_who_may_be_reached_today,
            an_unsubscribe_link_opts_out_once_and_a_forged_one_does_nothing,
            an_opt_out_by_letter_suppresses_the_address_whether_or_not_it_is_known,
            a_consent_decision_is_kept_as_proof_and_exported_as_json_ld,
        );
    };
    (@each $make:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let store: ::std::sync::Arc<dyn $crate::store::Store> = $make.await;
                $crate::vault_conformance::$name(store).await;
            }
        )*
    };
}

/// A vault over `store` with the seed policy, fresh keys, a movable clock and a seeded RNG.
pub fn vault_over(store: Arc<dyn Store>) -> (Vault, ManualClock) {
    vault_at(store, START)
}

/// [`vault_over`] with its clock (and archive ratchet) starting at `start`.
pub fn vault_at(store: Arc<dyn Store>, start: OffsetDateTime) -> (Vault, ManualClock) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let keys = VaultKeys {
        ring: KeyRing::generate(&mut rng).into(),
        index: BlindIndexKey::generate(&mut rng),
        archive: ArchiveRatchet::generate(&mut rng, start.date()),
    };
    let clock = ManualClock::new(start);
    let policy: LoadedPolicy = policy::parse("policy.toml", SEED_POLICY).unwrap();
    let vault = Vault::new(
        store,
        Arc::new(policy),
        keys,
        Arc::new(clock.clone()),
        Box::new(rand::rngs::StdRng::seed_from_u64(11)),
    );
    (vault, clock)
}

/// A vault over the same store with keys of another installation.
pub fn vault_at_with_other_keys(store: Arc<dyn Store>) -> (Vault, ManualClock) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(99);
    let keys = VaultKeys {
        ring: KeyRing::generate(&mut rng).into(),
        index: BlindIndexKey::generate(&mut rng),
        archive: ArchiveRatchet::generate(&mut rng, START.date()),
    };
    let clock = ManualClock::new(START);
    let policy: LoadedPolicy = policy::parse("policy.toml", SEED_POLICY).unwrap();
    let vault = Vault::new(
        store,
        Arc::new(policy),
        keys,
        Arc::new(clock.clone()),
        Box::new(rand::rngs::StdRng::seed_from_u64(12)),
    );
    (vault, clock)
}

pub fn operator() -> Actor {
    Actor::system("test")
}

fn value(category: &str, value: &str, purposes: &[&str]) -> NewValue {
    NewValue {
        category: category.into(),
        value: PersonalValue::new(value),
        provenance: Provenance::Provided,
        purposes: purposes.iter().map(|p| (*p).to_owned()).collect(),
        collected_at: None,
    }
}

/// A customer with every value of [`KNOWN_VALUES`], collected for purchase and bookkeeping.
pub fn customer() -> NewSubjectInput {
    customer_buying_at(START)
}

/// [`customer`], with its purchase at `at`.
pub fn customer_buying_at(at: OffsetDateTime) -> NewSubjectInput {
    let purposes_of = |category: &str| -> Vec<&'static str> {
        match category {
            "phone" | "email" => vec!["purchase"],
            _ => vec!["purchase", "bookkeeping"],
        }
    };
    NewSubjectInput {
        kind: SubjectKind::Person,
        values: KNOWN_VALUES
            .iter()
            .map(|(category, v)| value(category, v, &purposes_of(category)))
            .collect(),
        activities: vec![NewActivity {
            kind: "purchase".into(),
            at,
        }],
    }
}

/// Stores a customer with [`KNOWN_VALUES`] and returns the vault and the subject id, so the
/// backend's test can scan its raw database.
pub async fn store_known_values(store: Arc<dyn Store>) -> (Vault, SubjectId) {
    let (vault, _) = vault_over(store.clone());
    let id = vault.create_subject(&operator(), customer()).await.unwrap();
    // A read, a lookup and an erasure of a second subject put every kind of row in the
    // database.
    vault.read(&operator(), id, "purchase").await.unwrap();
    vault
        .lookup(
            &operator(),
            LookupKind::Email,
            &PersonalValue::new("astrid.lindqvist@example.se"),
            "purchase",
        )
        .await
        .unwrap();
    let mut other = customer();
    for v in &mut other.values {
        v.value = PersonalValue::new(v.value.expose().replace("astrid", "bertil"));
        if v.category == "identity_number" {
            v.value = PersonalValue::new("556800-7610");
        }
        if v.category == "phone" {
            v.value = PersonalValue::new("+46709876543");
        }
        if v.category == "customer_number" {
            v.value = PersonalValue::new("KUND-1");
        }
    }
    let second = vault.create_subject(&operator(), other).await.unwrap();
    vault.erase(&operator(), second, "request").await.unwrap();
    (vault, id)
}

pub async fn read_is_limited_to_the_purpose(store: Arc<dyn Store>) {
    let (vault, _) = vault_over(store.clone());
    let id = vault.create_subject(&operator(), customer()).await.unwrap();
    let purchase = vault.read(&operator(), id, "purchase").await.unwrap();
    assert_eq!(purchase.values.len(), KNOWN_VALUES.len());
    let email = purchase
        .values
        .iter()
        .find(|v| v.category == "email")
        .unwrap();
    assert_eq!(email.value.expose(), "astrid.lindqvist@example.se");

    // Bookkeeping lists no e-mail or phone, and they were not collected for it.
    let books = vault.read(&operator(), id, "bookkeeping").await.unwrap();
    let categories: Vec<&str> = books.values.iter().map(|v| v.category.as_str()).collect();
    assert!(!categories.contains(&"email"));
    assert!(!categories.contains(&"phone"));
    assert!(categories.contains(&"identity_number"));

    // Marketing lists e-mail, but the values were not collected for marketing.
    let marketing = vault
        .read(&operator(), id, "direct_marketing")
        .await
        .unwrap();
    assert!(marketing.values.is_empty());

    let missing = vault
        .read(&operator(), SubjectId::from_parts(1, [0; 10]), "purchase")
        .await;
    assert!(matches!(missing, Err(VaultError::NotFound { .. })));
    let unknown = vault.read(&operator(), id, "selling_data").await;
    assert!(matches!(unknown, Err(VaultError::Invalid { .. })));
}

pub async fn lookups_find_by_normalised_value(store: Arc<dyn Store>) {
    let (vault, _) = vault_over(store.clone());
    let id = vault.create_subject(&operator(), customer()).await.unwrap();
    let find = |kind, raw: &'static str| {
        let vault = &vault;
        async move {
            vault
                .lookup(&operator(), kind, &PersonalValue::new(raw), "purchase")
                .await
                .unwrap()
        }
    };
    assert_eq!(
        find(LookupKind::Email, "Astrid.Lindqvist@EXAMPLE.se").await,
        vec![id]
    );
    assert_eq!(find(LookupKind::Phone, "070-123 45 67").await, vec![id]);
    assert_eq!(
        find(LookupKind::IdentityNumber, "811228-9874").await,
        vec![id]
    );
    assert_eq!(
        find(LookupKind::CustomerNumber, "kund-778812").await,
        vec![id]
    );
    assert!(
        find(LookupKind::Email, "nobody@example.se")
            .await
            .is_empty()
    );
    let bad = vault
        .lookup(
            &operator(),
            LookupKind::IdentityNumber,
            &PersonalValue::new("811228-9875"),
            "purchase",
        )
        .await;
    assert!(matches!(
        bad,
        Err(VaultError::Invalid {
            code: "invalid_identity_number",
            ..
        })
    ));
}

pub async fn bad_input_names_field_and_rule(store: Arc<dyn Store>) {
    let (vault, _) = vault_over(store.clone());
    let cases: Vec<(NewValue, &str, &str)> = vec![
        (
            value("email", "not-an-email", &["purchase"]),
            "values[0].value",
            "invalid_email",
        ),
        (
            value("shoe_size", "42", &["purchase"]),
            "values[0].category",
            "unknown_category",
        ),
        (
            value("email", "a@b.se", &[]),
            "values[0].purposes",
            "no_purpose",
        ),
        (
            value("email", "a@b.se", &["bookkeeping"]),
            "values[0].purposes[0]",
            "category_not_in_purpose",
        ),
        (
            value("email", "a@b.se", &["nope"]),
            "values[0].purposes[0]",
            "unknown_purpose",
        ),
        (
            value("identity_number", "811228-9875", &["purchase"]),
            "values[0].value",
            "invalid_identity_number",
        ),
        (
            value("payment_details", "4111 1111 1111 1111", &["purchase"]),
            "values[0].value",
            "card_number_refused",
        ),
    ];
    for (v, field, code) in cases {
        let input = NewSubjectInput {
            kind: SubjectKind::Person,
            values: vec![v],
            activities: vec![],
        };
        match vault.create_subject(&operator(), input).await {
            Err(VaultError::Invalid {
                field: f,
                code: c,
                message,
            }) => {
                assert_eq!((f.as_str(), c), (field, code), "{message}");
                assert!(
                    !message.contains("4111"),
                    "the message echoes the value: {message}"
                );
            }
            other => panic!("expected Invalid for {field}/{code}, got {other:?}"),
        }
    }
    assert_eq!(store.counts().await.unwrap().subjects, 0);
}

pub async fn roles_act_only_for_their_purposes(store: Arc<dyn Store>) {
    let (vault, _) = vault_over(store.clone());
    let id = vault.create_subject(&operator(), customer()).await.unwrap();
    let marketing = Actor::staff("token:m1", "marketing");
    let refused = vault.read(&marketing, id, "purchase").await;
    assert!(matches!(refused, Err(VaultError::Forbidden(_))));
    let support = Actor::staff("token:s1", "support");
    assert!(vault.read(&support, id, "purchase").await.is_ok());
    let entries = store.audit_entries(0, u64::MAX, 100).await.unwrap();
    let refusal = entries
        .iter()
        .find(|e| e.draft.action == AuditAction::Refused)
        .expect("the refusal is audited");
    assert_eq!(refusal.draft.actor, "token:m1");
    assert_eq!(refusal.draft.subject, Some(id.0));
}

pub async fn rectification_keeps_no_old_value(store: Arc<dyn Store>) {
    let (vault, _) = vault_over(store.clone());
    let id = vault.create_subject(&operator(), customer()).await.unwrap();
    let before = vault.read(&operator(), id, "purchase").await.unwrap();
    let email = before
        .values
        .iter()
        .find(|v| v.category == "email")
        .unwrap();
    vault
        .rectify(
            &operator(),
            id,
            email.id,
            PersonalValue::new("Astrid.New@Example.se"),
        )
        .await
        .unwrap();
    let after = vault.read(&operator(), id, "purchase").await.unwrap();
    let emails: Vec<&str> = after
        .values
        .iter()
        .filter(|v| v.category == "email")
        .map(|v| v.value.expose())
        .collect();
    assert_eq!(emails, vec!["astrid.new@example.se"]);
    let old = vault
        .lookup(
            &operator(),
            LookupKind::Email,
            &PersonalValue::new("astrid.lindqvist@example.se"),
            "purchase",
        )
        .await
        .unwrap();
    assert!(old.is_empty());
    let bad = vault
        .rectify(&operator(), id, after.values[0].id, PersonalValue::new(""))
        .await;
    assert!(matches!(bad, Err(VaultError::Invalid { .. })));
}

pub async fn erasure_archives_what_the_law_holds(store: Arc<dyn Store>) {
    let (vault, _) = vault_over(store.clone());
    let id = vault.create_subject(&operator(), customer()).await.unwrap();
    let outcome = vault.erase(&operator(), id, "request").await.unwrap();
    assert_eq!(outcome.erased, vec!["email", "phone"]);
    assert!(outcome.archived.contains(&"identity_number".to_owned()));
    assert_eq!(outcome.archive_references.len(), 1);
    assert!(matches!(
        vault.read(&operator(), id, "purchase").await,
        Err(VaultError::NotFound { .. })
    ));
    let by_email = vault
        .lookup(
            &operator(),
            LookupKind::Email,
            &PersonalValue::new("astrid.lindqvist@example.se"),
            "purchase",
        )
        .await
        .unwrap();
    assert!(by_email.is_empty());
    let by_number = vault
        .lookup(
            &operator(),
            LookupKind::IdentityNumber,
            &PersonalValue::new("19811228-9874"),
            "bookkeeping",
        )
        .await
        .unwrap();
    assert!(by_number.is_empty(), "archived values are not searchable");

    let reference = &outcome.archive_references[0];
    let no_reason = vault.read_archive(&operator(), reference, "").await;
    assert!(matches!(no_reason, Err(VaultError::Invalid { .. })));
    let pd_reason = vault
        .read_archive(&operator(), reference, "request about 19811228-9874")
        .await;
    assert!(matches!(pd_reason, Err(VaultError::Invalid { .. })));
    let opened = vault
        .read_archive(&operator(), reference, "Skatteverket audit of 2026 books")
        .await
        .unwrap();
    assert_eq!(opened.subject, id);
    assert_eq!(opened.shred_after.to_string(), "2033-12-31");
    assert!(
        opened
            .values
            .iter()
            .any(|v| v.value.expose() == "19811228-9874")
    );
    let entries = store.audit_entries(0, u64::MAX, 1000).await.unwrap();
    let read = entries
        .iter()
        .find(|e| e.draft.action == AuditAction::ArchiveRead)
        .unwrap();
    assert!(
        read.draft
            .detail
            .as_deref()
            .unwrap()
            .contains("Skatteverket audit")
    );
    assert!(store.is_erased(id).await.unwrap());
}

pub async fn archive_is_shredded_at_its_day_backups_included(store: Arc<dyn Store>) {
    let (vault, clock) = vault_over(store.clone());
    let id = vault.create_subject(&operator(), customer()).await.unwrap();
    let outcome = vault.erase(&operator(), id, "request").await.unwrap();
    let reference = outcome.archive_references[0].clone();
    // What a backup taken now would hold.
    let copy = store.archive_entry(&reference).await.unwrap().unwrap();

    clock.set(datetime!(2033-12-31 23:00 UTC));
    assert_eq!(vault.shred_due_archive(&operator()).await.unwrap(), 0);
    clock.set(datetime!(2034-01-01 00:30 UTC));
    assert_eq!(vault.shred_due_archive(&operator()).await.unwrap(), 1);
    assert!(store.archive_entry(&reference).await.unwrap().is_none());
    // The copy in the "backup" cannot be opened: its day key no longer exists.
    let shredded = vault.with_archive_ratchet(|r| r.day_key(copy.shred_after).is_err());
    assert!(shredded, "the archive key of the shred day must be gone");
}

pub async fn every_action_is_in_a_whole_chain(store: Arc<dyn Store>) {
    let (vault, _) = store_known_values(store.clone()).await;
    let entries = store.audit_entries(0, u64::MAX, 1000).await.unwrap();
    let actions: Vec<AuditAction> = entries.iter().map(|e| e.draft.action).collect();
    for expected in [
        AuditAction::Create,
        AuditAction::Read,
        AuditAction::Lookup,
        AuditAction::Archive,
        AuditAction::Erase,
    ] {
        assert!(
            actions.contains(&expected),
            "{expected} missing in {actions:?}"
        );
    }
    for entry in &entries {
        let text = format!("{:?}", entry.draft);
        for (_, known) in KNOWN_VALUES {
            assert!(
                !text.contains(known),
                "audit entry holds personal data: {text}"
            );
        }
        assert_eq!(
            entry.draft.policy_version,
            vault.policy().version.to_string()
        );
    }
    let summary = audit_log::verify(store.as_ref(), |_| {}).await.unwrap();
    assert_eq!(summary.entries, entries.len() as u64);
}

pub async fn disclosures_follow_the_policy(store: Arc<dyn Store>) {
    let (vault, _) = vault_over(store.clone());
    let id = vault.create_subject(&operator(), customer()).await.unwrap();
    let categories = vec!["name".to_owned(), "identity_number".to_owned()];
    vault
        .record_disclosure(&operator(), id, "credit_agencies", "purchase", &categories)
        .await
        .unwrap();
    // Not a recipient for this purpose, not a category it receives, not a recipient at all.
    for (recipient, purpose, categories, code) in [
        (
            "credit_agencies",
            "newsletter",
            vec!["name".to_owned()],
            "recipient_not_for_purpose",
        ),
        (
            "credit_agencies",
            "purchase",
            vec!["email".to_owned()],
            "category_not_disclosed",
        ),
        (
            "data_brokers",
            "purchase",
            vec!["name".to_owned()],
            "unknown_recipient",
        ),
    ] {
        match vault
            .record_disclosure(&operator(), id, recipient, purpose, &categories)
            .await
        {
            Err(VaultError::Invalid { code: c, .. }) => assert_eq!(c, code),
            other => panic!("expected {code}, got {other:?}"),
        }
    }
    let entries = store.audit_entries(0, u64::MAX, 100).await.unwrap();
    let disclosures: Vec<_> = entries
        .iter()
        .filter(|e| e.draft.action == AuditAction::Disclosure)
        .collect();
    assert_eq!(disclosures.len(), 1);
    let entry = &disclosures[0].draft;
    assert_eq!(entry.subject, Some(id.0));
    assert_eq!(entry.purpose.as_deref(), Some("purchase"));
    assert_eq!(entry.categories, vec!["identity_number", "name"]);
    assert_eq!(
        entry.detail.as_deref(),
        Some("recipient=credit_agencies; kind=independent_controller; basis=contract")
    );

    // Art. 19: a rectification names the recipients that received the value's category, an
    // erasure every recipient of the subject's data.
    let view = vault.export(&operator(), id).await.unwrap();
    let value_of = |category: &str| {
        view.values
            .iter()
            .find(|v| v.category == category)
            .unwrap()
            .id
    };
    let name = vault
        .rectify(
            &operator(),
            id,
            value_of("name"),
            PersonalValue::new("Astrid Ny"),
        )
        .await
        .unwrap();
    assert_eq!(name.notify, vec!["credit_agencies"]);
    let email = vault
        .rectify(
            &operator(),
            id,
            value_of("email"),
            PersonalValue::new("astrid.ny@example.se"),
        )
        .await
        .unwrap();
    assert!(email.notify.is_empty(), "{email:?}");
    let erased = vault.erase(&operator(), id, "request").await.unwrap();
    assert_eq!(erased.notify, vec!["credit_agencies"]);
}

/// Key files in a directory of their own under the system's temp dir (one per process and
/// scenario), removed on drop.
struct KeyDir(std::path::PathBuf);

impl KeyDir {
    fn new() -> KeyDir {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let unique = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("integritet-keys-{}-{unique}", std::process::id()));
        KeyDir(dir)
    }
}

impl Drop for KeyDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A vault over `store` whose ring follows the key files in `dir`, as a server's does.
fn vault_on_files(store: Arc<dyn Store>, files: &KeyFiles) -> Vault {
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let (_, index) = files.load_or_create(&mut rng).unwrap();
    let keys = VaultKeys {
        ring: LiveKeyRing::follow(files.key_ring_path()).unwrap(),
        index,
        archive: ArchiveRatchet::generate(&mut rng, START.date()),
    };
    let policy: LoadedPolicy = policy::parse("policy.toml", SEED_POLICY).unwrap();
    Vault::new(
        store,
        Arc::new(policy),
        keys,
        Arc::new(ManualClock::new(START)),
        Box::new(rand::rngs::StdRng::seed_from_u64(11)),
    )
}

/// A rotation that runs to the end — old key retired — between a create's wrap and its commit
/// (the worst case of a rotation under live writes): the create's server wraps the key again,
/// a server that loaded the ring before the rotation still reads what was re-wrapped, and
/// after a restart with only the new key everything reads.
pub async fn a_rotation_between_wrap_and_commit_loses_nothing(store: Arc<dyn Store>) {
    let dir = KeyDir::new();
    let files = KeyFiles::in_dir(&dir.0);
    let writer = vault_on_files(store.clone(), &files);
    let idle = vault_on_files(store.clone(), &files);
    let before = writer
        .create_subject(&operator(), customer())
        .await
        .unwrap();
    let straddling = writer.prepare(&operator(), customer()).unwrap();
    let late = straddling.id();

    let mut rng = rand::rngs::StdRng::seed_from_u64(3);
    let rotated = crate::keys::rotate(
        store.as_ref(),
        &files,
        &mut rng,
        &operator(),
        START,
        std::time::Duration::ZERO,
        |_| {},
    )
    .await
    .unwrap();
    assert_eq!(rotated.retired, ["k1"]);
    writer.commit(vec![straddling], vec![]).await.unwrap();

    // The server that loaded k1 only, and has not wrapped since, meets k2.
    idle.read(&operator(), before, "purchase").await.unwrap();
    let restarted = vault_on_files(store.clone(), &files);
    for id in [before, late] {
        let view = restarted.read(&operator(), id, "purchase").await.unwrap();
        assert!(!view.values.is_empty());
    }
}

/// Lookups serve a purpose only by the kinds of data it lists and leave out subjects who
/// restricted processing or objected to it; a restricted subject's data is not changed; a read
/// for a purpose shows only the activities its retention counts.
pub async fn lookups_and_changes_obey_purpose_restriction_and_objection(store: Arc<dyn Store>) {
    let (vault, _) = vault_over(store.clone());
    let mut input = customer();
    input.activities.push(NewActivity {
        kind: "login".into(),
        at: START,
    });
    let id = vault.create_subject(&operator(), input).await.unwrap();
    let number = PersonalValue::new("811228-9874");
    let email = PersonalValue::new("astrid.lindqvist@example.se");
    let by = |kind, value: &PersonalValue, purpose: &'static str| {
        let (vault, value) = (&vault, value.clone());
        async move { vault.lookup(&operator(), kind, &value, purpose).await }
    };

    // The newsletter lists no identity number: it may not find people by one.
    let refused = by(LookupKind::IdentityNumber, &number, "newsletter").await;
    assert!(
        matches!(refused, Err(VaultError::Forbidden(_))),
        "{refused:?}"
    );
    let entries = store.audit_entries(0, u64::MAX, 1_000).await.unwrap();
    assert_eq!(entries.last().unwrap().draft.action, AuditAction::Refused);
    assert_eq!(
        by(LookupKind::IdentityNumber, &number, "purchase")
            .await
            .unwrap(),
        vec![id]
    );

    // A read shows the activities its purpose's retention counts, and no other.
    let purchase = vault.read(&operator(), id, "purchase").await.unwrap();
    let kinds: Vec<&str> = purchase
        .activities
        .iter()
        .map(|a| a.kind.as_str())
        .collect();
    assert_eq!(kinds, ["purchase"], "purchase counts purchases, not logins");
    let relationship = vault
        .read(&operator(), id, "customer_relationship")
        .await
        .unwrap();
    assert_eq!(relationship.activities.len(), 2, "{relationship:?}");

    // An objection to a purpose hides the subject from lookups for it, not for others.
    vault
        .object(&operator(), id, "direct_marketing")
        .await
        .unwrap();
    assert!(
        by(LookupKind::Email, &email, "direct_marketing")
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        by(LookupKind::Email, &email, "purchase").await.unwrap(),
        vec![id]
    );

    // A restriction: found only for purposes under a legal obligation; nothing changes.
    let value_id = purchase.values[0].id;
    vault.set_restricted(&operator(), id, true).await.unwrap();
    assert!(
        by(LookupKind::Email, &email, "purchase")
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        by(LookupKind::IdentityNumber, &number, "bookkeeping")
            .await
            .unwrap(),
        vec![id]
    );
    let rectified = vault
        .rectify(&operator(), id, value_id, PersonalValue::new("Astrid Ny"))
        .await;
    assert!(
        matches!(rectified, Err(VaultError::Forbidden(_))),
        "{rectified:?}"
    );
    let activity = vault
        .add_activities(
            &operator(),
            id,
            vec![NewActivity {
                kind: "purchase".into(),
                at: START,
            }],
        )
        .await;
    assert!(
        matches!(activity, Err(VaultError::Forbidden(_))),
        "{activity:?}"
    );
    vault.set_restricted(&operator(), id, false).await.unwrap();
    vault
        .rectify(&operator(), id, value_id, PersonalValue::new("Astrid Ny"))
        .await
        .unwrap();
}

/// A value a legal obligation holds, added after an erasure read the subject and before it
/// committed, is archived like the others, not destroyed unnoticed.
pub async fn a_value_added_while_an_erasure_is_planned_is_archived_by_the_same_rules(
    store: Arc<dyn Store>,
) {
    use crate::conformance::racing::{RacingStore, adding_values, erasing};

    let racing = Arc::new(RacingStore::new(store.clone()));
    let (vault, _) = vault_over(racing.clone());
    let mut input = customer();
    input.values.retain(|v| v.category == "email");
    let id = vault.create_subject(&operator(), input).await.unwrap();

    // The bookkeeping value is committed just before the erasure, after its read.
    racing.race(adding_values, erasing);
    vault
        .add_values(
            &operator(),
            id,
            vec![value("identity_number", "811228-9874", &["bookkeeping"])],
        )
        .await
        .unwrap();
    let outcome = vault.erase(&operator(), id, "request").await.unwrap();
    assert_eq!(outcome.erased, ["email"]);
    assert_eq!(outcome.archived, ["identity_number"]);
    assert!(store.subject(id).await.unwrap().is_none());
    let entry = store
        .archive_entry(&outcome.archive_references[0])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(entry.categories, ["identity_number"]);
    let erasures = store.erasures().await.unwrap();
    assert_eq!(erasures.len(), 1, "one erasure recorded, not one per plan");
    audit_log::verify(store.as_ref(), |_| {}).await.unwrap();
}

/// What a restore applies again: restrictions and objections recorded after the backup (here
/// lifted again to stand for the older copy) come back, and a second replay changes nothing.
pub async fn a_replay_applies_again_what_subjects_said_since_the_backup(store: Arc<dyn Store>) {
    let (vault, _) = vault_over(store.clone());
    let restricted = vault.create_subject(&operator(), customer()).await.unwrap();
    let objecting = vault.create_subject(&operator(), customer()).await.unwrap();
    vault
        .set_restricted(&operator(), restricted, true)
        .await
        .unwrap();
    vault
        .object(&operator(), objecting, "direct_marketing")
        .await
        .unwrap();
    let record = vault.replay_record(&operator()).await.unwrap();
    assert_eq!(record.restricted, [restricted]);
    assert_eq!(record.objections.len(), 1);
    // Through JSON, as `integritet erasures` saves it beside a dump.
    let saved = serde_json::to_string(&record).unwrap();
    let record = crate::vault::ReplayRecord::from_json(&saved).unwrap();

    // The older copy did not have them.
    vault
        .set_restricted(&operator(), restricted, false)
        .await
        .unwrap();
    vault
        .withdraw_objection(&operator(), objecting, "direct_marketing")
        .await
        .unwrap();
    let done = vault.replay(&operator(), &record).await.unwrap();
    assert_eq!((done.restrictions, done.objections), (1, 1));
    assert!(store.subject(restricted).await.unwrap().unwrap().restricted);
    let objections = store.subject(objecting).await.unwrap().unwrap().objections;
    assert_eq!(objections[0].purpose, "direct_marketing");
    assert_eq!(
        objections[0].at, record.objections[0].at,
        "the objection keeps its time"
    );
    let again = vault.replay(&operator(), &record).await.unwrap();
    assert_eq!(again, crate::vault::Replayed::default());
    audit_log::verify(store.as_ref(), |_| {}).await.unwrap();
}

/// Values two laws hold are archived once per purpose, each entry shredded on its own day,
/// and a reader opens only an entry of a purpose its role holds.
pub async fn the_archive_keeps_each_legal_obligation_apart(store: Arc<dyn Store>) {
    let (vault, _) = vault_over(store.clone());
    let input = NewSubjectInput {
        kind: SubjectKind::Person,
        values: vec![
            value(
                "identity_number",
                "811228-9874",
                &["purchase", "bookkeeping"],
            ),
            value(
                "name",
                "Astrid Lindqvist",
                &["purchase", "bookkeeping", "authority_requests"],
            ),
            value("email", "astrid.lindqvist@example.se", &["purchase"]),
        ],
        activities: vec![],
    };
    let id = vault.create_subject(&operator(), input).await.unwrap();
    let outcome = vault.erase(&operator(), id, "request").await.unwrap();
    assert_eq!(outcome.erased, ["email"]);
    assert_eq!(outcome.archive.len(), 2, "{:?}", outcome.archive);
    let entry_of = |purpose: &str| {
        outcome
            .archive
            .iter()
            .find(|e| e.purposes == [purpose])
            .unwrap_or_else(|| panic!("no entry for {purpose}: {:?}", outcome.archive))
            .clone()
    };
    let books = entry_of("bookkeeping");
    let authority = entry_of("authority_requests");
    assert_eq!(books.categories, ["identity_number", "name"]);
    assert_eq!(authority.categories, ["name"]);

    let reason = "Skatteverket audit of 2026 books";
    let finance = Actor::staff("user:ekonomi", "finance");
    let opened = vault
        .read_archive(&finance, &books.reference, reason)
        .await
        .unwrap();
    let mut categories: Vec<&str> = opened.values.iter().map(|v| v.category.as_str()).collect();
    categories.sort_unstable();
    assert_eq!(categories, ["identity_number", "name"]);
    assert!(matches!(
        vault
            .read_archive(&finance, &authority.reference, reason)
            .await,
        Err(VaultError::Forbidden(_))
    ));
    let legal = Actor::staff("user:juridik", "legal");
    let opened = vault
        .read_archive(
            &legal,
            &authority.reference,
            "Polisens begäran om uppgifter",
        )
        .await
        .unwrap();
    assert_eq!(opened.values.len(), 1);
    assert_eq!(opened.values[0].category, "name");
    let support = Actor::staff("user:kundtjanst", "support");
    assert!(matches!(
        vault.read_archive(&support, &books.reference, reason).await,
        Err(VaultError::Forbidden(_))
    ));
    audit_log::verify(store.as_ref(), |_| {}).await.unwrap();
}

/// A postal erasure request naming an e-mail address and a phone number: registered with the
/// day it arrived, due a month later (counted the Swedish way), proven for the e-mail only, so
/// only that identifier is a target; extended within its first month; its record sealed (no
/// identifier in clear in the database) and refused when its clear columns are edited.
pub async fn a_request_is_kept_sealed_and_moves_by_the_rules(store: Arc<dyn Store>) {
    use integritet_domain::request::{
        Channel, DeliveryMethod, IdentifierKind, RequestKind, State, VerificationMethod,
    };

    use crate::vault::{LookupKind, NewRequest, RequestStep};

    let (vault, clock) = vault_over(store.clone());
    let actor = operator();
    let email = || PersonalValue::new("Omar.Nilsson@Example.se");
    let phone = || PersonalValue::new("070-111 22 33");
    clock.set(datetime!(2026-02-02 09:00 UTC));
    let request = vault
        .receive_request(
            &actor,
            NewRequest {
                kind: RequestKind::Erasure,
                channel: Channel::Post,
                // The letter arrived on Saturday 31 January.
                received_at: Some(datetime!(2026-01-31 10:00 UTC)),
                identifiers: vec![(LookupKind::Email, email()), (LookupKind::Phone, phone())],
            },
        )
        .await
        .unwrap();
    assert_eq!(request.state, State::Received);
    assert_eq!(request.due(), time::macros::date!(2026 - 03 - 02));
    assert_eq!(request.names.len(), 2);
    // A later receipt than now is refused; a bad identifier names its place.
    let err = vault
        .receive_request(
            &actor,
            NewRequest {
                kind: RequestKind::Access,
                channel: Channel::Email,
                received_at: Some(datetime!(2026-02-03 09:00 UTC)),
                identifiers: vec![(LookupKind::Email, email())],
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(err, VaultError::Invalid { .. }), "{err}");
    let err = vault
        .receive_request(
            &actor,
            NewRequest {
                kind: RequestKind::Access,
                channel: Channel::Email,
                received_at: None,
                identifiers: vec![(LookupKind::Email, PersonalValue::new("not an address"))],
            },
        )
        .await
        .unwrap_err();
    assert!(err.to_string().starts_with("identifiers[0]"), "{err}");

    // Completing before anyone proved who is asking is refused.
    let err = vault
        .advance_request(
            &actor,
            request.id,
            RequestStep::Complete {
                method: DeliveryMethod::Post,
                address: None,
            },
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("not verified"), "{err}");
    let verified = vault
        .advance_request(
            &actor,
            request.id,
            RequestStep::Verify {
                method: VerificationMethod::IdDocumentChecked,
                // Written differently, the same address.
                identifiers: vec![(
                    LookupKind::Email,
                    PersonalValue::new("omar.nilsson@example.se"),
                )],
            },
        )
        .await
        .unwrap();
    assert_eq!(verified.state, State::IdentityVerified);
    let targets = verified.targets();
    assert_eq!(targets.len(), 1);
    assert_eq!(targets[0].kind, IdentifierKind::Email);

    let extended = vault
        .advance_request(
            &actor,
            request.id,
            RequestStep::Extend {
                months: 2,
                reason: "records at two warehouses".into(),
                told_by: DeliveryMethod::Post,
            },
        )
        .await
        .unwrap();
    assert_eq!(extended.due(), time::macros::date!(2026 - 04 - 30));
    let listed = vault.requests(&actor).await.unwrap();
    assert_eq!(listed, vec![extended.clone()]);
    assert_eq!(vault.request(&actor, request.id).await.unwrap(), extended);

    // The deadline view: due within a week, then overdue.
    let counts = vault.request_deadlines(7).await.unwrap();
    assert_eq!((counts.open, counts.due_soon, counts.overdue), (1, 0, 0));
    clock.set(datetime!(2026-04-24 09:00 UTC));
    let counts = vault.request_deadlines(7).await.unwrap();
    assert_eq!((counts.open, counts.due_soon, counts.overdue), (1, 1, 0));
    clock.set(datetime!(2026-05-01 09:00 UTC));
    let counts = vault.request_deadlines(7).await.unwrap();
    assert_eq!((counts.open, counts.due_soon, counts.overdue), (1, 0, 1));
    assert!(extended.is_overdue(time::macros::date!(2026 - 05 - 01)));

    // Only roles that handle data subjects' requests may act on them.
    let support = Actor::staff("token:s1", "support");
    assert!(matches!(
        vault.requests(&support).await,
        Err(VaultError::Forbidden(_))
    ));
    let legal = Actor::staff("token:l1", "legal");
    assert_eq!(vault.requests(&legal).await.unwrap().len(), 1);

    // Nothing the person wrote is in the database, and an edited deadline is refused.
    let row = store.request(request.id).await.unwrap().unwrap();
    let sealed = String::from_utf8_lossy(&row.sealed).to_lowercase();
    assert!(!sealed.contains("omar") && !sealed.contains("warehouses"));
    let mut edited = row.clone();
    edited.due = time::macros::date!(2026 - 12 - 31);
    edited.version += 1;
    assert!(
        store
            .put_request(edited, Some(row.version), vec![])
            .await
            .unwrap()
    );
    let err = vault.request(&actor, request.id).await.unwrap_err();
    assert!(err.to_string().contains("changed in the database"), "{err}");

    // Every step is in the log by the request's id only.
    let entries = store.audit_entries(0, u64::MAX, 1000).await.unwrap();
    let steps: Vec<&str> = entries
        .iter()
        .filter(|e| e.draft.action == AuditAction::Request)
        .filter_map(|e| e.draft.detail.as_deref())
        .collect();
    assert_eq!(steps.len(), 3, "{steps:?}");
    // The refusal of the support role is on record too.
    assert!(
        entries
            .iter()
            .any(|e| e.draft.action == AuditAction::Refused && e.draft.actor == "token:s1")
    );
    assert!(steps[0].contains("event=received"));
    assert!(steps.iter().all(|d| !d.to_lowercase().contains("omar")));
    audit_log::verify(store.as_ref(), |_| {}).await.unwrap();
}

/// An erasure request that names Astrid's e-mail address and Bertil's phone number, of which
/// only the e-mail was proven: carrying it out erases Astrid (her bookkeeping values go to the
/// archive, with the law and the day) and leaves Bertil alone. An objection to marketing by
/// e-mail reaches every purpose that markets by e-mail.
pub async fn a_request_is_carried_out_against_the_proven_identifiers_only(store: Arc<dyn Store>) {
    use integritet_domain::request::{
        Channel, MarketingChannel, ObjectionTarget, RequestKind, State, VerificationMethod,
    };

    use crate::vault::{NewRequest, RequestStep, RightResult};

    let (vault, _) = vault_over(store.clone());
    let actor = operator();
    let astrid = vault.create_subject(&actor, customer()).await.unwrap();
    let mut other = customer();
    for v in &mut other.values {
        v.value = PersonalValue::new(v.value.expose().replace("astrid", "bertil"));
        match v.category.as_str() {
            "identity_number" => v.value = PersonalValue::new("19121212-1212"),
            "phone" => v.value = PersonalValue::new("+46709876543"),
            "customer_number" => v.value = PersonalValue::new("KUND-1"),
            _ => {}
        }
    }
    let bertil = vault.create_subject(&actor, other).await.unwrap();
    let register = |kind: RequestKind| NewRequest {
        kind,
        channel: Channel::Email,
        received_at: None,
        identifiers: vec![
            (
                LookupKind::Email,
                PersonalValue::new("astrid.lindqvist@example.se"),
            ),
            (LookupKind::Phone, PersonalValue::new("070-987 65 43")),
        ],
    };
    let request = vault
        .receive_request(&actor, register(RequestKind::Erasure))
        .await
        .unwrap();
    // Not before someone proved who is asking.
    let err = vault
        .carry_out_request(&actor, request.id)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("not verified"), "{err}");
    vault
        .advance_request(
            &actor,
            request.id,
            RequestStep::Verify {
                method: VerificationMethod::EmailCode,
                identifiers: vec![(
                    LookupKind::Email,
                    PersonalValue::new("astrid.lindqvist@example.se"),
                )],
            },
        )
        .await
        .unwrap();
    let done = vault.carry_out_request(&actor, request.id).await.unwrap();
    assert_eq!(done.subjects, vec![astrid]);
    assert_eq!(done.request.state, State::InProgress);
    let RightResult::Erased { erasures } = &done.result else {
        panic!("{:?}", done.result);
    };
    assert_eq!(erasures.len(), 1);
    let kept = &erasures[0].archive;
    assert!(!kept.is_empty(), "the bookkeeping values are archived");
    assert!(
        kept.iter()
            .all(|entry| entry.purposes.contains(&"bookkeeping".to_owned()))
    );
    // Astrid is gone from lookups; Bertil, named by an unproven identifier, is untouched.
    let found = vault
        .lookup(
            &actor,
            LookupKind::Email,
            &PersonalValue::new("astrid.lindqvist@example.se"),
            "purchase",
        )
        .await
        .unwrap();
    assert!(found.is_empty());
    assert!(vault.read(&actor, bertil, "purchase").await.is_ok());

    // An objection to marketing by e-mail, proven by the phone this time, reaches Bertil's
    // purposes that market by e-mail, and only those.
    let objection = vault
        .receive_request(
            &actor,
            register(RequestKind::Objection {
                to: ObjectionTarget::Marketing(MarketingChannel::Email),
            }),
        )
        .await
        .unwrap();
    vault
        .advance_request(
            &actor,
            objection.id,
            RequestStep::Verify {
                method: VerificationMethod::PhoneCode,
                identifiers: vec![(LookupKind::Phone, PersonalValue::new("+46 70 987 65 43"))],
            },
        )
        .await
        .unwrap();
    let done = vault.carry_out_request(&actor, objection.id).await.unwrap();
    assert_eq!(done.subjects, vec![bertil]);
    let RightResult::Objected { purposes } = &done.result else {
        panic!("{:?}", done.result);
    };
    assert!(
        purposes.contains(&"direct_marketing".to_owned()),
        "{purposes:?}"
    );
    assert!(purposes.contains(&"newsletter".to_owned()), "{purposes:?}");
    let record = store.subject(bertil).await.unwrap().unwrap();
    let objected: Vec<&str> = record
        .objections
        .iter()
        .map(|o| o.purpose.as_str())
        .collect();
    assert_eq!(objected.len(), purposes.len(), "{objected:?}");
    audit_log::verify(store.as_ref(), |_| {}).await.unwrap();
}

/// Art. 20: a portability request gives the values the subject provided, for the purposes based
/// on consent or contract; observed values (IP address, website usage) and values held only
/// for a legal obligation are not in it.
pub async fn a_portability_request_gives_only_what_the_subject_provided_for_consent_or_contract(
    store: Arc<dyn Store>,
) {
    use integritet_domain::request::{Channel, RequestKind, VerificationMethod};

    use crate::vault::{NewRequest, RequestStep, RightResult};

    let (vault, _) = vault_over(store.clone());
    let actor = operator();
    let observed = |category: &str, v: &str, purposes: &[&str]| NewValue {
        provenance: Provenance::Observed,
        ..value(category, v, purposes)
    };
    let subject = vault
        .create_subject(
            &actor,
            NewSubjectInput {
                kind: SubjectKind::Person,
                values: vec![
                    value("email", "cecilia@example.se", &["purchase", "newsletter"]),
                    value("name", "Cecilia Berg", &["purchase"]),
                    value(
                        "order_history",
                        "Order 77: TK-905",
                        &["purchase", "bookkeeping"],
                    ),
                    value("payment_details", "klarna:ord_77", &["bookkeeping"]),
                    observed("ip_address", "192.0.2.7", &["fraud_prevention"]),
                    observed("website_usage", "viewed trackers", &["newsletter"]),
                ],
                activities: vec![],
            },
        )
        .await
        .unwrap();
    let email = || vec![(LookupKind::Email, PersonalValue::new("cecilia@example.se"))];
    let request = vault
        .receive_request(
            &actor,
            NewRequest {
                kind: RequestKind::Portability,
                channel: Channel::Portal,
                received_at: None,
                identifiers: email(),
            },
        )
        .await
        .unwrap();
    vault
        .advance_request(
            &actor,
            request.id,
            RequestStep::Verify {
                method: VerificationMethod::ElectronicId,
                identifiers: email(),
            },
        )
        .await
        .unwrap();
    let done = vault.carry_out_request(&actor, request.id).await.unwrap();
    let RightResult::Portable { copies } = &done.result else {
        panic!("{:?}", done.result);
    };
    assert_eq!(copies.len(), 1);
    assert_eq!(copies[0].subject, subject);
    let mut got: Vec<(String, Vec<String>)> = copies[0]
        .values
        .iter()
        .map(|v| (v.category.clone(), v.purposes.clone()))
        .collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            ("email".into(), vec!["purchase".into(), "newsletter".into()]),
            ("name".into(), vec!["purchase".into()]),
            ("order_history".into(), vec!["purchase".into()]),
        ]
    );
    let csv = copies[0].to_csv().unwrap();
    assert!(
        csv.starts_with("category,value,collected_at,purposes\n"),
        "{csv}"
    );
    assert!(
        csv.contains("cecilia@example.se") && csv.contains("purchase;newsletter"),
        "{csv}"
    );
    assert!(
        !csv.contains("192.0.2.7") && !csv.contains("klarna"),
        "{csv}"
    );
}

/// Art. 21(3): an objection to direct marketing puts the person's e-mail address and phone
/// number on the suppression list, which outlives the erasure; an objection to another purpose
/// does not.
pub async fn an_objection_to_marketing_suppresses_the_person_beyond_erasure(store: Arc<dyn Store>) {
    let (vault, _) = vault_over(store.clone());
    let actor = operator();
    let suppressed = |kind: LookupKind, raw: &str| {
        let vault = &vault;
        let raw = PersonalValue::new(raw);
        async move { vault.is_suppressed(&operator(), kind, &raw).await.unwrap() }
    };
    let astrid = vault.create_subject(&actor, customer()).await.unwrap();
    assert!(!suppressed(LookupKind::Email, "astrid.lindqvist@example.se").await);
    vault
        .object(&actor, astrid, "direct_marketing")
        .await
        .unwrap();
    // Found however it is written.
    assert!(suppressed(LookupKind::Email, "Astrid.Lindqvist@Example.se").await);
    assert!(suppressed(LookupKind::Phone, "070-123 45 67").await);
    vault.erase(&actor, astrid, "request").await.unwrap();
    assert!(suppressed(LookupKind::Email, "astrid.lindqvist@example.se").await);
    assert!(suppressed(LookupKind::Phone, "+46701234567").await);

    let mut other = customer();
    for v in &mut other.values {
        v.value = PersonalValue::new(v.value.expose().replace("astrid", "bertil"));
        match v.category.as_str() {
            "identity_number" => v.value = PersonalValue::new("19121212-1212"),
            "phone" => v.value = PersonalValue::new("+46709876543"),
            "customer_number" => v.value = PersonalValue::new("KUND-1"),
            _ => {}
        }
    }
    let bertil = vault.create_subject(&actor, other).await.unwrap();
    vault.object(&actor, bertil, "customer_care").await.unwrap();
    assert!(!suppressed(LookupKind::Email, "bertil.lindqvist@example.se").await);
    // Only addresses and numbers are on the list; a support role may not read it.
    let err = vault
        .is_suppressed(
            &actor,
            LookupKind::CustomerNumber,
            &PersonalValue::new("KUND-1"),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, VaultError::Invalid { .. }), "{err}");
    let support = Actor::staff("token:s1", "support");
    assert!(
        vault
            .is_suppressed(
                &support,
                LookupKind::Email,
                &PersonalValue::new("x@example.se")
            )
            .await
            .is_err()
    );
    audit_log::verify(store.as_ref(), |_| {}).await.unwrap();
}

/// A sweep, dry or real, as of the clock.
async fn sweep(vault: &Vault, dry_run: bool) -> crate::vault::SweepReport {
    vault
        .sweep(&operator(), dry_run, false, None, &|_| {})
        .await
        .unwrap()
}

/// What a report says happened, whether or not it was a dry run.
fn effect(report: &crate::vault::SweepReport) -> crate::vault::SweepReport {
    crate::vault::SweepReport {
        dry_run: false,
        ..report.clone()
    }
}

pub async fn the_sweep_erases_on_the_day_after_retention_ends_and_the_law_keeps_the_invoice(
    store: Arc<dyn Store>,
) {
    let bought = datetime!(2022-03-15 10:00 UTC);
    let (vault, clock) = vault_at(store.clone(), bought);
    let astrid = vault
        .create_subject(&operator(), customer_buying_at(bought))
        .await
        .unwrap();
    let mut other = customer_buying_at(bought);
    for v in &mut other.values {
        v.value = PersonalValue::new(v.value.expose().replace("astrid", "bertil"));
        if v.category == "customer_number" {
            v.value = PersonalValue::new("KUND-2");
        }
        if v.category == "identity_number" {
            v.value = PersonalValue::new("556800-7610");
        }
        if v.category == "phone" {
            v.value = PersonalValue::new("+46709876543");
        }
    }
    let bertil = vault.create_subject(&operator(), other).await.unwrap();
    // Bertil buys again in 2024: his 36 months start over.
    clock.set(datetime!(2024-05-20 12:00 UTC));
    vault
        .add_activities(
            &operator(),
            bertil,
            vec![NewActivity {
                kind: "purchase".into(),
                at: datetime!(2024-05-20 12:00 UTC),
            }],
        )
        .await
        .unwrap();

    clock.set(datetime!(2025-03-15 23:00 UTC));
    let last_day = sweep(&vault, false).await;
    assert_eq!(last_day.subjects_evaluated, 2);
    assert_eq!(
        (last_day.subjects_erased, last_day.values_erased),
        (0, 0),
        "{last_day:?}"
    );
    vault.read(&operator(), astrid, "purchase").await.unwrap();

    clock.set(datetime!(2025-03-16 01:00 UTC));
    let planned = sweep(&vault, true).await;
    assert!(planned.dry_run);
    assert!(
        !store.is_erased(astrid).await.unwrap(),
        "a dry run erases nothing"
    );
    let done = sweep(&vault, false).await;
    assert_eq!(
        effect(&planned),
        done,
        "the dry run says what the sweep does"
    );
    assert_eq!(done.subjects_erased, 1);
    assert_eq!(done.values_erased, 2, "e-mail and phone");
    assert_eq!(done.values_archived, 6);
    assert_eq!(done.archive_entries_made, 1);
    assert_eq!(done.purposes["purchase"].erased, 2);
    assert_eq!(done.purposes["purchase"].archived, 6);
    assert_eq!(done.purposes["bookkeeping"].archiving, 6);
    assert!(store.is_erased(astrid).await.unwrap());
    assert!(matches!(
        vault.read(&operator(), astrid, "purchase").await,
        Err(VaultError::NotFound { .. })
    ));
    let by_email = vault
        .lookup(
            &operator(),
            LookupKind::Email,
            &PersonalValue::new("astrid.lindqvist@example.se"),
            "purchase",
        )
        .await
        .unwrap();
    assert!(by_email.is_empty());
    vault.read(&operator(), bertil, "purchase").await.unwrap();
    let erasure = store
        .erasures()
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.subject == astrid)
        .unwrap();
    assert_eq!(erasure.reason, "retention");
    assert!(erasure.archived.contains(&"identity_number".to_owned()));
    // A planned erasure that comes second (a racing request) writes nothing: one erasure, one
    // archive entry.
    let archive_before = store.counts().await.unwrap().archive_entries;
    let late = crate::store::ErasureRecord {
        at: datetime!(2025-03-16 01:00:01 UTC),
        ..erasure.clone()
    };
    assert!(
        !store
            .erase_subject(late, vec![], Some(vec![]), vec![])
            .await
            .unwrap()
    );
    let records = store.erasures().await.unwrap();
    assert_eq!(records.iter().filter(|e| e.subject == astrid).count(), 1);
    assert_eq!(
        store.counts().await.unwrap().archive_entries,
        archive_before
    );

    // A second sweep the same day finds nothing to do.
    let again = sweep(&vault, false).await;
    assert_eq!(
        (
            again.subjects_erased,
            again.values_erased,
            again.values_archived
        ),
        (0, 0, 0)
    );

    clock.set(datetime!(2027-05-20 12:00 UTC));
    assert_eq!(sweep(&vault, false).await.subjects_erased, 0);
    clock.set(datetime!(2027-05-21 00:10 UTC));
    assert_eq!(sweep(&vault, false).await.subjects_erased, 1);
    assert!(store.is_erased(bertil).await.unwrap());

    // Astrid's invoice data of the 2022 financial year: kept through 2029, shredded on
    // 2030-01-01; Bertil's of 2024 stays to the end of 2031.
    clock.set(datetime!(2029-12-31 22:00 UTC));
    assert_eq!(sweep(&vault, false).await.archive_entries_shredded, 0);
    clock.set(datetime!(2030-01-01 00:30 UTC));
    let planned = sweep(&vault, true).await;
    assert_eq!(planned.archive_entries_shredded, 1);
    assert_eq!(store.counts().await.unwrap().archive_entries, 2);
    let shred_day = sweep(&vault, false).await;
    assert_eq!(effect(&planned), shred_day);
    assert_eq!(shred_day.purposes["bookkeeping"].shredded, 1);
    assert_eq!(store.counts().await.unwrap().archive_entries, 1);
    clock.set(datetime!(2032-01-01 00:30 UTC));
    assert_eq!(sweep(&vault, false).await.archive_entries_shredded, 1);
    assert_eq!(store.counts().await.unwrap().archive_entries, 0);

    let entries = store.audit_entries(0, u64::MAX, 10_000).await.unwrap();
    let sweeps = entries
        .iter()
        .filter(|e| e.draft.action == AuditAction::Sweep)
        .count();
    assert_eq!(sweeps, 10);
    let erasures = entries
        .iter()
        .filter(|e| e.draft.action == AuditAction::Erase && e.draft.actor == "system:test")
        .count();
    assert_eq!(erasures, 2);
    audit_log::verify(store.as_ref(), |_| {}).await.unwrap();
}

pub async fn the_sweep_trims_values_no_purpose_holds_and_a_dry_run_says_exactly_what_it_does(
    store: Arc<dyn Store>,
) {
    let (vault, clock) = vault_at(store.clone(), datetime!(2026-01-10 10:00 UTC));
    // A subscriber: the newsletter holds the e-mail address until consent is withdrawn,
    // product improvement the usage data for 13 months after collection.
    let subscriber = vault
        .create_subject(
            &operator(),
            NewSubjectInput {
                kind: SubjectKind::Person,
                values: vec![
                    value("email", "cecilia@example.se", &["newsletter"]),
                    value(
                        "website_usage",
                        "visited /tracker-tk905",
                        &["product_improvement"],
                    ),
                ],
                activities: vec![],
            },
        )
        .await
        .unwrap();
    // A restricted customer (Art. 18): kept past retention, for the legal claim.
    let restricted = vault
        .create_subject(
            &operator(),
            NewSubjectInput {
                kind: SubjectKind::Person,
                values: vec![value("ip_address", "192.0.2.7", &["fraud_prevention"])],
                activities: vec![],
            },
        )
        .await
        .unwrap();
    vault
        .set_restricted(&operator(), restricted, true)
        .await
        .unwrap();

    clock.set(datetime!(2027-02-11 03:00 UTC));
    let planned = sweep(&vault, true).await;
    let done = sweep(&vault, false).await;
    assert_eq!(effect(&planned), done);
    assert_eq!(done.subjects_trimmed, 1);
    assert_eq!(done.subjects_erased, 0);
    assert_eq!(done.values_erased, 1);
    assert_eq!(done.purposes["product_improvement"].erased, 1);
    let kept = vault
        .read(&operator(), subscriber, "newsletter")
        .await
        .unwrap();
    assert_eq!(kept.values.len(), 1);
    assert_eq!(kept.values[0].value.expose(), "cecilia@example.se");
    let usage = vault
        .read(&operator(), subscriber, "product_improvement")
        .await
        .unwrap();
    assert!(usage.values.is_empty(), "the usage data is gone");

    clock.set(datetime!(2028-06-01 03:00 UTC));
    let held = sweep(&vault, false).await;
    assert_eq!(held.subjects_held, 1);
    assert_eq!(held.values_held, 1);
    assert_eq!(held.purposes["fraud_prevention"].held, 1);
    assert!(!store.is_erased(restricted).await.unwrap());
    vault
        .set_restricted(&operator(), restricted, false)
        .await
        .unwrap();
    let lifted = sweep(&vault, false).await;
    assert_eq!(lifted.subjects_erased, 1);
    assert!(store.is_erased(restricted).await.unwrap());
    audit_log::verify(store.as_ref(), |_| {}).await.unwrap();
}

pub async fn a_legal_hold_stops_erasure_until_its_day_and_a_planted_hold_holds_nothing(
    store: Arc<dyn Store>,
) {
    let (vault, clock) = vault_over(store.clone());
    let buyer = || NewSubjectInput {
        kind: SubjectKind::Person,
        values: vec![value("email", "kund@example.se", &["purchase"])],
        activities: vec![NewActivity {
            kind: "purchase".into(),
            at: START,
        }],
    };
    let disputed = vault.create_subject(&operator(), buyer()).await.unwrap();
    let settled = vault.create_subject(&operator(), buyer()).await.unwrap();
    let planted_on = vault.create_subject(&operator(), buyer()).await.unwrap();
    let until = time::macros::date!(2030 - 06 - 30);
    let reason = "tvist om faktura 7000 vid tingsrätten";
    let hold = vault
        .set_legal_hold(&operator(), disputed, reason, until)
        .await
        .unwrap();
    assert!(hold.in_force_on(START.date()));
    let other = vault
        .set_legal_hold(&operator(), settled, reason, until)
        .await
        .unwrap();
    for (reason, until) in [
        ("tvist med kund@example.se om faktura", until),
        (reason, time::macros::date!(2026 - 02 - 28)),
        ("kort", until),
    ] {
        let refused = vault
            .set_legal_hold(&operator(), disputed, reason, until)
            .await;
        assert!(
            matches!(refused, Err(VaultError::Invalid { .. })),
            "{reason} {until}: {refused:?}"
        );
    }
    let erase = vault.erase(&operator(), disputed, "request").await;
    assert!(
        matches!(&erase, Err(VaultError::Forbidden(m)) if m.contains("2030-06-30")),
        "{erase:?}"
    );
    // A copy of a genuine hold's row, moved onto another subject in the database.
    let genuine = store
        .legal_holds()
        .await
        .unwrap()
        .into_iter()
        .find(|row| row.id == hold.id)
        .unwrap();
    store
        .put_legal_hold(
            crate::store::HoldRow {
                id: uuid::Uuid::from_u128(99),
                subject: planted_on,
                sealed: genuine.sealed,
            },
            vec![],
        )
        .await
        .unwrap();

    clock.set(datetime!(2029-04-01 09:00 UTC));
    vault
        .release_legal_hold(&operator(), other.id)
        .await
        .unwrap();
    let report = sweep(&vault, false).await;
    assert_eq!(report.subjects_held, 1, "{report:?}");
    assert_eq!(report.subjects_erased, 2, "{report:?}");
    assert_eq!(report.purposes["purchase"].held, 1);
    vault.read(&operator(), disputed, "purchase").await.unwrap();
    assert!(store.is_erased(settled).await.unwrap());
    assert!(store.is_erased(planted_on).await.unwrap());
    let holds = vault.legal_holds(&operator()).await.unwrap();
    assert_eq!(holds.len(), 2, "the planted hold is not one");
    let checked = vault.verify_integrity(&operator()).await.unwrap();
    assert_eq!(checked.holds_checked, 3);
    assert_eq!(
        checked.holds_refused,
        vec![uuid::Uuid::from_u128(99).to_string()]
    );
    assert!(!checked.is_whole());
    assert!(
        holds
            .iter()
            .any(|h| h.id == other.id && h.released.is_some())
    );
    let entries = store.audit_entries(0, u64::MAX, 10_000).await.unwrap();
    assert!(entries.iter().any(|e| {
        e.draft.action == AuditAction::IntegrityViolation
            && e.draft
                .detail
                .as_deref()
                .is_some_and(|d| d.contains("legal_holds"))
    }));
    assert_eq!(
        entries
            .iter()
            .filter(|e| e.draft.action == AuditAction::LegalHold)
            .count(),
        3
    );

    clock.set(datetime!(2030-07-01 09:00 UTC));
    assert_eq!(sweep(&vault, false).await.subjects_erased, 1);
    assert!(store.is_erased(disputed).await.unwrap());
    audit_log::verify(store.as_ref(), |_| {}).await.unwrap();
}

pub async fn a_rectification_request_replaces_the_values_and_names_whom_to_tell(
    store: Arc<dyn Store>,
) {
    use integritet_domain::request::{Channel, RequestKind, VerificationMethod};

    use crate::vault::{Correction, NewRequest, RequestStep, RightResult};

    let (vault, _) = vault_over(store.clone());
    let actor = operator();
    let id = vault.create_subject(&actor, customer()).await.unwrap();
    vault
        .record_disclosure(
            &actor,
            id,
            "credit_agencies",
            "purchase",
            &["name".to_owned()],
        )
        .await
        .unwrap();
    let email = || {
        vec![(
            LookupKind::Email,
            PersonalValue::new("astrid.lindqvist@example.se"),
        )]
    };
    let request = vault
        .receive_request(
            &actor,
            NewRequest {
                kind: RequestKind::Rectification,
                channel: Channel::Email,
                received_at: None,
                identifiers: email(),
            },
        )
        .await
        .unwrap();
    let corrected = || {
        vec![
            Correction {
                category: "name".into(),
                value: PersonalValue::new("Astrid Rättad"),
            },
            Correction {
                category: "support_case".into(),
                value: PersonalValue::new("ärende 1"),
            },
        ]
    };
    let early = vault
        .carry_out_rectification(&actor, request.id, corrected())
        .await;
    assert!(early.is_err(), "not before the identity is proven");
    vault
        .advance_request(
            &actor,
            request.id,
            RequestStep::Verify {
                method: VerificationMethod::EmailCode,
                identifiers: email(),
            },
        )
        .await
        .unwrap();
    let none = vault
        .carry_out_rectification(&actor, request.id, Vec::new())
        .await;
    assert!(matches!(none, Err(VaultError::Invalid { .. })), "{none:?}");
    let plain = vault.carry_out_request(&actor, request.id).await.unwrap();
    assert!(matches!(plain.result, RightResult::NotAutomatic { .. }));

    let done = vault
        .carry_out_rectification(&actor, request.id, corrected())
        .await
        .unwrap();
    let RightResult::Rectified {
        rectified,
        not_held,
    } = &done.result
    else {
        panic!("{:?}", done.result);
    };
    assert_eq!(rectified.len(), 1);
    assert_eq!(rectified[0].subject, id);
    assert_eq!(rectified[0].notify, vec!["credit_agencies"]);
    assert_eq!(not_held, &vec!["support_case".to_owned()]);
    let view = vault.read(&actor, id, "purchase").await.unwrap();
    let names: Vec<&str> = view
        .values
        .iter()
        .filter(|v| v.category == "name")
        .map(|v| v.value.expose())
        .collect();
    assert_eq!(names, vec!["Astrid Rättad"], "the old value is gone");
}
