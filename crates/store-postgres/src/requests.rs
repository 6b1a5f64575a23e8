//! Restriction (Art. 18), objections (Art. 21) and the policy's history.

use integritet_app::store::{ObjectionRecord, PolicyVersionRecord, StoreError, SuppressionEntry};
use integritet_domain::subject::SubjectId;
use sqlx::PgConnection;

use crate::convert::{from_ns, to_ns};
use crate::error::from_sqlx;

pub(crate) async fn set_restricted(
    tx: &mut PgConnection,
    subject: SubjectId,
    restricted: bool,
) -> Result<bool, StoreError> {
    let changed = sqlx::query!(
        "UPDATE subjects SET restricted = $2 WHERE id = $1",
        subject.0,
        restricted
    )
    .execute(&mut *tx)
    .await
    .map_err(from_sqlx)?
    .rows_affected();
    if changed == 0 {
        // Nothing changed: the writer rolls this job back, and nothing is audited.
        return Ok(false);
    }
    Ok(true)
}

pub(crate) async fn add_objection(
    tx: &mut PgConnection,
    subject: SubjectId,
    objection: ObjectionRecord,
    suppress: &[SuppressionEntry],
) -> Result<bool, StoreError> {
    let at = to_ns(objection.at)?;
    // Locks the subject row, so an erasure cannot slip in between check and insert.
    let found = sqlx::query_scalar!(
        r#"SELECT 1 AS "one!" FROM subjects WHERE id = $1 FOR SHARE"#,
        subject.0
    )
    .fetch_optional(&mut *tx)
    .await
    .map_err(from_sqlx)?;
    if found.is_none() {
        return Ok(false);
    }
    for entry in suppress {
        sqlx::query(
            "INSERT INTO suppression (kind, hash, at_ns) VALUES ($1, $2, $3)
             ON CONFLICT (kind, hash) DO NOTHING",
        )
        .bind(&entry.kind)
        .bind(entry.hash.as_slice())
        .bind(to_ns(entry.at)?)
        .execute(&mut *tx)
        .await
        .map_err(from_sqlx)?;
    }
    sqlx::query!(
        "INSERT INTO objections (subject_id, purpose, at_ns) VALUES ($1, $2, $3)
         ON CONFLICT (subject_id, purpose) DO NOTHING",
        subject.0,
        objection.purpose,
        at
    )
    .execute(&mut *tx)
    .await
    .map_err(from_sqlx)?;
    Ok(true)
}

pub(crate) async fn withdraw_objection(
    tx: &mut PgConnection,
    subject: SubjectId,
    purpose: &str,
) -> Result<bool, StoreError> {
    let changed = sqlx::query!(
        "DELETE FROM objections WHERE subject_id = $1 AND purpose = $2",
        subject.0,
        purpose
    )
    .execute(&mut *tx)
    .await
    .map_err(from_sqlx)?
    .rows_affected();
    if changed == 0 {
        return Ok(false);
    }
    Ok(true)
}

pub(crate) async fn record_policy_version(
    tx: &mut PgConnection,
    record: PolicyVersionRecord,
) -> Result<bool, StoreError> {
    let at = to_ns(record.activated_at)?;
    let inserted = sqlx::query!(
        "INSERT INTO policy_versions (version, activated_at_ns, source) VALUES ($1, $2, $3)
         ON CONFLICT (version) DO NOTHING",
        record.version,
        at,
        record.source
    )
    .execute(&mut *tx)
    .await
    .map_err(from_sqlx)?
    .rows_affected();
    if inserted == 0 {
        return Ok(false);
    }
    Ok(true)
}

pub(crate) async fn policy_versions(
    tx: &mut PgConnection,
) -> Result<Vec<PolicyVersionRecord>, StoreError> {
    sqlx::query!(
        "SELECT version, activated_at_ns, source FROM policy_versions
         ORDER BY activated_at_ns, version"
    )
    .fetch_all(&mut *tx)
    .await
    .map_err(from_sqlx)?
    .into_iter()
    .map(|row| {
        Ok(PolicyVersionRecord {
            version: row.version,
            activated_at: from_ns(row.activated_at_ns)?,
            source: row.source,
        })
    })
    .collect()
}
