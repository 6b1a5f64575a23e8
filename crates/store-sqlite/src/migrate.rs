//! The schema, embedded in the binary and brought up to date on every open.
//!
//! Each migration runs in one `BEGIN IMMEDIATE` transaction together with the row that records
//! it, so a migration is either wholly applied or not at all, and two processes that open the
//! file at once take turns. A database whose schema was brought up by an earlier version of
//! this store (sqlx's `_sqlx_migrations` table) is taken over as it is.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

use integritet_app::store::StoreError;

use crate::error;

/// One migration: its number, its name and its SQL.
struct Migration {
    version: i64,
    name: &'static str,
    sql: &'static str,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "schema",
        sql: include_str!("../migrations/0001_schema.sql"),
    },
    Migration {
        version: 2,
        name: "tokens",
        sql: include_str!("../migrations/0002_tokens.sql"),
    },
    Migration {
        version: 3,
        name: "requests",
        sql: include_str!("../migrations/0003_requests.sql"),
    },
    Migration {
        version: 4,
        name: "users",
        sql: include_str!("../migrations/0004_users.sql"),
    },
    Migration {
        version: 5,
        name: "values by subject",
        sql: include_str!("../migrations/0005_values_by_subject.sql"),
    },
    Migration {
        version: 6,
        name: "record macs",
        sql: include_str!("../migrations/0006_record_macs.sql"),
    },
    Migration {
        version: 7,
        name: "archive by reference",
        sql: include_str!("../migrations/0007_archive_by_reference.sql"),
    },
    Migration {
        version: 8,
        name: "subject requests",
        sql: include_str!("../migrations/0008_subject_requests.sql"),
    },
    Migration {
        version: 9,
        name: "suppression",
        sql: include_str!("../migrations/0009_suppression.sql"),
    },
    Migration {
        version: 10,
        name: "legal holds",
        sql: include_str!("../migrations/0010_legal_holds.sql"),
    },
    Migration {
        version: 11,
        name: "disclosures by subject",
        sql: include_str!("../migrations/0011_disclosures_by_subject.sql"),
    },
    Migration {
        version: 12,
        name: "index cleanup",
        sql: include_str!("../migrations/0012_index_cleanup.sql"),
    },
    Migration {
        version: 13,
        name: "marketing",
        sql: include_str!("../migrations/0013_marketing.sql"),
    },
    Migration {
        version: 14,
        name: "consent records",
        sql: include_str!("../migrations/0014_consent_records.sql"),
    },
];

/// The newest schema version this build knows.
pub(crate) const LATEST: i64 = 14;

const DOING: &str = "bringing the database schema up to date";

/// Applies every migration the file has not seen, on the writer connection before anything
/// else uses it.
pub(crate) fn run(conn: &mut Connection) -> Result<(), StoreError> {
    let db = |e| error::db(DOING, e);
    // Rebuilding a table that others refer to needs the foreign keys off while it happens
    // (SQLite ignores this pragma inside a transaction); they are checked before each commit.
    conn.pragma_update(None, "foreign_keys", false)
        .map_err(db)?;
    let result = run_each(conn);
    conn.pragma_update(None, "foreign_keys", true).map_err(db)?;
    result
}

fn run_each(conn: &mut Connection) -> Result<(), StoreError> {
    let db = |e| error::db(DOING, e);
    for migration in MIGRATIONS {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db)?;
        tx.execute_batch(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                 version  INTEGER NOT NULL PRIMARY KEY,
                 name     TEXT    NOT NULL,
                 checksum BLOB
             )",
        )
        .map_err(db)?;
        adopt_sqlx_history(&tx)?;
        let newest: i64 = tx
            .query_row(
                "SELECT coalesce(max(version), 0) FROM schema_migrations",
                [],
                |row| row.get(0),
            )
            .map_err(db)?;
        if newest > LATEST {
            return Err(StoreError::Unavailable(format!(
                "the database was upgraded by a newer Integritet (schema version {newest}; this \
                 version knows up to {LATEST}); run the newer version"
            )));
        }
        let checksum = blake3::hash(migration.sql.as_bytes());
        let applied: Option<Option<Vec<u8>>> = tx
            .query_row(
                "SELECT checksum FROM schema_migrations WHERE version = ?1",
                [migration.version],
                |row| row.get(0),
            )
            .optional()
            .map_err(db)?;
        match applied {
            // Taken over from sqlx, which kept its own checksums: trusted as applied.
            Some(None) => continue,
            Some(Some(stored)) if stored.as_slice() == checksum.as_bytes() => continue,
            Some(Some(_)) => {
                return Err(StoreError::Corrupt(format!(
                    "schema migration {} applied to this database differs from the one this \
                     version ships; restore from a backup or use the version that created it",
                    migration.version
                )));
            }
            None => {}
        }
        tx.execute_batch(migration.sql).map_err(|e| {
            error::db(
                &format!(
                    "applying schema migration {} ({})",
                    migration.version, migration.name
                ),
                e,
            )
        })?;
        let broken: Option<String> = tx
            .query_row("PRAGMA foreign_key_check", [], |row| row.get(0))
            .optional()
            .map_err(db)?;
        if let Some(table) = broken {
            return Err(StoreError::Corrupt(format!(
                "schema migration {} left rows in {table} that refer to missing rows; restore \
                 from a backup",
                migration.version
            )));
        }
        tx.execute(
            "INSERT INTO schema_migrations (version, name, checksum) VALUES (?1, ?2, ?3)",
            (
                migration.version,
                migration.name,
                checksum.as_bytes().as_slice(),
            ),
        )
        .map_err(db)?;
        tx.commit().map_err(db)?;
    }
    Ok(())
}

/// Records the migrations sqlx applied (when it kept the history) as applied here too.
fn adopt_sqlx_history(conn: &Connection) -> Result<(), StoreError> {
    let db = |e| error::db(DOING, e);
    let has_sqlx: bool = conn
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master
                            WHERE type = 'table' AND name = '_sqlx_migrations')",
            [],
            |row| row.get(0),
        )
        .map_err(db)?;
    if has_sqlx {
        conn.execute_batch(
            "INSERT OR IGNORE INTO schema_migrations (version, name, checksum)
                 SELECT version, description, NULL FROM _sqlx_migrations WHERE success;
             DROP TABLE _sqlx_migrations;",
        )
        .map_err(db)?;
    }
    Ok(())
}
