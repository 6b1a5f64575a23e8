//! The PostgreSQL implementation of Integritet's [`Store`], for one or more servers sharing a
//! database.
//!
//! - Migrations are embedded and run on [`PostgresStore::connect`]; sqlx's migrator holds an
//!   advisory lock while it works, so servers that start together do not trip over each other.
//! - Every change runs in one transaction together with its audit entries. The audit chain is
//!   kept whole across servers by locking the single `audit_head` row (see `chain.rs`).
//! - Instants are stored as bigint nanoseconds since the Unix epoch and read back exactly, in
//!   UTC (years 1677 to 2262). Shred days are `date`s.
//! - Batches go in with one `INSERT ... SELECT FROM UNNEST(...)` per table, not a row at a time.

mod chain;
mod convert;
mod error;
mod group;
mod requests;
mod users;

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use integritet_app::store::{
    ActivityRecord, ArchiveRecord, ErasureRecord, IndexEntry, NewSubject, ObjectionRecord,
    PolicyVersionRecord, Store, StoreCounts, StoreError, SubjectRecord, TokenRecord, ValueRecord,
    WrappedKeyRow,
};
use integritet_domain::audit::{AuditDraft, AuditEntry, ChainHash};
use integritet_domain::subject::{ArchiveRef, SubjectId, ValueId};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgConnection, PgPool};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::convert::{
    Flattened, archive_ref_from_db, from_ns, kind_from_db, provenance_from_db, to_ns,
};
use crate::error::{corrupt, from_migrate, from_sqlx};

/// The schema, embedded so the binary carries its own migrations.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!();

/// Connections per server. PostgreSQL's default limit is 100, shared by every server.
const MAX_CONNECTIONS: u32 = 16;

/// How long a request waits for a free connection before reporting the database unavailable.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// Inserts of up to this many subjects share transactions with other small writes (see
/// `group`); larger ones (imports) are worth a transaction of their own.
const GROUPED_SUBJECTS: usize = 16;

/// A [`Store`] on a PostgreSQL database.
#[derive(Clone)]
pub struct PostgresStore {
    pool: PgPool,
    /// For the `pg_dump` hint; never the whole URL, which may hold a password.
    database: Option<String>,
    /// Small inserts and audit appends waiting to share the next transaction.
    appends: Arc<group::AppendQueue>,
}

impl fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresStore")
            .field("database", &self.database)
            .field("connections", &self.pool.size())
            .finish()
    }
}

impl PostgresStore {
    /// Connects to `url` (`postgres://user:password@host:port/database`) and brings the schema
    /// up to date.
    pub async fn connect(url: &str) -> Result<PostgresStore, StoreError> {
        let options: PgConnectOptions = url.parse().map_err(|e| {
            StoreError::Unavailable(format!(
                "the PostgreSQL URL is not valid ({e}); write it as \
                 postgres://USER:PASSWORD@HOST:PORT/DATABASE"
            ))
        })?;
        let database = options.get_database().map(str::to_owned);
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            // No ping before every use: it costs a round trip per call. After a server
            // restart each stale connection fails one call (Unavailable) and is replaced.
            .test_before_acquire(false)
            .connect_with(options)
            .await
            .map_err(|e| match from_sqlx(e) {
                StoreError::Unavailable(m) => {
                    StoreError::Unavailable(format!("could not connect to PostgreSQL: {m}"))
                }
                other => other,
            })?;
        MIGRATOR.run(&pool).await.map_err(from_migrate)?;
        Ok(PostgresStore {
            pool,
            database,
            appends: Arc::default(),
        })
    }

    async fn begin(&self) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, StoreError> {
        self.pool.begin().await.map_err(from_sqlx)
    }

    async fn conn(&self) -> Result<sqlx::pool::PoolConnection<sqlx::Postgres>, StoreError> {
        self.pool.acquire().await.map_err(from_sqlx)
    }
}

async fn commit(tx: sqlx::Transaction<'_, sqlx::Postgres>) -> Result<(), StoreError> {
    tx.commit().await.map_err(from_sqlx)
}

