//! Restriction (Art. 18), objections (Art. 21) and the policy's history.

use integritet_app::store::{ObjectionRecord, PolicyVersionRecord, StoreError};
use integritet_domain::audit::AuditDraft;
use integritet_domain::subject::SubjectId;

use crate::conn::Connections;
use crate::convert::{instant, nanos};
use crate::error;
use crate::write::{AuditRows, Inserts, begin, finish, rollback};

pub(crate) async fn set_restricted(
    conns: &std::sync::Arc<Connections>,
    subject: SubjectId,
    restricted: bool,
    audit: Vec<AuditDraft>,
) -> Result<bool, StoreError> {
    let audit = AuditRows::new(audit)?;
    let doing = "restricting processing";
    let key = subject.as_bytes().as_slice();
    let mut writer = conns.writer().await;
    let mut tx = begin(&mut writer, doing).await?;
    let changed = sqlx::query!(
        r#"UPDATE subjects SET restricted = ?2 WHERE id = ?1"#,
        key,
        restricted
    )
    .execute(&mut *tx)
    .await
    .map_err(|e| error::db(doing, e))?
    .rows_affected();
    if changed == 0 {
        rollback(tx, doing).await?;
        return Ok(false);
    }
    finish(tx, Inserts::new(), &[&audit], doing).await?;
    Ok(true)
}

pub(crate) async fn add_objection(
    conns: &std::sync::Arc<Connections>,
    subject: SubjectId,
    objection: ObjectionRecord,
    audit: Vec<AuditDraft>,
) -> Result<bool, StoreError> {
    let audit = AuditRows::new(audit)?;
    let at = nanos(objection.at)?;
    let doing = "recording an objection";
    let key = subject.as_bytes().as_slice();
    let mut writer = conns.writer().await;
    let mut tx = begin(&mut writer, doing).await?;
    let exists = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM subjects WHERE id = ?1) AS "found!: bool""#,
        key
    )
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| error::db(doing, e))?;
    if !exists {
        rollback(tx, doing).await?;
        return Ok(false);
    }
    sqlx::query!(
        r#"INSERT INTO objections (subject_id, purpose, at) VALUES (?1, ?2, ?3)
           ON CONFLICT (subject_id, purpose) DO NOTHING"#,
        key,
        objection.purpose,
        at
    )
    .execute(&mut *tx)
    .await
    .map_err(|e| error::db(doing, e))?;
    finish(tx, Inserts::new(), &[&audit], doing).await?;
    Ok(true)
}

pub(crate) async fn withdraw_objection(
    conns: &std::sync::Arc<Connections>,
    subject: SubjectId,
    purpose: &str,
    audit: Vec<AuditDraft>,
) -> Result<bool, StoreError> {
    let audit = AuditRows::new(audit)?;
    let doing = "withdrawing an objection";
    let key = subject.as_bytes().as_slice();
    let mut writer = conns.writer().await;
    let mut tx = begin(&mut writer, doing).await?;
    let changed = sqlx::query!(
        r#"DELETE FROM objections WHERE subject_id = ?1 AND purpose = ?2"#,
        key,
        purpose
    )
    .execute(&mut *tx)
    .await
    .map_err(|e| error::db(doing, e))?
    .rows_affected();
    if changed == 0 {
        rollback(tx, doing).await?;
        return Ok(false);
    }
    finish(tx, Inserts::new(), &[&audit], doing).await?;
    Ok(true)
}

pub(crate) async fn record_policy_version(
    conns: &std::sync::Arc<Connections>,
    record: PolicyVersionRecord,
    audit: Vec<AuditDraft>,
) -> Result<bool, StoreError> {
    let audit = AuditRows::new(audit)?;
    let at = nanos(record.activated_at)?;
    let doing = "recording the policy version";
    let mut writer = conns.writer().await;
    let mut tx = begin(&mut writer, doing).await?;
    let inserted = sqlx::query!(
        r#"INSERT INTO policy_versions (version, activated_at, source) VALUES (?1, ?2, ?3)
           ON CONFLICT (version) DO NOTHING"#,
        record.version,
        at,
        record.source
    )
    .execute(&mut *tx)
    .await
    .map_err(|e| error::db(doing, e))?
    .rows_affected();
    if inserted == 0 {
        rollback(tx, doing).await?;
        return Ok(false);
    }
    finish(tx, Inserts::new(), &[&audit], doing).await?;
    Ok(true)
}

pub(crate) async fn policy_versions(
    conns: &std::sync::Arc<Connections>,
) -> Result<Vec<PolicyVersionRecord>, StoreError> {
    let rows = sqlx::query!(
        r#"SELECT version, activated_at, source FROM policy_versions
           ORDER BY activated_at, version"#
    )
    .fetch_all(&mut *conns.reader().await?)
    .await
    .map_err(|e| error::db("reading the policy history", e))?;
    rows.into_iter()
        .map(|row| {
            Ok(PolicyVersionRecord {
                activated_at: instant(
                    row.activated_at,
                    "policy_versions",
                    "activated_at",
                    &row.version,
                )?,
                version: row.version,
                source: row.source,
            })
        })
        .collect()
}
