//! The writing half: rows converted before the write lock is taken, then every insert of a
//! change (live rows, archive rows, audit entries and the head) sent to SQLite as one query, so a
//! typical write costs four round trips to the connection's thread (begin, read the head,
//! insert, commit) whatever it touches.
//!
//! The query is always the same text, [`INSERT_ALL`]: each table's rows travel as one JSON array
//! bound to one parameter (BLOBs in hex), and one `INSERT … SELECT … FROM jsonb_each(?)` per
//! table unpacks them, as `UNNEST` does on PostgreSQL. So the statement is prepared once per
//! connection and reused by every write of any size; a statement whose text grew with its rows
//! (`VALUES (?, …), (?, …), …`) would be compiled again for most writes, which costs more than
//! the insert itself. Tables without rows get `[]`, which costs next to nothing.

use std::fmt::Write as _;

use integritet_app::store::{
    ActivityRecord, ArchiveRecord, IndexEntry, StoreError, SubjectRecord, ValueRecord,
};
use integritet_domain::audit::{AuditDraft, ChainHash};
use integritet_domain::subject::SubjectId;
use sqlx::{Connection, Sqlite, SqliteConnection, Transaction};

use crate::convert::{day_text, names_json, nanos};
use crate::error;

/// Every insert of a write. Its eight parameters, in order: six JSON arrays of rows (one array
/// per row, columns in the order listed, BLOBs as hex), then the new audit head's seq and hash,
/// or NULLs when the write appends nothing to the log. (Plain `?`s: sqlx binds each statement's
/// unnumbered parameters after the previous statement's, where numbered ones would be
/// misplaced.) `jsonb_each` yields the rows in array
/// order, so activities and audit entries keep the order they were given in.
const INSERT_ALL: &str = "\
INSERT INTO subjects (id, kind, created_at, wrapped_key, restricted)
    SELECT unhex(value ->> 0), value ->> 1, value ->> 2, unhex(value ->> 3), value ->> 4
    FROM jsonb_each(?);
INSERT INTO subject_values (id, subject_id, category, ciphertext, provenance, collected_at,
                            purposes, policy_version)
    SELECT unhex(value ->> 0), unhex(value ->> 1), value ->> 2, unhex(value ->> 3), value ->> 4,
           value ->> 5, value ->> 6, value ->> 7
    FROM jsonb_each(?);
INSERT INTO blind_index (kind, token, subject_id, value_id)
    SELECT value ->> 0, unhex(value ->> 1), unhex(value ->> 2), unhex(value ->> 3)
    FROM jsonb_each(?);
INSERT INTO activities (subject_id, kind, at)
    SELECT unhex(value ->> 0), value ->> 1, value ->> 2
    FROM jsonb_each(?);
INSERT INTO archive (reference, created_at, shred_after, purposes, categories, wrapped_key,
                     ciphertext, policy_version)
    SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, unhex(value ->> 5),
           unhex(value ->> 6), value ->> 7
    FROM jsonb_each(?);
INSERT INTO audit_log (seq, at, actor, role, purpose, subject_id, categories, action,
                       policy_version, detail, prev_hash, hash)
    SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, unhex(value ->> 5),
           value ->> 6, value ->> 7, value ->> 8, value ->> 9, unhex(value ->> 10),
           unhex(value ->> 11)
    FROM jsonb_each(?);
INSERT INTO audit_head (id, seq, hash)
    SELECT 1, seq, hash FROM (SELECT ? AS seq, ? AS hash) WHERE seq IS NOT NULL
    ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash;
";

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

/// One table's rows as a JSON array of arrays, written as rows are added: BLOBs as hex
/// strings (for `unhex()`), text escaped as JSON requires, integers, and nulls.
struct JsonRows {
    json: String,
    rows: usize,
}

/// One row being written into a [`JsonRows`].
struct Row<'a> {
    json: &'a mut String,
    first: bool,
}

impl JsonRows {
    fn new() -> JsonRows {
        JsonRows {
            json: String::from("["),
            rows: 0,
        }
    }

