//! The writing half: rows converted before the write lock is taken, then every insert of a
//! change (live rows, archive rows, audit entries and the head) sent to SQLite as one
//! multi-statement query, so a typical write costs four round trips to the connection's thread
//! (begin, read the head, insert, commit) whatever it touches.

use integritet_app::store::{
    ActivityRecord, ArchiveRecord, IndexEntry, StoreError, SubjectRecord, ValueRecord,
};
use integritet_domain::audit::{AuditDraft, ChainHash};
use integritet_domain::subject::SubjectId;
use sqlx::query_builder::Separated;
use sqlx::{Connection, QueryBuilder, Sqlite, SqliteConnection, Transaction};

use crate::convert::{day_text, names_json, nanos};
use crate::error;

/// SQLite refuses a statement with more bound parameters than this.
const MAX_BINDS: usize = 32_766;
/// Rows per INSERT statement: enough that a big import needs few statements, few enough that
/// each stays cheap to prepare.
const MAX_ROWS: usize = 256;
/// Queries with at most this many rows are kept prepared for reuse: the shapes of everyday
/// writes recur, the shapes of big imports do not and would only crowd the cache.
const CACHED_ROWS: usize = 64;

/// Starts a write on the writer connection, taking SQLite's write lock at once,
/// so the transaction never has to upgrade a read lock (and cannot fail half-way with "busy"
/// when another process writes the same file).
pub(crate) async fn begin<'c>(
    writer: &'c mut SqliteConnection,
    doing: &str,
) -> Result<Transaction<'c, Sqlite>, StoreError> {
    writer
        .begin_with("BEGIN IMMEDIATE")
        .await
        .map_err(|e| error::db(doing, e))
}

/// Ends a write: chains the audit entries (of one or several callers, in order) after the
/// recorded head, sends every insert in one query, and commits.
pub(crate) async fn finish(
    mut tx: Transaction<'_, Sqlite>,
    mut inserts: Inserts,
    audit: &[&AuditRows],
    doing: &str,
) -> Result<(), StoreError> {
    chain_into(audit, &mut tx, &mut inserts).await?;
    inserts.execute(&mut tx, doing).await?;
    tx.commit().await.map_err(|e| error::db(doing, e))
}

/// Abandons a write that turned out to change nothing.
pub(crate) async fn rollback(tx: Transaction<'_, Sqlite>, doing: &str) -> Result<(), StoreError> {
    tx.rollback().await.map_err(|e| error::db(doing, e))
}

/// Splits `rows` into statements of `max` rows and a tail in descending powers of two, so that
/// batches of any length share a handful of statement shapes.
fn batches<T>(mut rows: &[T], max: usize) -> impl Iterator<Item = &[T]> {
    std::iter::from_fn(move || {
        if rows.is_empty() {
            return None;
        }
        let n = if rows.len() >= max {
            max
        } else {
            // The largest power of two not above the length.
            1 << (usize::BITS - 1 - rows.len().leading_zeros())
        };
        let (head, tail) = rows.split_at(n);
        rows = tail;
        Some(head)
    })
}

/// INSERT statements gathered into one query, executed in one round trip.
pub(crate) struct Inserts {
    query: QueryBuilder<Sqlite>,
    rows: usize,
}

impl Inserts {
    pub(crate) fn new() -> Inserts {
        Inserts {
            query: QueryBuilder::new(""),
            rows: 0,
        }
    }

    /// Adds statements inserting `rows`: `insert` is the statement up to `VALUES`, and `push`
    /// binds one row's `columns` values in order. Values are always bound, never spliced.
    fn push<T>(
        &mut self,
        insert: &'static str,
        columns: usize,
        rows: &[T],
        mut push: impl FnMut(&mut Separated<'_, Sqlite, &'static str>, &T),
    ) {
        let max = (MAX_BINDS / columns).clamp(1, MAX_ROWS);
        for batch in batches(rows, max) {
            self.query.push(insert);
            self.query
                .push_values(batch, |mut row, item| push(&mut row, item));
            self.query.push(";\n");
        }
        self.rows += rows.len();
    }

    pub(crate) async fn execute(
        mut self,
        conn: &mut SqliteConnection,
        doing: &str,
    ) -> Result<(), StoreError> {
        if self.rows == 0 {
            return Ok(());
        }
        self.query
            .build()
            .persistent(self.rows <= CACHED_ROWS)
            .execute(conn)
            .await
            .map_err(|e| error::db(doing, e))?;
        Ok(())
    }
}

struct SubjectRow<'a> {
    record: &'a SubjectRecord,
    created_at: i64,
}

struct ValueRow<'a> {
    subject: &'a SubjectId,
    value: &'a ValueRecord,
    collected_at: i64,
    purposes: String,
}

