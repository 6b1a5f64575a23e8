//! The same story over PostgreSQL, in a database of its own.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;

use integritet_store_postgres::PostgresStore;
use sqlx::{Connection, PgConnection};

use crate::TestServer;

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

fn admin_url() -> String {
    std::env::var("INTEGRITET_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned())
}

/// `url` with its database name replaced.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (url, String::new()),
    };
    let slash = base
        .rfind('/')
        .filter(|&i| i > "postgres://".len())
        .unwrap_or(base.len());
    format!("{}/{name}{query}", &base[..slash])
}

async fn admin() -> PgConnection {
    PgConnection::connect(&admin_url())
        .await
        .unwrap_or_else(|e| {
            panic!(
                "cannot reach the test PostgreSQL server ({e}). Start one, or set \
                 INTEGRITET_TEST_POSTGRES_URL to a server where this user may create databases."
            )
        })
}

#[tokio::test]
async fn create_read_lookup_rectify_over_postgres() {
    let random = RandomState::new().build_hasher().finish() & 0xffff_ffff;
    let name = format!("integritet_test_web_{}_{random:08x}", std::process::id());
    // The name is built here from digits and underscores only, so it is safe to splice in.
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin().await)
        .await
        .unwrap();
    let store = PostgresStore::connect(&with_database(&admin_url(), &name))
        .await
        .unwrap();
    let server = TestServer::over(Arc::new(store)).await;
    crate::happy::story(&server).await;
    drop(server);
    let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&mut admin().await)
    .await;
}
