//! Subjects: their values, index entries, activities, restriction and objections, read in one
//! snapshot and changed inside the writer's transaction.
//!
//! A subject's values are one `WITHOUT ROWID` B-tree keyed by (subject, value): reading them is
//! one range scan of adjacent rows, each column taken as the BLOB or text it is stored as.

use integritet_app::store::{
    ActivityRecord, ErasureRecord, IndexEntry, NewSubject, ObjectionRecord, Outcome, StoreError,
    SubjectChange, SubjectRecord, ValueRecord,
};
use integritet_domain::subject::{Provenance, SubjectId, SubjectKind, ValueId};
use rusqlite::{Connection, OptionalExtension, Row};

use crate::archive;
use crate::convert::{instant, names, names_json, nanos, uuid};
use crate::error::{self, RowError, carry};
use crate::tx::{self, Begin};

/// A subject with its values, activities and objections, as of one moment.
pub(crate) fn subject(
    conn: &Connection,
    id: SubjectId,
) -> Result<Option<SubjectRecord>, StoreError> {
    // One read transaction: an erasure either hides the whole subject or none of it.
    tx::within(conn, Begin::Read, "reading a subject", |conn| {
        subject_in(conn, id)
    })
}

/// Up to `limit` whole subjects in id order after `after`, in one read transaction.
///
/// A page is read as four range scans in subject order (heads, values, activities, objections)
/// merged here, not as four lookups per subject: the sweep reads every subject this way.
pub(crate) fn subjects_after(
    conn: &Connection,
    after: Option<SubjectId>,
    limit: u32,
) -> Result<Vec<SubjectRecord>, StoreError> {
    let doing = "reading a page of subjects";
    tx::within(conn, Begin::Read, doing, |conn| {
        let db = |e| error::db(doing, e);
        let after = after.map(|id| id.as_bytes().to_vec()).unwrap_or_default();
        let mut subjects = Vec::with_capacity(limit as usize);
        {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT id, kind, created_at, wrapped_key, restricted FROM subjects
                     WHERE id > ?1 ORDER BY id LIMIT ?2",
                )
                .map_err(db)?;
            let mut rows = stmt.query((after.as_slice(), limit)).map_err(db)?;
            while let Some(row) = rows.next().map_err(db)? {
                subjects.push(head(row).map_err(|e| e.into_store(doing))?);
            }
        }
        let Some(last) = subjects.last().map(|s| s.id.as_bytes().to_vec()) else {
            return Ok(subjects);
        };
        let range = (after.as_slice(), last.as_slice());
        // Each scan yields rows in subject order; `at` walks the page alongside.
        let mut at = 0;
        {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT subject_id, id, category, ciphertext, provenance, collected_at,
                            purposes, policy_version
                     FROM subject_values WHERE subject_id > ?1 AND subject_id <= ?2
                     ORDER BY subject_id, id",
                )
                .map_err(db)?;
            let mut rows = stmt.query(range).map_err(db)?;
            while let Some(row) = rows.next().map_err(db)? {
                let Some(subject) = owner(&mut subjects, &mut at, row, doing)? else {
                    continue;
                };
                let value = value_at(subject.id, row, 1).map_err(|e| e.into_store(doing))?;
                subject.values.push(value);
            }
        }
        at = 0;
        {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT subject_id, kind, at FROM activities
                     WHERE subject_id > ?1 AND subject_id <= ?2 ORDER BY subject_id, rowid",
                )
                .map_err(db)?;
            let mut rows = stmt.query(range).map_err(db)?;
            while let Some(row) = rows.next().map_err(db)? {
                let Some(subject) = owner(&mut subjects, &mut at, row, doing)? else {
                    continue;
                };
                let at_ns = row.get(2).map_err(db)?;
                subject.activities.push(ActivityRecord {
                    kind: row.get(1).map_err(db)?,
                    at: instant(at_ns, "activities", "at", subject.id)?,
                });
            }
        }
        at = 0;
        {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT subject_id, purpose, at FROM objections
                     WHERE subject_id > ?1 AND subject_id <= ?2 ORDER BY subject_id, purpose",
                )
                .map_err(db)?;
            let mut rows = stmt.query(range).map_err(db)?;
            while let Some(row) = rows.next().map_err(db)? {
                let Some(subject) = owner(&mut subjects, &mut at, row, doing)? else {
                    continue;
                };
                let at_ns = row.get(2).map_err(db)?;
                subject.objections.push(ObjectionRecord {
                    purpose: row.get(1).map_err(db)?,
                    at: instant(at_ns, "objections", "at", subject.id)?,
                });
            }
        }
        Ok(subjects)
    })
}

