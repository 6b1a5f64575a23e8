//! Appending to the hash-chained audit log and reading it back.
//!
//! One row, `audit_head`, holds the last entry's seq and hash. A writer locks it with
//! `SELECT ... FOR UPDATE` as the *last* step of its transaction, chains its drafts after it,
//! inserts them and moves the head, then commits. The row lock orders writers from every
//! server on the database into one chain; taking it last keeps the time it is held short (the
//! data work is already done) and cannot deadlock, since a holder waits on nothing else.

use integritet_app::store::StoreError;
use integritet_domain::audit::{
    AuditAction, AuditDraft, AuditEntry, ChainHash, ChainKey, ChainLink, EntryFields,
};
use sqlx::PgConnection;
use sqlx::Row;
use uuid::Uuid;

use crate::convert::{Flattened, from_ns, hash_from_db, seq_from_db, seq_to_db, to_ns};
use crate::error::{corrupt, from_sqlx};

fn head_missing() -> StoreError {
    corrupt("the audit head row is missing (table audit_head)")
}

/// Chains `drafts` after the current head and writes them, inside the caller's transaction.
pub(crate) async fn append(
    conn: &mut PgConnection,
    drafts: Vec<AuditDraft>,
    key: &ChainKey,
) -> Result<(), StoreError> {
    if drafts.is_empty() {
        return Ok(());
    }
    let mut prev = lock_head(conn).await?;
    let entries: Vec<AuditEntry> = drafts
        .into_iter()
        .map(|draft| {
            let entry = draft.chain(prev, key);
            prev = Some((entry.seq, entry.hash));
            entry
        })
        .collect();
    insert(conn, entries).await
}

/// Inserts another copy's `entries` as they are, when they continue the head exactly, inside
/// the caller's transaction. Every entry's hash is checked against its content and its link,
/// so nothing that does not verify can be carried in.
pub(crate) async fn carry(
    conn: &mut PgConnection,
    entries: &[AuditEntry],
    key: &ChainKey,
) -> Result<u64, StoreError> {
    let head = lock_head(conn).await?;
    let (mut seq, mut hash) = head.unwrap_or((0, ChainHash::GENESIS));
    for entry in entries {
        if entry.seq != seq + 1 || entry.prev_hash != hash || entry.link(key).content != entry.hash
        {
            return Err(StoreError::Conflict(format!(
                "audit entry {} does not continue this log at entry {seq}; nothing was carried",
                entry.seq
            )));
        }
        (seq, hash) = (entry.seq, entry.hash);
    }
    insert(conn, entries.to_vec()).await?;
    Ok(entries.len() as u64)
}

/// The head, locked until the transaction ends.
async fn lock_head(conn: &mut PgConnection) -> Result<Option<(u64, ChainHash)>, StoreError> {
    let head = sqlx::query!("SELECT seq, hash FROM audit_head WHERE id FOR UPDATE")
        .fetch_optional(&mut *conn)
        .await
        .map_err(from_sqlx)?
        .ok_or_else(head_missing)?;
    Ok(match head.seq {
        0 => None,
        seq => Some((
            seq_from_db(seq)?,
            hash_from_db(&head.hash, "the audit head's hash")?,
        )),
    })
}

