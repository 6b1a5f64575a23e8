//! Console users and sessions: what every store must do with them, and the login rules of
//! [`crate::users`] carried out over each store.

use std::sync::Arc;

use integritet_domain::audit::{AuditAction, AuditDraft};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use crate::audit_log;
use crate::store::{LockoutRule, SessionRecord, Store, StoreError, UserRecord, Writes};
use crate::users::{self, AccountRules, LoginError, NewUser, Password, SessionError};

const T0: OffsetDateTime = datetime!(2026-03-01 10:00 UTC);

const RULE: LockoutRule = LockoutRule {
    max_failures: 5,
    duration: Duration::minutes(15),
};

pub fn user_record(name: &str) -> UserRecord {
    UserRecord {
        name: name.into(),
        role: "support".into(),
        password_hash: format!("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$not-a-real-hash-of-{name}"),
        created_at: T0,
        disabled_at: None,
        failed_logins: 0,
        locked_until: None,
        mac: [1; 32],
    }
}

fn session_record(user: &str, n: u8, at: OffsetDateTime) -> SessionRecord {
    SessionRecord {
        hash: *blake3::hash(&[n]).as_bytes(),
        user: user.into(),
        created_at: at,
        last_seen_at: at,
        mac: [n; 32],
    }
}

fn user_draft(action: AuditAction, detail: &str) -> AuditDraft {
    AuditDraft {
        at: T0,
        actor: "test".into(),
        role: None,
        purpose: None,
        subject: None,
        categories: Vec::new(),
        action,
        policy_version: "pv1-test".into(),
        detail: Some(detail.into()),
    }
}

async fn actions(store: &dyn Store) -> Vec<AuditAction> {
    store
        .audit_entries(0, u64::MAX, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.draft.action)
        .collect()
}

async fn insert_user(store: &dyn Store, name: &str) -> UserRecord {
    let record = user_record(name);
    store
        .insert_user(
            record.clone(),
            vec![user_draft(AuditAction::UserCreated, name)],
        )
        .await
        .unwrap();
    record
}

async fn fail(
    store: &dyn Store,
    name: &str,
    at: OffsetDateTime,
) -> Option<crate::store::LoginFailure> {
    store
        .record_login_failure(
            name,
            at,
            RULE,
            vec![user_draft(AuditAction::LoginFailed, name)],
            vec![user_draft(AuditAction::UserLocked, name)],
        )
        .await
        .unwrap()
}

pub async fn users_insert_find_list(store: Arc<dyn Store>) {
    let anna = insert_user(store.as_ref(), "anna").await;
    let mut bo = user_record("bo");
    bo.role = "admin".into();
    bo.created_at = datetime!(2026-03-01 10:00:00.000000001 UTC);
    store.insert_user(bo.clone(), Vec::new()).await.unwrap();

    assert_eq!(store.user("anna").await.unwrap(), Some(anna.clone()));
    assert_eq!(store.user("nobody").await.unwrap(), None);
    assert_eq!(store.list_users().await.unwrap(), vec![anna.clone(), bo]);

    // A name is taken once.
    let refused = store.insert_user(user_record("anna"), Vec::new()).await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(_))),
        "{refused:?}"
    );
    assert_eq!(
        actions(store.as_ref()).await,
        vec![AuditAction::UserCreated]
    );
    audit_log::verify(store.as_ref(), |_| {}).await.unwrap();
}