/// A subject's head row (`id, kind, created_at, wrapped_key, restricted`), its lists empty.
fn head(row: &Row<'_>) -> Result<SubjectRecord, RowError> {
    let id = SubjectId(uuid(row.get_ref(0)?.as_blob()?, "subjects", "id", "?")?);
    let kind = SubjectKind::parse(row.get_ref(1)?.as_str()?)
        .ok_or_else(|| error::corrupt("subjects", "kind", id))?;
    Ok(SubjectRecord {
        id,
        kind,
        created_at: instant(row.get(2)?, "subjects", "created_at", id)?,
        wrapped_key: row.get(3)?,
        restricted: row.get(4)?,
        objections: Vec::new(),
        values: Vec::new(),
        activities: Vec::new(),
    })
}

/// The subject of the page that a row of a by-subject scan (subject id in column 0) belongs
/// to, moving `at` forward; `None` for a row of no subject on the page (an orphan).
fn owner<'a>(
    subjects: &'a mut [SubjectRecord],
    at: &mut usize,
    row: &Row<'_>,
    doing: &str,
) -> Result<Option<&'a mut SubjectRecord>, StoreError> {
    let bytes = row.get_ref(0).map_err(|e| error::db(doing, e))?;
    let bytes = bytes
        .as_blob()
        .map_err(|_| error::corrupt("subject rows", "subject_id", "?"))?;
    while let Some(subject) = subjects.get(*at) {
        match subject.id.as_bytes().as_slice().cmp(bytes) {
            std::cmp::Ordering::Less => *at += 1,
            std::cmp::Ordering::Equal => return Ok(subjects.get_mut(*at)),
            std::cmp::Ordering::Greater => return Ok(None),
        }
    }
    Ok(None)
}

fn subject_in(tx: &Connection, id: SubjectId) -> Result<Option<SubjectRecord>, StoreError> {
    let doing = "reading a subject";
    let db = |e| error::db(doing, e);
    let key = id.as_bytes().as_slice();
    let head = tx
        .prepare_cached(
            "SELECT kind, created_at, wrapped_key, restricted FROM subjects WHERE id = ?1",
        )
        .map_err(db)?
        .query_row([key], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, Vec<u8>>(2)?,
                row.get::<_, bool>(3)?,
            ))
        })
        .optional()
        .map_err(db)?;
    let Some((kind, created_at, wrapped_key, restricted)) = head else {
        return Ok(None);
    };
    let mut values = Vec::new();
    {
        let mut stmt = tx
            .prepare_cached(
                "SELECT id, category, ciphertext, provenance, collected_at, purposes,
                        policy_version
                 FROM subject_values WHERE subject_id = ?1 ORDER BY id",
            )
            .map_err(db)?;
        let mut rows = stmt.query([key]).map_err(db)?;
        while let Some(row) = rows.next().map_err(db)? {
            values.push(value(id, row).map_err(|e| e.into_store(doing))?);
        }
    }
    let mut activities = Vec::new();
    {
        let mut stmt = tx
            .prepare_cached("SELECT kind, at FROM activities WHERE subject_id = ?1 ORDER BY rowid")
            .map_err(db)?;
        let mut rows = stmt.query([key]).map_err(db)?;
        while let Some(row) = rows.next().map_err(db)? {
            activities.push(ActivityRecord {
                kind: row.get(0).map_err(db)?,
                at: instant(row.get(1).map_err(db)?, "activities", "at", id)?,
            });
        }
    }
    let mut objections = Vec::new();
    {
        let mut stmt = tx
            .prepare_cached(
                "SELECT purpose, at FROM objections WHERE subject_id = ?1 ORDER BY purpose",
            )
            .map_err(db)?;
        let mut rows = stmt.query([key]).map_err(db)?;
        while let Some(row) = rows.next().map_err(db)? {
            objections.push(ObjectionRecord {
                purpose: row.get(0).map_err(db)?,
                at: instant(row.get(1).map_err(db)?, "objections", "at", id)?,
            });
        }
    }
    Ok(Some(SubjectRecord {
        id,
        kind: SubjectKind::parse(&kind).ok_or_else(|| error::corrupt("subjects", "kind", id))?,
        created_at: instant(created_at, "subjects", "created_at", id)?,
        wrapped_key,
        restricted,
        objections,
        values,
        activities,
    }))
}