async fn insert_subject_rows(
    conn: &mut PgConnection,
    subjects: Vec<SubjectRecord>,
) -> Result<(), StoreError> {
    if subjects.is_empty() {
        return Ok(());
    }
    let mut id = Vec::with_capacity(subjects.len());
    let mut kind = Vec::with_capacity(subjects.len());
    let mut created_at = Vec::with_capacity(subjects.len());
    let mut wrapped_key = Vec::with_capacity(subjects.len());
    let mut restricted = Vec::with_capacity(subjects.len());
    for subject in subjects {
        id.push(subject.id.0);
        kind.push(subject.kind.as_str().to_owned());
        created_at.push(to_ns(subject.created_at)?);
        wrapped_key.push(subject.wrapped_key);
        restricted.push(subject.restricted);
    }
    sqlx::query!(
        r#"
        INSERT INTO subjects (id, kind, created_at_ns, wrapped_key, restricted)
        SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::int8[], $4::bytea[], $5::bool[])
        "#,
        &id,
        &kind,
        &created_at,
        &wrapped_key,
        &restricted,
    )
    .execute(&mut *conn)
    .await
    .map_err(from_sqlx)?;
    Ok(())
}

/// Inserts values, each with the subject it belongs to.
async fn insert_values(
    conn: &mut PgConnection,
    values: Vec<(SubjectId, ValueRecord)>,
) -> Result<(), StoreError> {
    if values.is_empty() {
        return Ok(());
    }
    let n = values.len();
    let mut id = Vec::with_capacity(n);
    let mut subject = Vec::with_capacity(n);
    let mut category = Vec::with_capacity(n);
    let mut ciphertext = Vec::with_capacity(n);
    let mut provenance = Vec::with_capacity(n);
    let mut collected_at = Vec::with_capacity(n);
    let mut purposes = Flattened::default();
    let mut policy_version = Vec::with_capacity(n);
    for (owner, value) in values {
        id.push(value.id.0);
        subject.push(owner.0);
        category.push(value.category);
        ciphertext.push(value.ciphertext);
        provenance.push(value.provenance.as_str().to_owned());
        collected_at.push(to_ns(value.collected_at)?);
        purposes.push(value.purposes)?;
        policy_version.push(value.policy_version);
    }
    sqlx::query!(
        r#"
        INSERT INTO subject_values (id, subject_id, category, ciphertext, provenance,
                                    collected_at_ns, purposes, policy_version)
        SELECT v.id, v.subject_id, v.category, v.ciphertext, v.provenance, v.collected_at_ns,
               ($7::text[])[v.purpose_from:v.purpose_to], v.policy_version
        FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], $4::bytea[], $5::text[], $6::int8[],
                    $8::int4[], $9::int4[], $10::text[])
             AS v(id, subject_id, category, ciphertext, provenance, collected_at_ns,
                  purpose_from, purpose_to, policy_version)
        "#,
        &id,
        &subject,
        &category,
        &ciphertext,
        &provenance,
        &collected_at,
        &purposes.items,
        &purposes.from,
        &purposes.to,
        &policy_version,
    )
    .execute(&mut *conn)
    .await
    .map_err(from_sqlx)?;
    Ok(())
}

/// Inserts blind-index entries, each with the subject whose value it points at.
async fn insert_index(
    conn: &mut PgConnection,
    entries: Vec<(SubjectId, IndexEntry)>,
) -> Result<(), StoreError> {
    if entries.is_empty() {
        return Ok(());
    }
    let n = entries.len();
    let mut kind = Vec::with_capacity(n);
    let mut token = Vec::with_capacity(n);
    let mut subject = Vec::with_capacity(n);
    let mut value = Vec::with_capacity(n);
    for (owner, entry) in entries {
        kind.push(entry.kind);
        token.push(entry.token.to_vec());
        subject.push(owner.0);
        value.push(entry.value.0);
    }
    sqlx::query!(
        r#"
        INSERT INTO blind_index (kind, token, subject_id, value_id)
        SELECT * FROM UNNEST($1::text[], $2::bytea[], $3::uuid[], $4::uuid[])
        "#,
        &kind,
        &token,
        &subject,
        &value,
    )
    .execute(&mut *conn)
    .await
    .map_err(from_sqlx)?;
    Ok(())
}

async fn insert_activities(
    conn: &mut PgConnection,
    activities: Vec<(SubjectId, ActivityRecord)>,
) -> Result<(), StoreError> {
    if activities.is_empty() {
        return Ok(());
    }
    let n = activities.len();
    let mut subject = Vec::with_capacity(n);
    let mut kind = Vec::with_capacity(n);
    let mut at = Vec::with_capacity(n);
    for (owner, activity) in activities {
        subject.push(owner.0);
        kind.push(activity.kind);
        at.push(to_ns(activity.at)?);
    }
    sqlx::query!(
        r#"
        INSERT INTO activities (subject_id, kind, at_ns)
        SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::int8[])
        "#,
        &subject,
        &kind,
        &at,
    )
    .execute(&mut *conn)
    .await
    .map_err(from_sqlx)?;
    Ok(())
}

