//! Console users and their sessions (`migrations/0004_users.sql`). Writes go through the one
//! writer connection like every other change, with their audit entries in the same
//! transaction; the failed-login count changes in one UPDATE, so concurrent failures are all
//! counted.

use std::sync::Arc;

use integritet_app::store::{LockoutRule, LoginFailure, SessionRecord, StoreError, UserRecord};
use integritet_domain::audit::AuditDraft;
use time::OffsetDateTime;

use crate::conn::Connections;
use crate::convert::{instant, nanos};
use crate::error;
use crate::write::{AuditRows, Inserts, begin, finish, rollback};

/// A user row read back.
fn user_record(
    name: String,
    role: String,
    password_hash: String,
    created_at: i64,
    disabled_at: Option<i64>,
    failed_logins: i64,
    locked_until: Option<i64>,
) -> Result<UserRecord, StoreError> {
    let table = "console_users";
    Ok(UserRecord {
        created_at: instant(created_at, table, "created_at", &name)?,
        disabled_at: disabled_at
            .map(|ns| instant(ns, table, "disabled_at", &name))
            .transpose()?,
        failed_logins: u32::try_from(failed_logins)
            .map_err(|_| error::corrupt(table, "failed_logins", &name))?,
        locked_until: locked_until
            .map(|ns| instant(ns, table, "locked_until", &name))
            .transpose()?,
        name,
        role,
        password_hash,
    })
}

pub(crate) async fn insert_user(
    conns: &Arc<Connections>,
    user: UserRecord,
    audit: Vec<AuditDraft>,
) -> Result<(), StoreError> {
    let created_at = nanos(user.created_at)?;
    let disabled_at = user.disabled_at.map(nanos).transpose()?;
    let locked_until = user.locked_until.map(nanos).transpose()?;
    let failed_logins = i64::from(user.failed_logins);
    let audit = AuditRows::new(audit)?;
    let doing = "storing a console user";
    let mut writer = conns.writer().await;
    let mut tx = begin(&mut writer, doing).await?;
    sqlx::query!(
        r#"INSERT INTO console_users
               (name, role, password_hash, created_at, disabled_at, failed_logins, locked_until)
           VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"#,
        user.name,
        user.role,
        user.password_hash,
        created_at,
        disabled_at,
        failed_logins,
        locked_until
    )
    .execute(&mut *tx)
    .await
    .map_err(|e| error::db(doing, e))?;
    finish(tx, Inserts::new(), &[&audit], doing).await
}

pub(crate) async fn user(
    conns: &Arc<Connections>,
    name: &str,
) -> Result<Option<UserRecord>, StoreError> {
    let row = sqlx::query!(
        r#"SELECT name, role, password_hash, created_at, disabled_at, failed_logins,
                  locked_until
           FROM console_users WHERE name = ?1"#,
        name
    )
    .fetch_optional(&mut *conns.reader().await?)
    .await
    .map_err(|e| error::db("reading a console user", e))?;
    row.map(|row| {
        user_record(
            row.name,
            row.role,
            row.password_hash,
            row.created_at,
            row.disabled_at,
            row.failed_logins,
            row.locked_until,
        )
    })
    .transpose()
}

pub(crate) async fn list_users(conns: &Arc<Connections>) -> Result<Vec<UserRecord>, StoreError> {
    let rows = sqlx::query!(
        r#"SELECT name, role, password_hash, created_at, disabled_at, failed_logins,
                  locked_until
           FROM console_users ORDER BY created_at, name"#
    )
    .fetch_all(&mut *conns.reader().await?)
    .await
    .map_err(|e| error::db("listing console users", e))?;
    rows.into_iter()
        .map(|row| {
            user_record(
                row.name,
                row.role,
                row.password_hash,
                row.created_at,
                row.disabled_at,
                row.failed_logins,
                row.locked_until,
            )
        })
        .collect()
}

