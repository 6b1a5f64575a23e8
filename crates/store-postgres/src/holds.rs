//! Legal holds: a sealed record per hold, beside it the subject it is on.

use integritet_app::store::{HoldChange, HoldRow, Outcome, StoreError};
use integritet_domain::subject::SubjectId;
use sqlx::{PgConnection, PgPool, Row};

use crate::error::{corrupt, from_sqlx};

pub(crate) async fn apply(
    tx: &mut PgConnection,
    change: &HoldChange,
) -> Result<Outcome, StoreError> {
    let HoldChange::Put(row) = change;
    sqlx::query(
        "INSERT INTO legal_holds (id, subject_id, sealed) VALUES ($1, $2, $3)
         ON CONFLICT (id) DO UPDATE SET subject_id = excluded.subject_id, sealed = excluded.sealed",
    )
    .bind(row.id)
    .bind(row.subject.0)
    .bind(&row.sealed)
    .execute(&mut *tx)
    .await
    .map_err(from_sqlx)?;
    Ok(Outcome::Done)
}

pub(crate) async fn list(pool: &PgPool) -> Result<Vec<HoldRow>, StoreError> {
    let rows = sqlx::query("SELECT id, subject_id, sealed FROM legal_holds ORDER BY id")
        .fetch_all(pool)
        .await
        .map_err(from_sqlx)?;
    rows.iter()
        .map(|row| {
            let column = |e: sqlx::Error| corrupt(format!("a legal hold does not decode: {e}"));
            Ok(HoldRow {
                id: row.try_get("id").map_err(column)?,
                subject: SubjectId(row.try_get("subject_id").map_err(column)?),
                sealed: row.try_get("sealed").map_err(column)?,
            })
        })
        .collect()
}