pub async fn login_failures_lock_and_unlock(store: Arc<dyn Store>) {
    insert_user(store.as_ref(), "anna").await;
    let lock_end = T0 + RULE.duration;
    for n in 1..=4 {
        let failure = fail(store.as_ref(), "anna", T0).await.unwrap();
        assert_eq!(failure.failures, n);
        assert_eq!(failure.locked_until, None);
        assert!(!failure.locked_now);
    }
    let fifth = fail(store.as_ref(), "anna", T0).await.unwrap();
    assert_eq!(fifth.failures, 5);
    assert_eq!(fifth.locked_until, Some(lock_end));
    assert!(fifth.locked_now);
    let stored = store.user("anna").await.unwrap().unwrap();
    assert_eq!(
        (stored.failed_logins, stored.locked_until),
        (5, Some(lock_end))
    );

    // While locked, a failure does not move the end of the lockout, and no login starts.
    let during = fail(store.as_ref(), "anna", T0 + Duration::minutes(5))
        .await
        .unwrap();
    assert_eq!(during.locked_until, Some(lock_end));
    assert!(!during.locked_now);
    let session = session_record("anna", 1, lock_end - Duration::nanoseconds(1));
    assert!(
        !store
            .start_session(session.clone(), false, Vec::new())
            .await
            .unwrap()
    );
    assert_eq!(store.session(&session.hash).await.unwrap(), None);
    // Past the lock (a known browser): the session starts, and the lock stays for the rest.
    let known = session_record("anna", 3, lock_end - Duration::nanoseconds(1));
    assert!(
        store
            .start_session(known.clone(), true, Vec::new())
            .await
            .unwrap()
    );
    assert!(store.session(&known.hash).await.unwrap().is_some());
    let stored = store.user("anna").await.unwrap().unwrap();
    assert_eq!(
        (stored.failed_logins, stored.locked_until),
        (6, Some(lock_end))
    );

    // After the lockout the count starts again.
    let after = fail(store.as_ref(), "anna", lock_end).await.unwrap();
    assert_eq!((after.failures, after.locked_until), (1, None));

    // A good login resets the count.
    assert!(
        store
            .start_session(session_record("anna", 2, lock_end), false, Vec::new())
            .await
            .unwrap()
    );
    let stored = store.user("anna").await.unwrap().unwrap();
    assert_eq!((stored.failed_logins, stored.locked_until), (0, None));

    // An unknown user has nothing to count, and nothing is written.
    let before = actions(store.as_ref()).await.len();
    assert_eq!(fail(store.as_ref(), "nobody", T0).await, None);
    assert_eq!(actions(store.as_ref()).await.len(), before);

    // The lock entry was written with the failure that locked, and only then.
    let locked: Vec<AuditAction> = actions(store.as_ref())
        .await
        .into_iter()
        .filter(|a| *a != AuditAction::UserCreated)
        .collect();
    let mut want = vec![AuditAction::LoginFailed; 5];
    want.push(AuditAction::UserLocked);
    want.extend([AuditAction::LoginFailed, AuditAction::LoginFailed]);
    assert_eq!(locked, want);
    audit_log::verify(store.as_ref(), |_| {}).await.unwrap();
}

pub async fn concurrent_login_failures_are_all_counted(store: Arc<dyn Store>) {
    insert_user(store.as_ref(), "anna").await;
    let mut tasks = Vec::new();
    for _ in 0..12 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            fail(store.as_ref(), "anna", T0).await.unwrap()
        }));
    }
    let mut locked_now = 0;
    for task in tasks {
        if task.await.unwrap().locked_now {
            locked_now += 1;
        }
    }
    assert_eq!(locked_now, 1, "exactly one failure locks the account");
    let stored = store.user("anna").await.unwrap().unwrap();
    assert_eq!(stored.failed_logins, 12);
    assert_eq!(stored.locked_until, Some(T0 + RULE.duration));
    let locks = actions(store.as_ref())
        .await
        .into_iter()
        .filter(|a| *a == AuditAction::UserLocked)
        .count();
    assert_eq!(locks, 1);
    audit_log::verify(store.as_ref(), |_| {}).await.unwrap();
}

