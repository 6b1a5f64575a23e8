//! Data subjects' requests: a sealed record per request, and what listing by deadline needs.

use integritet_app::store::{Outcome, RequestChange, RequestRow, StoreError};
use sqlx::{PgConnection, PgPool, Row};

use crate::convert::{from_ns, to_ns};
use crate::error::{corrupt, from_sqlx};

pub(crate) async fn apply(
    tx: &mut PgConnection,
    change: &RequestChange,
) -> Result<Outcome, StoreError> {
    let RequestChange::Put { row, replaces } = change;
    let version = version_to_db(row.version)?;
    let received = to_ns(row.received_at)?;
    let changed = match replaces {
        None => sqlx::query(
            "INSERT INTO subject_requests (id, state, received_at_ns, due, sealed, version)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(row.id)
        .bind(&row.state)
        .bind(received)
        .bind(row.due)
        .bind(&row.sealed)
        .bind(version)
        .execute(&mut *tx)
        .await
        .map_err(from_sqlx)?
        .rows_affected(),
        Some(replaces) => sqlx::query(
            "UPDATE subject_requests
             SET state = $2, received_at_ns = $3, due = $4, sealed = $5, version = $6
             WHERE id = $1 AND version = $7",
        )
        .bind(row.id)
        .bind(&row.state)
        .bind(received)
        .bind(row.due)
        .bind(&row.sealed)
        .bind(version)
        .bind(version_to_db(*replaces)?)
        .execute(&mut *tx)
        .await
        .map_err(from_sqlx)?
        .rows_affected(),
    };
    Ok(if changed > 0 {
        Outcome::Done
    } else {
        Outcome::Nothing
    })
}

fn version_to_db(version: u64) -> Result<i64, StoreError> {
    i64::try_from(version).map_err(|_| {
        StoreError::Conflict("a request's version is beyond what the database can hold".into())
    })
}

pub(crate) async fn by_id(pool: &PgPool, id: uuid::Uuid) -> Result<Option<RequestRow>, StoreError> {
    let row = sqlx::query(
        "SELECT id, state, received_at_ns, due, sealed, version FROM subject_requests
         WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await
    .map_err(from_sqlx)?;
    row.map(|row| record(&row)).transpose()
}

pub(crate) async fn list(pool: &PgPool) -> Result<Vec<RequestRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, state, received_at_ns, due, sealed, version FROM subject_requests
         ORDER BY due, received_at_ns",
    )
    .fetch_all(pool)
    .await
    .map_err(from_sqlx)?;
    rows.iter().map(record).collect()
}

fn record(row: &sqlx::postgres::PgRow) -> Result<RequestRow, StoreError> {
    let bad = |_| corrupt("a row of subject_requests cannot be read");
    let version: i64 = row.try_get(5).map_err(bad)?;
    Ok(RequestRow {
        id: row.try_get(0).map_err(bad)?,
        state: row.try_get(1).map_err(bad)?,
        received_at: from_ns(row.try_get(2).map_err(bad)?)?,
        due: row.try_get(3).map_err(bad)?,
        sealed: row.try_get(4).map_err(bad)?,
        version: u64::try_from(version)
            .map_err(|_| corrupt("a request's version in subject_requests is negative"))?,
    })
}
