//! Reading the store: each function one statement (a subject's values, activities and
//! objections in one, so in one snapshot), on a connection of the pool.

use integritet_app::store::{
    ActivityRecord, ArchiveRecord, ErasureRecord, ObjectionRecord, PolicyVersionRecord,
    SessionRecord, StoreCounts, StoreError, SubjectRecord, TokenRecord, UserRecord, ValueRecord,
    WrappedKeyRow,
};
use integritet_domain::audit::{AuditEntry, ChainHash};
use integritet_domain::subject::{ArchiveRef, SubjectId, ValueId};
use sqlx::PgPool;
use time::Date;
use uuid::Uuid;

use crate::convert::{archive_ref_from_db, from_ns, kind_from_db, provenance_from_db};
use crate::error::{corrupt, from_sqlx};
use crate::{chain, requests, users};

/// A token row read back.
fn token_record(
    id: String,
    hash: &[u8],
    role: String,
    label: Option<String>,
    created_at_ns: i64,
    expires_at_ns: Option<i64>,
    revoked_at_ns: Option<i64>,
) -> Result<TokenRecord, StoreError> {
    let hash = <[u8; 32]>::try_from(hash).map_err(|_| {
        corrupt(format!(
            "the hash of token {id} is {} bytes long instead of 32",
            hash.len()
        ))
    })?;
    Ok(TokenRecord {
        created_at: from_ns(created_at_ns)?,
        expires_at: expires_at_ns.map(from_ns).transpose()?,
        revoked_at: revoked_at_ns.map(from_ns).transpose()?,
        id,
        hash,
        role,
        label,
    })
}

