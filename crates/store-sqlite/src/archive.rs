//! The archive: entries stored at erasure, read by reference, shredded on their day.

use integritet_app::store::{ArchiveChange, ArchiveRecord, Outcome, StoreError};
use integritet_domain::subject::ArchiveRef;
use rusqlite::{Connection, OptionalExtension};
use time::Date;

use crate::convert::{day, day_text, instant, names, names_json, nanos};
use crate::error::{self, RowError};

/// Stores archive entries inside the writer's transaction.
pub(crate) fn insert(conn: &Connection, entries: &[ArchiveRecord]) -> Result<(), StoreError> {
    if entries.is_empty() {
        return Ok(());
    }
    let db = |e| error::db("storing archive entries", e);
    let mut stmt = conn
        .prepare_cached(
            "INSERT INTO archive (reference, created_at, shred_after, purposes, categories,
                                  wrapped_key, ciphertext, policy_version)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )
        .map_err(db)?;
    for r in entries {
        stmt.execute((
            r.reference.as_str(),
            nanos(r.created_at)?,
            day_text(r.shred_after),
            names_json(&r.purposes)?,
            names_json(&r.categories)?,
            r.wrapped_key.as_slice(),
            r.ciphertext.as_slice(),
            &r.policy_version,
        ))
        .map_err(db)?;
    }
    Ok(())
}

pub(crate) fn apply(conn: &Connection, change: &ArchiveChange) -> Result<Outcome, StoreError> {
    match change {
        ArchiveChange::Shred(references) => {
            let db = |e| error::db("shredding archive entries", e);
            let mut stmt = conn
                .prepare_cached("DELETE FROM archive WHERE reference = ?1")
                .map_err(db)?;
            let mut shredded = 0;
            for reference in references {
                shredded += stmt.execute([reference.as_str()]).map_err(db)? as u64;
            }
            Ok(Outcome::Count(shredded))
        }
        // The table has no rowid and sits in the order of its random references
        // (0007_archive_by_reference.sql), and SQLite keeps no transaction id per row: there
        // is nothing to shuffle.
        ArchiveChange::Reshuffle { .. } => Ok(Outcome::Count(0)),
    }
}

pub(crate) fn entry(
    conn: &Connection,
    reference: &ArchiveRef,
) -> Result<Option<ArchiveRecord>, StoreError> {
    let doing = "reading an archive entry";
    let mut stmt = conn
        .prepare_cached(
            "SELECT created_at, shred_after, purposes, categories, wrapped_key, ciphertext,
                    policy_version
             FROM archive WHERE reference = ?1",
        )
        .map_err(|e| error::db(doing, e))?;
    let row = stmt
        .query_row([reference.as_str()], |row| Ok(decode(reference, row)))
        .optional()
        .map_err(|e| error::db(doing, e))?;
    row.transpose().map_err(|e| e.into_store(doing))
}

fn decode(reference: &ArchiveRef, row: &rusqlite::Row<'_>) -> Result<ArchiveRecord, RowError> {
    Ok(ArchiveRecord {
        reference: reference.clone(),
        created_at: instant(row.get(0)?, "archive", "created_at", reference)?,
        shred_after: day(
            row.get_ref(1)?.as_str()?,
            "archive",
            "shred_after",
            reference,
        )?,
        purposes: names(row.get_ref(2)?.as_str()?, "archive", "purposes", reference)?,
        categories: names(
            row.get_ref(3)?.as_str()?,
            "archive",
            "categories",
            reference,
        )?,
        wrapped_key: row.get(4)?,
        ciphertext: row.get(5)?,
        policy_version: row.get(6)?,
    })
}

pub(crate) fn due(conn: &Connection, today: Date) -> Result<Vec<ArchiveRef>, StoreError> {
    let doing = "listing archive entries due for shredding";
    let db = |e| error::db(doing, e);
    let mut stmt = conn
        .prepare_cached(
            "SELECT reference FROM archive WHERE shred_after < ?1 ORDER BY shred_after, reference",
        )
        .map_err(db)?;
    let mut rows = stmt.query([day_text(today)]).map_err(db)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(db)? {
        let text: String = row.get(0).map_err(db)?;
        out.push(ArchiveRef::parse(&text).ok_or_else(|| {
            StoreError::Corrupt(
                "archive.reference holds a value that is not an archive reference; the file \
                 was changed outside Integritet, restore it from a backup"
                    .into(),
            )
        })?);
    }
    Ok(out)
}
