//! The wrapped data keys, paged for key rotation and replaced after it.

use integritet_app::store::{KeyChange, Outcome, StoreError, WrappedKeyRow};
use integritet_domain::subject::SubjectId;
use rusqlite::Connection;

use crate::convert::uuid;
use crate::error;

pub(crate) fn page(
    conn: &Connection,
    after: Option<SubjectId>,
    limit: u32,
) -> Result<Vec<WrappedKeyRow>, StoreError> {
    let doing = "listing wrapped keys";
    let db = |e| error::db(doing, e);
    // Every 16-byte id sorts after the empty BLOB, so "from the start" needs no second query.
    let after: &[u8] = after.as_ref().map_or(&[], |id| id.as_bytes().as_slice());
    let mut stmt = conn
        .prepare_cached("SELECT id, wrapped_key FROM subjects WHERE id > ?1 ORDER BY id LIMIT ?2")
        .map_err(db)?;
    let mut rows = stmt.query((after, i64::from(limit))).map_err(db)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(db)? {
        let id = row.get_ref(0).map_err(db)?;
        let id = id
            .as_blob()
            .map_err(|_| error::corrupt("subjects", "id", "(a subject)"))?;
        out.push(WrappedKeyRow {
            subject: SubjectId(uuid(id, "subjects", "id", "(a subject)")?),
            wrapped_key: row.get(1).map_err(db)?,
        });
    }
    Ok(out)
}

pub(crate) fn apply(conn: &Connection, change: &KeyChange) -> Result<Outcome, StoreError> {
    match change {
        KeyChange::Rewrap(rows) => {
            let db = |e| error::db("replacing wrapped keys", e);
            let mut stmt = conn
                .prepare_cached("UPDATE subjects SET wrapped_key = ?2 WHERE id = ?1")
                .map_err(db)?;
            for row in rows {
                // A subject erased since its key was read has nothing left to rewrap.
                stmt.execute((
                    row.subject.as_bytes().as_slice(),
                    row.wrapped_key.as_slice(),
                ))
                .map_err(db)?;
            }
            Ok(Outcome::Done)
        }
    }
}
