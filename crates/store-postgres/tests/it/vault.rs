//! The vault's scenarios over PostgreSQL, and a scan of every column for plaintext.

use std::sync::Arc;

use integritet_app::store::Store;
use integritet_app::vault_conformance::{KNOWN_VALUES, store_known_values};
use sqlx::{Connection, PgConnection, Row};

integritet_app::vault_tests!(crate::fresh_store());

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_column_holds_plaintext() {
    let fresh = Arc::new(crate::fresh().await);
    let url = fresh.db.url.clone();
    let store: Arc<dyn Store> = fresh.clone();
    let (_vault, _id) = store_known_values(store).await;

    let mut db = PgConnection::connect(&url).await.unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'",
    )
    .fetch_all(&mut db)
    .await
    .unwrap();
    assert!(tables.len() >= 6, "{tables:?}");
    let mut rows_scanned = 0;
    for table in &tables {
        // Every column of every row, rendered as text (bytea as \x-hex, arrays, numbers).
        let sql = format!("SELECT t::text FROM \"{table}\" t");
        let rows = sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .fetch_all(&mut db)
            .await
            .unwrap();
        for row in rows {
            let text: String = row.get(0);
            let lower = text.to_lowercase();
            for (category, known) in KNOWN_VALUES {
                let needle = known.to_lowercase();
                assert!(
                    !lower.contains(&needle),
                    "{table} holds the {category} in clear: {text}"
                );
                assert!(
                    !lower.contains(&hex(known.as_bytes())),
                    "{table} holds the {category} in clear (bytea): {text}"
                );
            }
            rows_scanned += 1;
        }
    }
    assert!(rows_scanned > 20, "only {rows_scanned} rows scanned");
}
