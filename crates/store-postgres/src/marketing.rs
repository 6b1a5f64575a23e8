//! Marketing: the NIX-Telefon register, suppression entries without a subject, and the
//! unsubscribe links that were spent.

use integritet_app::store::{MarketingChange, Outcome, SpentLink, StoreError};
use sqlx::{PgConnection, PgPool, Row};

use crate::convert::{from_ns, to_ns};
use crate::error::{corrupt, from_sqlx};

pub(crate) async fn apply(
    tx: &mut PgConnection,
    change: &MarketingChange,
) -> Result<Outcome, StoreError> {
    match change {
        MarketingChange::ReplaceNix(hashes) => {
            sqlx::query("DELETE FROM nix_register")
                .execute(&mut *tx)
                .await
                .map_err(from_sqlx)?;
            let hashes: Vec<Vec<u8>> = hashes.iter().map(|h| h.to_vec()).collect();
            let added = sqlx::query(
                "INSERT INTO nix_register (hash) SELECT * FROM UNNEST($1::bytea[])
                 ON CONFLICT DO NOTHING",
            )
            .bind(&hashes)
            .execute(&mut *tx)
            .await
            .map_err(from_sqlx)?;
            Ok(Outcome::Count(added.rows_affected()))
        }
        MarketingChange::Suppress(entries) => {
            let mut added = 0;
            for entry in entries {
                added += sqlx::query(
                    "INSERT INTO suppression (kind, hash, at_ns) VALUES ($1, $2, $3)
                     ON CONFLICT (kind, hash) DO NOTHING",
                )
                .bind(&entry.kind)
                .bind(entry.hash.as_slice())
                .bind(to_ns(entry.at)?)
                .execute(&mut *tx)
                .await
                .map_err(from_sqlx)?
                .rows_affected();
            }
            Ok(if added > 0 {
                Outcome::Done
            } else {
                Outcome::Nothing
            })
        }
        MarketingChange::SpendLink(link) => {
            let added = sqlx::query(
                "INSERT INTO spent_links (id, at_ns, reason, mac) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (id) DO NOTHING",
            )
            .bind(link.id.as_slice())
            .bind(to_ns(link.at)?)
            .bind(&link.reason)
            .bind(link.mac.as_slice())
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
    }
}

pub(crate) async fn is_nix_listed(pool: &PgPool, hash: &[u8; 32]) -> Result<bool, StoreError> {
    let found = sqlx::query_scalar::<_, i32>("SELECT 1 FROM nix_register WHERE hash = $1")
        .bind(hash.as_slice())
        .fetch_optional(pool)
        .await
        .map_err(from_sqlx)?;
    Ok(found.is_some())
}

pub(crate) async fn nix_entries(pool: &PgPool) -> Result<u64, StoreError> {
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM nix_register")
        .fetch_one(pool)
        .await
        .map_err(from_sqlx)?;
    Ok(u64::try_from(count).unwrap_or(0))
}

pub(crate) async fn spent_link(
    pool: &PgPool,
    id: &[u8; 16],
) -> Result<Option<SpentLink>, StoreError> {
    let row = sqlx::query("SELECT at_ns, reason, mac FROM spent_links WHERE id = $1")
        .bind(id.as_slice())
        .fetch_optional(pool)
        .await
        .map_err(from_sqlx)?;
    let Some(row) = row else {
        return Ok(None);
    };
    let column = |e: sqlx::Error| corrupt(format!("a spent unsubscribe link does not decode: {e}"));
    Ok(Some(SpentLink {
        id: *id,
        at: from_ns(row.try_get("at_ns").map_err(column)?)?,
        reason: row.try_get("reason").map_err(column)?,
        mac: row.try_get("mac").map_err(column)?,
    }))
}