pub async fn sessions_start_find_touch_end(store: Arc<dyn Store>) {
    let anna = insert_user(store.as_ref(), "anna").await;
    let session = session_record("anna", 1, datetime!(2026-03-01 10:00:00.123456789 UTC));
    assert!(
        store
            .start_session(
                session.clone(),
                false,
                vec![user_draft(AuditAction::Login, "anna")]
            )
            .await
            .unwrap()
    );
    assert_eq!(
        store.session(&session.hash).await.unwrap(),
        Some((session.clone(), anna.clone()))
    );
    assert_eq!(store.session(&[0; 32]).await.unwrap(), None);
    // The same secret twice is refused.
    let again = store
        .start_session(session.clone(), false, Vec::new())
        .await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");

    let later = session.created_at + Duration::minutes(10);
    assert!(store.touch_session(&session.hash, later).await.unwrap());
    // Never backwards.
    assert!(
        store
            .touch_session(&session.hash, session.created_at)
            .await
            .unwrap()
    );
    let (found, _) = store.session(&session.hash).await.unwrap().unwrap();
    assert_eq!(found.last_seen_at, later);
    assert_eq!(found.created_at, session.created_at);
    assert!(!store.touch_session(&[0; 32], later).await.unwrap());

    assert!(
        store
            .end_session(&session.hash, vec![user_draft(AuditAction::Logout, "anna")])
            .await
            .unwrap()
    );
    assert_eq!(store.session(&session.hash).await.unwrap(), None);
    // Ending it again changes nothing and is not audited.
    assert!(
        !store
            .end_session(&session.hash, vec![user_draft(AuditAction::Logout, "anna")])
            .await
            .unwrap()
    );
    assert_eq!(
        actions(store.as_ref()).await,
        vec![
            AuditAction::UserCreated,
            AuditAction::Login,
            AuditAction::Logout
        ]
    );
    audit_log::verify(store.as_ref(), |_| {}).await.unwrap();
}

pub async fn expired_sessions_are_purged(store: Arc<dyn Store>) {
    insert_user(store.as_ref(), "anna").await;
    let old = session_record("anna", 1, T0);
    let idle = session_record("anna", 2, T0 + Duration::hours(2));
    let fresh = session_record("anna", 3, T0 + Duration::hours(3));
    for session in [&old, &idle, &fresh] {
        assert!(
            store
                .start_session(session.clone(), false, Vec::new())
                .await
                .unwrap()
        );
    }
    // `old` is busy but older than the absolute limit; `idle` was not used for too long.
    assert!(
        store
            .touch_session(&old.hash, T0 + Duration::hours(3))
            .await
            .unwrap()
    );
    let purged = store
        .purge_sessions(
            T0 + Duration::hours(2) + Duration::minutes(1),
            T0 + Duration::hours(1),
        )
        .await
        .unwrap();
    assert_eq!(purged, 2);
    assert_eq!(store.session(&old.hash).await.unwrap(), None);
    assert_eq!(store.session(&idle.hash).await.unwrap(), None);
    assert!(store.session(&fresh.hash).await.unwrap().is_some());
}

pub async fn disabling_a_user_ends_its_sessions(store: Arc<dyn Store>) {
    insert_user(store.as_ref(), "anna").await;
    insert_user(store.as_ref(), "bo").await;
    let anna = session_record("anna", 1, T0);
    let bo = session_record("bo", 2, T0);
    for session in [&anna, &bo] {
        assert!(
            store
                .start_session(session.clone(), false, Vec::new())
                .await
                .unwrap()
        );
    }
    let at = datetime!(2026-03-02 08:00:00.5 UTC);
    assert!(
        store
            .disable_user(
                "anna",
                at,
                [2; 32],
                vec![user_draft(AuditAction::UserDisabled, "anna")]
            )
            .await
            .unwrap()
    );
    assert_eq!(store.session(&anna.hash).await.unwrap(), None);
    assert!(store.session(&bo.hash).await.unwrap().is_some());
    let stored = store.user("anna").await.unwrap().unwrap();
    assert_eq!(stored.disabled_at, Some(at));
    assert_eq!(stored.mac, [2; 32]);
    // No new session (not even from a known browser), no failure counted, no second
    // disabling.
    assert!(
        !store
            .start_session(session_record("anna", 3, at), true, Vec::new())
            .await
            .unwrap()
    );
    assert_eq!(fail(store.as_ref(), "anna", at).await, None);
    assert!(
        !store
            .disable_user(
                "anna",
                at,
                [2; 32],
                vec![user_draft(AuditAction::UserDisabled, "anna")]
            )
            .await
            .unwrap()
    );
    assert!(
        !store
            .disable_user("nobody", at, [0; 32], Vec::new())
            .await
            .unwrap()
    );
    let disabled = actions(store.as_ref())
        .await
        .into_iter()
        .filter(|a| *a == AuditAction::UserDisabled)
        .count();
    assert_eq!(disabled, 1);
}