struct IndexRow<'a> {
    subject: &'a SubjectId,
    entry: &'a IndexEntry,
}

struct ActivityRow<'a> {
    subject: &'a SubjectId,
    kind: &'a str,
    at: i64,
}

/// Rows for the live tables, converted before the transaction starts so that the write lock
/// is held only for the inserts.
#[derive(Default)]
pub(crate) struct LiveRows<'a> {
    subjects: Vec<SubjectRow<'a>>,
    values: Vec<ValueRow<'a>>,
    index: Vec<IndexRow<'a>>,
    activities: Vec<ActivityRow<'a>>,
}

impl<'a> LiveRows<'a> {
    /// A new subject with its values and activities.
    pub(crate) fn subject(&mut self, record: &'a SubjectRecord) -> Result<(), StoreError> {
        self.subjects.push(SubjectRow {
            record,
            created_at: nanos(record.created_at)?,
        });
        self.values(&record.id, &record.values)?;
        self.activities(&record.id, &record.activities)
    }

    pub(crate) fn values(
        &mut self,
        subject: &'a SubjectId,
        values: &'a [ValueRecord],
    ) -> Result<(), StoreError> {
        for value in values {
            self.values.push(ValueRow {
                subject,
                value,
                collected_at: nanos(value.collected_at)?,
                purposes: names_json(&value.purposes)?,
            });
        }
        Ok(())
    }

    pub(crate) fn index(&mut self, subject: &'a SubjectId, entries: &'a [IndexEntry]) {
        self.index
            .extend(entries.iter().map(|entry| IndexRow { subject, entry }));
    }

    pub(crate) fn activities(
        &mut self,
        subject: &'a SubjectId,
        activities: &'a [ActivityRecord],
    ) -> Result<(), StoreError> {
        for activity in activities {
            self.activities.push(ActivityRow {
                subject,
                kind: &activity.kind,
                at: nanos(activity.at)?,
            });
        }
        Ok(())
    }

    /// Subjects go first so that values and index entries find their parents.
    pub(crate) fn push_into(&self, inserts: &mut Inserts) {
        inserts.push(
            "INSERT INTO subjects (id, kind, created_at, wrapped_key, restricted) ",
            5,
            &self.subjects,
            |b, row| {
                b.push_bind(row.record.id.as_bytes().as_slice())
                    .push_bind(row.record.kind.as_str())
                    .push_bind(row.created_at)
                    .push_bind(row.record.wrapped_key.as_slice())
                    .push_bind(row.record.restricted);
            },
        );
        inserts.push(
            "INSERT INTO subject_values (id, subject_id, category, ciphertext, provenance, \
             collected_at, purposes, policy_version) ",
            8,
            &self.values,
            |b, row| {
                b.push_bind(row.value.id.as_bytes().as_slice())
                    .push_bind(row.subject.as_bytes().as_slice())
                    .push_bind(row.value.category.as_str())
                    .push_bind(row.value.ciphertext.as_slice())
                    .push_bind(row.value.provenance.as_str())
                    .push_bind(row.collected_at)
                    .push_bind(row.purposes.as_str())
                    .push_bind(row.value.policy_version.as_str());
            },
        );
        inserts.push(
            "INSERT INTO blind_index (kind, token, subject_id, value_id) ",
            4,
            &self.index,
            |b, row| {
                b.push_bind(row.entry.kind.as_str())
                    .push_bind(row.entry.token.as_slice())
                    .push_bind(row.subject.as_bytes().as_slice())
                    .push_bind(row.entry.value.as_bytes().as_slice());
            },
        );
        inserts.push(
            "INSERT INTO activities (subject_id, kind, at) ",
            3,
            &self.activities,
            |b, row| {
                b.push_bind(row.subject.as_bytes().as_slice())
                    .push_bind(row.kind)
                    .push_bind(row.at);
            },
        );
    }
}

struct ArchiveRow<'a> {
    record: &'a ArchiveRecord,
    created_at: i64,
    shred_after: String,
    purposes: String,
    categories: String,
}

/// Archive entries, converted before the transaction starts.
pub(crate) struct ArchiveRows<'a>(Vec<ArchiveRow<'a>>);

