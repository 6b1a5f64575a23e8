//! The hash-chained audit log: entries chained onto the head inside the writer's transaction,
//! and read back in order.

use integritet_app::store::{Outcome, StoreError};
use integritet_domain::audit::{
    AuditAction, AuditDraft, AuditEntry, ChainHash, ChainKey, ChainLink, EntryFields,
};
use rusqlite::{Connection, OptionalExtension, Row};

use crate::convert::{instant, names, names_json, nanos, uuid};
use crate::error::{self, RowError};

/// The chain's end: the last entry's seq and hash.
pub(crate) type Head = Option<(u64, ChainHash)>;

/// The head recorded beside the log.
pub(crate) fn head(conn: &Connection) -> Result<Head, StoreError> {
    let row: Option<(i64, Vec<u8>)> = conn
        .prepare_cached("SELECT seq, hash FROM audit_head WHERE id = 1")
        .and_then(|mut stmt| {
            stmt.query_row([], |row| Ok((row.get(0)?, row.get(1)?)))
                .optional()
        })
        .map_err(|e| error::db("reading the audit head", e))?;
    let Some((seq, hash)) = row else {
        return Ok(None);
    };
    let seq = u64::try_from(seq).map_err(|_| error::corrupt("audit_head", "seq", 1))?;
    let hash =
        ChainHash::from_slice(&hash).ok_or_else(|| error::corrupt("audit_head", "hash", 1))?;
    Ok(Some((seq, hash)))
}

/// Chains `drafts` after `head`, inserts them and moves `head` on. The caller holds the write
/// lock from before the head was read until commit, so no other writer can chain onto the same
/// head and fork the log.
pub(crate) fn append<'a>(
    conn: &Connection,
    drafts: impl Iterator<Item = &'a AuditDraft>,
    head: &mut Head,
    key: &ChainKey,
) -> Result<(), StoreError> {
    let doing = "appending to the audit log";
    let mut insert = None;
    for draft in drafts {
        let entry = draft.clone().chain(*head, key);
        let seq = i64::try_from(entry.seq).map_err(|_| error::corrupt("audit_head", "seq", 1))?;
        let draft = &entry.draft;
        let stmt = match &mut insert {
            Some(stmt) => stmt,
            None => insert.insert(
                conn.prepare_cached(
                    "INSERT INTO audit_log (seq, at, actor, role, purpose, subject_id, categories,
                                            action, policy_version, detail, prev_hash, hash)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                )
                .map_err(|e| error::db(doing, e))?,
            ),
        };
        stmt.execute(rusqlite::params![
            seq,
            nanos(draft.at)?,
            draft.actor,
            draft.role,
            draft.purpose,
            draft.subject.as_ref().map(|s| s.as_bytes().as_slice()),
            names_json(&draft.categories)?,
            draft.action.as_str(),
            draft.policy_version,
            draft.detail,
            entry.prev_hash.0.as_slice(),
            entry.hash.0.as_slice(),
        ])
        .map_err(|e| error::db(doing, e))?;
        *head = Some((entry.seq, entry.hash));
    }
    Ok(())
}

/// Inserts another copy's `entries` as they are, when they continue `head` exactly, and moves
/// `head` to the last. Every entry's hash is checked against its content and its link, so
/// nothing that does not verify can be carried in.
pub(crate) fn carry(
    conn: &Connection,
    entries: &[AuditEntry],
    head: &mut Head,
    key: &ChainKey,
) -> Result<Outcome, StoreError> {
    let doing = "carrying audit entries over";
    let (mut seq, mut hash) = head.unwrap_or((0, ChainHash::GENESIS));
    for entry in entries {
        let link = entry.link(key);
        if entry.seq != seq + 1 || entry.prev_hash != hash || link.content != entry.hash {
            return Err(StoreError::Conflict(format!(
                "audit entry {} does not continue this log at entry {seq}; nothing was carried",
                entry.seq
            )));
        }
        let draft = &entry.draft;
        conn.prepare_cached(
            "INSERT INTO audit_log (seq, at, actor, role, purpose, subject_id, categories,
                                    action, policy_version, detail, prev_hash, hash)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        )
        .and_then(|mut stmt| {
            stmt.execute(rusqlite::params![
                i64::try_from(entry.seq).unwrap_or(i64::MAX),
                nanos(draft.at).map_err(crate::error::carry)?,
                draft.actor,
                draft.role,
                draft.purpose,
                draft.subject.as_ref().map(|s| s.as_bytes().as_slice()),
                names_json(&draft.categories).map_err(crate::error::carry)?,
                draft.action.as_str(),
                draft.policy_version,
                draft.detail,
                entry.prev_hash.0.as_slice(),
                entry.hash.0.as_slice(),
            ])
        })
        .map_err(|e| error::db(doing, e))?;
        (seq, hash) = (entry.seq, entry.hash);
    }
    if !entries.is_empty() {
        *head = Some((seq, hash));
    }
    Ok(Outcome::Count(entries.len() as u64))
}

