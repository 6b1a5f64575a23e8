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

/// A server over a fresh database of its own; [`PgServer::finish`] drops the database.
pub struct PgServer {
    pub server: TestServer,
    name: String,
}

impl PgServer {
    pub async fn start() -> PgServer {
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
        PgServer { server, name }
    }

    pub async fn finish(self) {
        let PgServer { server, name } = self;
        drop(server);
        let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        )))
        .execute(&mut admin().await)
        .await;
    }
}

#[tokio::test]
async fn create_read_lookup_rectify_over_postgres() {
    let pg = PgServer::start().await;
    crate::happy::story(&pg.server).await;
    pg.finish().await;
}

#[tokio::test]
async fn rights_over_postgres() {
    let pg = PgServer::start().await;
    crate::rights::story(&pg.server).await;
    pg.finish().await;
}

#[tokio::test]
async fn requests_over_postgres() {
    let pg = PgServer::start().await;
    crate::rights::requests_story(&pg.server).await;
    pg.finish().await;
}

#[tokio::test]
async fn consent_over_postgres() {
    let pg = PgServer::start().await;
    crate::consent::story(&pg.server).await;
    pg.finish().await;
}

#[tokio::test]
async fn marketing_over_postgres() {
    let pg = PgServer::start().await;
    crate::marketing::story(&pg.server).await;
    pg.finish().await;
}

#[tokio::test]
async fn metrics_over_postgres() {
    let pg = PgServer::start().await;
    crate::metrics::story(&pg.server).await;
    pg.finish().await;
}

/// A fresh database of its own, for tests that build their own server; drop it with
/// [`drop_database`].
pub async fn fresh_store() -> (PostgresStore, String) {
    let random = RandomState::new().build_hasher().finish() & 0xffff_ffff;
    let name = format!("integritet_test_matrix_{}_{random:08x}", std::process::id());
    // Digits and underscores only: safe to splice in.
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin().await)
        .await
        .unwrap();
    let store = PostgresStore::connect(&with_database(&admin_url(), &name))
        .await
        .unwrap();
    (store, name)
}

pub async fn drop_database(name: &str) {
    let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&mut admin().await)
    .await;
}
