//! `integritet` running as the role of docs/postgres-app-role.sql: everything works, and the
//! audit log cannot be changed or emptied with that role's password.

use std::sync::Arc;

use integritet_app::audit_log;
use integritet_app::store::Store;
use integritet_app::vault_conformance::{customer, operator, vault_over};
use integritet_store_postgres::PostgresStore;
use sqlx::{Connection, PgConnection};

use crate::{admin, fresh};

const GRANTS: &str = include_str!("../../../../docs/postgres-app-role.sql");

/// `url` with its user and password replaced.
fn as_user(url: &str, user: &str, password: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    format!("{scheme}://{user}:{password}@{host}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_documented_role_runs_everything_but_cannot_rewrite_the_log() {
    // The owner made the database and migrated it; the grants are run as the owner.
    let fresh = fresh().await;
    let role = format!(
        "integritet_app_{}",
        &fresh.db.name["integritet_test_".len()..]
    );
    let password = "rolle-lösen";
    let grants = GRANTS
        .replace("integritet_app", &role)
        .replace("change-me", password);
    let mut owner = PgConnection::connect(&fresh.db.url).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(grants))
        .execute(&mut owner)
        .await
        .unwrap();

    let app_url = as_user(&fresh.db.url, &role, password);
    let store: Arc<dyn Store> = Arc::new(PostgresStore::connect(&app_url).await.unwrap());
    let (vault, _) = vault_over(store.clone());
    let id = vault.create_subject(&operator(), customer()).await.unwrap();
    vault.read(&operator(), id, "purchase").await.unwrap();
    vault.erase(&operator(), id, "request").await.unwrap();
    let summary = audit_log::verify(store.as_ref(), |_| {}).await.unwrap();
    assert!(summary.entries >= 3);

    let mut app = PgConnection::connect(&app_url).await.unwrap();
    for sql in [
        "UPDATE audit_log SET purpose = 'direct_marketing' WHERE seq = 1",
        "DELETE FROM audit_log WHERE seq = 1",
        "TRUNCATE audit_log",
    ] {
        let err = sqlx::raw_sql(sql).execute(&mut app).await.unwrap_err();
        assert!(
            err.to_string().contains("permission denied"),
            "{sql}: {err}"
        );
    }
    drop((app, owner, vault, store));

    // Roles outlive databases: the database goes first (with the store), then the role.
    drop(fresh);
    let mut admin = admin().await;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP ROLE IF EXISTS {role}")))
        .execute(&mut admin)
        .await
        .unwrap();
}
