//! Someone who can write the database but not read the key directory gains nothing: every
//! edit below is made with plain SQL by the backend's test (through [`Tamperer`]), and each
//! is refused where it would have widened access, audited, and reported by `store verify`.

use std::sync::Arc;

use async_trait::async_trait;
use integritet_crypto::RecordKey;
use integritet_crypto::rand_core::SeedableRng;
use integritet_domain::audit::{
    AuditAction, AuditEntry, ChainBreak, ChainHash, ChainKey, Checkpoint,
};
use integritet_domain::subject::{SubjectId, ValueId};

use crate::audit_log::{self, VerifyError};
use crate::store::{Store, TokenRecord, Writes};
use crate::tokens::{self, AuthError, TokenRequest};
use crate::users::{self, AccountRules, LoginError, NewUser, Password, SessionError};
use crate::vault::{Actor, VaultError};
use crate::vault_conformance::{customer, operator, vault_over};

/// Edits made behind the store's back, as an intruder with database access would.
#[async_trait]
pub trait Tamperer: Send + Sync {
    /// Sets a token's role.
    async fn set_token_role(&self, id: &str, role: &str);
    /// Clears a token's revocation.
    async fn unrevoke_token(&self, id: &str);
    /// Replaces a console user's password hash.
    async fn set_password_hash(&self, user: &str, phc: &str);
    /// Moves every session of `from` to the user `to`.
    async fn move_sessions(&self, from: &str, to: &str);
    /// Replaces a value's purposes.
    async fn set_value_purposes(&self, subject: SubjectId, value: ValueId, purposes: &[&str]);
    /// Overwrites the stored entry at `entry.seq` with `entry`'s purpose, detail and hashes.
    async fn rewrite_audit_entry(&self, entry: &AuditEntry);
    /// Moves the recorded head.
    async fn set_audit_head(&self, seq: u64, hash: ChainHash);
}