fn value(subject: SubjectId, row: &Row<'_>) -> Result<ValueRecord, RowError> {
    value_at(subject, row, 0)
}

/// A value from the row's columns `first..first + 7` (id, category, ciphertext, provenance,
/// collected_at, purposes, policy_version).
fn value_at(subject: SubjectId, row: &Row<'_>, first: usize) -> Result<ValueRecord, RowError> {
    let id = ValueId(uuid(
        row.get_ref(first)?.as_blob()?,
        "subject_values",
        "id",
        subject,
    )?);
    Ok(ValueRecord {
        id,
        category: row.get(first + 1)?,
        ciphertext: row.get(first + 2)?,
        provenance: Provenance::parse(row.get_ref(first + 3)?.as_str()?)
            .ok_or_else(|| error::corrupt("subject_values", "provenance", id))?,
        collected_at: instant(row.get(first + 4)?, "subject_values", "collected_at", id)?,
        purposes: names(
            row.get_ref(first + 5)?.as_str()?,
            "subject_values",
            "purposes",
            id,
        )?,
        policy_version: row.get(first + 6)?,
    })
}

/// Subjects whose index has `token` under `kind`.
pub(crate) fn lookup(
    conn: &Connection,
    kind: &str,
    token: &[u8; 32],
) -> Result<Vec<SubjectId>, StoreError> {
    let doing = "looking up a subject";
    let db = |e| error::db(doing, e);
    let mut stmt = conn
        .prepare_cached(
            // An entry whose value is gone waits for its cleanup: it finds no one.
            "SELECT DISTINCT subject_id FROM blind_index AS entry
             WHERE kind = ?1 AND token = ?2
               AND EXISTS (SELECT 1 FROM subject_values AS value
                           WHERE value.subject_id = entry.subject_id AND value.id = entry.value_id)
             ORDER BY subject_id",
        )
        .map_err(db)?;
    let mut rows = stmt.query((kind, token.as_slice())).map_err(db)?;
    let mut found = Vec::new();
    while let Some(row) = rows.next().map_err(db)? {
        let bytes = row.get_ref(0).map_err(db)?;
        let bytes = bytes
            .as_blob()
            .map_err(|_| error::corrupt("blind_index", "subject_id", kind))?;
        found.push(SubjectId(uuid(bytes, "blind_index", "subject_id", kind)?));
    }
    Ok(found)
}

pub(crate) fn is_erased(conn: &Connection, subject: SubjectId) -> Result<bool, StoreError> {
    conn.prepare_cached("SELECT EXISTS (SELECT 1 FROM erasures WHERE subject_id = ?1)")
        .and_then(|mut stmt| stmt.query_row([subject.as_bytes().as_slice()], |row| row.get(0)))
        .map_err(|e| error::db("checking for an erasure", e))
}

/// Restricted subjects and every objection.
pub(crate) fn restrictions_and_objections(
    conn: &Connection,
) -> Result<integritet_app::store::SubjectsSay, StoreError> {
    let doing = "listing restrictions and objections";
    let db = |e| error::db(doing, e);
    let mut say = integritet_app::store::SubjectsSay::default();
    let mut stmt = conn
        .prepare_cached("SELECT id FROM subjects WHERE restricted = 1 ORDER BY id")
        .map_err(db)?;
    let mut rows = stmt.query([]).map_err(db)?;
    while let Some(row) = rows.next().map_err(db)? {
        let bytes = row.get_ref(0).and_then(|v| Ok(v.as_blob()?)).map_err(db)?;
        say.restricted
            .push(SubjectId(uuid(bytes, "subjects", "id", "?")?));
    }
    let mut stmt = conn
        .prepare_cached(
            "SELECT subject_id, purpose, at FROM objections ORDER BY subject_id, purpose",
        )
        .map_err(db)?;
    let mut rows = stmt.query([]).map_err(db)?;
    while let Some(row) = rows.next().map_err(db)? {
        let decode = || -> Result<(SubjectId, ObjectionRecord), RowError> {
            let subject = SubjectId(uuid(
                row.get_ref(0)?.as_blob()?,
                "objections",
                "subject_id",
                "?",
            )?);
            let purpose: String = row.get(1)?;
            let at = instant(row.get(2)?, "objections", "at", &purpose)?;
            Ok((subject, ObjectionRecord { purpose, at }))
        };
        say.objections
            .push(decode().map_err(|e| e.into_store(doing))?);
    }
    Ok(say)
}

