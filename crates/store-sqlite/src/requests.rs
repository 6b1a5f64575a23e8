//! Data subjects' requests: a sealed record per request, and what listing by deadline needs.

use integritet_app::store::{Outcome, RequestChange, RequestRow, StoreError};
use rusqlite::{Connection, OptionalExtension, Row};

use crate::convert::{day, day_text, instant, nanos};
use crate::error::{self, RowError};

const COLUMNS: &str = "id, state, received_at, due, sealed, version";

pub(crate) fn apply(conn: &Connection, change: &RequestChange) -> Result<Outcome, StoreError> {
    let RequestChange::Put { row, replaces } = change;
    let version = i64::try_from(row.version).map_err(|_| too_many_versions())?;
    let params = (
        row.id.as_bytes().as_slice(),
        &row.state,
        nanos(row.received_at)?,
        day_text(row.due),
        row.sealed.as_slice(),
        version,
    );
    let changed = match replaces {
        None => conn
            .prepare_cached(
                "INSERT INTO subject_requests (id, state, received_at, due, sealed, version)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .and_then(|mut stmt| stmt.execute(params))
            .map_err(|e| error::db("storing a request", e))?,
        Some(replaces) => {
            let replaces = i64::try_from(*replaces).map_err(|_| too_many_versions())?;
            conn.prepare_cached(
                "UPDATE subject_requests
                 SET state = ?2, received_at = ?3, due = ?4, sealed = ?5, version = ?6
                 WHERE id = ?1 AND version = ?7",
            )
            .and_then(|mut stmt| {
                stmt.execute((
                    params.0, params.1, params.2, &params.3, params.4, params.5, replaces,
                ))
            })
            .map_err(|e| error::db("updating a request", e))?
        }
    };
    Ok(if changed > 0 {
        Outcome::Done
    } else {
        Outcome::Nothing
    })
}

fn too_many_versions() -> StoreError {
    StoreError::Conflict("a request's version is beyond what the database can hold".into())
}

pub(crate) fn by_id(conn: &Connection, id: uuid::Uuid) -> Result<Option<RequestRow>, StoreError> {
    let doing = "reading a request";
    let row = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM subject_requests WHERE id = ?1"
        ))
        .and_then(|mut stmt| {
            stmt.query_row([id.as_bytes().as_slice()], |row| Ok(record(row)))
                .optional()
        })
        .map_err(|e| error::db(doing, e))?;
    row.transpose().map_err(|e| e.into_store(doing))
}

pub(crate) fn list(conn: &Connection) -> Result<Vec<RequestRow>, StoreError> {
    let doing = "listing requests";
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM subject_requests ORDER BY due, received_at"
        ))
        .map_err(|e| error::db(doing, e))?;
    let rows = stmt
        .query_map([], |row| Ok(record(row)))
        .map_err(|e| error::db(doing, e))?;
    let mut out = Vec::new();
    for row in rows {
        out.push(
            row.map_err(|e| error::db(doing, e))?
                .map_err(|e| e.into_store(doing))?,
        );
    }
    Ok(out)
}

fn record(row: &Row<'_>) -> Result<RequestRow, RowError> {
    let id_bytes: Vec<u8> = row.get(0)?;
    let id = crate::convert::uuid(&id_bytes, "subject_requests", "id", "?")?;
    let received: i64 = row.get(2)?;
    let due: String = row.get(3)?;
    let version: i64 = row.get(5)?;
    Ok(RequestRow {
        id,
        state: row.get(1)?,
        received_at: instant(received, "subject_requests", "received_at", id)?,
        due: day(&due, "subject_requests", "due", id)?,
        sealed: row.get(4)?,
        version: u64::try_from(version)
            .map_err(|_| error::corrupt("subject_requests", "version", id))?,
    })
}