/// Generates the test of this module for a backend: `$make` yields a fresh store and its
/// tamperer.
#[macro_export]
macro_rules! integrity_tests {
    ($make:expr) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn rows_edited_in_the_database_are_refused_audited_and_reported() {
            let (store, tamperer) = $make.await;
            $crate::conformance::integrity::rows_edited_in_the_database_are_refused(
                store, &tamperer,
            )
            .await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn a_keyed_log_cannot_be_rewritten_even_after_its_last_checkpoint() {
            let (store, tamperer) = $make.await;
            $crate::conformance::integrity::a_keyed_log_cannot_be_rewritten(store, &tamperer).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn a_log_rewritten_with_recomputed_hashes_is_caught_by_its_signed_checkpoint() {
            let (store, tamperer) = $make.await;
            $crate::conformance::integrity::a_rewritten_log_is_caught_by_its_checkpoint(
                store, &tamperer,
            )
            .await;
        }
    };
}

pub async fn rows_edited_in_the_database_are_refused(
    store: Arc<dyn Store>,
    tamperer: &dyn Tamperer,
) {
    let (vault, _clock) = vault_over(store.clone());
    let key = vault.record_key().clone();
    let version = vault.policy().version.to_string();
    let now = vault.now();
    let admin = Actor::staff("token:admin", tokens::ADMIN_ROLE);
    let issue = |role: &str| TokenRequest {
        role: role.into(),
        label: None,
        expires_in: None,
    };
    assert!(
        vault
            .verify_integrity(&operator())
            .await
            .unwrap()
            .is_whole()
    );

    // A token's role widened in the database: refused.
    let (support, secret) = vault.issue_token(&admin, issue("support")).await.unwrap();
    tokens::authenticate(store.as_ref(), &key, now, secret.expose(), &version)
        .await
        .unwrap();
    tamperer.set_token_role(&support.id, "admin").await;
    let err = tokens::authenticate(store.as_ref(), &key, now, secret.expose(), &version)
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::Tampered { .. }), "{err}");
    assert_eq!(err.public_message(), AuthError::Unknown.public_message());

    // A revocation lifted in the database: still refused.
    let (revoked, revoked_secret) = vault.issue_token(&admin, issue("support")).await.unwrap();
    assert!(vault.revoke_token(&admin, &revoked.id).await.unwrap());
    tamperer.unrevoke_token(&revoked.id).await;
    let err = tokens::authenticate(store.as_ref(), &key, now, revoked_secret.expose(), &version)
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::Tampered { .. }), "{err}");

    // A token planted with the intruder's own secret (hashed and sealed under a key of their
    // own, the best they can do): no such token.
    let intruder = RecordKey::derive(&integritet_crypto::BlindIndexKey::generate(
        &mut rand::rngs::StdRng::seed_from_u64(666),
    ));
    let planted_secret = format!("itg_{}", "ab".repeat(32));
    let mut planted = TokenRecord {
        id: "tok_0badc0de".into(),
        hash: tokens::hash_secret(&intruder, &planted_secret),
        role: tokens::ADMIN_ROLE.into(),
        label: None,
        created_at: now,
        expires_at: None,
        revoked_at: None,
        mac: [0; 32],
    };
    planted.mac = tokens::token_mac(&intruder, &planted);
    store.insert_token(planted, Vec::new()).await.unwrap();
    let err = tokens::authenticate(store.as_ref(), &key, now, &planted_secret, &version)
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::Unknown), "{err}");

    // A password hash planted for a real user: neither the planted nor the real password
    // logs in.
    let policy = vault.policy().clone();
    let mut rng = rand::rngs::StdRng::seed_from_u64(5);
    let real = Password::new("Det riktiga lösenordet");
    for (name, role) in [("anna", "support"), ("bo", tokens::ADMIN_ROLE)] {
        users::create_user(
            store.as_ref(),
            &key,
            now,
            &mut rng,
            "test",
            NewUser {
                name: name.into(),
                role: role.into(),
                password: real.clone(),
            },
            &policy,
        )
        .await
        .unwrap();
    }
    let rules = AccountRules::default();
    let login = |name: &'static str, password: Password, n: u64| {
        let (store, key, version) = (store.clone(), key.clone(), version.clone());
        async move {
            let mut rng = rand::rngs::StdRng::seed_from_u64(n);
            let secrets = users::LoginSecrets::generate(&mut rng);
            let attempt = users::LoginAttempt {
                name,
                password: &password,
                device: None,
            };
            users::login(
                store.as_ref(),
                &key,
                now,
                &rules,
                attempt,
                secrets,
                &version,
            )
            .await
        }
    };
    let anna = login("anna", real.clone(), 1).await.unwrap();
    let planted_password = Password::new("Inkräktarens lösenord");
    let phc = users::hash_password(&planted_password, &mut rng)
        .await
        .unwrap();
    tamperer.set_password_hash("bo", &phc).await;
    for password in [planted_password, real.clone()] {
        let err = login("bo", password, 2).await.unwrap_err();
        assert!(matches!(err, LoginError::Tampered), "{err}");
        assert_eq!(
            err.public_message(),
            LoginError::UnknownUser.public_message()
        );
    }

    // A support session moved to the administrator: refused.
    users::authenticate(
        store.as_ref(),
        &key,
        now,
        &rules,
        anna.secret.expose(),
        &version,
    )
    .await
    .unwrap();
    tamperer.move_sessions("anna", "bo").await;
    let err = users::authenticate(
        store.as_ref(),
        &key,
        now,
        &rules,
        anna.secret.expose(),
        &version,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, SessionError::Tampered), "{err}");

    // A value's purposes widened to direct marketing: the read that would use it is refused,
    // and a rectification cannot launder the edit into a sealed value.
    let subject = vault.create_subject(&operator(), customer()).await.unwrap();
    let email = vault
        .read(&operator(), subject, "purchase")
        .await
        .unwrap()
        .values
        .into_iter()
        .find(|v| v.category == "email")
        .unwrap();
    tamperer
        .set_value_purposes(subject, email.id, &["purchase", "direct_marketing"])
        .await;
    let err = vault
        .read(&operator(), subject, "direct_marketing")
        .await
        .unwrap_err();
    assert!(
        matches!(err, VaultError::Integrity { value, .. } if value == email.id),
        "{err}"
    );
    let err = vault
        .rectify(
            &operator(),
            subject,
            email.id,
            integritet_domain::personal::PersonalValue::new("ny@example.se"),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, VaultError::Integrity { .. }), "{err}");

    // Every refusal is on record, and `store verify` names every edited row.
    let violations = store
        .audit_entries(0, u64::MAX, 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.draft.action == AuditAction::IntegrityViolation)
        .count();
    assert_eq!(
        violations, 7,
        "two tokens, two logins, a session, a read, a rectification"
    );
    let report = vault.verify_integrity(&operator()).await.unwrap();
    assert!(!report.is_whole());
    let mut tokens_refused = report.tokens_refused.clone();
    tokens_refused.sort();
    let mut expected = vec![
        support.id.clone(),
        revoked.id.clone(),
        "tok_0badc0de".to_owned(),
    ];
    expected.sort();
    assert_eq!(tokens_refused, expected);
    assert_eq!(report.users_refused, ["bo"]);
    assert_eq!(report.values_refused, [(subject, email.id)]);
    assert_eq!(report.values_checked, customer().values.len() as u64);
    assert_eq!(report.values_unbound, 0);
    assert!(report.keys_refused.is_empty());
    crate::audit_log::verify(store.as_ref(), |_| {})
        .await
        .unwrap();
}