pub(crate) fn erasures(conn: &Connection) -> Result<Vec<ErasureRecord>, StoreError> {
    let doing = "listing erasures";
    let db = |e| error::db(doing, e);
    let mut stmt = conn
        .prepare_cached(
            "SELECT id, subject_id, at, erased, archived, reason FROM erasures ORDER BY at, id",
        )
        .map_err(db)?;
    let mut rows = stmt.query([]).map_err(db)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(db)? {
        out.push(erasure(row).map_err(|e| e.into_store(doing))?);
    }
    Ok(out)
}

fn erasure(row: &Row<'_>) -> Result<ErasureRecord, RowError> {
    let key: i64 = row.get(0)?;
    Ok(ErasureRecord {
        subject: SubjectId(uuid(
            row.get_ref(1)?.as_blob()?,
            "erasures",
            "subject_id",
            key,
        )?),
        at: instant(row.get(2)?, "erasures", "at", key)?,
        erased: names(row.get_ref(3)?.as_str()?, "erasures", "erased", key)?,
        archived: names(row.get_ref(4)?.as_str()?, "erasures", "archived", key)?,
        reason: row.get(5)?,
    })
}

/// Applies a change to subjects inside the writer's transaction.
pub(crate) fn apply(conn: &Connection, change: &SubjectChange) -> Result<Outcome, StoreError> {
    let doing = "changing a subject";
    let db = |e| error::db(doing, e);
    match change {
        SubjectChange::Insert(subjects) => {
            insert_subjects(conn, subjects)?;
            Ok(Outcome::Done)
        }
        SubjectChange::ReplaceValue {
            subject,
            old,
            new,
            index,
        } => {
            let deleted = conn
                .prepare_cached("DELETE FROM subject_values WHERE subject_id = ?1 AND id = ?2")
                .and_then(|mut stmt| {
                    stmt.execute((subject.as_bytes().as_slice(), old.as_bytes().as_slice()))
                })
                .map_err(db)?;
            if deleted == 0 {
                return Ok(Outcome::Nothing);
            }
            crate::cleanup::leave_entries(conn, subject)?;
            insert_values(conn, subject, std::slice::from_ref(new))?;
            insert_index(conn, &of_subject(subject, index))?;
            Ok(Outcome::Done)
        }
        SubjectChange::AddValues {
            subject,
            values,
            index,
        } => {
            if !exists(conn, subject)? {
                return Ok(Outcome::Nothing);
            }
            insert_values(conn, subject, values)?;
            insert_index(conn, &of_subject(subject, index))?;
            Ok(Outcome::Done)
        }
        SubjectChange::AddActivities {
            subject,
            activities,
        } => {
            if !exists(conn, subject)? {
                return Ok(Outcome::Nothing);
            }
            insert_activities(conn, subject, activities)?;
            Ok(Outcome::Done)
        }
        SubjectChange::SetRestricted {
            subject,
            restricted,
        } => {
            let changed = conn
                .prepare_cached("UPDATE subjects SET restricted = ?2 WHERE id = ?1")
                .and_then(|mut stmt| stmt.execute((subject.as_bytes().as_slice(), restricted)))
                .map_err(db)?;
            Ok(done_if(changed > 0))
        }
        SubjectChange::AddObjection {
            subject,
            objection,
            suppress,
        } => {
            if !exists(conn, subject)? {
                return Ok(Outcome::Nothing);
            }
            for entry in suppress {
                conn.prepare_cached(
                    "INSERT INTO suppression (kind, hash, at) VALUES (?1, ?2, ?3)
                     ON CONFLICT (kind, hash) DO NOTHING",
                )
                .and_then(|mut stmt| {
                    stmt.execute((
                        &entry.kind,
                        entry.hash.as_slice(),
                        nanos(entry.at).map_err(carry)?,
                    ))
                })
                .map_err(db)?;
            }
            conn.prepare_cached(
                "INSERT INTO objections (subject_id, purpose, at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (subject_id, purpose) DO NOTHING",
            )
            .and_then(|mut stmt| {
                stmt.execute((
                    subject.as_bytes().as_slice(),
                    &objection.purpose,
                    nanos(objection.at).map_err(carry)?,
                ))
            })
            .map_err(db)?;
            Ok(Outcome::Done)
        }
        SubjectChange::WithdrawObjection { subject, purpose } => {
            let changed = conn
                .prepare_cached("DELETE FROM objections WHERE subject_id = ?1 AND purpose = ?2")
                .and_then(|mut stmt| stmt.execute((subject.as_bytes().as_slice(), purpose)))
                .map_err(db)?;
            Ok(done_if(changed > 0))
        }
        SubjectChange::Erase {
            erasure,
            archive,
            planned,
        } => erase(conn, erasure, archive, planned.as_deref()),
        SubjectChange::RemoveValues {
            subject,
            values,
            archive: entries,
            planned,
        } => {
            if !exists(conn, subject)? {
                return Ok(Outcome::Nothing);
            }
            if current_values(conn, subject)? != planned_set(planned) {
                return Err(StoreError::Conflict(
                    "the subject's values changed while their retention was planned; plan again"
                        .into(),
                ));
            }
            let mut stmt = conn
                .prepare_cached("DELETE FROM subject_values WHERE subject_id = ?1 AND id = ?2")
                .map_err(db)?;
            for value in values {
                stmt.execute((subject.as_bytes().as_slice(), value.as_bytes().as_slice()))
                    .map_err(db)?;
            }
            crate::cleanup::leave_entries(conn, subject)?;
            archive::insert(conn, entries)?;
            Ok(Outcome::Done)
        }
    }
}