    /// Starts a row; its columns are added in order, and it ends when dropped.
    fn row(&mut self) -> Row<'_> {
        if self.rows > 0 {
            self.json.push(',');
        }
        self.json.push('[');
        self.rows += 1;
        Row {
            json: &mut self.json,
            first: true,
        }
    }

    fn finish(mut self) -> String {
        self.json.push(']');
        self.json
    }
}

impl Row<'_> {
    fn next(&mut self) -> &mut String {
        if !std::mem::take(&mut self.first) {
            self.json.push(',');
        }
        self.json
    }

    fn hex(mut self, bytes: &[u8]) -> Self {
        const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
        let json = self.next();
        json.reserve(bytes.len() * 2 + 2);
        json.push('"');
        for byte in bytes {
            json.push(char::from(DIGITS[usize::from(byte >> 4)]));
            json.push(char::from(DIGITS[usize::from(byte & 0xf)]));
        }
        json.push('"');
        self
    }

    fn text(mut self, text: &str) -> Self {
        let json = self.next();
        json.push('"');
        for c in text.chars() {
            match c {
                '"' => json.push_str("\\\""),
                '\\' => json.push_str("\\\\"),
                c if u32::from(c) < 0x20 => {
                    let _ = write!(json, "\\u{:04x}", u32::from(c));
                }
                c => json.push(c),
            }
        }
        json.push('"');
        self
    }

    fn int(mut self, n: i64) -> Self {
        let _ = write!(self.next(), "{n}");
        self
    }

    fn null(mut self) -> Self {
        self.next().push_str("null");
        self
    }

    fn opt_text(self, text: Option<&str>) -> Self {
        match text {
            Some(text) => self.text(text),
            None => self.null(),
        }
    }
}

impl Drop for Row<'_> {
    fn drop(&mut self) {
        self.json.push(']');
    }
}

/// The inserts of one write, gathered per table and executed as [`INSERT_ALL`].
pub(crate) struct Inserts {
    subjects: JsonRows,
    values: JsonRows,
    index: JsonRows,
    activities: JsonRows,
    archive: JsonRows,
    audit: JsonRows,
    head: Option<(i64, ChainHash)>,
}

impl Inserts {
    pub(crate) fn new() -> Inserts {
        Inserts {
            subjects: JsonRows::new(),
            values: JsonRows::new(),
            index: JsonRows::new(),
            activities: JsonRows::new(),
            archive: JsonRows::new(),
            audit: JsonRows::new(),
            head: None,
        }
    }

    fn rows(&self) -> usize {
        [
            &self.subjects,
            &self.values,
            &self.index,
            &self.activities,
            &self.archive,
            &self.audit,
        ]
        .iter()
        .map(|t| t.rows)
        .sum::<usize>()
            + usize::from(self.head.is_some())
    }