async fn insert_archive(
    conn: &mut PgConnection,
    records: Vec<ArchiveRecord>,
) -> Result<(), StoreError> {
    if records.is_empty() {
        return Ok(());
    }
    let n = records.len();
    let mut reference = Vec::with_capacity(n);
    let mut created_at = Vec::with_capacity(n);
    let mut shred_after = Vec::with_capacity(n);
    let mut purposes = Flattened::default();
    let mut categories = Flattened::default();
    let mut wrapped_key = Vec::with_capacity(n);
    let mut ciphertext = Vec::with_capacity(n);
    let mut policy_version = Vec::with_capacity(n);
    for record in records {
        reference.push(record.reference.as_str().to_owned());
        created_at.push(to_ns(record.created_at)?);
        shred_after.push(record.shred_after);
        purposes.push(record.purposes)?;
        categories.push(record.categories)?;
        wrapped_key.push(record.wrapped_key);
        ciphertext.push(record.ciphertext);
        policy_version.push(record.policy_version);
    }
    sqlx::query!(
        r#"
        INSERT INTO archive (reference, created_at_ns, shred_after, purposes, categories,
                             wrapped_key, ciphertext, policy_version)
        SELECT a.reference, a.created_at_ns, a.shred_after,
               ($4::text[])[a.purpose_from:a.purpose_to],
               ($7::text[])[a.category_from:a.category_to],
               a.wrapped_key, a.ciphertext, a.policy_version
        FROM UNNEST($1::text[], $2::int8[], $3::date[], $5::int4[], $6::int4[], $8::int4[],
                    $9::int4[], $10::bytea[], $11::bytea[], $12::text[])
             AS a(reference, created_at_ns, shred_after, purpose_from, purpose_to,
                  category_from, category_to, wrapped_key, ciphertext, policy_version)
        "#,
        &reference,
        &created_at,
        &shred_after,
        &purposes.items,
        &purposes.from,
        &purposes.to,
        &categories.items,
        &categories.from,
        &categories.to,
        &wrapped_key,
        &ciphertext,
        &policy_version,
    )
    .execute(&mut *conn)
    .await
    .map_err(from_sqlx)?;
    Ok(())
}

/// A token row read back.
fn token_record(
    id: String,
    hash: &[u8],
    role: String,
    label: Option<String>,
    created_at_ns: i64,
    expires_at_ns: Option<i64>,
    revoked_at_ns: Option<i64>,
) -> Result<TokenRecord, StoreError> {
    let hash = <[u8; 32]>::try_from(hash).map_err(|_| {
        corrupt(format!(
            "the hash of token {id} is {} bytes long instead of 32",
            hash.len()
        ))
    })?;
    Ok(TokenRecord {
        created_at: from_ns(created_at_ns)?,
        expires_at: expires_at_ns.map(from_ns).transpose()?,
        revoked_at: revoked_at_ns.map(from_ns).transpose()?,
        id,
        hash,
        role,
        label,
    })
}

/// Locks the subject against erasure until the transaction ends; false when there is none.
async fn lock_subject(conn: &mut PgConnection, subject: SubjectId) -> Result<bool, StoreError> {
    let found = sqlx::query_scalar!(
        "SELECT id FROM subjects WHERE id = $1 FOR KEY SHARE",
        subject.0
    )
    .fetch_optional(&mut *conn)
    .await
    .map_err(from_sqlx)?;
    Ok(found.is_some())
}

/// Inserts subjects with their values, index entries and activities, one statement per table.
pub(crate) async fn insert_subjects_in(
    conn: &mut PgConnection,
    subjects: Vec<NewSubject>,
) -> Result<(), StoreError> {
    let mut records = Vec::with_capacity(subjects.len());
    let mut values = Vec::new();
    let mut index = Vec::new();
    let mut activities = Vec::new();
    for NewSubject {
        mut record,
        index: entries,
    } in subjects
    {
        let id = record.id;
        values.extend(record.values.drain(..).map(|v| (id, v)));
        activities.extend(record.activities.drain(..).map(|a| (id, a)));
        index.extend(entries.into_iter().map(|e| (id, e)));
        records.push(record);
    }
    insert_subject_rows(conn, records).await?;
    insert_values(conn, values).await?;
    insert_index(conn, index).await?;
    insert_activities(conn, activities).await
}

