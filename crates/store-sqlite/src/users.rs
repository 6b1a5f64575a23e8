//! Console users and their sessions (`migrations/0004_users.sql`). The failed-login count
//! changes in one UPDATE under the write lock, so concurrent failures are all counted.

use integritet_app::store::{
    LockoutRule, LoginFailure, Outcome, SessionRecord, StoreError, UserChange, UserRecord,
};
use rusqlite::{Connection, OptionalExtension, Row};
use time::OffsetDateTime;

use crate::convert::{instant, mac, nanos};
use crate::error::{self, RowError, carry};

const USER_COLUMNS: &str =
    "name, role, password_hash, created_at, disabled_at, failed_logins, locked_until, mac";

pub(crate) fn apply(conn: &Connection, change: &UserChange) -> Result<Outcome, StoreError> {
    match change {
        UserChange::Insert(user) => insert(conn, user),
        UserChange::Disable { name, at, mac } => disable(conn, name, *at, mac),
        UserChange::LoginFailure { name, at, rule, .. } => login_failure(conn, name, *at, *rule),
        UserChange::StartSession { session, past_lock } => start_session(conn, session, *past_lock),
        UserChange::TouchSession { hash, at } => {
            // Never backwards: a request that waited for the writer may carry an older time.
            let changed = conn
                .prepare_cached(
                    "UPDATE console_sessions SET last_seen_at = max(last_seen_at, ?2)
                     WHERE hash = ?1",
                )
                .and_then(|mut stmt| stmt.execute((hash.as_slice(), nanos(*at).map_err(carry)?)))
                .map_err(|e| error::db("recording a console session's use", e))?;
            Ok(done_if(changed > 0))
        }
        UserChange::EndSession { hash } => {
            let deleted = conn
                .prepare_cached("DELETE FROM console_sessions WHERE hash = ?1")
                .and_then(|mut stmt| stmt.execute([hash.as_slice()]))
                .map_err(|e| error::db("ending a console session", e))?;
            Ok(done_if(deleted > 0))
        }
        UserChange::PurgeSessions {
            idle_before,
            created_before,
        } => {
            let deleted = conn
                .prepare_cached(
                    "DELETE FROM console_sessions WHERE last_seen_at < ?1 OR created_at < ?2",
                )
                .and_then(|mut stmt| {
                    stmt.execute((
                        nanos(*idle_before).map_err(carry)?,
                        nanos(*created_before).map_err(carry)?,
                    ))
                })
                .map_err(|e| error::db("deleting expired console sessions", e))?;
            Ok(Outcome::Count(deleted as u64))
        }
    }
}

fn done_if(changed: bool) -> Outcome {
    if changed {
        Outcome::Done
    } else {
        Outcome::Nothing
    }
}

fn insert(conn: &Connection, user: &UserRecord) -> Result<Outcome, StoreError> {
    conn.prepare_cached(&format!(
        "INSERT INTO console_users ({USER_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
    ))
    .and_then(|mut stmt| {
        stmt.execute((
            &user.name,
            &user.role,
            &user.password_hash,
            nanos(user.created_at).map_err(carry)?,
            user.disabled_at.map(nanos).transpose().map_err(carry)?,
            i64::from(user.failed_logins),
            user.locked_until.map(nanos).transpose().map_err(carry)?,
            user.mac.as_slice(),
        ))
    })
    .map_err(|e| error::db("storing a console user", e))?;
    Ok(Outcome::Done)
}

fn disable(
    conn: &Connection,
    name: &str,
    at: OffsetDateTime,
    mac: &[u8; 32],
) -> Result<Outcome, StoreError> {
    let db = |e| error::db("disabling a console user", e);
    let changed = conn
        .prepare_cached(
            "UPDATE console_users SET disabled_at = ?2, mac = ?3
             WHERE name = ?1 AND disabled_at IS NULL",
        )
        .and_then(|mut stmt| stmt.execute((name, nanos(at).map_err(carry)?, mac.as_slice())))
        .map_err(db)?;
    if changed == 0 {
        return Ok(Outcome::Nothing);
    }
    conn.prepare_cached("DELETE FROM console_sessions WHERE user_name = ?1")
        .and_then(|mut stmt| stmt.execute([name]))
        .map_err(db)?;
    Ok(Outcome::Done)
}

