//! Reading the store: each function one statement (a subject's values, activities and
//! objections in one, so in one snapshot), on a connection of the pool.

use integritet_app::store::{
    ActivityRecord, ArchiveRecord, ErasureRecord, ObjectionRecord, PolicyVersionRecord,
    SessionRecord, StoreCounts, StoreError, SubjectRecord, TokenRecord, UserRecord, ValueRecord,
    WrappedKeyRow,
};
use integritet_domain::audit::{AuditEntry, ChainHash, ChainKey, ChainLink};
use integritet_domain::subject::{ArchiveRef, SubjectId, ValueId};
use sqlx::{PgPool, Row};
use time::Date;
use uuid::Uuid;

use crate::convert::{self, archive_ref_from_db, from_ns, kind_from_db, provenance_from_db};
use crate::error::{corrupt, from_sqlx};
use crate::{chain, requests, users};

/// A token row as selected.
pub(crate) struct TokenRow {
    id: String,
    hash: Vec<u8>,
    role: String,
    label: Option<String>,
    created_at_ns: i64,
    expires_at_ns: Option<i64>,
    revoked_at_ns: Option<i64>,
    mac: Vec<u8>,
}

/// A token row read back.
fn token_record(row: TokenRow) -> Result<TokenRecord, StoreError> {
    let hash = <[u8; 32]>::try_from(row.hash.as_slice()).map_err(|_| {
        corrupt(format!(
            "the hash of token {} is {} bytes long instead of 32",
            row.id,
            row.hash.len()
        ))
    })?;
    Ok(TokenRecord {
        created_at: from_ns(row.created_at_ns)?,
        expires_at: row.expires_at_ns.map(from_ns).transpose()?,
        revoked_at: row.revoked_at_ns.map(from_ns).transpose()?,
        mac: convert::mac(&row.mac),
        id: row.id,
        hash,
        role: row.role,
        label: row.label,
    })
}

pub(crate) async fn subject(
    pool: &PgPool,
    id: SubjectId,
) -> Result<Option<SubjectRecord>, StoreError> {
    // One statement, so one snapshot: activities, objections and values are read as of the
    // same moment, and an erasure either hides the whole subject or none of it. Each part
    // comes back as rows of its own, tagged by `part` and in its order, with no aggregation
    // (aggregating each column into an array cost PostgreSQL a sort per column).
    let rows = sqlx::query(
        r#"
            SELECT 0 AS part, kind AS name, NULL::text AS provenance, wrapped_key AS bytes,
                   created_at_ns AS at_ns, restricted, NULL::uuid AS value_id,
                   NULL::text[] AS purposes, NULL::text AS policy_version, NULL::text AS sort_name,
                   0::bigint AS seq
            FROM subjects WHERE id = $1
            UNION ALL
            SELECT 1, category, provenance, ciphertext, collected_at_ns, NULL, id, purposes,
                   policy_version, NULL, 0
            FROM subject_values WHERE subject_id = $1
            UNION ALL
            SELECT 2, kind, NULL, NULL, at_ns, NULL, NULL, NULL, NULL, NULL, id
            FROM activities WHERE subject_id = $1
            UNION ALL
            SELECT 3, purpose, NULL, NULL, at_ns, NULL, NULL, NULL, NULL, purpose, 0
            FROM objections WHERE subject_id = $1
            -- Values by id, activities by time, objections by purpose.
            ORDER BY part, value_id, sort_name, at_ns, seq
        "#,
    )
    .bind(id.0)
    .fetch_all(pool)
    .await
    .map_err(from_sqlx)?;
    subject_from_rows(id, &rows)
}