/// The ids of a subject's values as stored now (under the writer's lock).
fn current_values(
    conn: &Connection,
    subject: &SubjectId,
) -> Result<std::collections::BTreeSet<Vec<u8>>, StoreError> {
    let db = |e| error::db("reading a subject's values", e);
    let mut stmt = conn
        .prepare_cached("SELECT id FROM subject_values WHERE subject_id = ?1")
        .map_err(db)?;
    let mut rows = stmt.query([subject.as_bytes().as_slice()]).map_err(db)?;
    let mut current = std::collections::BTreeSet::new();
    while let Some(row) = rows.next().map_err(db)? {
        current.insert(row.get::<_, Vec<u8>>(0).map_err(db)?);
    }
    Ok(current)
}

fn planned_set(planned: &[ValueId]) -> std::collections::BTreeSet<Vec<u8>> {
    planned.iter().map(|v| v.as_bytes().to_vec()).collect()
}

fn erase(
    conn: &Connection,
    erasure: &ErasureRecord,
    archive_entries: &[integritet_app::store::ArchiveRecord],
    planned: Option<&[ValueId]>,
) -> Result<Outcome, StoreError> {
    let doing = "erasing a subject";
    let db = |e| error::db(doing, e);
    let key = erasure.subject.as_bytes().as_slice();
    // Checked under the write lock the deletion is made under: nothing can be added between.
    if let Some(planned) = planned {
        // Erased by someone else meanwhile: a second record (and archive) would be a double
        // erasure.
        if !exists(conn, &erasure.subject)? {
            return Ok(Outcome::Nothing);
        }
        if current_values(conn, &erasure.subject)? != planned_set(planned) {
            return Err(StoreError::Conflict(
                "the subject's values changed while its erasure was planned; plan it again".into(),
            ));
        }
    }
    // Values, activities and objections go by ON DELETE CASCADE; the wrapped key goes with the
    // subject row, which crypto-shreds the values in every backup. The index entries find no
    // value from now on and are removed by the cleanup (see `cleanup.rs`).
    let deleted = conn
        .prepare_cached("DELETE FROM subjects WHERE id = ?1")
        .and_then(|mut stmt| stmt.execute([key]))
        .map_err(db)?;
    if deleted > 0 {
        crate::cleanup::leave_entries(conn, &erasure.subject)?;
    }
    // A replay of the same erasure (same subject and instant) keeps the one record.
    conn.prepare_cached(
        "INSERT INTO erasures (subject_id, at, erased, archived, reason)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (subject_id, at) DO NOTHING",
    )
    .and_then(|mut stmt| {
        stmt.execute((
            key,
            nanos(erasure.at).map_err(carry)?,
            names_json(&erasure.erased).map_err(carry)?,
            names_json(&erasure.archived).map_err(carry)?,
            &erasure.reason,
        ))
    })
    .map_err(db)?;
    archive::insert(conn, archive_entries)?;
    Ok(Outcome::Erased {
        existed: deleted > 0,
    })
}

fn done_if(changed: bool) -> Outcome {
    if changed {
        Outcome::Done
    } else {
        Outcome::Nothing
    }
}

