//! Cookie consent records: sealed, with their time beside them.

use integritet_app::store::{ConsentChange, ConsentRow, Outcome, StoreError};
use rusqlite::{Connection, OptionalExtension};
use time::OffsetDateTime;

use crate::convert::{instant, nanos};
use crate::error::{self, carry};

pub(crate) fn apply(conn: &Connection, change: &ConsentChange) -> Result<Outcome, StoreError> {
    let ConsentChange::Record(row) = change;
    let added = conn
        .prepare_cached(
            "INSERT INTO consent_records (id, at, sealed) VALUES (?1, ?2, ?3)
             ON CONFLICT (id) DO NOTHING",
        )
        .and_then(|mut stmt| {
            stmt.execute((
                row.id.as_bytes().as_slice(),
                nanos(row.at).map_err(carry)?,
                row.sealed.as_slice(),
            ))
        })
        .map_err(|e| error::db("storing a consent record", e))?;
    Ok(if added > 0 {
        Outcome::Done
    } else {
        Outcome::Nothing
    })
}

pub(crate) fn by_id(conn: &Connection, id: uuid::Uuid) -> Result<Option<ConsentRow>, StoreError> {
    let doing = "reading a consent record";
    let row = conn
        .prepare_cached("SELECT at, sealed FROM consent_records WHERE id = ?1")
        .and_then(|mut stmt| {
            stmt.query_row([id.as_bytes().as_slice()], |row| {
                Ok((row.get::<_, i64>(0)?, row.get::<_, Vec<u8>>(1)?))
            })
            .optional()
        })
        .map_err(|e| error::db(doing, e))?;
    row.map(|(at, sealed)| {
        Ok(ConsentRow {
            id,
            at: instant(at, "consent_records", "at", id)?,
            sealed,
        })
    })
    .transpose()
}

/// Records at or after `since`, in time order, after the record `after` of the same time.
pub(crate) fn since(
    conn: &Connection,
    since: OffsetDateTime,
    after: Option<(OffsetDateTime, uuid::Uuid)>,
    limit: u32,
) -> Result<Vec<ConsentRow>, StoreError> {
    let doing = "listing consent records";
    let db = |e| error::db(doing, e);
    let (from, after_id) = match after {
        Some((at, id)) => (nanos(at)?, id.as_bytes().to_vec()),
        None => (nanos(since)?, Vec::new()),
    };
    let mut stmt = conn
        .prepare_cached(
            "SELECT id, at, sealed FROM consent_records
             WHERE (at, id) > (?1, ?2) ORDER BY at, id LIMIT ?3",
        )
        .map_err(db)?;
    let mut rows = stmt.query((from, after_id.as_slice(), limit)).map_err(db)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(db)? {
        let id_bytes: Vec<u8> = row.get(0).map_err(db)?;
        let id = uuid::Uuid::from_slice(&id_bytes)
            .map_err(|_| error::corrupt("consent_records", "id", "?"))?;
        out.push(ConsentRow {
            id,
            at: instant(row.get(1).map_err(db)?, "consent_records", "at", id)?,
            sealed: row.get(2).map_err(db)?,
        });
    }
    Ok(out)
}