/// Writes chained `entries` and moves the head to the last, under the caller's head lock.
async fn insert(conn: &mut PgConnection, entries: Vec<AuditEntry>) -> Result<(), StoreError> {
    let Some(last) = entries.last() else {
        return Ok(());
    };
    let (head_seq, head_hash) = (last.seq, last.hash);
    let n = entries.len();
    let mut seq = Vec::with_capacity(n);
    let mut at = Vec::with_capacity(n);
    let mut actor = Vec::with_capacity(n);
    let mut role = Vec::with_capacity(n);
    let mut purpose = Vec::with_capacity(n);
    let mut subject = Vec::with_capacity(n);
    let mut categories = Flattened::default();
    let mut action = Vec::with_capacity(n);
    let mut policy_version = Vec::with_capacity(n);
    let mut detail = Vec::with_capacity(n);
    let mut prev_hash = Vec::with_capacity(n);
    let mut hash = Vec::with_capacity(n);
    for entry in entries {
        seq.push(seq_to_db(entry.seq)?);
        at.push(to_ns(entry.draft.at)?);
        actor.push(entry.draft.actor);
        role.push(entry.draft.role);
        purpose.push(entry.draft.purpose);
        subject.push(entry.draft.subject);
        categories.push(entry.draft.categories)?;
        action.push(entry.draft.action.as_str().to_owned());
        policy_version.push(entry.draft.policy_version);
        detail.push(entry.draft.detail);
        prev_hash.push(entry.prev_hash.0.to_vec());
        hash.push(entry.hash.0.to_vec());
    }
    // One statement for the entries and the head: the lock is held for two round trips.
    sqlx::query!(
        r#"
        WITH appended AS (
            INSERT INTO audit_log (seq, at_ns, actor, role, purpose, subject_id, categories,
                                   action, policy_version, detail, prev_hash, hash)
            SELECT e.seq, e.at_ns, e.actor, e.role, e.purpose, e.subject_id,
                   ($7::text[])[e.cat_from:e.cat_to], e.action, e.policy_version, e.detail,
                   e.prev_hash, e.hash
            FROM UNNEST($1::int8[], $2::int8[], $3::text[], $4::text[], $5::text[], $6::uuid[],
                        $8::int4[], $9::int4[], $10::text[], $11::text[], $12::text[],
                        $13::bytea[], $14::bytea[])
                 AS e(seq, at_ns, actor, role, purpose, subject_id, cat_from, cat_to, action,
                      policy_version, detail, prev_hash, hash)
        )
        UPDATE audit_head SET seq = $15, hash = $16 WHERE id
        "#,
        &seq,
        &at,
        &actor,
        &role as &[Option<String>],
        &purpose as &[Option<String>],
        &subject as &[Option<Uuid>],
        &categories.items,
        &categories.from,
        &categories.to,
        &action,
        &policy_version,
        &detail as &[Option<String>],
        &prev_hash,
        &hash,
        seq_to_db(head_seq)?,
        head_hash.0.as_slice(),
    )
    .execute(&mut *conn)
    .await
    .map_err(from_sqlx)?;
    Ok(())
}

/// Every disclosure of `subject`, oldest first (by the partial index on disclosures).
pub(crate) async fn disclosures_of(
    conn: &mut PgConnection,
    subject: Uuid,
) -> Result<Vec<AuditEntry>, StoreError> {
    sqlx::query_as::<_, EntryRow>(
        "SELECT seq, at_ns, actor, role, purpose, subject_id, categories, action,
                policy_version, detail, prev_hash, hash
         FROM audit_log WHERE subject_id = $1 AND action = 'disclosure' ORDER BY seq",
    )
    .bind(subject)
    .fetch_all(&mut *conn)
    .await
    .map_err(from_sqlx)?
    .into_iter()
    .map(entry)
    .collect()
}

/// An audit row as selected.
#[derive(sqlx::FromRow)]
struct EntryRow {
    seq: i64,
    at_ns: i64,
    actor: String,
    role: Option<String>,
    purpose: Option<String>,
    subject_id: Option<Uuid>,
    categories: Vec<String>,
    action: String,
    policy_version: String,
    detail: Option<String>,
    prev_hash: Vec<u8>,
    hash: Vec<u8>,
}

fn entry(row: EntryRow) -> Result<AuditEntry, StoreError> {
    let seq = seq_from_db(row.seq)?;
    let action = AuditAction::parse(&row.action).ok_or_else(|| {
        corrupt(format!(
            "audit entry {seq} has an unknown action {:?}",
            row.action
        ))
    })?;
    Ok(AuditEntry {
        seq,
        draft: AuditDraft {
            at: from_ns(row.at_ns)?,
            actor: row.actor,
            role: row.role,
            purpose: row.purpose,
            subject: row.subject_id,
            categories: row.categories,
            action,
            policy_version: row.policy_version,
            detail: row.detail,
        },
        prev_hash: hash_from_db(&row.prev_hash, "an audit entry's prev_hash")?,
        hash: hash_from_db(&row.hash, "an audit entry's hash")?,
    })
}

