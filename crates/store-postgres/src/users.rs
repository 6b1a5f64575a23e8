//! Console users and their sessions (`migrations/20260304000000_users.sql`). Every change runs
//! inside the writer's transaction with its audit entries (chained last, as everywhere). The failed-login
//! count changes in one UPDATE, which locks the user's row, so servers sharing the database
//! count every failure and agree on the lockout; a disable and a login that race are ordered
//! by the same row lock, so no session outlives its user's disabling.

use integritet_app::store::{LockoutRule, LoginFailure, SessionRecord, StoreError, UserRecord};
use sqlx::PgConnection;
use time::OffsetDateTime;

use crate::convert::{self, from_ns, to_ns};
use crate::error::{corrupt, from_sqlx};

/// A user row as selected.
pub(crate) struct UserRow {
    name: String,
    role: String,
    password_hash: String,
    created_at_ns: i64,
    disabled_at_ns: Option<i64>,
    failed_logins: i32,
    locked_until_ns: Option<i64>,
    mac: Vec<u8>,
}

/// A user row read back.
fn user_record(row: UserRow) -> Result<UserRecord, StoreError> {
    let failed_logins = u32::try_from(row.failed_logins).map_err(|_| {
        corrupt(format!(
            "the failed-login count of console user {} is negative",
            row.name
        ))
    })?;
    Ok(UserRecord {
        created_at: from_ns(row.created_at_ns)?,
        disabled_at: row.disabled_at_ns.map(from_ns).transpose()?,
        failed_logins,
        locked_until: row.locked_until_ns.map(from_ns).transpose()?,
        mac: convert::mac(&row.mac),
        name: row.name,
        role: row.role,
        password_hash: row.password_hash,
    })
}

pub(crate) async fn insert_user(tx: &mut PgConnection, user: UserRecord) -> Result<(), StoreError> {
    let disabled_at = user.disabled_at.map(to_ns).transpose()?;
    let locked_until = user.locked_until.map(to_ns).transpose()?;
    let failed_logins = i32::try_from(user.failed_logins)
        .map_err(|_| StoreError::Unsupported("the failed-login count is too large".into()))?;
    sqlx::query!(
        r#"
        INSERT INTO console_users (name, role, password_hash, created_at_ns, disabled_at_ns,
                                   failed_logins, locked_until_ns, mac)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        "#,
        user.name,
        user.role,
        user.password_hash,
        to_ns(user.created_at)?,
        disabled_at,
        failed_logins,
        locked_until,
        user.mac.as_slice(),
    )
    .execute(&mut *tx)
    .await
    .map_err(from_sqlx)?;
    Ok(())
}

pub(crate) async fn user(
    tx: &mut PgConnection,
    name: &str,
) -> Result<Option<UserRecord>, StoreError> {
    sqlx::query_as!(
        UserRow,
        r#"
        SELECT name, role, password_hash, created_at_ns, disabled_at_ns, failed_logins,
               locked_until_ns, mac
        FROM console_users
        WHERE name = $1
        "#,
        name,
    )
    .fetch_optional(&mut *tx)
    .await
    .map_err(from_sqlx)?
    .map(user_record)
    .transpose()
}

pub(crate) async fn list_users(tx: &mut PgConnection) -> Result<Vec<UserRecord>, StoreError> {
    sqlx::query_as!(
        UserRow,
        r#"
        SELECT name, role, password_hash, created_at_ns, disabled_at_ns, failed_logins,
               locked_until_ns, mac
        FROM console_users
        ORDER BY created_at_ns, name
        "#
    )
    .fetch_all(&mut *tx)
    .await
    .map_err(from_sqlx)?
    .into_iter()
    .map(user_record)
    .collect()
}

