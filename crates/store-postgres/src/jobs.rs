//! Daily jobs: a session advisory lock while one runs, and the last day it was done.

use async_trait::async_trait;
use integritet_app::store::{DailyJob, StoreError};
use sqlx::{Connection, PgConnection, PgPool};
use time::Date;

use crate::error::from_sqlx;

/// The lock's key: the job's name hashed by PostgreSQL, in a space of this application's own.
const LOCK: &str = "SELECT pg_try_advisory_lock(hashtext('integritet:daily-job'), hashtext($1))";
const UNLOCK: &str = "SELECT pg_advisory_unlock(hashtext('integritet:daily-job'), hashtext($1))";

pub(crate) async fn take(
    pool: &PgPool,
    name: &str,
    day: Date,
) -> Result<Option<Box<dyn DailyJob>>, StoreError> {
    // A connection of its own, out of the pool: the lock lives as long as its session, and a
    // process that dies takes the session, and so the lock, with it.
    let mut conn = pool.acquire().await.map_err(from_sqlx)?.detach();
    let locked: bool = sqlx::query_scalar(LOCK)
        .bind(name)
        .fetch_one(&mut conn)
        .await
        .map_err(from_sqlx)?;
    if !locked {
        let _ = conn.close().await;
        return Ok(None);
    }
    let last: Option<Date> = sqlx::query_scalar("SELECT last_day FROM daily_jobs WHERE name = $1")
        .bind(name)
        .fetch_optional(&mut conn)
        .await
        .map_err(from_sqlx)?;
    if last.is_some_and(|last| last >= day) {
        // Unlocked in the session before it closes: a closed session's locks are freed only
        // once its backend has ended, which the next server to ask could come before.
        let _ = sqlx::query_scalar::<_, bool>(UNLOCK)
            .bind(name)
            .fetch_one(&mut conn)
            .await;
        let _ = conn.close().await;
        return Ok(None);
    }
    Ok(Some(Box::new(PgDailyJob {
        conn,
        name: name.to_owned(),
        day,
    })))
}

struct PgDailyJob {
    conn: PgConnection,
    name: String,
    day: Date,
}

#[async_trait]
impl DailyJob for PgDailyJob {
    async fn done(mut self: Box<Self>) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO daily_jobs (name, last_day) VALUES ($1, $2)
             ON CONFLICT (name) DO UPDATE SET last_day = GREATEST(daily_jobs.last_day, excluded.last_day)",
        )
        .bind(&self.name)
        .bind(self.day)
        .execute(&mut self.conn)
        .await
        .map_err(from_sqlx)?;
        sqlx::query_scalar::<_, bool>(UNLOCK)
            .bind(&self.name)
            .fetch_one(&mut self.conn)
            .await
            .map_err(from_sqlx)?;
        self.conn.close().await.map_err(from_sqlx)
    }
}