fn exists(conn: &Connection, subject: &SubjectId) -> Result<bool, StoreError> {
    conn.prepare_cached("SELECT EXISTS (SELECT 1 FROM subjects WHERE id = ?1)")
        .and_then(|mut stmt| stmt.query_row([subject.as_bytes().as_slice()], |row| row.get(0)))
        .map_err(|e| error::db("checking for a subject", e))
}

fn insert_subjects(conn: &Connection, subjects: &[NewSubject]) -> Result<(), StoreError> {
    let db = |e| error::db("storing subjects", e);
    let mut stmt = conn
        .prepare_cached(
            "INSERT INTO subjects (id, kind, created_at, wrapped_key, restricted)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .map_err(db)?;
    // Subjects first, so that values and index entries find their parents.
    for subject in subjects {
        let r = &subject.record;
        stmt.execute((
            r.id.as_bytes().as_slice(),
            r.kind.as_str(),
            nanos(r.created_at)?,
            r.wrapped_key.as_slice(),
            r.restricted,
        ))
        .map_err(db)?;
    }
    for subject in subjects {
        let r = &subject.record;
        insert_values(conn, &r.id, &r.values)?;
        insert_activities(conn, &r.id, &r.activities)?;
    }
    // Index entries last (their values exist by then) and in key order: the tokens are
    // random, and a batch inserted sorted walks the index B-tree once from left to right
    // instead of jumping between its pages for every entry.
    let mut entries: Vec<(&SubjectId, &IndexEntry)> = subjects
        .iter()
        .flat_map(|s| s.index.iter().map(move |entry| (&s.record.id, entry)))
        .collect();
    entries.sort_unstable_by(|(_, a), (_, b)| (&a.kind, &a.token).cmp(&(&b.kind, &b.token)));
    insert_index(conn, &entries)
}

fn insert_values(
    conn: &Connection,
    subject: &SubjectId,
    values: &[ValueRecord],
) -> Result<(), StoreError> {
    if values.is_empty() {
        return Ok(());
    }
    let db = |e| error::db("storing values", e);
    let mut stmt = conn
        .prepare_cached(
            "INSERT INTO subject_values (subject_id, id, category, ciphertext, provenance,
                                         collected_at, purposes, policy_version)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )
        .map_err(db)?;
    for v in values {
        stmt.execute((
            subject.as_bytes().as_slice(),
            v.id.as_bytes().as_slice(),
            &v.category,
            v.ciphertext.as_slice(),
            v.provenance.as_str(),
            nanos(v.collected_at)?,
            names_json(&v.purposes)?,
            &v.policy_version,
        ))
        .map_err(db)?;
    }
    Ok(())
}

/// `entries` of one subject, as [`insert_index`] takes them.
fn of_subject<'a>(
    subject: &'a SubjectId,
    entries: &'a [IndexEntry],
) -> Vec<(&'a SubjectId, &'a IndexEntry)> {
    entries.iter().map(|entry| (subject, entry)).collect()
}

fn insert_index(
    conn: &Connection,
    entries: &[(&SubjectId, &IndexEntry)],
) -> Result<(), StoreError> {
    if entries.is_empty() {
        return Ok(());
    }
    let db = |e| error::db("storing index entries", e);
    let mut stmt = conn
        .prepare_cached(
            "INSERT INTO blind_index (kind, token, subject_id, value_id) VALUES (?1, ?2, ?3, ?4)",
        )
        .map_err(db)?;
    for (subject, entry) in entries {
        stmt.execute((
            &entry.kind,
            entry.token.as_slice(),
            subject.as_bytes().as_slice(),
            entry.value.as_bytes().as_slice(),
        ))
        .map_err(db)?;
    }
    Ok(())
}

fn insert_activities(
    conn: &Connection,
    subject: &SubjectId,
    activities: &[ActivityRecord],
) -> Result<(), StoreError> {
    if activities.is_empty() {
        return Ok(());
    }
    let db = |e| error::db("recording activity", e);
    let mut stmt = conn
        .prepare_cached("INSERT INTO activities (subject_id, kind, at) VALUES (?1, ?2, ?3)")
        .map_err(db)?;
    for activity in activities {
        stmt.execute((
            subject.as_bytes().as_slice(),
            &activity.kind,
            nanos(activity.at)?,
        ))
        .map_err(db)?;
    }
    Ok(())
}
