//! Turning sqlx and SQLite failures into [`StoreError`]s whose messages say what to do.
//!
//! Messages name the operation and SQLite's own reason (which names tables and constraints,
//! never row contents); they never include bound values.

use integritet_app::store::StoreError;
use sqlx::error::ErrorKind;
use sqlx::migrate::MigrateError;

// SQLite's primary result codes (the low byte of an extended code).
const SQLITE_PERM: i32 = 3;
const SQLITE_BUSY: i32 = 5;
const SQLITE_LOCKED: i32 = 6;
const SQLITE_NOMEM: i32 = 7;
const SQLITE_READONLY: i32 = 8;
const SQLITE_IOERR: i32 = 10;
const SQLITE_CORRUPT: i32 = 11;
const SQLITE_FULL: i32 = 13;
const SQLITE_CANTOPEN: i32 = 14;
const SQLITE_PROTOCOL: i32 = 15;
const SQLITE_SCHEMA: i32 = 17;
const SQLITE_TOOBIG: i32 = 18;
const SQLITE_CONSTRAINT: i32 = 19;
const SQLITE_MISMATCH: i32 = 20;
const SQLITE_AUTH: i32 = 23;
const SQLITE_NOTADB: i32 = 26;

/// Maps a failure while `doing` something (e.g. "inserting subjects").
pub(crate) fn db(doing: &str, err: sqlx::Error) -> StoreError {
    match err {
        sqlx::Error::Database(e) => {
            let code = e
                .code()
                .and_then(|c| c.parse::<i32>().ok())
                .map_or(0, |c| c & 0xff);
            let reason = e.message();
            match e.kind() {
                // The head said seq n, yet the log already holds n + 1.
                ErrorKind::UniqueViolation if reason.contains("audit_log.seq") => {
                    return StoreError::Corrupt(format!(
                        "{doing}: the audit log holds entries beyond its recorded head; it was \
                         changed outside Integritet, run `integritet audit verify`"
                    ));
                }
                ErrorKind::UniqueViolation => {
                    return StoreError::Conflict(format!(
                        "{doing}: a row with the same key already exists ({reason}); \
                         check that ids are fresh, or retry if two requests raced"
                    ));
                }
                ErrorKind::ForeignKeyViolation => {
                    return StoreError::Unavailable(format!(
                        "{doing}: the database refused a row that refers to a missing subject \
                         or value ({reason}); this is a bug in the caller"
                    ));
                }
                _ => {}
            }
            match code {
                SQLITE_BUSY | SQLITE_LOCKED => StoreError::Conflict(format!(
                    "{doing}: the database file is locked by another writer ({reason}); \
                     retry, and make sure only one Integritet process writes to this file"
                )),
                SQLITE_FULL => StoreError::Unavailable(format!(
                    "{doing}: the disk is full ({reason}); free space and retry"
                )),
                SQLITE_READONLY | SQLITE_PERM | SQLITE_AUTH | SQLITE_CANTOPEN => {
                    StoreError::Unavailable(format!(
                        "{doing}: the database file cannot be opened for writing ({reason}); \
                         check the path, its permissions and free space"
                    ))
                }
                SQLITE_IOERR | SQLITE_PROTOCOL | SQLITE_NOMEM => StoreError::Unavailable(format!(
                    "{doing}: the database could not read or write its file ({reason}); \
                     check the disk and retry"
                )),
                SQLITE_CORRUPT | SQLITE_NOTADB => StoreError::Corrupt(format!(
                    "{doing}: the database file is damaged or is not an Integritet database \
                     ({reason}); restore it from a backup"
                )),
                SQLITE_SCHEMA | SQLITE_MISMATCH => StoreError::Corrupt(format!(
                    "{doing}: the database schema is not as this version expects ({reason}); \
                     restore from a backup or use the Integritet version that wrote it"
                )),
                SQLITE_TOOBIG => StoreError::Unavailable(format!(
                    "{doing}: a value is larger than SQLite accepts ({reason}); store smaller \
                     values"
                )),
                SQLITE_CONSTRAINT => StoreError::Unavailable(format!(
                    "{doing}: the database refused the change ({reason}); this is a bug in \
                     the caller or the schema"
                )),
                _ => StoreError::Unavailable(format!("{doing}: SQLite failed ({reason})")),
            }
        }
        sqlx::Error::Io(e) => StoreError::Unavailable(format!(
            "{doing}: input/output failed ({e}); check the disk and the path"
        )),
        sqlx::Error::PoolTimedOut => StoreError::Unavailable(format!(
            "{doing}: timed out waiting for a database connection; the server is overloaded \
             or a long operation holds the database, retry later"
        )),
        sqlx::Error::PoolClosed | sqlx::Error::WorkerCrashed => StoreError::Unavailable(format!(
            "{doing}: the database connection is closed; restart Integritet"
        )),
        sqlx::Error::ColumnDecode { index, .. } => StoreError::Corrupt(format!(
            "{doing}: column {index} does not hold the type this version writes; the file was \
             changed outside Integritet, restore it from a backup"
        )),
        sqlx::Error::Decode(_)
        | sqlx::Error::RowNotFound
        | sqlx::Error::TypeNotFound { .. }
        | sqlx::Error::ColumnIndexOutOfBounds { .. }
        | sqlx::Error::ColumnNotFound(_) => StoreError::Corrupt(format!(
            "{doing}: a stored row is not in the shape this version writes; the file was \
             changed outside Integritet, restore it from a backup"
        )),
        sqlx::Error::Migrate(e) => migrate(*e),
        other => StoreError::Unavailable(format!("{doing}: {other}")),
    }
}

/// Maps a failure to bring the schema up to date.
pub(crate) fn migrate(err: MigrateError) -> StoreError {
    match err {
        MigrateError::VersionMissing(v) => StoreError::Unavailable(format!(
            "the database was upgraded by a newer Integritet (schema migration {v} is unknown \
             to this version); run the newer version"
        )),
        MigrateError::VersionMismatch(v) => StoreError::Corrupt(format!(
            "schema migration {v} applied to this database differs from the one this version \
             ships; restore from a backup or use the version that created it"
        )),
        MigrateError::Dirty(v) => StoreError::Corrupt(format!(
            "schema migration {v} was interrupted part-way; restore from a backup"
        )),
        MigrateError::Execute(e) => db("upgrading the database schema", e),
        MigrateError::ExecuteMigration(e, v) => db(&format!("applying schema migration {v}"), e),
        other => StoreError::Corrupt(format!(
            "the database schema cannot be brought up to date: {other}"
        )),
    }
}

/// A stored field that does not decode: names the table, the column and the row's key, never
/// the content.
pub(crate) fn corrupt(table: &str, column: &str, key: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!(
        "{table}.{column} of row {key} does not hold what this version writes; the file was \
         changed outside Integritet, restore it from a backup"
    ))
}