/// The login rules of `crate::users` end to end over the store: lockout after five failures
/// (refused even with the right password until it ends), idle and absolute expiry, logout.
pub async fn login_lockout_and_session_expiry(store: Arc<dyn Store>) {
    use integritet_crypto::rand_core::SeedableRng;

    let policy =
        integritet_domain::policy::parse("policy.toml", crate::vault_conformance::SEED_POLICY)
            .unwrap();
    let version = policy.version.to_string();
    let mut rng = rand::rngs::StdRng::seed_from_u64(17);
    let key = crate::conformance::test_record_key();
    let rules = AccountRules::default();
    let password = Password::new("Tolv tecken minst!");
    let new = |name: &str, role: &str| NewUser {
        name: name.into(),
        role: role.into(),
        password: password.clone(),
    };
    let anna = users::create_user(
        store.as_ref(),
        &key,
        T0,
        &mut rng,
        "cli:test",
        new("Anna.Svensson", "support"),
        &policy,
    )
    .await
    .unwrap();
    assert_eq!(anna.name, "anna.svensson");
    assert!(anna.password_hash.starts_with("$argon2id$"));
    assert!(!anna.password_hash.contains("Tolv"));
    let err = users::create_user(
        store.as_ref(),
        &key,
        T0,
        &mut rng,
        "cli:test",
        new("anna.svensson", "finance"),
        &policy,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, users::UserError::Exists(_)), "{err}");
    let err = users::create_user(
        store.as_ref(),
        &key,
        T0,
        &mut rng,
        "cli:test",
        new("bo", "janitor"),
        &policy,
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("support, marketing"), "{err}");
    let admin = users::create_user(
        store.as_ref(),
        &key,
        T0,
        &mut rng,
        "cli:test",
        new("bo", users::ADMIN_ROLE),
        &policy,
    )
    .await
    .unwrap();
    assert_eq!(admin.role, "admin");

    let login_from = |name: &'static str,
                      password: &'static str,
                      at: OffsetDateTime,
                      n: u8,
                      device: Option<String>| {
        let store = store.clone();
        let version = version.clone();
        let key = key.clone();
        let mut rng = rand::rngs::StdRng::seed_from_u64(u64::from(n) + 100);
        async move {
            let secrets = users::LoginSecrets::generate(&mut rng);
            let password = Password::new(password);
            let attempt = users::LoginAttempt {
                name,
                password: &password,
                device: device.as_deref(),
            };
            users::login(store.as_ref(), &key, at, &rules, attempt, secrets, &version).await
        }
    };
    let login = |name: &'static str, password: &'static str, at: OffsetDateTime, n: u8| {
        login_from(name, password, at, n, None)
    };

    // An unknown name and a wrong password are told apart only in the audit log.
    let unknown = login("nobody", "Tolv tecken minst!", T0, 0)
        .await
        .unwrap_err();
    assert!(matches!(unknown, LoginError::UnknownUser), "{unknown}");
    for n in 1..=4u8 {
        let err = login("anna.svensson", "fel lösenord igen", T0, n)
            .await
            .unwrap_err();
        assert!(matches!(err, LoginError::WrongPassword(f) if f.failures == u32::from(n)));
        assert_eq!(err.public_message(), unknown.public_message());
    }
    let err = login("anna.svensson", "fel lösenord igen", T0, 5)
        .await
        .unwrap_err();
    assert!(matches!(err, LoginError::WrongPassword(f) if f.locked_now));
    // Locked: even the right password is refused, with the same message.
    let at = T0 + Duration::minutes(14);
    let err = login("anna.svensson", "Tolv tecken minst!", at, 6)
        .await
        .unwrap_err();
    assert!(matches!(err, LoginError::Locked { .. }), "{err}");
    assert_eq!(err.public_message(), unknown.public_message());

    // Fifteen minutes after the lock the right password works, in any case of the name.
    let start = T0 + Duration::minutes(15);
    let new_session = login("ANNA.svensson", "Tolv tecken minst!", start, 7)
        .await
        .unwrap();
    let cookie = new_session.secret.expose().to_owned();
    assert_eq!(new_session.session.user, "anna.svensson");
    assert_eq!(new_session.session.expires_at, start + rules.idle_timeout);
    assert_eq!(new_session.session.actor().id(), "user:anna.svensson");
    assert_eq!(new_session.session.actor().role(), Some("support"));
    let stored = store.user("anna.svensson").await.unwrap().unwrap();
    assert_eq!((stored.failed_logins, stored.locked_until), (0, None));

    // Used every 29 minutes the session lives on, until 12 hours after login.
    let mut now = start;
    for _ in 0..24 {
        now += Duration::minutes(29);
        if now >= start + rules.absolute_timeout {
            break;
        }
        let session = users::authenticate(store.as_ref(), &key, now, &rules, &cookie, &version)
            .await
            .unwrap();
        assert!(session.csrf.matches(&new_session.session.csrf.to_hex()));
        assert!(session.expires_at <= start + rules.absolute_timeout);
    }
    let err = users::authenticate(
        store.as_ref(),
        &key,
        start + rules.absolute_timeout,
        &rules,
        &cookie,
        &version,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, SessionError::Expired | SessionError::Unknown),
        "{err}"
    );

    // Idle for 30 minutes: ended.
    let second = login("anna.svensson", "Tolv tecken minst!", now, 8)
        .await
        .unwrap();
    let cookie = second.secret.expose().to_owned();
    users::authenticate(
        store.as_ref(),
        &key,
        now + Duration::minutes(29),
        &rules,
        &cookie,
        &version,
    )
    .await
    .unwrap();
    let err = users::authenticate(
        store.as_ref(),
        &key,
        now + Duration::minutes(29) + rules.idle_timeout,
        &rules,
        &cookie,
        &version,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, SessionError::Expired), "{err}");
    let err = users::authenticate(
        store.as_ref(),
        &key,
        now + Duration::hours(1),
        &rules,
        &cookie,
        &version,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, SessionError::Unknown),
        "deleted when found expired: {err}"
    );

    // Logout ends a session; a malformed cookie is refused before any lookup.
    let third = login("anna.svensson", "Tolv tecken minst!", now, 9)
        .await
        .unwrap();
    let cookie = third.secret.expose().to_owned();
    assert!(
        users::logout(store.as_ref(), &key, now, &cookie, &version)
            .await
            .unwrap()
    );
    assert!(
        !users::logout(store.as_ref(), &key, now, &cookie, &version)
            .await
            .unwrap()
    );
    assert!(matches!(
        users::authenticate(store.as_ref(), &key, now, &rules, &cookie, &version).await,
        Err(SessionError::Unknown)
    ));
    assert!(matches!(
        users::authenticate(store.as_ref(), &key, now, &rules, "nonsense", &version).await,
        Err(SessionError::Malformed)
    ));

    // Disabling ends the sessions and refuses logins.
    let fourth = login("anna.svensson", "Tolv tecken minst!", now, 10)
        .await
        .unwrap();
    assert!(
        users::disable_user(
            store.as_ref(),
            &key,
            now,
            "cli:test",
            "Anna.Svensson",
            &version,
        )
        .await
        .unwrap()
    );
    assert!(
        users::authenticate(
            store.as_ref(),
            &key,
            now,
            &rules,
            fourth.secret.expose(),
            &version
        )
        .await
        .is_err()
    );
    let err = login("anna.svensson", "Tolv tecken minst!", now, 11)
        .await
        .unwrap_err();
    assert!(matches!(err, LoginError::Disabled), "{err}");

    // A stranger who locks an account keeps strangers out, never the owner's own browser.
    let owner = login("bo", "Tolv tecken minst!", now, 12).await.unwrap();
    for n in 13..=17u8 {
        let err = login("bo", "gissning", now, n).await.unwrap_err();
        assert!(matches!(err, LoginError::WrongPassword(_)), "{err}");
    }
    let err = login("bo", "Tolv tecken minst!", now, 18)
        .await
        .unwrap_err();
    assert!(matches!(err, LoginError::Locked { .. }), "{err}");
    let again = login_from(
        "bo",
        "Tolv tecken minst!",
        now,
        19,
        Some(owner.device.clone()),
    )
    .await
    .unwrap();
    assert_eq!(again.session.user, "bo");
    assert_ne!(
        again.device, owner.device,
        "each login issues a fresh cookie"
    );
    // The owner's login lifts the lock for nobody else, and the cookie proves nothing but
    // the right password: a wrong one from that browser is still a failure.
    let err = login("bo", "Tolv tecken minst!", now, 20)
        .await
        .unwrap_err();
    assert!(matches!(err, LoginError::Locked { .. }), "{err}");
    let err = login_from("bo", "gissning", now, 21, Some(again.device.clone()))
        .await
        .unwrap_err();
    assert!(matches!(err, LoginError::WrongPassword(_)), "{err}");
    // Another account's cookie, or a bent one, is no key past the lock.
    let mut bent = again.device.clone();
    bent.replace_range(0..1, if bent.starts_with('0') { "1" } else { "0" });
    for device in [bent, fourth.device.clone()] {
        let err = login_from("bo", "Tolv tecken minst!", now, 22, Some(device))
            .await
            .unwrap_err();
        assert!(matches!(err, LoginError::Locked { .. }), "{err}");
    }
    let stored = store.user("bo").await.unwrap().unwrap();
    assert!(stored.locked_until.is_some_and(|until| until > now));

    // The audit log tells the story, without passwords and without the unknown name.
    let entries = store.audit_entries(0, u64::MAX, 1000).await.unwrap();
    let failed: Vec<&str> = entries
        .iter()
        .filter(|e| e.draft.action == AuditAction::LoginFailed)
        .filter_map(|e| e.draft.detail.as_deref())
        .collect();
    assert!(failed[0].contains("unknown_user"));
    let wrong_password = |actor: &str| {
        entries
            .iter()
            .filter(|e| e.draft.action == AuditAction::LoginFailed && e.draft.actor == actor)
            .filter(|e| e.draft.detail.as_deref() == Some("reason=wrong_password"))
            .count()
    };
    assert_eq!(wrong_password("user:anna.svensson"), 5);
    assert_eq!(wrong_password("user:bo"), 6);
    assert!(failed.iter().any(|d| d.contains("reason=locked")));
    assert!(failed.iter().any(|d| d.contains("reason=disabled")));
    for action in [
        AuditAction::UserCreated,
        AuditAction::UserLocked,
        AuditAction::Login,
        AuditAction::Logout,
        AuditAction::UserDisabled,
    ] {
        assert!(
            entries.iter().any(|e| e.draft.action == action),
            "{action} missing"
        );
    }
    let text = format!("{entries:?}");
    assert!(!text.contains("nobody") && !text.contains("Tolv") && !text.contains("fel lösenord"));
    assert!(
        entries
            .iter()
            .any(|e| e.draft.actor == "user:anna.svensson")
    );
    audit_log::verify(store.as_ref(), |_| {}).await.unwrap();
}