/// Entries after `after`, in order.
pub(crate) async fn entries(
    conn: &mut PgConnection,
    after: u64,
    limit: u32,
) -> Result<Vec<AuditEntry>, StoreError> {
    let Ok(after) = i64::try_from(after) else {
        return Ok(Vec::new());
    };
    let rows = sqlx::query_as!(
        EntryRow,
        r#"
        SELECT seq, at_ns, actor, role, purpose, subject_id, categories, action,
               policy_version, detail, prev_hash, hash
        FROM audit_log
        WHERE seq > $1
        ORDER BY seq
        LIMIT $2
        "#,
        after,
        i64::from(limit),
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(from_sqlx)?;
    rows.into_iter().map(entry).collect()
}

/// The entry of `action` with the highest seq at most `until`.
pub(crate) async fn last_of(
    conn: &mut PgConnection,
    action: AuditAction,
    until: u64,
) -> Result<Option<AuditEntry>, StoreError> {
    let until = i64::try_from(until).unwrap_or(i64::MAX);
    sqlx::query_as!(
        EntryRow,
        r#"
        SELECT seq, at_ns, actor, role, purpose, subject_id, categories, action,
               policy_version, detail, prev_hash, hash
        FROM audit_log
        WHERE action = $1 AND seq <= $2
        ORDER BY seq DESC
        LIMIT 1
        "#,
        action.as_str(),
        until,
    )
    .fetch_optional(&mut *conn)
    .await
    .map_err(from_sqlx)?
    .map(entry)
    .transpose()
}

/// The links of the entries with `after < seq <= until`, in order, at most `limit`, each hashed
/// from the fields as the rows hold them.
pub(crate) async fn links(
    conn: &mut PgConnection,
    after: u64,
    until: u64,
    limit: u32,
    key: &ChainKey,
) -> Result<Vec<ChainLink>, StoreError> {
    let (Ok(after), until) = (
        i64::try_from(after),
        i64::try_from(until).unwrap_or(i64::MAX),
    ) else {
        return Ok(Vec::new());
    };
    let rows = sqlx::query(
        r#"
        SELECT seq, at_ns, actor, role, purpose, subject_id, categories, action,
               policy_version, detail, prev_hash, hash
        FROM audit_log
        WHERE seq > $1 AND seq <= $2
        ORDER BY seq
        LIMIT $3
        "#,
    )
    .bind(after)
    .bind(until)
    .bind(i64::from(limit))
    .fetch_all(&mut *conn)
    .await
    .map_err(from_sqlx)?;
    rows.iter()
        .map(|row| {
            let column = |e: sqlx::Error| corrupt(format!("an audit entry does not decode: {e}"));
            let seq = seq_from_db(row.try_get("seq").map_err(column)?)?;
            let at_ns: i64 = row.try_get("at_ns").map_err(column)?;
            let subject: Option<Uuid> = row.try_get("subject_id").map_err(column)?;
            let categories: Vec<String> = row.try_get("categories").map_err(column)?;
            let fields = EntryFields {
                seq,
                at_nanos: i128::from(at_ns),
                actor: row.try_get("actor").map_err(column)?,
                role: row.try_get("role").map_err(column)?,
                purpose: row.try_get("purpose").map_err(column)?,
                subject: subject.as_ref().map(Uuid::as_bytes),
                categories: &categories,
                action: row.try_get("action").map_err(column)?,
                policy_version: row.try_get("policy_version").map_err(column)?,
                detail: row.try_get("detail").map_err(column)?,
            };
            let prev_hash = hash_from_db(
                row.try_get("prev_hash").map_err(column)?,
                "an audit entry's prev_hash",
            )?;
            let hash = hash_from_db(
                row.try_get("hash").map_err(column)?,
                "an audit entry's hash",
            )?;
            Ok(ChainLink::of_fields(&fields, prev_hash, hash, key))
        })
        .collect()
}

/// The recorded head. An empty log has none; a head of 0 beside a non-empty log (someone reset
/// it) is reported as seq 0 so that verification fails instead of skipping the check.
pub(crate) async fn head(conn: &mut PgConnection) -> Result<Option<(u64, ChainHash)>, StoreError> {
    let row = sqlx::query!(
        r#"
        SELECT seq, hash, EXISTS (SELECT 1 FROM audit_log) AS "logged!"
        FROM audit_head
        WHERE id
        "#
    )
    .fetch_optional(&mut *conn)
    .await
    .map_err(from_sqlx)?
    .ok_or_else(head_missing)?;
    match (row.seq, row.logged) {
        (0, false) => Ok(None),
        (0, true) => Ok(Some((0, ChainHash::GENESIS))),
        (seq, _) => Ok(Some((
            seq_from_db(seq)?,
            hash_from_db(&row.hash, "the audit head's hash")?,
        ))),
    }
}