    pub(crate) async fn execute(
        self,
        conn: &mut SqliteConnection,
        doing: &str,
    ) -> Result<(), StoreError> {
        if self.rows() == 0 {
            return Ok(());
        }
        let (head_seq, head_hash) = match self.head {
            Some((seq, hash)) => (Some(seq), Some(hash.0.to_vec())),
            None => (None, None),
        };
        sqlx::query(INSERT_ALL)
            .bind(self.subjects.finish())
            .bind(self.values.finish())
            .bind(self.index.finish())
            .bind(self.activities.finish())
            .bind(self.archive.finish())
            .bind(self.audit.finish())
            .bind(head_seq)
            .bind(head_hash)
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

    /// Adds the rows to `inserts`. (Subjects are inserted first, so that values and index
    /// entries find their parents.)
    pub(crate) fn push_into(&self, inserts: &mut Inserts) {
        for row in &self.subjects {
            let r = row.record;
            inserts
                .subjects
                .row()
                .hex(r.id.as_bytes())
                .text(r.kind.as_str())
                .int(row.created_at)
                .hex(&r.wrapped_key)
                .int(i64::from(r.restricted));
        }
        for row in &self.values {
            let v = row.value;
            inserts
                .values
                .row()
                .hex(v.id.as_bytes())
                .hex(row.subject.as_bytes())
                .text(&v.category)
                .hex(&v.ciphertext)
                .text(v.provenance.as_str())
                .int(row.collected_at)
                .text(&row.purposes)
                .text(&v.policy_version);
        }
        for row in &self.index {
            inserts
                .index
                .row()
                .text(&row.entry.kind)
                .hex(&row.entry.token)
                .hex(row.subject.as_bytes())
                .hex(row.entry.value.as_bytes());
        }
        for row in &self.activities {
            inserts
                .activities
                .row()
                .hex(row.subject.as_bytes())
                .text(row.kind)
                .int(row.at);
        }
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
        for row in &self.0 {
            let r = row.record;
            inserts
                .archive
                .row()
                .text(r.reference.as_str())
                .int(row.created_at)
                .text(&row.shred_after)
                .text(&row.purposes)
                .text(&row.categories)
                .hex(&r.wrapped_key)
                .hex(&r.ciphertext)
                .text(&r.policy_version);
        }
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
    for row in rows {
        let entry = row.draft.clone().chain(prev);
        prev = Some((entry.seq, entry.hash));
        let seq = i64::try_from(entry.seq).map_err(|_| error::corrupt("audit_head", "seq", 1))?;
        let draft = &entry.draft;
        let audit = inserts
            .audit
            .row()
            .int(seq)
            .int(row.at)
            .text(&draft.actor)
            .opt_text(draft.role.as_deref())
            .opt_text(draft.purpose.as_deref());
        let audit = match &draft.subject {
            Some(subject) => audit.hex(subject.as_bytes()),
            None => audit.null(),
        };
        audit
            .text(&row.categories)
            .text(draft.action.as_str())
            .text(&draft.policy_version)
            .opt_text(draft.detail.as_deref())
            .hex(&entry.prev_hash.0)
            .hex(&entry.hash.0);
        inserts.head = Some((seq, entry.hash));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::JsonRows;

    #[test]
    fn rows_become_one_json_array() {
        assert_eq!(JsonRows::new().finish(), "[]");
        let mut rows = JsonRows::new();
        rows.row()
            .hex(&[0, 1, 0xab, 0xff])
            .text("a\"b\\c\nd é")
            .int(-7)
            .null()
            .opt_text(Some("x"));
        rows.row().hex(&[]).int(8);
        let json = rows.finish();
        assert_eq!(
            json,
            r#"[["0001ABFF","a\"b\\c\u000ad é",-7,null,"x"],["",8]]"#
        );
        let parsed: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(parsed[0][1], "a\"b\\c\nd é");
    }

    /// Each statement of `INSERT_ALL` gets its own parameter, the last ones included.
    #[tokio::test]
    async fn every_statement_gets_its_rows() {
        use sqlx::{Connection, SqliteConnection};
        let mut conn = SqliteConnection::connect("sqlite::memory:").await.unwrap();
        crate::MIGRATOR.run(&mut conn).await.unwrap();
        let mut subjects = JsonRows::new();
        subjects
            .row()
            .hex(&[7; 16])
            .text("person")
            .int(1)
            .hex(&[1, 2])
            .int(0);
        let mut activities = JsonRows::new();
        activities.row().hex(&[7; 16]).text("purchase").int(2);
        let mut audit = JsonRows::new();
        audit
            .row()
            .int(1)
            .int(3)
            .text("token:t")
            .null()
            .text("purchase")
            .hex(&[7; 16])
            .text("[]")
            .text("read")
            .text("pv1")
            .null()
            .hex(&[0; 32])
            .hex(&[9; 32]);
        sqlx::query(super::INSERT_ALL)
            .bind(subjects.finish())
            .bind("[]")
            .bind("[]")
            .bind(activities.finish())
            .bind("[]")
            .bind(audit.finish())
            .bind(Some(1i64))
            .bind(Some(vec![9u8; 32]))
            .execute(&mut conn)
            .await
            .unwrap();
        let count = |sql: &'static str| sqlx::query_scalar::<_, i64>(sql);
        for (table, sql) in [
            ("subjects", "SELECT count(*) FROM subjects"),
            ("activities", "SELECT count(*) FROM activities"),
            ("audit_log", "SELECT count(*) FROM audit_log"),
            (
                "audit_head",
                "SELECT count(*) FROM audit_head WHERE seq = 1",
            ),
        ] {
            assert_eq!(count(sql).fetch_one(&mut conn).await.unwrap(), 1, "{table}");
        }
    }
}