fn login_failure(
    conn: &Connection,
    name: &str,
    at: OffsetDateTime,
    rule: LockoutRule,
) -> Result<Outcome, StoreError> {
    let db = |e| error::db("counting a failed login", e);
    let lock_end = at
        .checked_add(rule.duration)
        .ok_or_else(|| StoreError::Unsupported("the lockout is too long to store".into()))?;
    let (at_ns, lock_end_ns) = (nanos(at)?, nanos(lock_end)?);
    // Whether a lockout is running, read under the write lock the update is made under.
    let locked_before: bool = conn
        .prepare_cached(
            "SELECT locked_until IS NOT NULL AND locked_until > ?2
             FROM console_users WHERE name = ?1",
        )
        .and_then(|mut stmt| stmt.query_row((name, at_ns), |row| row.get(0)).optional())
        .map_err(db)?
        .unwrap_or(false);
    // Every expression on the right sees the row as it was: a lockout that has ended starts
    // the count again at 1; one still running is kept as it is.
    let row: Option<(i64, Option<i64>)> = conn
        .prepare_cached(
            "UPDATE console_users SET
                 failed_logins = CASE WHEN locked_until IS NOT NULL AND locked_until <= ?2
                                      THEN 1 ELSE failed_logins + 1 END,
                 locked_until = CASE
                     WHEN locked_until IS NOT NULL AND locked_until > ?2 THEN locked_until
                     WHEN (CASE WHEN locked_until IS NOT NULL AND locked_until <= ?2
                                THEN 1 ELSE failed_logins + 1 END) >= ?3 THEN ?4
                     ELSE NULL END
             WHERE name = ?1 AND disabled_at IS NULL
             RETURNING failed_logins, locked_until",
        )
        .and_then(|mut stmt| {
            stmt.query_row(
                (name, at_ns, i64::from(rule.max_failures), lock_end_ns),
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()
        })
        .map_err(db)?;
    let Some((failures, locked_until)) = row else {
        return Ok(Outcome::Nothing);
    };
    let failures = u32::try_from(failures)
        .map_err(|_| error::corrupt("console_users", "failed_logins", name))?;
    let locked_now = !locked_before && locked_until == Some(lock_end_ns);
    Ok(Outcome::LoginFailure(LoginFailure {
        failures,
        locked_until: locked_until
            .map(|ns| instant(ns, "console_users", "locked_until", name))
            .transpose()?,
        locked_now,
    }))
}

fn start_session(
    conn: &Connection,
    session: &SessionRecord,
    past_lock: bool,
) -> Result<Outcome, StoreError> {
    let db = |e| error::db("starting a console session", e);
    let created_at = nanos(session.created_at)?;
    // A lock in force stays, with its count, when a known browser logs in past it.
    let changed = conn
        .prepare_cached(
            "UPDATE console_users
             SET failed_logins = CASE WHEN locked_until > ?2 THEN failed_logins ELSE 0 END,
                 locked_until = CASE WHEN locked_until > ?2 THEN locked_until END
             WHERE name = ?1 AND disabled_at IS NULL
               AND (?3 OR locked_until IS NULL OR locked_until <= ?2)",
        )
        .and_then(|mut stmt| stmt.execute((&session.user, created_at, past_lock)))
        .map_err(db)?;
    if changed == 0 {
        return Ok(Outcome::Nothing);
    }
    conn.prepare_cached(
        "INSERT INTO console_sessions (hash, user_name, created_at, last_seen_at, mac)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .and_then(|mut stmt| {
        stmt.execute((
            session.hash.as_slice(),
            &session.user,
            created_at,
            nanos(session.last_seen_at).map_err(carry)?,
            session.mac.as_slice(),
        ))
    })
    .map_err(db)?;
    Ok(Outcome::Done)
}

pub(crate) fn user(conn: &Connection, name: &str) -> Result<Option<UserRecord>, StoreError> {
    let doing = "reading a console user";
    let row = conn
        .prepare_cached(&format!(
            "SELECT {USER_COLUMNS} FROM console_users WHERE name = ?1"
        ))
        .and_then(|mut stmt| {
            stmt.query_row([name], |row| Ok(user_record(row, 0)))
                .optional()
        })
        .map_err(|e| error::db(doing, e))?;
    row.transpose().map_err(|e| e.into_store(doing))
}

pub(crate) fn list(conn: &Connection) -> Result<Vec<UserRecord>, StoreError> {
    let doing = "listing console users";
    let db = |e| error::db(doing, e);
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT {USER_COLUMNS} FROM console_users ORDER BY created_at, name"
        ))
        .map_err(db)?;
    let mut rows = stmt.query([]).map_err(db)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(db)? {
        out.push(user_record(row, 0).map_err(|e| e.into_store(doing))?);
    }
    Ok(out)
}

pub(crate) fn session(
    conn: &Connection,
    hash: &[u8; 32],
) -> Result<Option<(SessionRecord, UserRecord)>, StoreError> {
    let doing = "reading a console session";
    let row = conn
        .prepare_cached(
            "SELECT s.created_at, s.last_seen_at, s.mac,
                    u.name, u.role, u.password_hash, u.created_at, u.disabled_at,
                    u.failed_logins, u.locked_until, u.mac
             FROM console_sessions s JOIN console_users u ON u.name = s.user_name
             WHERE s.hash = ?1",
        )
        .and_then(|mut stmt| {
            stmt.query_row([hash.as_slice()], |row| Ok(session_row(hash, row)))
                .optional()
        })
        .map_err(|e| error::db(doing, e))?;
    row.transpose().map_err(|e| e.into_store(doing))
}

fn session_row(hash: &[u8; 32], row: &Row<'_>) -> Result<(SessionRecord, UserRecord), RowError> {
    let user = user_record(row, 3)?;
    let session = SessionRecord {
        hash: *hash,
        user: user.name.clone(),
        created_at: instant(row.get(0)?, "console_sessions", "created_at", &user.name)?,
        last_seen_at: instant(row.get(1)?, "console_sessions", "last_seen_at", &user.name)?,
        mac: mac(row, 2)?,
    };
    Ok((session, user))
}

/// A user from the row's columns starting at `first`, in [`USER_COLUMNS`] order.
fn user_record(row: &Row<'_>, first: usize) -> Result<UserRecord, RowError> {
    let table = "console_users";
    let name: String = row.get(first)?;
    let at = |i: usize, column: &str| -> Result<Option<OffsetDateTime>, RowError> {
        Ok(row
            .get::<_, Option<i64>>(first + i)?
            .map(|ns| instant(ns, table, column, &name))
            .transpose()?)
    };
    let failed_logins: i64 = row.get(first + 5)?;
    Ok(UserRecord {
        role: row.get(first + 1)?,
        password_hash: row.get(first + 2)?,
        created_at: instant(row.get(first + 3)?, table, "created_at", &name)?,
        disabled_at: at(4, "disabled_at")?,
        failed_logins: u32::try_from(failed_logins)
            .map_err(|_| error::corrupt(table, "failed_logins", &name))?,
        locked_until: at(6, "locked_until")?,
        mac: mac(row, first + 7)?,
        name,
    })
}
