//! Marketing: the NIX-Telefon register, suppression entries without a subject, and the
//! unsubscribe links that were spent.

use integritet_app::store::{MarketingChange, Outcome, SpentLink, StoreError};
use rusqlite::{Connection, OptionalExtension};

use crate::convert::{instant, nanos};
use crate::error::{self, carry};

pub(crate) fn apply(conn: &Connection, change: &MarketingChange) -> Result<Outcome, StoreError> {
    match change {
        MarketingChange::ReplaceNix(hashes) => {
            let db = |e| error::db("replacing the NIX register", e);
            conn.prepare_cached("DELETE FROM nix_register")
                .and_then(|mut stmt| stmt.execute([]))
                .map_err(db)?;
            let mut stmt = conn
                .prepare_cached(
                    "INSERT INTO nix_register (hash) VALUES (?1) ON CONFLICT DO NOTHING",
                )
                .map_err(db)?;
            let mut sorted: Vec<&[u8; 32]> = hashes.iter().collect();
            // Sorted, the inserts walk the B-tree once.
            sorted.sort_unstable();
            let mut count = 0;
            for hash in sorted {
                count += stmt.execute([hash.as_slice()]).map_err(db)? as u64;
            }
            Ok(Outcome::Count(count))
        }
        MarketingChange::Suppress(entries) => {
            let db = |e| error::db("adding to the suppression list", e);
            let mut stmt = conn
                .prepare_cached(
                    "INSERT INTO suppression (kind, hash, at) VALUES (?1, ?2, ?3)
                     ON CONFLICT (kind, hash) DO NOTHING",
                )
                .map_err(db)?;
            let mut added = 0;
            for entry in entries {
                added += stmt
                    .execute((
                        &entry.kind,
                        entry.hash.as_slice(),
                        nanos(entry.at)
                            .map_err(|e| error::db("adding to the suppression list", carry(e)))?,
                    ))
                    .map_err(db)?;
            }
            Ok(if added > 0 {
                Outcome::Done
            } else {
                Outcome::Nothing
            })
        }
        MarketingChange::SpendLink(link) => {
            let added = conn
                .prepare_cached(
                    "INSERT INTO spent_links (id, at, reason, mac) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (id) DO NOTHING",
                )
                .and_then(|mut stmt| {
                    stmt.execute((
                        link.id.as_slice(),
                        nanos(link.at).map_err(carry)?,
                        &link.reason,
                        link.mac.as_slice(),
                    ))
                })
                .map_err(|e| error::db("recording a spent unsubscribe link", e))?;
            Ok(if added > 0 {
                Outcome::Done
            } else {
                Outcome::Nothing
            })
        }
    }
}

pub(crate) fn is_nix_listed(conn: &Connection, hash: &[u8; 32]) -> Result<bool, StoreError> {
    conn.prepare_cached("SELECT 1 FROM nix_register WHERE hash = ?1")
        .and_then(|mut stmt| stmt.query_row([hash.as_slice()], |_| Ok(())).optional())
        .map(|found| found.is_some())
        .map_err(|e| error::db("reading the NIX register", e))
}

pub(crate) fn nix_entries(conn: &Connection) -> Result<u64, StoreError> {
    conn.prepare_cached("SELECT count(*) FROM nix_register")
        .and_then(|mut stmt| stmt.query_row([], |row| row.get::<_, i64>(0)))
        .map(|n| u64::try_from(n).unwrap_or(0))
        .map_err(|e| error::db("counting the NIX register", e))
}

pub(crate) fn spent_link(
    conn: &Connection,
    id: &[u8; 16],
) -> Result<Option<SpentLink>, StoreError> {
    let doing = "reading a spent unsubscribe link";
    let row = conn
        .prepare_cached("SELECT at, reason, mac FROM spent_links WHERE id = ?1")
        .and_then(|mut stmt| {
            stmt.query_row([id.as_slice()], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, Vec<u8>>(2)?,
                ))
            })
            .optional()
        })
        .map_err(|e| error::db(doing, e))?;
    let Some((at, reason, mac)) = row else {
        return Ok(None);
    };
    Ok(Some(SpentLink {
        id: *id,
        at: instant(at, "spent_links", "at", "?")?,
        reason,
        // A MAC of another length is kept as read: it fails the vault's check.
        mac,
    }))
}