/// Records `head` as the log's end (once per transaction, after every entry).
pub(crate) fn set_head(conn: &Connection, head: Head) -> Result<(), StoreError> {
    let Some((seq, hash)) = head else {
        return Ok(());
    };
    let seq = i64::try_from(seq).map_err(|_| error::corrupt("audit_head", "seq", 1))?;
    conn.prepare_cached(
        "INSERT INTO audit_head (id, seq, hash) VALUES (1, ?1, ?2)
         ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
    )
    .and_then(|mut stmt| stmt.execute((seq, hash.0.as_slice())))
    .map_err(|e| error::db("moving the audit head", e))?;
    Ok(())
}

/// Entries with `after < seq <= until`, in order, at most `limit`.
pub(crate) fn entries(
    conn: &Connection,
    after: u64,
    until: u64,
    limit: u32,
) -> Result<Vec<AuditEntry>, StoreError> {
    scan(conn, after, until, limit, entry)
}

/// Every disclosure of `subject`, oldest first (by the partial index on disclosures).
pub(crate) fn disclosures_of(
    conn: &Connection,
    subject: &[u8],
) -> Result<Vec<AuditEntry>, StoreError> {
    let doing = "reading a subject's disclosures";
    let mut stmt = conn
        .prepare_cached(
            "SELECT seq, at, actor, role, purpose, subject_id, categories, action,
                    policy_version, detail, prev_hash, hash
             FROM audit_log WHERE subject_id = ?1 AND action = 'disclosure' ORDER BY seq",
        )
        .map_err(|e| error::db(doing, e))?;
    let rows = stmt
        .query_map([subject], |row| Ok(entry(row)))
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

/// The entry of `action` with the highest seq at most `until`.
pub(crate) fn last_of(
    conn: &Connection,
    action: AuditAction,
    until: u64,
) -> Result<Option<AuditEntry>, StoreError> {
    let doing = "finding the last audit entry of an action";
    let until = i64::try_from(until).unwrap_or(i64::MAX);
    let row = conn
        .prepare_cached(
            "SELECT seq, at, actor, role, purpose, subject_id, categories, action,
                    policy_version, detail, prev_hash, hash
             FROM audit_log WHERE action = ?1 AND seq <= ?2 ORDER BY seq DESC LIMIT 1",
        )
        .and_then(|mut stmt| {
            stmt.query_row((action.as_str(), until), |row| Ok(entry(row)))
                .optional()
        })
        .map_err(|e| error::db(doing, e))?;
    row.transpose().map_err(|e| e.into_store(doing))
}

/// The links of the entries with `after < seq <= until`, in order, at most `limit`, each hashed
/// from the row's borrowed bytes as it is stepped.
pub(crate) fn links(
    conn: &Connection,
    after: u64,
    until: u64,
    limit: u32,
    key: &ChainKey,
) -> Result<Vec<ChainLink>, StoreError> {
    scan(conn, after, until, limit, |row| link(row, key))
}

/// The rows with `after < seq <= until`, in order, at most `limit`, each turned by `decode`
/// into what the caller wants while the row is current.
fn scan<T>(
    conn: &Connection,
    after: u64,
    until: u64,
    limit: u32,
    decode: impl Fn(&Row<'_>) -> Result<T, RowError>,
) -> Result<Vec<T>, StoreError> {
    let (Ok(after), until) = (
        i64::try_from(after),
        i64::try_from(until).unwrap_or(i64::MAX),
    ) else {
        return Ok(Vec::new());
    };
    let doing = "reading the audit log";
    let mut stmt = conn
        .prepare_cached(
            "SELECT seq, at, actor, role, purpose, subject_id, categories, action,
                    policy_version, detail, prev_hash, hash
             FROM audit_log WHERE seq > ?1 AND seq <= ?2 ORDER BY seq LIMIT ?3",
        )
        .map_err(|e| error::db(doing, e))?;
    let mut rows = stmt
        .query((after, until, i64::from(limit)))
        .map_err(|e| error::db(doing, e))?;
    let mut out = Vec::with_capacity(usize::try_from(limit).unwrap_or(0).min(10_000));
    while let Some(row) = rows.next().map_err(|e| error::db(doing, e))? {
        out.push(decode(row).map_err(|e| e.into_store(doing))?);
    }
    Ok(out)
}

fn link(row: &Row<'_>, key: &ChainKey) -> Result<ChainLink, RowError> {
    let seq: i64 = row.get(0)?;
    let bad = |column: &str| error::corrupt("audit_log", column, seq);
    let subject = match row.get_ref(5)?.as_blob_or_null()? {
        Some(bytes) => Some(<&[u8; 16]>::try_from(bytes).map_err(|_| bad("subject_id"))?),
        None => None,
    };
    let categories = row.get_ref(6)?.as_str()?;
    let prev_hash =
        ChainHash::from_slice(row.get_ref(10)?.as_blob()?).ok_or_else(|| bad("prev_hash"))?;
    let hash = ChainHash::from_slice(row.get_ref(11)?.as_blob()?).ok_or_else(|| bad("hash"))?;
    let at: i64 = row.get(1)?;
    let (actor, role, purpose) = (
        row.get_ref(2)?.as_str()?,
        row.get_ref(3)?.as_str_or_null()?,
        row.get_ref(4)?.as_str_or_null()?,
    );
    let (action, policy_version, detail) = (
        row.get_ref(7)?.as_str()?,
        row.get_ref(8)?.as_str()?,
        row.get_ref(9)?.as_str_or_null()?,
    );
    let seq = u64::try_from(seq).map_err(|_| bad("seq"))?;
    let fields = |categories| EntryFields {
        seq,
        at_nanos: i128::from(at),
        actor,
        role,
        purpose,
        subject,
        categories,
        action,
        policy_version,
        detail,
    };
    // Category names are plain words, so the list borrows from the row; one that holds an
    // escape is read into owned strings instead.
    Ok(match serde_json::from_str::<Vec<&str>>(categories) {
        Ok(names) => ChainLink::of_fields(&fields(names.as_slice()), prev_hash, hash, key),
        Err(_) => {
            let owned = names(categories, "audit_log", "categories", seq)?;
            let names: Vec<&str> = owned.iter().map(String::as_str).collect();
            ChainLink::of_fields(&fields(names.as_slice()), prev_hash, hash, key)
        }
    })
}

fn entry(row: &Row<'_>) -> Result<AuditEntry, RowError> {
    let seq: i64 = row.get(0)?;
    let bad = |column: &str| error::corrupt("audit_log", column, seq);
    let subject = match row.get_ref(5)?.as_blob_or_null()? {
        Some(bytes) => Some(uuid(bytes, "audit_log", "subject_id", seq)?),
        None => None,
    };
    let action = AuditAction::parse(row.get_ref(7)?.as_str()?).ok_or_else(|| bad("action"))?;
    Ok(AuditEntry {
        seq: u64::try_from(seq).map_err(|_| bad("seq"))?,
        draft: AuditDraft {
            at: instant(row.get(1)?, "audit_log", "at", seq)?,
            actor: row.get(2)?,
            role: row.get(3)?,
            purpose: row.get(4)?,
            subject,
            categories: names(row.get_ref(6)?.as_str()?, "audit_log", "categories", seq)?,
            action,
            policy_version: row.get(8)?,
            detail: row.get(9)?,
        },
        prev_hash: ChainHash::from_slice(row.get_ref(10)?.as_blob()?)
            .ok_or_else(|| bad("prev_hash"))?,
        hash: ChainHash::from_slice(row.get_ref(11)?.as_blob()?).ok_or_else(|| bad("hash"))?,
    })
}