#[async_trait]
impl Store for PostgresStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn insert_subjects(
        &self,
        subjects: Vec<NewSubject>,
        audit: Vec<AuditDraft>,
    ) -> Result<(), StoreError> {
        if subjects.len() <= GROUPED_SUBJECTS {
            let job = group::Job { subjects, audit };
            return self.appends.write(&self.pool, job).await;
        }
        let mut tx = self.begin().await?;
        insert_subjects_in(&mut tx, subjects).await?;
        chain::append(&mut tx, audit).await?;
        commit(tx).await
    }

    async fn subject(&self, id: SubjectId) -> Result<Option<SubjectRecord>, StoreError> {
        // One statement, so one snapshot: activities, objections and values are read as of the
        // same moment, and an erasure either hides the whole subject or none of it. The
        // children come back as parallel arrays (one aggregate per column, each in the same
        // order), which keeps nanosecond times exact as bigints. A value's purposes (itself an
        // array) are flattened into one array plus a count per value.
        let row = sqlx::query!(
            r#"
            SELECT s.kind, s.created_at_ns, s.wrapped_key, s.restricted,
                   a.kinds AS "activity_kinds!", a.ats AS "activity_ats!",
                   o.purposes AS "objection_purposes!", o.ats AS "objection_ats!",
                   v.ids AS "value_ids!", v.categories AS "categories!",
                   v.ciphertexts AS "ciphertexts!", v.provenances AS "provenances!",
                   v.collected_ats AS "collected_ats!", v.purpose_counts AS "purpose_counts!",
                   v.policy_versions AS "policy_versions!",
                   ARRAY(
                       SELECT p.purpose
                       FROM subject_values pv,
                            unnest(pv.purposes) WITH ORDINALITY AS p (purpose, n)
                       WHERE pv.subject_id = s.id
                       ORDER BY pv.id, p.n
                   ) AS "value_purposes!"
            FROM subjects s
            CROSS JOIN LATERAL (
                SELECT COALESCE(array_agg(kind ORDER BY at_ns, id), '{}') AS kinds,
                       COALESCE(array_agg(at_ns ORDER BY at_ns, id), '{}') AS ats
                FROM activities WHERE subject_id = s.id
            ) a
            CROSS JOIN LATERAL (
                SELECT COALESCE(array_agg(purpose ORDER BY purpose), '{}') AS purposes,
                       COALESCE(array_agg(at_ns ORDER BY purpose), '{}') AS ats
                FROM objections WHERE subject_id = s.id
            ) o
            CROSS JOIN LATERAL (
                SELECT COALESCE(array_agg(id ORDER BY id), '{}') AS ids,
                       COALESCE(array_agg(category ORDER BY id), '{}') AS categories,
                       COALESCE(array_agg(ciphertext ORDER BY id), '{}') AS ciphertexts,
                       COALESCE(array_agg(provenance ORDER BY id), '{}') AS provenances,
                       COALESCE(array_agg(collected_at_ns ORDER BY id), '{}') AS collected_ats,
                       COALESCE(array_agg(cardinality(purposes) ORDER BY id), '{}')
                           AS purpose_counts,
                       COALESCE(array_agg(policy_version ORDER BY id), '{}') AS policy_versions
                FROM subject_values WHERE subject_id = s.id
            ) v
            WHERE s.id = $1
            "#,
            id.0
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(from_sqlx)?;
        let Some(row) = row else {
            return Ok(None);
        };
        let mismatched = || {
            corrupt(format!(
                "subject {}: its aggregated rows do not line up",
                id.0
            ))
        };
        if row.activity_kinds.len() != row.activity_ats.len() {
            return Err(mismatched());
        }
        let activities = row
            .activity_kinds
            .into_iter()
            .zip(row.activity_ats)
            .map(|(kind, at)| {
                Ok(ActivityRecord {
                    kind,
                    at: from_ns(at)?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        if row.objection_purposes.len() != row.objection_ats.len() {
            return Err(mismatched());
        }
        let objections = row
            .objection_purposes
            .into_iter()
            .zip(row.objection_ats)
            .map(|(purpose, at)| {
                Ok(ObjectionRecord {
                    purpose,
                    at: from_ns(at)?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let count = row.value_ids.len();
        if [
            row.categories.len(),
            row.ciphertexts.len(),
            row.provenances.len(),
            row.collected_ats.len(),
            row.purpose_counts.len(),
            row.policy_versions.len(),
        ]
        .iter()
        .any(|&len| len != count)
        {
            return Err(mismatched());
        }
        let mut purposes = row.value_purposes.into_iter();
        let mut values = Vec::with_capacity(count);
        for ((((((value_id, category), ciphertext), provenance), collected_at), n), version) in row
            .value_ids
            .into_iter()
            .zip(row.categories)
            .zip(row.ciphertexts)
            .zip(row.provenances)
            .zip(row.collected_ats)
            .zip(row.purpose_counts)
            .zip(row.policy_versions)
        {
            let n = usize::try_from(n).map_err(|_| mismatched())?;
            let these: Vec<String> = purposes.by_ref().take(n).collect();
            if these.len() != n {
                return Err(mismatched());
            }
            values.push(ValueRecord {
                id: ValueId(value_id),
                category,
                ciphertext,
                provenance: provenance_from_db(&provenance)?,
                collected_at: from_ns(collected_at)?,
                purposes: these,
                policy_version: version,
            });
        }
        if purposes.next().is_some() {
            return Err(mismatched());
        }
        Ok(Some(SubjectRecord {
            id,
            kind: kind_from_db(&row.kind)?,
            created_at: from_ns(row.created_at_ns)?,
            wrapped_key: row.wrapped_key,
            restricted: row.restricted,
            objections,
            values,
            activities,
        }))
    }

    async fn lookup(&self, kind: &str, token: &[u8; 32]) -> Result<Vec<SubjectId>, StoreError> {
        let ids = sqlx::query_scalar!(
            r#"
            SELECT DISTINCT subject_id FROM blind_index
            WHERE kind = $1 AND token = $2
            ORDER BY subject_id
            "#,
            kind,
            token.as_slice(),
        )
        .fetch_all(&self.pool)
        .await
        .map_err(from_sqlx)?;
        Ok(ids.into_iter().map(SubjectId).collect())
    }

    async fn replace_value(
        &self,
        subject: SubjectId,
        old: ValueId,
        new: ValueRecord,
        index: Vec<IndexEntry>,
        audit: Vec<AuditDraft>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        // The old value's index entries go with it (ON DELETE CASCADE).
        let deleted = sqlx::query!(
            "DELETE FROM subject_values WHERE id = $1 AND subject_id = $2",
            old.0,
            subject.0,
        )
        .execute(&mut *tx)
        .await
        .map_err(from_sqlx)?;
        if deleted.rows_affected() == 0 {
            // Nothing changed, so there is nothing to audit; dropping the transaction rolls
            // it back.
            return Ok(false);
        }
        insert_values(&mut tx, vec![(subject, new)]).await?;
        insert_index(&mut tx, index.into_iter().map(|e| (subject, e)).collect()).await?;
        chain::append(&mut tx, audit).await?;
        commit(tx).await?;
        Ok(true)
    }

    async fn add_values(
        &self,
        subject: SubjectId,
        values: Vec<ValueRecord>,
        index: Vec<IndexEntry>,
        audit: Vec<AuditDraft>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        if !lock_subject(&mut tx, subject).await? {
            return Ok(false);
        }
        insert_values(&mut tx, values.into_iter().map(|v| (subject, v)).collect()).await?;
        insert_index(&mut tx, index.into_iter().map(|e| (subject, e)).collect()).await?;
        chain::append(&mut tx, audit).await?;
        commit(tx).await?;
        Ok(true)
    }

    async fn add_activities(
        &self,
        subject: SubjectId,
        activities: Vec<ActivityRecord>,
        audit: Vec<AuditDraft>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        if !lock_subject(&mut tx, subject).await? {
            return Ok(false);
        }
        insert_activities(
            &mut tx,
            activities.into_iter().map(|a| (subject, a)).collect(),
        )
        .await?;
        chain::append(&mut tx, audit).await?;
        commit(tx).await?;
        Ok(true)
    }

    async fn append_audit(&self, audit: Vec<AuditDraft>) -> Result<(), StoreError> {
        if audit.is_empty() {
            return Ok(());
        }
        let job = group::Job {
            subjects: Vec::new(),
            audit,
        };
        self.appends.write(&self.pool, job).await
    }

    async fn erase_subject(
        &self,
        erasure: ErasureRecord,
        archive: Vec<ArchiveRecord>,
        audit: Vec<AuditDraft>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        // Values, index entries and activities go by ON DELETE CASCADE; with the wrapped key
        // gone, copies of the ciphertext in backups can no longer be read.
        let deleted = sqlx::query!("DELETE FROM subjects WHERE id = $1", erasure.subject.0)
            .execute(&mut *tx)
            .await
            .map_err(from_sqlx)?;
        insert_archive(&mut tx, archive).await?;
        sqlx::query!(
            r#"
            INSERT INTO erasures (subject_id, at_ns, erased, archived, reason)
            VALUES ($1, $2, $3, $4, $5)
            "#,
            erasure.subject.0,
            to_ns(erasure.at)?,
            &erasure.erased,
            &erasure.archived,
            erasure.reason,
        )
        .execute(&mut *tx)
        .await
        .map_err(from_sqlx)?;
        chain::append(&mut tx, audit).await?;
        commit(tx).await?;
        Ok(deleted.rows_affected() > 0)
    }

    async fn is_erased(&self, subject: SubjectId) -> Result<bool, StoreError> {
        let erased = sqlx::query_scalar!(
            r#"SELECT EXISTS (SELECT 1 FROM erasures WHERE subject_id = $1) AS "erased!""#,
            subject.0
        )
        .fetch_one(&self.pool)
        .await
        .map_err(from_sqlx)?;
        Ok(erased)
    }

    async fn erasures(&self) -> Result<Vec<ErasureRecord>, StoreError> {
        sqlx::query!(
            r#"
            SELECT subject_id, at_ns, erased, archived, reason
            FROM erasures
            ORDER BY at_ns, id
            "#
        )
        .fetch_all(&self.pool)
        .await
        .map_err(from_sqlx)?
        .into_iter()
        .map(|row| {
            Ok(ErasureRecord {
                subject: SubjectId(row.subject_id),
                at: from_ns(row.at_ns)?,
                erased: row.erased,
                archived: row.archived,
                reason: row.reason,
            })
        })
        .collect()
    }

    async fn archive_entry(
        &self,
        reference: &ArchiveRef,
    ) -> Result<Option<ArchiveRecord>, StoreError> {
        let row = sqlx::query!(
            r#"
            SELECT created_at_ns, shred_after, purposes, categories, wrapped_key, ciphertext,
                   policy_version
            FROM archive
            WHERE reference = $1
            "#,
            reference.as_str()
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(from_sqlx)?;
        row.map(|row| {
            Ok(ArchiveRecord {
                reference: reference.clone(),
                created_at: from_ns(row.created_at_ns)?,
                shred_after: row.shred_after,
                purposes: row.purposes,
                categories: row.categories,
                wrapped_key: row.wrapped_key,
                ciphertext: row.ciphertext,
                policy_version: row.policy_version,
            })
        })
        .transpose()
    }

    async fn archive_due(&self, today: Date) -> Result<Vec<ArchiveRef>, StoreError> {
        sqlx::query_scalar!(
            "SELECT reference FROM archive WHERE shred_after < $1 ORDER BY shred_after, reference",
            today
        )
        .fetch_all(&self.pool)
        .await
        .map_err(from_sqlx)?
        .iter()
        .map(|reference| archive_ref_from_db(reference))
        .collect()
    }

    async fn shred_archive(
        &self,
        references: Vec<ArchiveRef>,
        audit: Vec<AuditDraft>,
    ) -> Result<u64, StoreError> {
        let references: Vec<String> = references.iter().map(|r| r.as_str().to_owned()).collect();
        let mut tx = self.begin().await?;
        let deleted = sqlx::query!(
            "DELETE FROM archive WHERE reference = ANY($1::text[])",
            &references
        )
        .execute(&mut *tx)
        .await
        .map_err(from_sqlx)?;
        chain::append(&mut tx, audit).await?;
        commit(tx).await?;
        Ok(deleted.rows_affected())
    }

    async fn wrapped_keys(
        &self,
        after: Option<SubjectId>,
        limit: u32,
    ) -> Result<Vec<WrappedKeyRow>, StoreError> {
        let limit = i64::from(limit);
        // Two statements rather than `$1 IS NULL OR id > $1`, so each keeps its index scan.
        let rows: Vec<(Uuid, Vec<u8>)> = match after {
            None => sqlx::query!(
                "SELECT id, wrapped_key FROM subjects ORDER BY id LIMIT $1",
                limit
            )
            .fetch_all(&self.pool)
            .await
            .map_err(from_sqlx)?
            .into_iter()
            .map(|row| (row.id, row.wrapped_key))
            .collect(),
            Some(after) => sqlx::query!(
                "SELECT id, wrapped_key FROM subjects WHERE id > $1 ORDER BY id LIMIT $2",
                after.0,
                limit
            )
            .fetch_all(&self.pool)
            .await
            .map_err(from_sqlx)?
            .into_iter()
            .map(|row| (row.id, row.wrapped_key))
            .collect(),
        };
        Ok(rows
            .into_iter()
            .map(|(id, wrapped_key)| WrappedKeyRow {
                subject: SubjectId(id),
                wrapped_key,
            })
            .collect())
    }

    async fn rewrap_keys(
        &self,
        rows: Vec<WrappedKeyRow>,
        audit: Vec<AuditDraft>,
    ) -> Result<(), StoreError> {
        let (ids, keys): (Vec<Uuid>, Vec<Vec<u8>>) = rows
            .into_iter()
            .map(|row| (row.subject.0, row.wrapped_key))
            .unzip();
        let mut tx = self.begin().await?;
        if !ids.is_empty() {
            sqlx::query!(
                r#"
                UPDATE subjects AS s SET wrapped_key = r.wrapped_key
                FROM UNNEST($1::uuid[], $2::bytea[]) AS r(id, wrapped_key)
                WHERE s.id = r.id
                "#,
                &ids,
                &keys,
            )
            .execute(&mut *tx)
            .await
            .map_err(from_sqlx)?;
        }
        chain::append(&mut tx, audit).await?;
        commit(tx).await
    }

    async fn audit_entries(&self, after: u64, limit: u32) -> Result<Vec<AuditEntry>, StoreError> {
        let mut conn = self.conn().await?;
        chain::entries(&mut conn, after, limit).await
    }

    async fn audit_head(&self) -> Result<Option<(u64, ChainHash)>, StoreError> {
        let mut conn = self.conn().await?;
        chain::head(&mut conn).await
    }

    async fn counts(&self) -> Result<StoreCounts, StoreError> {
        // The audit count is the head's seq: the chain has no gaps when it is whole (which
        // `audit verify` proves), and counting a long log row by row would be slow.
        let row = sqlx::query!(
            r#"
            SELECT (SELECT count(*) FROM subjects) AS "subjects!",
                   (SELECT count(*) FROM subject_values) AS "values!",
                   (SELECT count(*) FROM blind_index) AS "index_entries!",
                   (SELECT count(*) FROM archive) AS "archive_entries!",
                   (SELECT count(*) FROM erasures) AS "erasures!",
                   (SELECT seq FROM audit_head WHERE id) AS "audit_entries?"
            "#
        )
        .fetch_one(&self.pool)
        .await
        .map_err(from_sqlx)?;
        let count = |n: i64, what: &str| {
            u64::try_from(n).map_err(|_| corrupt(format!("negative count of {what}")))
        };
        Ok(StoreCounts {
            subjects: count(row.subjects, "subjects")?,
            values: count(row.values, "values")?,
            index_entries: count(row.index_entries, "index entries")?,
            archive_entries: count(row.archive_entries, "archive entries")?,
            erasures: count(row.erasures, "erasures")?,
            audit_entries: count(row.audit_entries.unwrap_or(0), "audit entries")?,
        })
    }

    async fn backup_to(&self, _dest: &Path) -> Result<(), StoreError> {
        let database = self.database.as_deref().unwrap_or("DBNAME");
        Err(StoreError::Unsupported(format!(
            "the PostgreSQL backend does not take backups itself; use PostgreSQL's tools: \
             `pg_dump --format=custom {database} > FILE`. After restoring one with \
             `pg_restore`, run `integritet restore` so that erasures made since the dump are \
             applied again"
        )))
    }

    async fn insert_token(
        &self,
        token: TokenRecord,
        audit: Vec<AuditDraft>,
    ) -> Result<(), StoreError> {
        let expires_at = token.expires_at.map(to_ns).transpose()?;
        let revoked_at = token.revoked_at.map(to_ns).transpose()?;
        let mut tx = self.begin().await?;
        sqlx::query!(
            r#"
            INSERT INTO api_tokens (id, hash, role, label, created_at_ns, expires_at_ns,
                                    revoked_at_ns)
            VALUES ($1, $2, $3, $4, $5, $6, $7)
            "#,
            token.id,
            token.hash.as_slice(),
            token.role,
            token.label,
            to_ns(token.created_at)?,
            expires_at,
            revoked_at,
        )
        .execute(&mut *tx)
        .await
        .map_err(from_sqlx)?;
        chain::append(&mut tx, audit).await?;
        commit(tx).await
    }

    async fn token_by_hash(&self, hash: &[u8; 32]) -> Result<Option<TokenRecord>, StoreError> {
        sqlx::query!(
            r#"
            SELECT id, hash, role, label, created_at_ns, expires_at_ns, revoked_at_ns
            FROM api_tokens
            WHERE hash = $1
            "#,
            hash.as_slice(),
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(from_sqlx)?
        .map(|row| {
            token_record(
                row.id,
                &row.hash,
                row.role,
                row.label,
                row.created_at_ns,
                row.expires_at_ns,
                row.revoked_at_ns,
            )
        })
        .transpose()
    }

    async fn list_tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        sqlx::query!(
            r#"
            SELECT id, hash, role, label, created_at_ns, expires_at_ns, revoked_at_ns
            FROM api_tokens
            ORDER BY created_at_ns, id
            "#
        )
        .fetch_all(&self.pool)
        .await
        .map_err(from_sqlx)?
        .into_iter()
        .map(|row| {
            token_record(
                row.id,
                &row.hash,
                row.role,
                row.label,
                row.created_at_ns,
                row.expires_at_ns,
                row.revoked_at_ns,
            )
        })
        .collect()
    }

    async fn revoke_token(
        &self,
        id: &str,
        at: OffsetDateTime,
        audit: Vec<AuditDraft>,
    ) -> Result<bool, StoreError> {
        let at = to_ns(at)?;
        let mut tx = self.begin().await?;
        let changed = sqlx::query!(
            r#"
            UPDATE api_tokens SET revoked_at_ns = $2
            WHERE id = $1 AND revoked_at_ns IS NULL
            "#,
            id,
            at,
        )
        .execute(&mut *tx)
        .await
        .map_err(from_sqlx)?
        .rows_affected();
        if changed == 0 {
            // Nothing changed, so nothing is audited; dropping the transaction rolls it back.
            return Ok(false);
        }
        chain::append(&mut tx, audit).await?;
        commit(tx).await?;
        Ok(true)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query_scalar!(r#"SELECT 1 AS "one!""#)
            .fetch_one(&self.pool)
            .await
            .map_err(from_sqlx)?;
        Ok(())
    }

    async fn set_restricted(
        &self,
        subject: SubjectId,
        restricted: bool,
        audit: Vec<AuditDraft>,
    ) -> Result<bool, StoreError> {
        requests::set_restricted(&self.pool, subject, restricted, audit).await
    }

    async fn add_objection(
        &self,
        subject: SubjectId,
        objection: ObjectionRecord,
        audit: Vec<AuditDraft>,
    ) -> Result<bool, StoreError> {
        requests::add_objection(&self.pool, subject, objection, audit).await
    }

    async fn withdraw_objection(
        &self,
        subject: SubjectId,
        purpose: &str,
        audit: Vec<AuditDraft>,
    ) -> Result<bool, StoreError> {
        requests::withdraw_objection(&self.pool, subject, purpose, audit).await
    }

    async fn record_policy_version(
        &self,
        record: PolicyVersionRecord,
        audit: Vec<AuditDraft>,
    ) -> Result<bool, StoreError> {
        requests::record_policy_version(&self.pool, record, audit).await
    }

    async fn policy_versions(&self) -> Result<Vec<PolicyVersionRecord>, StoreError> {
        requests::policy_versions(&self.pool).await
    }

    async fn insert_user(
        &self,
        user: integritet_app::store::UserRecord,
        audit: Vec<AuditDraft>,
    ) -> Result<(), StoreError> {
        users::insert_user(&self.pool, user, audit).await
    }

    async fn user(
        &self,
        name: &str,
    ) -> Result<Option<integritet_app::store::UserRecord>, StoreError> {
        users::user(&self.pool, name).await
    }

    async fn list_users(&self) -> Result<Vec<integritet_app::store::UserRecord>, StoreError> {
        users::list_users(&self.pool).await
    }

    async fn disable_user(
        &self,
        name: &str,
        at: OffsetDateTime,
        audit: Vec<AuditDraft>,
    ) -> Result<bool, StoreError> {
        users::disable_user(&self.pool, name, at, audit).await
    }

    async fn record_login_failure(
        &self,
        name: &str,
        at: OffsetDateTime,
        rule: integritet_app::store::LockoutRule,
        audit: Vec<AuditDraft>,
        lock_audit: Vec<AuditDraft>,
    ) -> Result<Option<integritet_app::store::LoginFailure>, StoreError> {
        users::record_login_failure(&self.pool, name, at, rule, audit, lock_audit).await
    }

    async fn start_session(
        &self,
        session: integritet_app::store::SessionRecord,
        audit: Vec<AuditDraft>,
    ) -> Result<bool, StoreError> {
        users::start_session(&self.pool, session, audit).await
    }

    async fn session(
        &self,
        hash: &[u8; 32],
    ) -> Result<
        Option<(
            integritet_app::store::SessionRecord,
            integritet_app::store::UserRecord,
        )>,
        StoreError,
    > {
        users::session(&self.pool, hash).await
    }

    async fn touch_session(&self, hash: &[u8; 32], at: OffsetDateTime) -> Result<bool, StoreError> {
        users::touch_session(&self.pool, hash, at).await
    }

    async fn end_session(
        &self,
        hash: &[u8; 32],
        audit: Vec<AuditDraft>,
    ) -> Result<bool, StoreError> {
        users::end_session(&self.pool, hash, audit).await
    }

    async fn purge_sessions(
        &self,
        idle_before: OffsetDateTime,
        created_before: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        users::purge_sessions(&self.pool, idle_before, created_before).await
    }
}