pub(crate) async fn disable_user(
    tx: &mut PgConnection,
    name: &str,
    at: OffsetDateTime,
    mac: &[u8; 32],
) -> Result<bool, StoreError> {
    let at = to_ns(at)?;
    let changed = sqlx::query!(
        "UPDATE console_users SET disabled_at_ns = $2, mac = $3
         WHERE name = $1 AND disabled_at_ns IS NULL",
        name,
        at,
        mac.as_slice(),
    )
    .execute(&mut *tx)
    .await
    .map_err(from_sqlx)?
    .rows_affected();
    if changed == 0 {
        // Nothing changed: the writer rolls this job back, and nothing is audited.
        return Ok(false);
    }
    sqlx::query!("DELETE FROM console_sessions WHERE user_name = $1", name)
        .execute(&mut *tx)
        .await
        .map_err(from_sqlx)?;
    Ok(true)
}

pub(crate) async fn record_login_failure(
    tx: &mut PgConnection,
    name: &str,
    at: OffsetDateTime,
    rule: LockoutRule,
) -> Result<Option<LoginFailure>, StoreError> {
    let lock_end = at
        .checked_add(rule.duration)
        .ok_or_else(|| StoreError::Unsupported("the lockout is too long to store".into()))?;
    let (at_ns, lock_end_ns) = (to_ns(at)?, to_ns(lock_end)?);
    let max_failures = i32::try_from(rule.max_failures).unwrap_or(i32::MAX);
    // Whether a lockout is running, read with the row locked until the transaction ends, so
    // that of concurrent failures on several servers exactly one sees itself lock the account.
    let locked_before = sqlx::query_scalar!(
        r#"
        SELECT locked_until_ns IS NOT NULL AND locked_until_ns > $2 AS "locked!"
        FROM console_users WHERE name = $1
        FOR UPDATE
        "#,
        name,
        at_ns,
    )
    .fetch_optional(&mut *tx)
    .await
    .map_err(from_sqlx)?
    .unwrap_or(false);
    // Every expression on the right sees the row as it was: a lockout that has ended starts
    // the count again at 1; one still running is kept as it is.
    let row = sqlx::query!(
        r#"
        UPDATE console_users SET
            failed_logins = CASE WHEN locked_until_ns IS NOT NULL AND locked_until_ns <= $2
                                 THEN 1 ELSE failed_logins + 1 END,
            locked_until_ns = CASE
                WHEN locked_until_ns IS NOT NULL AND locked_until_ns > $2 THEN locked_until_ns
                WHEN (CASE WHEN locked_until_ns IS NOT NULL AND locked_until_ns <= $2
                           THEN 1 ELSE failed_logins + 1 END) >= $3 THEN $4
                ELSE NULL END
        WHERE name = $1 AND disabled_at_ns IS NULL
        RETURNING failed_logins, locked_until_ns
        "#,
        name,
        at_ns,
        max_failures,
        lock_end_ns,
    )
    .fetch_optional(&mut *tx)
    .await
    .map_err(from_sqlx)?;
    let Some(row) = row else {
        return Ok(None);
    };
    let failures = u32::try_from(row.failed_logins).map_err(|_| {
        corrupt(format!(
            "the failed-login count of console user {name} is negative"
        ))
    })?;
    let locked_until = row.locked_until_ns.map(from_ns).transpose()?;
    let locked_now = !locked_before && row.locked_until_ns == Some(lock_end_ns);
    Ok(Some(LoginFailure {
        failures,
        locked_until,
        locked_now,
    }))
}

