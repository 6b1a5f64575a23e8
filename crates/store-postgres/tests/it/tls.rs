//! PostgreSQL over TLS (rustls): `sslmode=require` encrypts, `sslmode=verify-full` refuses a
//! server whose certificate no trusted authority issued for its name. The test server is
//! Debian's, whose cluster serves its self-signed "snakeoil" certificate.

use integritet_app::store::prelude::*;
use integritet_store_postgres::PostgresStore;
use sqlx::{Connection, PgConnection};

use crate::fresh;

fn with_sslmode(url: &str, mode: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}sslmode={mode}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sslmode_require_encrypts_and_verify_full_checks_the_certificate() {
    let fresh = fresh().await;
    let encrypted = with_sslmode(&fresh.db.url, "require");
    let store = PostgresStore::connect(&encrypted).await.unwrap();
    store.ping().await.unwrap();
    let mut conn = PgConnection::connect(&encrypted).await.unwrap();
    let ssl: bool = sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert!(ssl, "the connection with sslmode=require is not encrypted");

    let verified = with_sslmode(&fresh.db.url, "verify-full");
    let err = PostgresStore::connect(&verified).await.unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("certificate") && message.contains("127.0.0.1"),
        "{message}"
    );
}

/// Without an sslmode a server on this host is spoken to in the clear: TLS over loopback
/// protects nothing and made every write several times slower.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_loopback_server_without_sslmode_is_not_encrypted() {
    let fresh = fresh().await;
    let store = PostgresStore::connect(&fresh.db.url).await.unwrap();
    store.ping().await.unwrap();
    let mut conn = PgConnection::connect(&with_sslmode(&fresh.db.url, "disable"))
        .await
        .unwrap();
    let encrypted: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)
         WHERE a.datname = current_database() AND s.ssl AND a.pid <> pg_backend_pid()",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(encrypted, 0);
}