/// Up to `limit` whole subjects in id order after `after`, in one statement (one snapshot).
pub(crate) async fn subjects_after(
    pool: &PgPool,
    after: Option<SubjectId>,
    limit: u32,
) -> Result<Vec<SubjectRecord>, StoreError> {
    let rows = sqlx::query(
        r#"
            WITH page AS (SELECT id FROM subjects WHERE id > $1 ORDER BY id LIMIT $2)
            SELECT s.id AS sid, 0 AS part, kind AS name, NULL::text AS provenance,
                   wrapped_key AS bytes, created_at_ns AS at_ns, restricted,
                   NULL::uuid AS value_id, NULL::text[] AS purposes, NULL::text AS policy_version,
                   NULL::text AS sort_name, 0::bigint AS seq
            FROM subjects s JOIN page ON s.id = page.id
            UNION ALL
            SELECT v.subject_id, 1, category, provenance, ciphertext, collected_at_ns, NULL, v.id,
                   purposes, policy_version, NULL, 0
            FROM subject_values v JOIN page ON v.subject_id = page.id
            UNION ALL
            SELECT a.subject_id, 2, kind, NULL, NULL, at_ns, NULL, NULL, NULL, NULL, NULL, a.id
            FROM activities a JOIN page ON a.subject_id = page.id
            UNION ALL
            SELECT o.subject_id, 3, purpose, NULL, NULL, at_ns, NULL, NULL, NULL, NULL, purpose, 0
            FROM objections o JOIN page ON o.subject_id = page.id
            ORDER BY sid, part, value_id, sort_name, at_ns, seq
        "#,
    )
    .bind(after.map_or(Uuid::nil(), |id| id.0))
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .map_err(from_sqlx)?;
    let mut subjects = Vec::new();
    for group in
        rows.chunk_by(|a, b| a.try_get::<Uuid, _>("sid").ok() == b.try_get::<Uuid, _>("sid").ok())
    {
        let id: Uuid = group[0]
            .try_get("sid")
            .map_err(|e| corrupt(format!("a page of subjects does not decode: {e}")))?;
        subjects.extend(subject_from_rows(SubjectId(id), group)?);
    }
    Ok(subjects)
}

/// A subject from its rows, tagged by `part` and in order (see [`subject`]).
fn subject_from_rows(
    id: SubjectId,
    rows: &[sqlx::postgres::PgRow],
) -> Result<Option<SubjectRecord>, StoreError> {
    let column = |e: sqlx::Error| corrupt(format!("subject {}: a row does not decode: {e}", id.0));
    let mut head = None;
    let mut values = Vec::new();
    let mut activities = Vec::new();
    let mut objections = Vec::new();
    for row in rows {
        let part: i32 = row.try_get("part").map_err(column)?;
        let name: String = row.try_get("name").map_err(column)?;
        let at_ns: i64 = row.try_get("at_ns").map_err(column)?;
        match part {
            0 => {
                let wrapped_key: Vec<u8> = row.try_get("bytes").map_err(column)?;
                let restricted: bool = row.try_get("restricted").map_err(column)?;
                head = Some((name, at_ns, wrapped_key, restricted));
            }
            1 => {
                let provenance: String = row.try_get("provenance").map_err(column)?;
                values.push(ValueRecord {
                    id: ValueId(row.try_get("value_id").map_err(column)?),
                    category: name,
                    ciphertext: row.try_get("bytes").map_err(column)?,
                    provenance: provenance_from_db(&provenance)?,
                    collected_at: from_ns(at_ns)?,
                    purposes: row.try_get("purposes").map_err(column)?,
                    policy_version: row.try_get("policy_version").map_err(column)?,
                });
            }
            2 => activities.push(ActivityRecord {
                kind: name,
                at: from_ns(at_ns)?,
            }),
            3 => objections.push(ObjectionRecord {
                purpose: name,
                at: from_ns(at_ns)?,
            }),
            other => {
                return Err(corrupt(format!(
                    "subject {}: the read returned a part {other}",
                    id.0
                )));
            }
        }
    }
    let Some((kind, created_at_ns, wrapped_key, restricted)) = head else {
        return Ok(None);
    };
    Ok(Some(SubjectRecord {
        id,
        kind: kind_from_db(&kind)?,
        created_at: from_ns(created_at_ns)?,
        wrapped_key,
        restricted,
        objections,
        values,
        activities,
    }))
}

pub(crate) async fn lookup(
    pool: &PgPool,
    kind: &str,
    token: &[u8; 32],
) -> Result<Vec<SubjectId>, StoreError> {
    let ids = sqlx::query_scalar!(
        r#"
            SELECT DISTINCT subject_id FROM blind_index
            WHERE kind = $1 AND token = $2
            ORDER BY subject_id
            "#,
        kind,
        token.as_slice(),
    )
    .fetch_all(pool)
    .await
    .map_err(from_sqlx)?;
    Ok(ids.into_iter().map(SubjectId).collect())
}

pub(crate) async fn is_erased(pool: &PgPool, subject: SubjectId) -> Result<bool, StoreError> {
    let erased = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM erasures WHERE subject_id = $1) AS "erased!""#,
        subject.0
    )
    .fetch_one(pool)
    .await
    .map_err(from_sqlx)?;
    Ok(erased)
}

