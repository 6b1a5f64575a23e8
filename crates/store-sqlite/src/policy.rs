//! The history of the policy the system enforced.

use integritet_app::store::{Outcome, PolicyChange, PolicyVersionRecord, StoreError};
use rusqlite::Connection;

use crate::convert::{instant, nanos};
use crate::error::{self, carry};

pub(crate) fn apply(conn: &Connection, change: &PolicyChange) -> Result<Outcome, StoreError> {
    match change {
        PolicyChange::Record(record) => {
            let inserted = conn
                .prepare_cached(
                    "INSERT INTO policy_versions (version, activated_at, source)
                     VALUES (?1, ?2, ?3) ON CONFLICT (version) DO NOTHING",
                )
                .and_then(|mut stmt| {
                    stmt.execute((
                        &record.version,
                        nanos(record.activated_at).map_err(carry)?,
                        &record.source,
                    ))
                })
                .map_err(|e| error::db("recording the policy version", e))?;
            Ok(if inserted > 0 {
                Outcome::Done
            } else {
                Outcome::Nothing
            })
        }
    }
}

pub(crate) fn versions(conn: &Connection) -> Result<Vec<PolicyVersionRecord>, StoreError> {
    let doing = "reading the policy history";
    let db = |e| error::db(doing, e);
    let mut stmt = conn
        .prepare_cached(
            "SELECT version, activated_at, source FROM policy_versions
             ORDER BY activated_at, version",
        )
        .map_err(db)?;
    let mut rows = stmt.query([]).map_err(db)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(db)? {
        let version: String = row.get(0).map_err(db)?;
        out.push(PolicyVersionRecord {
            activated_at: instant(
                row.get(1).map_err(db)?,
                "policy_versions",
                "activated_at",
                &version,
            )?,
            source: row.get(2).map_err(db)?,
            version,
        });
    }
    Ok(out)
}