impl<'a> ArchiveRows<'a> {
    pub(crate) fn new(records: &'a [ArchiveRecord]) -> Result<ArchiveRows<'a>, StoreError> {
        records
            .iter()
            .map(|record| {
                Ok(ArchiveRow {
                    record,
                    created_at: nanos(record.created_at)?,
                    shred_after: day_text(record.shred_after),
                    purposes: names_json(&record.purposes)?,
                    categories: names_json(&record.categories)?,
                })
            })
            .collect::<Result<_, _>>()
            .map(ArchiveRows)
    }

    pub(crate) fn push_into(&self, inserts: &mut Inserts) {
        inserts.push(
            "INSERT INTO archive (reference, created_at, shred_after, purposes, categories, \
             wrapped_key, ciphertext, policy_version) ",
            8,
            &self.0,
            |b, row| {
                b.push_bind(row.record.reference.as_str())
                    .push_bind(row.created_at)
                    .push_bind(row.shred_after.as_str())
                    .push_bind(row.purposes.as_str())
                    .push_bind(row.categories.as_str())
                    .push_bind(row.record.wrapped_key.as_slice())
                    .push_bind(row.record.ciphertext.as_slice())
                    .push_bind(row.record.policy_version.as_str());
            },
        );
    }
}

/// Audit drafts converted for storage, waiting for their place in the chain.
pub(crate) struct AuditRows(Vec<AuditRow>);

struct AuditRow {
    draft: AuditDraft,
    at: i64,
    categories: String,
}

impl AuditRows {
    /// Converts drafts before the transaction starts.
    pub(crate) fn new(drafts: Vec<AuditDraft>) -> Result<AuditRows, StoreError> {
        drafts
            .into_iter()
            .map(|draft| {
                Ok(AuditRow {
                    at: nanos(draft.at)?,
                    categories: names_json(&draft.categories)?,
                    draft,
                })
            })
            .collect::<Result<_, _>>()
            .map(AuditRows)
    }
}

/// Reads the head inside the caller's transaction, gives each draft its seq and hash after it,
/// and adds the inserts of the entries and of the new head. The caller holds the write lock
/// (`BEGIN IMMEDIATE` on the one writer connection) from before the head is read until commit,
/// so no other transaction can chain onto the same head and fork the log.
async fn chain_into(
    audit: &[&AuditRows],
    conn: &mut SqliteConnection,
    inserts: &mut Inserts,
) -> Result<(), StoreError> {
    let rows: Vec<&AuditRow> = audit.iter().flat_map(|part| &part.0).collect();
    if rows.is_empty() {
        return Ok(());
    }
    let head = sqlx::query!(r#"SELECT seq, hash FROM audit_head WHERE id = 1"#)
        .fetch_optional(&mut *conn)
        .await
        .map_err(|e| error::db("reading the audit head", e))?;
    let mut prev = match head {
        Some(head) => Some((
            u64::try_from(head.seq).map_err(|_| error::corrupt("audit_head", "seq", 1))?,
            ChainHash::from_slice(&head.hash)
                .ok_or_else(|| error::corrupt("audit_head", "hash", 1))?,
        )),
        None => None,
    };
    let mut entries = Vec::with_capacity(rows.len());
    for row in rows {
        let entry = row.draft.clone().chain(prev);
        prev = Some((entry.seq, entry.hash));
        let seq = i64::try_from(entry.seq).map_err(|_| error::corrupt("audit_head", "seq", 1))?;
        entries.push((seq, entry, row.at, row.categories.as_str()));
    }
    inserts.push(
        "INSERT INTO audit_log (seq, at, actor, role, purpose, subject_id, categories, \
             action, policy_version, detail, prev_hash, hash) ",
        12,
        &entries,
        |b, (seq, entry, at, categories)| {
            let draft = &entry.draft;
            b.push_bind(*seq)
                .push_bind(*at)
                .push_bind(draft.actor.as_str())
                .push_bind(draft.role.as_deref())
                .push_bind(draft.purpose.as_deref())
                .push_bind(draft.subject.as_ref().map(|s| s.as_bytes().as_slice()))
                .push_bind(*categories)
                .push_bind(draft.action.as_str())
                .push_bind(draft.policy_version.as_str())
                .push_bind(draft.detail.as_deref())
                .push_bind(entry.prev_hash.0.as_slice())
                .push_bind(entry.hash.0.as_slice());
        },
    );
    if let Some((seq, entry, ..)) = entries.last() {
        let query = &mut inserts.query;
        query.push("INSERT INTO audit_head (id, seq, hash) VALUES (1, ");
        query.push_bind(*seq);
        query.push(", ");
        query.push_bind(entry.hash.0.to_vec());
        query.push(") ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash;\n");
        inserts.rows += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::batches;

    #[test]
    fn batches_cover_everything_with_few_shapes() {
        for len in [0usize, 1, 2, 3, 7, 255, 256, 257, 1000, 2049] {
            let rows: Vec<usize> = (0..len).collect();
            let sizes: Vec<usize> = batches(&rows, 256).map(<[usize]>::len).collect();
            assert_eq!(sizes.iter().sum::<usize>(), len);
            assert!(sizes.iter().all(|&n| n == 256 || n.is_power_of_two()));
            assert!(sizes.windows(2).all(|w| w[0] >= w[1]));
        }
    }
}