pub(crate) async fn start_session(
    tx: &mut PgConnection,
    session: SessionRecord,
    past_lock: bool,
) -> Result<bool, StoreError> {
    let created_at = to_ns(session.created_at)?;
    let last_seen_at = to_ns(session.last_seen_at)?;
    // A lock in force stays, with its count, when a known browser logs in past it.
    let changed = sqlx::query(
        "UPDATE console_users
         SET failed_logins = CASE WHEN locked_until_ns > $2 THEN failed_logins ELSE 0 END,
             locked_until_ns = CASE WHEN locked_until_ns > $2 THEN locked_until_ns END
         WHERE name = $1 AND disabled_at_ns IS NULL
           AND ($3 OR locked_until_ns IS NULL OR locked_until_ns <= $2)",
    )
    .bind(&session.user)
    .bind(created_at)
    .bind(past_lock)
    .execute(&mut *tx)
    .await
    .map_err(from_sqlx)?
    .rows_affected();
    if changed == 0 {
        return Ok(false);
    }
    sqlx::query!(
        r#"
        INSERT INTO console_sessions (hash, user_name, created_at_ns, last_seen_at_ns, mac)
        VALUES ($1, $2, $3, $4, $5)
        "#,
        session.hash.as_slice(),
        session.user,
        created_at,
        last_seen_at,
        session.mac.as_slice(),
    )
    .execute(&mut *tx)
    .await
    .map_err(from_sqlx)?;
    Ok(true)
}

pub(crate) async fn session(
    tx: &mut PgConnection,
    hash: &[u8; 32],
) -> Result<Option<(SessionRecord, UserRecord)>, StoreError> {
    let row = sqlx::query!(
        r#"
        SELECT s.created_at_ns AS session_created_at_ns, s.last_seen_at_ns,
               s.mac AS session_mac,
               u.name, u.role, u.password_hash, u.created_at_ns, u.disabled_at_ns,
               u.failed_logins, u.locked_until_ns, u.mac
        FROM console_sessions s JOIN console_users u ON u.name = s.user_name
        WHERE s.hash = $1
        "#,
        hash.as_slice(),
    )
    .fetch_optional(&mut *tx)
    .await
    .map_err(from_sqlx)?;
    let Some(row) = row else { return Ok(None) };
    let session = SessionRecord {
        hash: *hash,
        user: row.name.clone(),
        created_at: from_ns(row.session_created_at_ns)?,
        last_seen_at: from_ns(row.last_seen_at_ns)?,
        mac: convert::mac(&row.session_mac),
    };
    let user = user_record(UserRow {
        name: row.name,
        role: row.role,
        password_hash: row.password_hash,
        created_at_ns: row.created_at_ns,
        disabled_at_ns: row.disabled_at_ns,
        failed_logins: row.failed_logins,
        locked_until_ns: row.locked_until_ns,
        mac: row.mac,
    })?;
    Ok(Some((session, user)))
}

pub(crate) async fn touch_session(
    tx: &mut PgConnection,
    hash: &[u8; 32],
    at: OffsetDateTime,
) -> Result<bool, StoreError> {
    // Never backwards: another server may have recorded a later request.
    let changed = sqlx::query!(
        r#"
        UPDATE console_sessions SET last_seen_at_ns = GREATEST(last_seen_at_ns, $2)
        WHERE hash = $1
        "#,
        hash.as_slice(),
        to_ns(at)?,
    )
    .execute(&mut *tx)
    .await
    .map_err(from_sqlx)?
    .rows_affected();
    Ok(changed > 0)
}

pub(crate) async fn end_session(
    tx: &mut PgConnection,
    hash: &[u8; 32],
) -> Result<bool, StoreError> {
    let deleted = sqlx::query!(
        "DELETE FROM console_sessions WHERE hash = $1",
        hash.as_slice()
    )
    .execute(&mut *tx)
    .await
    .map_err(from_sqlx)?
    .rows_affected();
    if deleted == 0 {
        return Ok(false);
    }
    Ok(true)
}

pub(crate) async fn purge_sessions(
    tx: &mut PgConnection,
    idle_before: OffsetDateTime,
    created_before: OffsetDateTime,
) -> Result<u64, StoreError> {
    let deleted = sqlx::query!(
        "DELETE FROM console_sessions WHERE last_seen_at_ns < $1 OR created_at_ns < $2",
        to_ns(idle_before)?,
        to_ns(created_before)?,
    )
    .execute(&mut *tx)
    .await
    .map_err(from_sqlx)?
    .rows_affected();
    Ok(deleted)
}