/// Entries from `from` on, chained again after their (possibly changed) predecessors, as
/// someone who rewrote the log without the key directory would: every hash recomputed, the
/// only way they can (unkeyed).
fn rechained(entries: &[AuditEntry], from: u64) -> Vec<AuditEntry> {
    let mut out: Vec<AuditEntry> = Vec::new();
    for entry in entries.iter().filter(|e| e.seq >= from) {
        let prev = out.last().map(|e| (e.seq, e.hash)).or_else(|| {
            entries
                .iter()
                .find(|e| e.seq == entry.seq - 1)
                .map(|e| (e.seq, e.hash))
        });
        out.push(entry.draft.clone().chain(prev, &ChainKey::UNKEYED));
    }
    out
}

async fn rewrite(tamperer: &dyn Tamperer, entries: &[AuditEntry]) {
    for entry in entries {
        tamperer.rewrite_audit_entry(entry).await;
    }
    if let Some(last) = entries.last() {
        tamperer.set_audit_head(last.seq, last.hash).await;
    }
}

pub async fn a_rewritten_log_is_caught_by_its_checkpoint(
    store: Arc<dyn Store>,
    tamperer: &dyn Tamperer,
) {
    let key =
        integritet_crypto::AuditSigningKey::generate(&mut rand::rngs::StdRng::seed_from_u64(8));
    let public = key.public_key();
    let now = crate::vault_conformance::START;
    let draft = |action: AuditAction| crate::conformance::draft(action, None);
    for action in [AuditAction::Read, AuditAction::Lookup, AuditAction::Export] {
        store.append_audit(vec![draft(action)]).await.unwrap();
    }
    let signed = audit_log::write_checkpoint(store.as_ref(), &key, now, "system:test", "pv")
        .await
        .unwrap();
    assert_eq!(signed, Some(3));
    // Nothing new since: an idle server writes no second checkpoint.
    assert_eq!(
        audit_log::write_checkpoint(store.as_ref(), &key, now, "system:test", "pv")
            .await
            .unwrap(),
        None
    );
    for action in [AuditAction::Read, AuditAction::Read] {
        store.append_audit(vec![draft(action)]).await.unwrap();
    }
    let (summary, head) = audit_log::verify_signed(store.as_ref(), &public, |_| {})
        .await
        .unwrap();
    assert_eq!(summary.entries, 6);
    let head = head.unwrap();
    assert_eq!((head.seq, head.at), (3, now));

    // Entry 2 rewritten, every later hash and the head recomputed: the chain alone looks whole.
    let mut entries = store.audit_entries(0, u64::MAX, 100).await.unwrap();
    entries[1].draft.purpose = Some("direct_marketing".into());
    let rewritten = rechained(&entries, 2);
    rewrite(tamperer, &rewritten).await;
    audit_log::verify(store.as_ref(), |_| {}).await.unwrap();
    let err = audit_log::verify_signed(store.as_ref(), &public, |_| {})
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            VerifyError::Broken(ChainBreak::CheckpointMismatch { seq: 3 })
        ),
        "{err}"
    );

    // The checkpoint made to name the new hash: its signature no longer fits.
    let mut entries = store.audit_entries(0, u64::MAX, 100).await.unwrap();
    let mut checkpoint = Checkpoint::parse(entries[3].draft.detail.as_deref().unwrap()).unwrap();
    checkpoint.head = entries[2].hash;
    entries[3].draft.detail = Some(checkpoint.detail());
    rewrite(tamperer, &rechained(&entries, 4)).await;
    audit_log::verify(store.as_ref(), |_| {}).await.unwrap();
    let err = audit_log::verify_signed(store.as_ref(), &public, |_| {})
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            VerifyError::Broken(ChainBreak::BadCheckpoint { seq: 4 })
        ),
        "{err}"
    );
    // Nor does another installation's key verify this one's checkpoints.
    let other =
        integritet_crypto::AuditSigningKey::generate(&mut rand::rngs::StdRng::seed_from_u64(9));
    assert!(
        audit_log::verify_signed(store.as_ref(), &other.public_key(), |_| {})
            .await
            .is_err()
    );
}