pub(crate) async fn subject(
    pool: &PgPool,
    id: SubjectId,
) -> Result<Option<SubjectRecord>, StoreError> {
    // One statement, so one snapshot: activities, objections and values are read as of the
    // same moment, and an erasure either hides the whole subject or none of it. The
    // children come back as parallel arrays (one aggregate per column, each in the same
    // order), which keeps nanosecond times exact as bigints. A value's purposes (itself an
    // array) are flattened into one array plus a count per value.
    let row = sqlx::query!(
        r#"
            SELECT s.kind, s.created_at_ns, s.wrapped_key, s.restricted,
                   a.kinds AS "activity_kinds!", a.ats AS "activity_ats!",
                   o.purposes AS "objection_purposes!", o.ats AS "objection_ats!",
                   v.ids AS "value_ids!", v.categories AS "categories!",
                   v.ciphertexts AS "ciphertexts!", v.provenances AS "provenances!",
                   v.collected_ats AS "collected_ats!", v.purpose_counts AS "purpose_counts!",
                   v.policy_versions AS "policy_versions!",
                   ARRAY(
                       SELECT p.purpose
                       FROM subject_values pv,
                            unnest(pv.purposes) WITH ORDINALITY AS p (purpose, n)
                       WHERE pv.subject_id = s.id
                       ORDER BY pv.id, p.n
                   ) AS "value_purposes!"
            FROM subjects s
            CROSS JOIN LATERAL (
                SELECT COALESCE(array_agg(kind ORDER BY at_ns, id), '{}') AS kinds,
                       COALESCE(array_agg(at_ns ORDER BY at_ns, id), '{}') AS ats
                FROM activities WHERE subject_id = s.id
            ) a
            CROSS JOIN LATERAL (
                SELECT COALESCE(array_agg(purpose ORDER BY purpose), '{}') AS purposes,
                       COALESCE(array_agg(at_ns ORDER BY purpose), '{}') AS ats
                FROM objections WHERE subject_id = s.id
            ) o
            CROSS JOIN LATERAL (
                SELECT COALESCE(array_agg(id ORDER BY id), '{}') AS ids,
                       COALESCE(array_agg(category ORDER BY id), '{}') AS categories,
                       COALESCE(array_agg(ciphertext ORDER BY id), '{}') AS ciphertexts,
                       COALESCE(array_agg(provenance ORDER BY id), '{}') AS provenances,
                       COALESCE(array_agg(collected_at_ns ORDER BY id), '{}') AS collected_ats,
                       COALESCE(array_agg(cardinality(purposes) ORDER BY id), '{}')
                           AS purpose_counts,
                       COALESCE(array_agg(policy_version ORDER BY id), '{}') AS policy_versions
                FROM subject_values WHERE subject_id = s.id
            ) v
            WHERE s.id = $1
            "#,
        id.0
    )
    .fetch_optional(pool)
    .await
    .map_err(from_sqlx)?;
    let Some(row) = row else {
        return Ok(None);
    };
    let mismatched = || {
        corrupt(format!(
            "subject {}: its aggregated rows do not line up",
            id.0
        ))
    };
    if row.activity_kinds.len() != row.activity_ats.len() {
        return Err(mismatched());
    }
    let activities = row
        .activity_kinds
        .into_iter()
        .zip(row.activity_ats)
        .map(|(kind, at)| {
            Ok(ActivityRecord {
                kind,
                at: from_ns(at)?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    if row.objection_purposes.len() != row.objection_ats.len() {
        return Err(mismatched());
    }
    let objections = row
        .objection_purposes
        .into_iter()
        .zip(row.objection_ats)
        .map(|(purpose, at)| {
            Ok(ObjectionRecord {
                purpose,
                at: from_ns(at)?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let count = row.value_ids.len();
    if [
        row.categories.len(),
        row.ciphertexts.len(),
        row.provenances.len(),
        row.collected_ats.len(),
        row.purpose_counts.len(),
        row.policy_versions.len(),
    ]
    .iter()
    .any(|&len| len != count)
    {
        return Err(mismatched());
    }
    let mut purposes = row.value_purposes.into_iter();
    let mut values = Vec::with_capacity(count);
    for ((((((value_id, category), ciphertext), provenance), collected_at), n), version) in row
        .value_ids
        .into_iter()
        .zip(row.categories)
        .zip(row.ciphertexts)
        .zip(row.provenances)
        .zip(row.collected_ats)
        .zip(row.purpose_counts)
        .zip(row.policy_versions)
    {
        let n = usize::try_from(n).map_err(|_| mismatched())?;
        let these: Vec<String> = purposes.by_ref().take(n).collect();
        if these.len() != n {
            return Err(mismatched());
        }
        values.push(ValueRecord {
            id: ValueId(value_id),
            category,
            ciphertext,
            provenance: provenance_from_db(&provenance)?,
            collected_at: from_ns(collected_at)?,
            purposes: these,
            policy_version: version,
        });
    }
    if purposes.next().is_some() {
        return Err(mismatched());
    }
    Ok(Some(SubjectRecord {
        id,
        kind: kind_from_db(&row.kind)?,
        created_at: from_ns(row.created_at_ns)?,
        wrapped_key: row.wrapped_key,
        restricted: row.restricted,
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
    sqlx::query!(
        r#"
            SELECT id, hash, role, label, created_at_ns, expires_at_ns, revoked_at_ns
            FROM api_tokens
            WHERE hash = $1
            "#,
        hash.as_slice(),
    )
    .fetch_optional(pool)
    .await
    .map_err(from_sqlx)?
    .map(|row| {
        token_record(
            row.id,
            &row.hash,
            row.role,
            row.label,
            row.created_at_ns,
            row.expires_at_ns,
            row.revoked_at_ns,
        )
    })
    .transpose()
}

pub(crate) async fn list_tokens(pool: &PgPool) -> Result<Vec<TokenRecord>, StoreError> {
    sqlx::query!(
        r#"
            SELECT id, hash, role, label, created_at_ns, expires_at_ns, revoked_at_ns
            FROM api_tokens
            ORDER BY created_at_ns, id
            "#
    )
    .fetch_all(pool)
    .await
    .map_err(from_sqlx)?
    .into_iter()
    .map(|row| {
        token_record(
            row.id,
            &row.hash,
            row.role,
            row.label,
            row.created_at_ns,
            row.expires_at_ns,
            row.revoked_at_ns,
        )
    })
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
