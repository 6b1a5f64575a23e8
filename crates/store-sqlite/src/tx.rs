//! Transactions through statements prepared once: rusqlite's `Transaction` parses `BEGIN` and
//! `COMMIT` anew each time, a measurable share of a point read that is itself a few microseconds.

use integritet_app::store::StoreError;
use rusqlite::Connection;

use crate::error;

/// How a transaction starts.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Begin {
    /// A read snapshot: every statement inside sees the same commit.
    Read,
    /// The write lock at once, so the transaction never has to upgrade and fail half-way.
    Immediate,
}

/// Runs `work` in one transaction: committed when it returns `Ok`, rolled back otherwise
/// (and when the commit itself fails, so the connection is never left inside a transaction).
pub(crate) fn within<T>(
    conn: &Connection,
    begin: Begin,
    doing: &'static str,
    work: impl FnOnce(&Connection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let begin = match begin {
        Begin::Read => "BEGIN",
        Begin::Immediate => "BEGIN IMMEDIATE",
    };
    run(conn, begin, doing)?;
    let done = work(conn).and_then(|value| run(conn, "COMMIT", doing).map(|()| value));
    if done.is_err() && !conn.is_autocommit() {
        // Best effort: if even the rollback fails the connection is broken and its next
        // statement reports it.
        let _ = run(conn, "ROLLBACK", doing);
    }
    done
}

/// One statement without parameters or rows, prepared once per connection.
pub(crate) fn run(conn: &Connection, sql: &str, doing: &'static str) -> Result<(), StoreError> {
    conn.prepare_cached(sql)
        .and_then(|mut stmt| stmt.execute([]))
        .map(drop)
        .map_err(|e| error::db(doing, e))
}
