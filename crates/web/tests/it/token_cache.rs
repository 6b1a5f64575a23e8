//! Store tokens are remembered for a short while: a revocation elsewhere takes effect within
//! the cache's TTL, one made through this server at once, and expiry always at once.

use std::sync::Arc;

use integritet_app::store::Store;
use integritet_app::tokens::{ADMIN_ROLE, TokenRequest};
use integritet_app::vault::{Actor, Vault};
use integritet_app::vault_conformance::vault_over;
use integritet_domain::clock::ManualClock;
use integritet_store_sqlite::SqliteStore;
use integritet_web::{AuthFailure, Authenticator, StoreTokens};

/// `TOKEN_CACHE_TTL` in crates/web/src/auth.rs.
const TOKEN_CACHE_TTL: time::Duration = time::Duration::seconds(2);

fn admin() -> Actor {
    Actor::staff("token:admin", ADMIN_ROLE)
}

async fn setup() -> (Vault, ManualClock, StoreTokens, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(
        SqliteStore::open(&dir.path().join("integritet.db"))
            .await
            .unwrap(),
    );
    let (vault, clock) = vault_over(store.clone());
    let tokens = StoreTokens::new(
        store,
        vault.record_key().clone(),
        Arc::new(clock.clone()),
        vault.policy().version.to_string(),
    );
    (vault, clock, tokens, dir)
}

async fn issue(vault: &Vault, expires_in: Option<time::Duration>) -> (String, String) {
    let (record, secret) = vault
        .issue_token(
            &admin(),
            TokenRequest {
                role: "support".to_owned(),
                label: None,
                expires_in,
            },
        )
        .await
        .unwrap();
    (record.id, secret.expose().to_owned())
}

#[tokio::test]
async fn a_token_revoked_elsewhere_is_refused_once_the_cache_entry_is_stale() {
    let (vault, clock, tokens, _dir) = setup().await;
    let (id, secret) = issue(&vault, None).await;
    let actor = tokens.authenticate(&secret).await.unwrap();
    assert_eq!(actor.id(), format!("token:{id}"));
    assert_eq!(actor.role(), Some("support"));

    // Revoked through the store, as another server or `integritet token revoke` would: this
    // authenticator has not been told.
    assert!(vault.revoke_token(&admin(), &id).await.unwrap());
    clock.advance(TOKEN_CACHE_TTL - time::Duration::milliseconds(1));
    assert!(tokens.authenticate(&secret).await.is_ok());
    clock.advance(time::Duration::milliseconds(1));
    assert_eq!(
        tokens.authenticate(&secret).await.unwrap_err(),
        AuthFailure::Invalid
    );
    // And it stays refused: a refusal is not cached as anything else.
    clock.advance(TOKEN_CACHE_TTL * 3);
    assert_eq!(
        tokens.authenticate(&secret).await.unwrap_err(),
        AuthFailure::Invalid
    );
}

#[tokio::test]
async fn a_token_revoked_through_this_server_is_refused_at_once() {
    let (vault, _clock, tokens, _dir) = setup().await;
    let (id, secret) = issue(&vault, None).await;
    let (other_id, other_secret) = issue(&vault, None).await;
    assert!(tokens.authenticate(&secret).await.is_ok());
    assert!(tokens.authenticate(&other_secret).await.is_ok());

    assert!(vault.revoke_token(&admin(), &id).await.unwrap());
    tokens.forget(&id);
    assert_eq!(
        tokens.authenticate(&secret).await.unwrap_err(),
        AuthFailure::Invalid
    );
    // Only that token was forgotten.
    let other = tokens.authenticate(&other_secret).await.unwrap();
    assert_eq!(other.id(), format!("token:{other_id}"));
}

#[tokio::test]
async fn an_expired_token_is_refused_at_once_even_while_cached() {
    let (vault, clock, tokens, _dir) = setup().await;
    let (_, secret) = issue(&vault, Some(time::Duration::milliseconds(500))).await;
    assert!(tokens.authenticate(&secret).await.is_ok());
    clock.advance(time::Duration::milliseconds(499));
    assert!(tokens.authenticate(&secret).await.is_ok());
    // Well within the cache's TTL, but the token's own expiry has come.
    clock.advance(time::Duration::milliseconds(1));
    assert_eq!(
        tokens.authenticate(&secret).await.unwrap_err(),
        AuthFailure::Invalid
    );
}

#[tokio::test]
async fn unknown_and_malformed_tokens_are_refused() {
    let (_vault, _clock, tokens, _dir) = setup().await;
    let unknown = format!("itg_{}", "0".repeat(64));
    assert_eq!(
        tokens.authenticate(&unknown).await.unwrap_err(),
        AuthFailure::Invalid
    );
    assert_eq!(
        tokens.authenticate("not-a-token").await.unwrap_err(),
        AuthFailure::Invalid
    );
}