pub(crate) async fn disable_user(
    conns: &Arc<Connections>,
    name: &str,
    at: OffsetDateTime,
    audit: Vec<AuditDraft>,
) -> Result<bool, StoreError> {
    let at = nanos(at)?;
    let audit = AuditRows::new(audit)?;
    let doing = "disabling a console user";
    let mut writer = conns.writer().await;
    let mut tx = begin(&mut writer, doing).await?;
    let changed = sqlx::query!(
        r#"UPDATE console_users SET disabled_at = ?2 WHERE name = ?1 AND disabled_at IS NULL"#,
        name,
        at
    )
    .execute(&mut *tx)
    .await
    .map_err(|e| error::db(doing, e))?
    .rows_affected();
    if changed == 0 {
        rollback(tx, doing).await?;
        return Ok(false);
    }
    sqlx::query!(r#"DELETE FROM console_sessions WHERE user_name = ?1"#, name)
        .execute(&mut *tx)
        .await
        .map_err(|e| error::db(doing, e))?;
    finish(tx, Inserts::new(), &[&audit], doing).await?;
    Ok(true)
}

pub(crate) async fn record_login_failure(
    conns: &Arc<Connections>,
    name: &str,
    at: OffsetDateTime,
    rule: LockoutRule,
    audit: Vec<AuditDraft>,
    lock_audit: Vec<AuditDraft>,
) -> Result<Option<LoginFailure>, StoreError> {
    let lock_end = at
        .checked_add(rule.duration)
        .ok_or_else(|| StoreError::Unsupported("the lockout is too long to store".into()))?;
    let (at_ns, lock_end_ns) = (nanos(at)?, nanos(lock_end)?);
    let max_failures = i64::from(rule.max_failures);
    let audit = AuditRows::new(audit)?;
    let lock_audit = AuditRows::new(lock_audit)?;
    let doing = "counting a failed login";
    let mut writer = conns.writer().await;
    let mut tx = begin(&mut writer, doing).await?;
    // Whether a lockout is running, read under the write lock the update is made under.
    let locked_before = sqlx::query_scalar!(
        r#"SELECT locked_until IS NOT NULL AND locked_until > ?2 AS "locked!: bool"
           FROM console_users WHERE name = ?1"#,
        name,
        at_ns
    )
    .fetch_optional(&mut *tx)
    .await
    .map_err(|e| error::db(doing, e))?
    .unwrap_or(false);
    // Every expression on the right sees the row as it was: a lockout that has ended starts
    // the count again at 1; one still running is kept as it is.
    let row = sqlx::query!(
        r#"UPDATE console_users SET
               failed_logins = CASE WHEN locked_until IS NOT NULL AND locked_until <= ?2
                                    THEN 1 ELSE failed_logins + 1 END,
               locked_until = CASE
                   WHEN locked_until IS NOT NULL AND locked_until > ?2 THEN locked_until
                   WHEN (CASE WHEN locked_until IS NOT NULL AND locked_until <= ?2
                              THEN 1 ELSE failed_logins + 1 END) >= ?3 THEN ?4
                   ELSE NULL END
           WHERE name = ?1 AND disabled_at IS NULL
           RETURNING failed_logins, locked_until"#,
        name,
        at_ns,
        max_failures,
        lock_end_ns
    )
    .fetch_optional(&mut *tx)
    .await
    .map_err(|e| error::db(doing, e))?;
    let Some(row) = row else {
        rollback(tx, doing).await?;
        return Ok(None);
    };
    let failures = u32::try_from(row.failed_logins)
        .map_err(|_| error::corrupt("console_users", "failed_logins", name))?;
    let locked_until = row
        .locked_until
        .map(|ns| instant(ns, "console_users", "locked_until", name))
        .transpose()?;
    let locked_now = !locked_before && row.locked_until == Some(lock_end_ns);
    if locked_now {
        finish(tx, Inserts::new(), &[&audit, &lock_audit], doing).await?;
    } else {
        finish(tx, Inserts::new(), &[&audit], doing).await?;
    }
    Ok(Some(LoginFailure {
        failures,
        locked_until,
        locked_now,
    }))
}

pub(crate) async fn start_session(
    conns: &Arc<Connections>,
    session: SessionRecord,
    audit: Vec<AuditDraft>,
) -> Result<bool, StoreError> {
    let created_at = nanos(session.created_at)?;
    let last_seen_at = nanos(session.last_seen_at)?;
    let hash = session.hash.as_slice();
    let audit = AuditRows::new(audit)?;
    let doing = "starting a console session";
    let mut writer = conns.writer().await;
    let mut tx = begin(&mut writer, doing).await?;
    let changed = sqlx::query!(
        r#"UPDATE console_users SET failed_logins = 0, locked_until = NULL
           WHERE name = ?1 AND disabled_at IS NULL
             AND (locked_until IS NULL OR locked_until <= ?2)"#,
        session.user,
        created_at
    )
    .execute(&mut *tx)
    .await
    .map_err(|e| error::db(doing, e))?
    .rows_affected();
    if changed == 0 {
        rollback(tx, doing).await?;
        return Ok(false);
    }
    sqlx::query!(
        r#"INSERT INTO console_sessions (hash, user_name, created_at, last_seen_at)
           VALUES (?1, ?2, ?3, ?4)"#,
        hash,
        session.user,
        created_at,
        last_seen_at
    )
    .execute(&mut *tx)
    .await
    .map_err(|e| error::db(doing, e))?;
    finish(tx, Inserts::new(), &[&audit], doing).await?;
    Ok(true)
}

pub(crate) async fn session(
    conns: &Arc<Connections>,
    hash: &[u8; 32],
) -> Result<Option<(SessionRecord, UserRecord)>, StoreError> {
    let key = hash.as_slice();
    let row = sqlx::query!(
        r#"SELECT s.created_at AS session_created_at, s.last_seen_at,
                  u.name, u.role, u.password_hash, u.created_at, u.disabled_at,
                  u.failed_logins, u.locked_until
           FROM console_sessions s JOIN console_users u ON u.name = s.user_name
           WHERE s.hash = ?1"#,
        key
    )
    .fetch_optional(&mut *conns.reader().await?)
    .await
    .map_err(|e| error::db("reading a console session", e))?;
    let Some(row) = row else { return Ok(None) };
    let session = SessionRecord {
        hash: *hash,
        user: row.name.clone(),
        created_at: instant(
            row.session_created_at,
            "console_sessions",
            "created_at",
            &row.name,
        )?,
        last_seen_at: instant(
            row.last_seen_at,
            "console_sessions",
            "last_seen_at",
            &row.name,
        )?,
    };
    let user = user_record(
        row.name,
        row.role,
        row.password_hash,
        row.created_at,
        row.disabled_at,
        row.failed_logins,
        row.locked_until,
    )?;
    Ok(Some((session, user)))
}

pub(crate) async fn touch_session(
    conns: &Arc<Connections>,
    hash: &[u8; 32],
    at: OffsetDateTime,
) -> Result<bool, StoreError> {
    let at = nanos(at)?;
    let key = hash.as_slice();
    let doing = "recording a console session's use";
    let mut writer = conns.writer().await;
    let mut tx = begin(&mut writer, doing).await?;
    // Never backwards: a request that waited for the writer may carry an older time.
    let changed = sqlx::query!(
        r#"UPDATE console_sessions SET last_seen_at = max(last_seen_at, ?2) WHERE hash = ?1"#,
        key,
        at
    )
    .execute(&mut *tx)
    .await
    .map_err(|e| error::db(doing, e))?
    .rows_affected();
    finish(tx, Inserts::new(), &[], doing).await?;
    Ok(changed > 0)
}

pub(crate) async fn end_session(
    conns: &Arc<Connections>,
    hash: &[u8; 32],
    audit: Vec<AuditDraft>,
) -> Result<bool, StoreError> {
    let key = hash.as_slice();
    let audit = AuditRows::new(audit)?;
    let doing = "ending a console session";
    let mut writer = conns.writer().await;
    let mut tx = begin(&mut writer, doing).await?;
    let deleted = sqlx::query!(r#"DELETE FROM console_sessions WHERE hash = ?1"#, key)
        .execute(&mut *tx)
        .await
        .map_err(|e| error::db(doing, e))?
        .rows_affected();
    if deleted == 0 {
        rollback(tx, doing).await?;
        return Ok(false);
    }
    finish(tx, Inserts::new(), &[&audit], doing).await?;
    Ok(true)
}

pub(crate) async fn purge_sessions(
    conns: &Arc<Connections>,
    idle_before: OffsetDateTime,
    created_before: OffsetDateTime,
) -> Result<u64, StoreError> {
    let (idle_before, created_before) = (nanos(idle_before)?, nanos(created_before)?);
    let doing = "deleting expired console sessions";
    let mut writer = conns.writer().await;
    let mut tx = begin(&mut writer, doing).await?;
    let deleted = sqlx::query!(
        r#"DELETE FROM console_sessions WHERE last_seen_at < ?1 OR created_at < ?2"#,
        idle_before,
        created_before
    )
    .execute(&mut *tx)
    .await
    .map_err(|e| error::db(doing, e))?
    .rows_affected();
    finish(tx, Inserts::new(), &[], doing).await?;
    Ok(deleted)
}
