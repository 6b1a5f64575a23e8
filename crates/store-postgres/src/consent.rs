//! Cookie consent records: sealed, with their time beside them.

use integritet_app::store::{ConsentChange, ConsentRow, Outcome, StoreError};
use sqlx::{PgConnection, PgPool, Row};
use time::OffsetDateTime;

use crate::convert::{from_ns, to_ns};
use crate::error::{corrupt, from_sqlx};

pub(crate) async fn apply(
    tx: &mut PgConnection,
    change: &ConsentChange,
) -> Result<Outcome, StoreError> {
    let ConsentChange::Record(row) = change;
    let added = sqlx::query(
        "INSERT INTO consent_records (id, at_ns, sealed) VALUES ($1, $2, $3)
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(row.id)
    .bind(to_ns(row.at)?)
    .bind(&row.sealed)
    .execute(&mut *tx)
    .await
    .map_err(from_sqlx)?
    .rows_affected();
    Ok(if added > 0 {
        Outcome::Done
    } else {
        Outcome::Nothing
    })
}

fn decode(row: &sqlx::postgres::PgRow) -> Result<ConsentRow, StoreError> {
    let column = |e: sqlx::Error| corrupt(format!("a consent record does not decode: {e}"));
    Ok(ConsentRow {
        id: row.try_get("id").map_err(column)?,
        at: from_ns(row.try_get("at_ns").map_err(column)?)?,
        sealed: row.try_get("sealed").map_err(column)?,
    })
}

pub(crate) async fn by_id(pool: &PgPool, id: uuid::Uuid) -> Result<Option<ConsentRow>, StoreError> {
    let row = sqlx::query("SELECT id, at_ns, sealed FROM consent_records WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await
        .map_err(from_sqlx)?;
    row.as_ref().map(decode).transpose()
}

pub(crate) async fn since(
    pool: &PgPool,
    since: OffsetDateTime,
    after: Option<(OffsetDateTime, uuid::Uuid)>,
    limit: u32,
) -> Result<Vec<ConsentRow>, StoreError> {
    let (from, after_id) = match after {
        Some((at, id)) => (to_ns(at)?, id),
        None => (to_ns(since)?, uuid::Uuid::nil()),
    };
    let rows = sqlx::query(
        "SELECT id, at_ns, sealed FROM consent_records
         WHERE (at_ns, id) > ($1, $2) ORDER BY at_ns, id LIMIT $3",
    )
    .bind(from)
    .bind(after_id)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .map_err(from_sqlx)?;
    rows.iter().map(decode).collect()
}
