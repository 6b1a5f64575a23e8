//! Reading a subject: one statement that answers one row, the subject's values, activities and
//! objections folded into JSON lists (ids and ciphertexts as hex).
//!
//! One row instead of one per value matters more than it seems: the connection runs on its own
//! thread and hands each row over separately, copying every column of it, so a subject with ten
//! values read as ten rows costs ten hand-overs, eleven copies of the subject's own columns and
//! a hundred small allocations freed on another thread. Folded, a read is one hand-over of six
//! columns, and decoding the JSON here is cheaper than all of that.

use integritet_app::store::{
    ActivityRecord, ObjectionRecord, StoreError, SubjectRecord, ValueRecord,
};
use integritet_domain::subject::{Provenance, SubjectId, SubjectKind, ValueId};

use crate::conn::Connections;
use crate::convert::{instant, uuid};
use crate::error;

/// One value as the statement folds it: `[id, category, ciphertext, provenance, collected_at,
/// purposes, policy_version]`, ids and ciphertext in hex, purposes as the stored JSON list.
type FoldedValue = (String, String, String, String, i64, Vec<String>, String);

pub(crate) async fn subject(
    conns: &Connections,
    id: SubjectId,
) -> Result<Option<SubjectRecord>, StoreError> {
    let key = id.as_bytes().as_slice();
    let row = sqlx::query!(
        r#"SELECT s.kind, s.created_at, s.wrapped_key, s.restricted,
                  (SELECT json_group_array(json_array(a.kind, a.at) ORDER BY a.rowid)
                   FROM activities a WHERE a.subject_id = s.id) AS "activities!: String",
                  (SELECT json_group_array(json_array(o.purpose, o.at) ORDER BY o.purpose)
                   FROM objections o WHERE o.subject_id = s.id) AS "objections!: String",
                  (SELECT json_group_array(json_array(hex(v.id), v.category, hex(v.ciphertext),
                                                      v.provenance, v.collected_at,
                                                      json(v.purposes), v.policy_version)
                                           ORDER BY v.id)
                   FROM subject_values v WHERE v.subject_id = s.id) AS "values!: String"
           FROM subjects s
           WHERE s.id = ?1"#,
        key
    )
    .fetch_optional(&mut *conns.reader().await?)
    .await
    .map_err(|e| error::db("reading a subject", e))?;
    let Some(row) = row else {
        return Ok(None);
    };
    let activities: Vec<(String, i64)> = serde_json::from_str(&row.activities)
        .map_err(|_| error::corrupt("activities", "kind or at", id))?;
    let objections: Vec<(String, i64)> = serde_json::from_str(&row.objections)
        .map_err(|_| error::corrupt("objections", "purpose or at", id))?;
    let values: Vec<FoldedValue> = serde_json::from_str(&row.values)
        .map_err(|_| error::corrupt("subject_values", "a column", id))?;
    Ok(Some(SubjectRecord {
        id,
        kind: SubjectKind::parse(&row.kind)
            .ok_or_else(|| error::corrupt("subjects", "kind", id))?,
        created_at: instant(row.created_at, "subjects", "created_at", id)?,
        wrapped_key: row.wrapped_key,
        restricted: row.restricted != 0,
        objections: objections
            .into_iter()
            .map(|(purpose, at)| {
                Ok(ObjectionRecord {
                    purpose,
                    at: instant(at, "objections", "at", id)?,
                })
            })
            .collect::<Result<_, StoreError>>()?,
        values: values
            .into_iter()
            .map(|v| value(id, v))
            .collect::<Result<_, _>>()?,
        activities: activities
            .into_iter()
            .map(|(kind, at)| {
                Ok(ActivityRecord {
                    kind,
                    at: instant(at, "activities", "at", id)?,
                })
            })
            .collect::<Result<_, StoreError>>()?,
    }))
}

fn value(subject: SubjectId, folded: FoldedValue) -> Result<ValueRecord, StoreError> {
    let (id, category, ciphertext, provenance, collected_at, purposes, policy_version) = folded;
    let id = unhex(&id)
        .ok_or_else(|| error::corrupt("subject_values", "id", subject))
        .and_then(|bytes| uuid(&bytes, "subject_values", "id", subject))
        .map(ValueId)?;
    Ok(ValueRecord {
        id,
        ciphertext: unhex(&ciphertext)
            .ok_or_else(|| error::corrupt("subject_values", "ciphertext", id))?,
        provenance: Provenance::parse(&provenance)
            .ok_or_else(|| error::corrupt("subject_values", "provenance", id))?,
        collected_at: instant(collected_at, "subject_values", "collected_at", id)?,
        category,
        purposes,
        policy_version,
    })
}

/// Bytes from SQLite's `hex()`: upper-case digits, two per byte.
fn unhex(text: &str) -> Option<Vec<u8>> {
    fn digit(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'A'..=b'F' => Some(c - b'A' + 10),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        }
    }
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() / 2);
    for pair in bytes.chunks_exact(2) {
        if let [hi, lo] = pair {
            out.push(digit(*hi)? << 4 | digit(*lo)?);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::unhex;

    #[test]
    fn unhex_reads_sqlite_hex() {
        assert_eq!(unhex(""), Some(vec![]));
        assert_eq!(unhex("00FF10ab"), Some(vec![0, 255, 16, 171]));
        assert_eq!(unhex("0"), None);
        assert_eq!(unhex("0G"), None);
    }
}