/// With the chain keyed, entries written after the last checkpoint are safe too: whoever
/// edits one cannot compute its hash, and the entries from before the key keep their place
/// because the first keyed entry's hash covers them.
pub async fn a_keyed_log_cannot_be_rewritten(store: Arc<dyn Store>, tamperer: &dyn Tamperer) {
    let draft = |action: AuditAction| crate::conformance::draft(action, None);
    // Two entries from before the installation had a chain key, then keyed ones.
    for action in [AuditAction::Read, AuditAction::Lookup] {
        store.append_audit(vec![draft(action)]).await.unwrap();
    }
    store.use_chain_key(ChainKey::new([42; 32], 3)).unwrap();
    // The same key again is fine; another is refused.
    store.use_chain_key(ChainKey::new([42; 32], 3)).unwrap();
    assert!(store.use_chain_key(ChainKey::new([43; 32], 3)).is_err());
    for action in [AuditAction::Export, AuditAction::Read, AuditAction::Read] {
        store.append_audit(vec![draft(action)]).await.unwrap();
    }
    assert_eq!(
        audit_log::verify(store.as_ref(), |_| {})
            .await
            .unwrap()
            .entries,
        5
    );
    let entries = store.audit_entries(0, u64::MAX, 100).await.unwrap();
    assert_eq!(
        entries[0].hash,
        entries[0]
            .draft
            .clone()
            .chain(None, &ChainKey::UNKEYED)
            .hash,
        "the entries before the key keep their unkeyed hashes"
    );

    // The last entry edited and its hash and the head recomputed: no checkpoint covers it.
    let mut edited = entries.clone();
    edited[4].draft.purpose = Some("direct_marketing".into());
    rewrite(tamperer, &rechained(&edited, 5)).await;
    let err = audit_log::verify(store.as_ref(), |_| {}).await.unwrap_err();
    assert!(
        matches!(err, VerifyError::Broken(ChainBreak::Content { seq: 5 })),
        "{err}"
    );
    // Put back, it verifies again; then an unkeyed entry from before the key is rewritten.
    rewrite(tamperer, &entries[4..]).await;
    audit_log::verify(store.as_ref(), |_| {}).await.unwrap();
    let mut edited = entries.clone();
    edited[1].draft.detail = Some("reason=rewritten".into());
    rewrite(tamperer, &rechained(&edited, 2)).await;
    let err = audit_log::verify(store.as_ref(), |_| {}).await.unwrap_err();
    assert!(
        matches!(err, VerifyError::Broken(ChainBreak::Content { seq: 3 })),
        "{err}"
    );
}