pub(crate) async fn restrictions_and_objections(
    pool: &PgPool,
) -> Result<integritet_app::store::SubjectsSay, StoreError> {
    let restricted: Vec<Uuid> =
        sqlx::query_scalar("SELECT id FROM subjects WHERE restricted ORDER BY id")
            .fetch_all(pool)
            .await
            .map_err(from_sqlx)?;
    let objections: Vec<(Uuid, String, i64)> = sqlx::query_as(
        "SELECT subject_id, purpose, at_ns FROM objections ORDER BY subject_id, purpose",
    )
    .fetch_all(pool)
    .await
    .map_err(from_sqlx)?;
    Ok(integritet_app::store::SubjectsSay {
        restricted: restricted.into_iter().map(SubjectId).collect(),
        objections: objections
            .into_iter()
            .map(|(subject, purpose, at)| {
                Ok((
                    SubjectId(subject),
                    ObjectionRecord {
                        purpose,
                        at: from_ns(at)?,
                    },
                ))
            })
            .collect::<Result<_, StoreError>>()?,
    })
}

pub(crate) async fn erasures(pool: &PgPool) -> Result<Vec<ErasureRecord>, StoreError> {
    sqlx::query!(
        r#"
            SELECT subject_id, at_ns, erased, archived, reason
            FROM erasures
            ORDER BY at_ns, id
            "#
    )
    .fetch_all(pool)
    .await
    .map_err(from_sqlx)?
    .into_iter()
    .map(|row| {
        Ok(ErasureRecord {
            subject: SubjectId(row.subject_id),
            at: from_ns(row.at_ns)?,
            erased: row.erased,
            archived: row.archived,
            reason: row.reason,
        })
    })
    .collect()
}

pub(crate) async fn archive_entry(
    pool: &PgPool,
    reference: &ArchiveRef,
) -> Result<Option<ArchiveRecord>, StoreError> {
    let row = sqlx::query!(
        r#"
            SELECT created_at_ns, shred_after, purposes, categories, wrapped_key, ciphertext,
                   policy_version
            FROM archive
            WHERE reference = $1
            "#,
        reference.as_str()
    )
    .fetch_optional(pool)
    .await
    .map_err(from_sqlx)?;
    row.map(|row| {
        Ok(ArchiveRecord {
            reference: reference.clone(),
            created_at: from_ns(row.created_at_ns)?,
            shred_after: row.shred_after,
            purposes: row.purposes,
            categories: row.categories,
            wrapped_key: row.wrapped_key,
            ciphertext: row.ciphertext,
            policy_version: row.policy_version,
        })
    })
    .transpose()
}

pub(crate) async fn archive_due(pool: &PgPool, today: Date) -> Result<Vec<ArchiveRef>, StoreError> {
    sqlx::query_scalar!(
        "SELECT reference FROM archive WHERE shred_after < $1 ORDER BY shred_after, reference",
        today
    )
    .fetch_all(pool)
    .await
    .map_err(from_sqlx)?
    .iter()
    .map(|reference| archive_ref_from_db(reference))
    .collect()
}

pub(crate) async fn wrapped_keys(
    pool: &PgPool,
    after: Option<SubjectId>,
    limit: u32,
) -> Result<Vec<WrappedKeyRow>, StoreError> {
    let limit = i64::from(limit);
    // Two statements rather than `$1 IS NULL OR id > $1`, so each keeps its index scan.
    let rows: Vec<(Uuid, Vec<u8>)> = match after {
        None => sqlx::query!(
            "SELECT id, wrapped_key FROM subjects ORDER BY id LIMIT $1",
            limit
        )
        .fetch_all(pool)
        .await
        .map_err(from_sqlx)?
        .into_iter()
        .map(|row| (row.id, row.wrapped_key))
        .collect(),
        Some(after) => sqlx::query!(
            "SELECT id, wrapped_key FROM subjects WHERE id > $1 ORDER BY id LIMIT $2",
            after.0,
            limit
        )
        .fetch_all(pool)
        .await
        .map_err(from_sqlx)?
        .into_iter()
        .map(|row| (row.id, row.wrapped_key))
        .collect(),
    };
    Ok(rows
        .into_iter()
        .map(|(id, wrapped_key)| WrappedKeyRow {
            subject: SubjectId(id),
            wrapped_key,
        })
        .collect())
}

pub(crate) async fn audit_entries(
    pool: &PgPool,
    after: u64,
    until: u64,
    limit: u32,
) -> Result<Vec<AuditEntry>, StoreError> {
    let mut conn = pool.acquire().await.map_err(from_sqlx)?;
    let mut entries = chain::entries(&mut conn, after, limit).await?;
    // Entries come in seq order: the ones past `until` are at the end.
    entries.retain(|e| e.seq <= until);
    Ok(entries)
}

pub(crate) async fn last_audit_entry(
    pool: &PgPool,
    action: integritet_domain::audit::AuditAction,
    until: u64,
) -> Result<Option<AuditEntry>, StoreError> {
    let mut conn = pool.acquire().await.map_err(from_sqlx)?;
    chain::last_of(&mut conn, action, until).await
}

