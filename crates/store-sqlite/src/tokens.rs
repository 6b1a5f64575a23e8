//! Staff API tokens: only the hash of each secret is stored.

use integritet_app::store::{Outcome, StoreError, TokenChange, TokenRecord};
use rusqlite::{Connection, OptionalExtension, Row};

use crate::convert::{instant, mac, nanos};
use crate::error::{self, RowError, carry};

const COLUMNS: &str = "id, hash, role, label, created_at, expires_at, revoked_at, mac";

pub(crate) fn apply(conn: &Connection, change: &TokenChange) -> Result<Outcome, StoreError> {
    match change {
        TokenChange::Insert(token) => {
            conn.prepare_cached(
                "INSERT INTO api_tokens (id, hash, role, label, created_at, expires_at, revoked_at, mac)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )
            .and_then(|mut stmt| {
                stmt.execute((
                    &token.id,
                    token.hash.as_slice(),
                    &token.role,
                    &token.label,
                    nanos(token.created_at).map_err(carry)?,
                    token.expires_at.map(nanos).transpose().map_err(carry)?,
                    token.revoked_at.map(nanos).transpose().map_err(carry)?,
                    token.mac.as_slice(),
                ))
            })
            .map_err(|e| error::db("storing a token", e))?;
            Ok(Outcome::Done)
        }
        TokenChange::Revoke { id, at, mac } => {
            let changed = conn
                .prepare_cached(
                    "UPDATE api_tokens SET revoked_at = ?2, mac = ?3
                     WHERE id = ?1 AND revoked_at IS NULL",
                )
                .and_then(|mut stmt| stmt.execute((id, nanos(*at).map_err(carry)?, mac.as_slice())))
                .map_err(|e| error::db("revoking a token", e))?;
            Ok(if changed > 0 {
                Outcome::Done
            } else {
                Outcome::Nothing
            })
        }
    }
}

pub(crate) fn by_hash(
    conn: &Connection,
    hash: &[u8; 32],
) -> Result<Option<TokenRecord>, StoreError> {
    let doing = "looking up a token";
    let row = conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM api_tokens WHERE hash = ?1"))
        .and_then(|mut stmt| {
            stmt.query_row([hash.as_slice()], |row| Ok(record(row)))
                .optional()
        })
        .map_err(|e| error::db(doing, e))?;
    row.transpose().map_err(|e| e.into_store(doing))
}

pub(crate) fn list(conn: &Connection) -> Result<Vec<TokenRecord>, StoreError> {
    let doing = "listing tokens";
    let db = |e| error::db(doing, e);
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM api_tokens ORDER BY created_at, id"
        ))
        .map_err(db)?;
    let mut rows = stmt.query([]).map_err(db)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(db)? {
        out.push(record(row).map_err(|e| e.into_store(doing))?);
    }
    Ok(out)
}

fn record(row: &Row<'_>) -> Result<TokenRecord, RowError> {
    let id: String = row.get(0)?;
    let hash = <[u8; 32]>::try_from(row.get_ref(1)?.as_blob()?)
        .map_err(|_| error::corrupt("api_tokens", "hash", &id))?;
    let at = |i: usize, column: &str| -> Result<Option<time::OffsetDateTime>, RowError> {
        Ok(row
            .get::<_, Option<i64>>(i)?
            .map(|ns| instant(ns, "api_tokens", column, &id))
            .transpose()?)
    };
    Ok(TokenRecord {
        hash,
        role: row.get(2)?,
        label: row.get(3)?,
        created_at: instant(row.get(4)?, "api_tokens", "created_at", &id)?,
        expires_at: at(5, "expires_at")?,
        revoked_at: at(6, "revoked_at")?,
        mac: mac(row, 7)?,
        id,
    })
}
