//! Turning SQLite failures into [`StoreError`]s whose messages say what to do.
//!
//! Messages name the operation and SQLite's own reason (which names tables and constraints,
//! never row contents); they never include bound values.

use integritet_app::store::StoreError;
use rusqlite::ErrorCode;
use rusqlite::ffi;

/// Maps a failure while `doing` something (e.g. "inserting subjects").
pub(crate) fn db(doing: &str, err: rusqlite::Error) -> StoreError {
    match err {
        rusqlite::Error::SqliteFailure(e, message) => {
            let reason = message.unwrap_or_else(|| e.to_string());
            match e.extended_code {
                // The head said seq n, yet the log already holds n + 1.
                ffi::SQLITE_CONSTRAINT_PRIMARYKEY | ffi::SQLITE_CONSTRAINT_UNIQUE
                    if reason.contains("audit_log.seq") =>
                {
                    return StoreError::Corrupt(format!(
                        "{doing}: the audit log holds entries beyond its recorded head; it was \
                         changed outside Integritet, run `integritet audit verify`"
                    ));
                }
                ffi::SQLITE_CONSTRAINT_PRIMARYKEY | ffi::SQLITE_CONSTRAINT_UNIQUE => {
                    return StoreError::Conflict(format!(
                        "{doing}: a row with the same key already exists ({reason}); \
                         check that ids are fresh, or retry if two requests raced"
                    ));
                }
                ffi::SQLITE_CONSTRAINT_FOREIGNKEY => {
                    return StoreError::Unavailable(format!(
                        "{doing}: the database refused a row that refers to a missing subject \
                         or value ({reason}); this is a bug in the caller"
                    ));
                }
                _ => {}
            }
            match e.code {
                ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => {
                    StoreError::Conflict(format!(
                        "{doing}: the database file is locked by another writer ({reason}); \
                     retry, and make sure only one Integritet process writes to this file"
                    ))
                }
                ErrorCode::DiskFull => StoreError::Unavailable(format!(
                    "{doing}: the disk is full ({reason}); free space and retry"
                )),
                ErrorCode::ReadOnly
                | ErrorCode::PermissionDenied
                | ErrorCode::AuthorizationForStatementDenied
                | ErrorCode::CannotOpen => StoreError::Unavailable(format!(
                    "{doing}: the database file cannot be opened for writing ({reason}); \
                     check the path, its permissions and free space"
                )),
                ErrorCode::SystemIoFailure
                | ErrorCode::FileLockingProtocolFailed
                | ErrorCode::OutOfMemory => StoreError::Unavailable(format!(
                    "{doing}: the database could not read or write its file ({reason}); \
                         check the disk and retry"
                )),
                ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase => {
                    StoreError::Corrupt(format!(
                        "{doing}: the database file is damaged or is not an Integritet database \
                     ({reason}); restore it from a backup"
                    ))
                }
                ErrorCode::SchemaChanged | ErrorCode::TypeMismatch => StoreError::Corrupt(format!(
                    "{doing}: the database schema is not as this version expects ({reason}); \
                     restore from a backup or use the Integritet version that wrote it"
                )),
                ErrorCode::TooBig => StoreError::Unavailable(format!(
                    "{doing}: a value is larger than SQLite accepts ({reason}); store smaller \
                     values"
                )),
                ErrorCode::ConstraintViolation => StoreError::Unavailable(format!(
                    "{doing}: the database refused the change ({reason}); this is a bug in \
                     the caller or the schema"
                )),
                _ => StoreError::Unavailable(format!("{doing}: SQLite failed ({reason})")),
            }
        }
        rusqlite::Error::FromSqlConversionFailure(..)
        | rusqlite::Error::IntegralValueOutOfRange(..)
        | rusqlite::Error::InvalidColumnType(..)
        | rusqlite::Error::InvalidColumnIndex(_)
        | rusqlite::Error::InvalidColumnName(_)
        | rusqlite::Error::Utf8Error(..) => StoreError::Corrupt(format!(
            "{doing}: a stored row is not in the shape this version writes; the file was \
             changed outside Integritet, restore it from a backup"
        )),
        rusqlite::Error::InvalidPath(path) => StoreError::Unavailable(format!(
            "{doing}: the path {} cannot be used; give a plain file path",
            path.display()
        )),
        rusqlite::Error::ToSqlConversionFailure(e) => match e.downcast::<StoreError>() {
            Ok(carried) => *carried,
            Err(other) => StoreError::Unavailable(format!("{doing}: {other}")),
        },
        other => StoreError::Unavailable(format!("{doing}: {other}")),
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

/// The store's threads are gone (it was closed, or a thread died).
pub(crate) fn closed() -> StoreError {
    StoreError::Unavailable("the store is closed; reopen it".into())
}

/// A failure while decoding a row: SQLite's, or a column that does not hold what this version
/// writes.
pub(crate) enum RowError {
    Db(rusqlite::Error),
    Store(StoreError),
}

impl RowError {
    pub(crate) fn into_store(self, doing: &str) -> StoreError {
        match self {
            RowError::Db(e) => db(doing, e),
            RowError::Store(e) => e,
        }
    }
}

impl From<rusqlite::Error> for RowError {
    fn from(e: rusqlite::Error) -> RowError {
        RowError::Db(e)
    }
}

impl From<rusqlite::types::FromSqlError> for RowError {
    fn from(_: rusqlite::types::FromSqlError) -> RowError {
        RowError::Store(StoreError::Corrupt(
            "a stored column does not hold the type this version writes; the file was changed \
             outside Integritet, restore it from a backup"
                .into(),
        ))
    }
}

impl From<StoreError> for RowError {
    fn from(e: StoreError) -> RowError {
        RowError::Store(e)
    }
}

/// Carries one of our own failures (a time that cannot be stored, say) out of a rusqlite
/// closure; [`db`] reports it as it was.
pub(crate) fn carry(e: StoreError) -> rusqlite::Error {
    rusqlite::Error::ToSqlConversionFailure(Box::new(e))
}
