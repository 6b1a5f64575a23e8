//! Turning sqlx's errors into [`StoreError`]s whose messages tell the operator what to do.
//! Database errors are sorted by SQLSTATE class, so the caller can tell "try again" from
//! "the server is down" from "the data is damaged".

use integritet_app::store::StoreError;
use sqlx::migrate::MigrateError;

/// Maps any sqlx error. Connection strings never appear in the messages (they may hold a
/// password).
pub(crate) fn from_sqlx(error: sqlx::Error) -> StoreError {
    match error {
        sqlx::Error::Database(db) => {
            let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
            from_sqlstate(&code, db.message(), db.constraint())
        }
        sqlx::Error::Io(e) => StoreError::Unavailable(format!(
            "could not talk to PostgreSQL ({e}); check that the server is running and reachable"
        )),
        sqlx::Error::Tls(e) => StoreError::Unavailable(format!(
            "the TLS connection to PostgreSQL failed ({e}); check `sslmode` in the database URL"
        )),
        sqlx::Error::PoolTimedOut => StoreError::Unavailable(
            "no PostgreSQL connection became free in time; the server is overloaded or \
             unreachable, or max_connections is too low"
                .into(),
        ),
        sqlx::Error::PoolClosed | sqlx::Error::WorkerCrashed => {
            StoreError::Unavailable("the connection pool is shut down; restart Integritet".into())
        }
        sqlx::Error::Configuration(e) => StoreError::Unavailable(format!(
            "the PostgreSQL connection settings are not valid ({e}); check the database URL"
        )),
        sqlx::Error::BeginFailed | sqlx::Error::InvalidSavePointStatement => {
            StoreError::Unavailable(format!("could not start a transaction ({error}); retry"))
        }
        sqlx::Error::Encode(e) => StoreError::Unsupported(format!(
            "a value could not be sent to PostgreSQL ({e}); this is a bug, please report it"
        )),
        sqlx::Error::InvalidArgument(e) => StoreError::Unsupported(format!(
            "an argument was not accepted ({e}); this is a bug, please report it"
        )),
        sqlx::Error::Migrate(e) => from_migrate(*e),
        sqlx::Error::RowNotFound
        | sqlx::Error::TypeNotFound { .. }
        | sqlx::Error::ColumnIndexOutOfBounds { .. }
        | sqlx::Error::ColumnNotFound(_)
        | sqlx::Error::ColumnDecode { .. }
        | sqlx::Error::Decode(_)
        | sqlx::Error::Protocol(_) => StoreError::Corrupt(format!(
            "a row could not be read ({error}); check that the schema is this version's \
             (`_sqlx_migrations`) and that no one edited the tables by hand"
        )),
        other => StoreError::Unavailable(format!("PostgreSQL failed: {other}")),
    }
}

fn from_sqlstate(code: &str, message: &str, constraint: Option<&str>) -> StoreError {
    let constraint = constraint.map(|c| format!(" ({c})")).unwrap_or_default();
    match code {
        "40001" | "40P01" => StoreError::Conflict(format!(
            "PostgreSQL aborted the transaction because another one raced it ({message}); retry"
        )),
        "23505" => StoreError::Conflict(format!(
            "a record with this id already exists{constraint}; it was written before, or \
             another writer got there first"
        )),
        "23503" => StoreError::Conflict(format!(
            "a record refers to one that is not there{constraint}: the subject or value was \
             erased or changed meanwhile, or an index entry names a value of another subject; \
             read the subject again and retry"
        )),
        "25006" => StoreError::Unavailable(
            "the database is read-only (a standby?); point the URL at the primary".into(),
        ),
        "57014" => StoreError::Unavailable(format!(
            "the statement was cancelled ({message}); a statement_timeout may be too short"
        )),
        "3D000" => StoreError::Unavailable(format!(
            "{message}; create the database first (`createdb NAME`) or fix the URL"
        )),
        _ if code.starts_with("08") || code.starts_with("57") || code.starts_with("53") => {
            StoreError::Unavailable(format!(
                "PostgreSQL cannot serve now ({code}: {message}); check the server and retry"
            ))
        }
        _ if code.starts_with("28") => StoreError::Unavailable(format!(
            "PostgreSQL refused the login ({message}); check the user and password in the URL"
        )),
        _ if code.starts_with("42") => StoreError::Corrupt(format!(
            "the schema is not what this version expects ({code}: {message}); was a table \
             changed by hand, or is a newer Integritet's schema in use?"
        )),
        _ if code.starts_with("22") || code.starts_with("23") => StoreError::Corrupt(format!(
            "PostgreSQL rejected the data ({code}: {message}{constraint})"
        )),
        _ => StoreError::Unavailable(format!("PostgreSQL failed ({code}: {message})")),
    }
}

pub(crate) fn from_migrate(error: MigrateError) -> StoreError {
    match error {
        MigrateError::Execute(e) => from_sqlx(e),
        MigrateError::ExecuteMigration(e, version) => match from_sqlx(e) {
            StoreError::Unavailable(m) => StoreError::Unavailable(m),
            other => StoreError::Corrupt(format!(
                "migration {version} failed: {other}; the schema was left as it was"
            )),
        },
        MigrateError::VersionTooNew(..)
        | MigrateError::VersionMissing(_)
        | MigrateError::VersionNotPresent(_) => StoreError::Corrupt(format!(
            "the database was set up by a different version of Integritet ({error}); run the \
             newest version, or restore a backup made by this one"
        )),
        other => StoreError::Corrupt(format!(
            "the database schema cannot be brought up to date ({other}); restore a backup or \
             ask for help"
        )),
    }
}

/// For a stored value that does not decode (an unknown kind, a hash of the wrong length).
pub(crate) fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!(
        "{what}; the row was changed outside Integritet — restore it from a backup"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlstates_sort_into_the_right_kind() {
        assert!(matches!(
            from_sqlstate("40001", "could not serialize", None),
            StoreError::Conflict(_)
        ));
        assert!(matches!(
            from_sqlstate("40P01", "deadlock detected", None),
            StoreError::Conflict(_)
        ));
        assert!(matches!(
            from_sqlstate("57P01", "terminating connection", None),
            StoreError::Unavailable(_)
        ));
        assert!(matches!(
            from_sqlstate("08006", "connection failure", None),
            StoreError::Unavailable(_)
        ));
        assert!(matches!(
            from_sqlstate("42P01", "relation does not exist", None),
            StoreError::Corrupt(_)
        ));
    }

    #[test]
    fn decode_failures_are_corruption() {
        let error = sqlx::Error::Decode("bad".into());
        assert!(matches!(from_sqlx(error), StoreError::Corrupt(_)));
        assert!(matches!(
            from_sqlx(sqlx::Error::PoolTimedOut),
            StoreError::Unavailable(_)
        ));
    }
}