pub(crate) async fn disclosures_of(
    pool: &PgPool,
    subject: SubjectId,
) -> Result<Vec<AuditEntry>, StoreError> {
    let mut conn = pool.acquire().await.map_err(from_sqlx)?;
    chain::disclosures_of(&mut conn, subject.0).await
}

pub(crate) async fn audit_links(
    pool: &PgPool,
    after: u64,
    until: u64,
    limit: u32,
    key: &ChainKey,
) -> Result<Vec<ChainLink>, StoreError> {
    let mut conn = pool.acquire().await.map_err(from_sqlx)?;
    chain::links(&mut conn, after, until, limit, key).await
}

pub(crate) async fn audit_head(pool: &PgPool) -> Result<Option<(u64, ChainHash)>, StoreError> {
    let mut conn = pool.acquire().await.map_err(from_sqlx)?;
    chain::head(&mut conn).await
}

pub(crate) async fn counts(pool: &PgPool) -> Result<StoreCounts, StoreError> {
    // The audit count is the head's seq: the chain has no gaps when it is whole (which
    // `audit verify` proves), and counting a long log row by row would be slow.
    let row = sqlx::query!(
        r#"
            SELECT (SELECT count(*) FROM subjects) AS "subjects!",
                   (SELECT count(*) FROM subject_values) AS "values!",
                   (SELECT count(*) FROM blind_index) AS "index_entries!",
                   (SELECT count(*) FROM archive) AS "archive_entries!",
                   (SELECT count(*) FROM erasures) AS "erasures!",
                   (SELECT seq FROM audit_head WHERE id) AS "audit_entries?"
            "#
    )
    .fetch_one(pool)
    .await
    .map_err(from_sqlx)?;
    let count = |n: i64, what: &str| {
        u64::try_from(n).map_err(|_| corrupt(format!("negative count of {what}")))
    };
    Ok(StoreCounts {
        subjects: count(row.subjects, "subjects")?,
        values: count(row.values, "values")?,
        index_entries: count(row.index_entries, "index entries")?,
        archive_entries: count(row.archive_entries, "archive entries")?,
        erasures: count(row.erasures, "erasures")?,
        audit_entries: count(row.audit_entries.unwrap_or(0), "audit entries")?,
    })
}

pub(crate) async fn token_by_hash(
    pool: &PgPool,
    hash: &[u8; 32],
) -> Result<Option<TokenRecord>, StoreError> {
    sqlx::query_as!(
        TokenRow,
        r#"
            SELECT id, hash, role, label, created_at_ns, expires_at_ns, revoked_at_ns, mac
            FROM api_tokens
            WHERE hash = $1
            "#,
        hash.as_slice(),
    )
    .fetch_optional(pool)
    .await
    .map_err(from_sqlx)?
    .map(token_record)
    .transpose()
}

pub(crate) async fn list_tokens(pool: &PgPool) -> Result<Vec<TokenRecord>, StoreError> {
    sqlx::query_as!(
        TokenRow,
        r#"
            SELECT id, hash, role, label, created_at_ns, expires_at_ns, revoked_at_ns, mac
            FROM api_tokens
            ORDER BY created_at_ns, id
            "#
    )
    .fetch_all(pool)
    .await
    .map_err(from_sqlx)?
    .into_iter()
    .map(token_record)
    .collect()
}

pub(crate) async fn ping(pool: &PgPool) -> Result<(), StoreError> {
    sqlx::query_scalar!(r#"SELECT 1 AS "one!""#)
        .fetch_one(pool)
        .await
        .map_err(from_sqlx)?;
    Ok(())
}

pub(crate) async fn policy_versions(pool: &PgPool) -> Result<Vec<PolicyVersionRecord>, StoreError> {
    let mut conn = pool.acquire().await.map_err(from_sqlx)?;
    requests::policy_versions(&mut conn).await
}

pub(crate) async fn user(pool: &PgPool, name: &str) -> Result<Option<UserRecord>, StoreError> {
    let mut conn = pool.acquire().await.map_err(from_sqlx)?;
    users::user(&mut conn, name).await
}

pub(crate) async fn list_users(pool: &PgPool) -> Result<Vec<UserRecord>, StoreError> {
    let mut conn = pool.acquire().await.map_err(from_sqlx)?;
    users::list_users(&mut conn).await
}

pub(crate) async fn session(
    pool: &PgPool,
    hash: &[u8; 32],
) -> Result<Option<(SessionRecord, UserRecord)>, StoreError> {
    let mut conn = pool.acquire().await.map_err(from_sqlx)?;
    users::session(&mut conn, hash).await
}
