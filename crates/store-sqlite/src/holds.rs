//! Legal holds: a sealed record per hold, beside it the subject it is on.

use integritet_app::store::{HoldChange, HoldRow, Outcome, StoreError};
use integritet_domain::subject::SubjectId;
use rusqlite::Connection;

use crate::error;

pub(crate) fn apply(conn: &Connection, change: &HoldChange) -> Result<Outcome, StoreError> {
    let HoldChange::Put(row) = change;
    conn.prepare_cached(
        "INSERT INTO legal_holds (id, subject_id, sealed) VALUES (?1, ?2, ?3)
         ON CONFLICT (id) DO UPDATE SET subject_id = excluded.subject_id, sealed = excluded.sealed",
    )
    .and_then(|mut stmt| {
        stmt.execute((
            row.id.as_bytes().as_slice(),
            row.subject.as_bytes().as_slice(),
            row.sealed.as_slice(),
        ))
    })
    .map_err(|e| error::db("storing a legal hold", e))?;
    Ok(Outcome::Done)
}

pub(crate) fn list(conn: &Connection) -> Result<Vec<HoldRow>, StoreError> {
    let doing = "listing legal holds";
    let db = |e| error::db(doing, e);
    let mut stmt = conn
        .prepare_cached("SELECT id, subject_id, sealed FROM legal_holds ORDER BY id")
        .map_err(db)?;
    let rows = stmt
        .query_map([], |row| {
            Ok((
                row.get::<_, Vec<u8>>(0)?,
                row.get::<_, Vec<u8>>(1)?,
                row.get::<_, Vec<u8>>(2)?,
            ))
        })
        .map_err(db)?;
    let mut holds = Vec::new();
    for row in rows {
        let (id, subject, sealed) = row.map_err(db)?;
        let uuid = |bytes: &[u8]| {
            uuid::Uuid::from_slice(bytes)
                .map_err(|_| StoreError::Corrupt("a legal hold's id is not 16 bytes".into()))
        };
        holds.push(HoldRow {
            id: uuid(&id)?,
            subject: SubjectId(uuid(&subject)?),
            sealed,
        });
    }
    Ok(holds)
}
