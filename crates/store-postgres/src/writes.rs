//! Changes to subjects, the archive, wrapped keys and tokens, each made inside the writer's
//! transaction (`writer.rs`), which chains the audit entries and commits. Batches go in with one
//! `INSERT ... SELECT FROM UNNEST(...)` per table, not a row at a time.

use integritet_app::store::{
    ActivityRecord, ArchiveRecord, ErasureRecord, IndexEntry, NewSubject, Outcome, StoreError,
    SubjectRecord, TokenRecord, ValueRecord, WrappedKeyRow,
};
use integritet_domain::subject::{ArchiveRef, SubjectId, ValueId};
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::convert::{Flattened, to_ns};
use crate::error::from_sqlx;

pub(crate) async fn insert_subject_rows(
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
pub(crate) async fn insert_values(
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
pub(crate) async fn insert_index(
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

pub(crate) async fn insert_activities(
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

pub(crate) async fn insert_archive(
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

/// Locks the subject against erasure until the transaction ends; false when there is none.
pub(crate) async fn lock_subject(
    conn: &mut PgConnection,
    subject: SubjectId,
) -> Result<bool, StoreError> {
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

pub(crate) async fn replace_value(
    tx: &mut PgConnection,
    subject: SubjectId,
    old: ValueId,
    new: ValueRecord,
    index: Vec<IndexEntry>,
) -> Result<bool, StoreError> {
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
        // Nothing changed: the writer rolls this job back, and nothing is audited.
        return Ok(false);
    }
    insert_values(&mut *tx, vec![(subject, new)]).await?;
    insert_index(&mut *tx, index.into_iter().map(|e| (subject, e)).collect()).await?;
    Ok(true)
}

pub(crate) async fn add_values(
    tx: &mut PgConnection,
    subject: SubjectId,
    values: Vec<ValueRecord>,
    index: Vec<IndexEntry>,
) -> Result<bool, StoreError> {
    if !lock_subject(&mut *tx, subject).await? {
        return Ok(false);
    }
    insert_values(&mut *tx, values.into_iter().map(|v| (subject, v)).collect()).await?;
    insert_index(&mut *tx, index.into_iter().map(|e| (subject, e)).collect()).await?;
    Ok(true)
}

pub(crate) async fn add_activities(
    tx: &mut PgConnection,
    subject: SubjectId,
    activities: Vec<ActivityRecord>,
) -> Result<bool, StoreError> {
    if !lock_subject(&mut *tx, subject).await? {
        return Ok(false);
    }
    insert_activities(
        &mut *tx,
        activities.into_iter().map(|a| (subject, a)).collect(),
    )
    .await?;
    Ok(true)
}

pub(crate) async fn erase_subject(
    tx: &mut PgConnection,
    erasure: ErasureRecord,
    archive: Vec<ArchiveRecord>,
    planned: Option<&[ValueId]>,
) -> Result<Outcome, StoreError> {
    if let Some(planned) = planned {
        // The subject's row locked first: a value being added holds a key-share lock on it
        // (its foreign key), so it either committed before (and is seen below) or waits and
        // then finds the subject gone.
        let locked: Option<Uuid> =
            sqlx::query_scalar("SELECT id FROM subjects WHERE id = $1 FOR UPDATE")
                .bind(erasure.subject.0)
                .fetch_optional(&mut *tx)
                .await
                .map_err(from_sqlx)?;
        // Erased by someone else meanwhile: a second record (and archive) would be a double
        // erasure.
        if locked.is_none() {
            return Ok(Outcome::Nothing);
        }
        {
            let current: Vec<Uuid> =
                sqlx::query_scalar("SELECT id FROM subject_values WHERE subject_id = $1")
                    .bind(erasure.subject.0)
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(from_sqlx)?;
            let current: std::collections::BTreeSet<Uuid> = current.into_iter().collect();
            let planned: std::collections::BTreeSet<Uuid> = planned.iter().map(|v| v.0).collect();
            if current != planned {
                return Err(StoreError::Conflict(
                    "the subject's values changed while its erasure was planned; plan it again"
                        .into(),
                ));
            }
        }
    }
    // Values, index entries and activities go by ON DELETE CASCADE; with the wrapped key
    // gone, copies of the ciphertext in backups can no longer be read.
    let deleted = sqlx::query!("DELETE FROM subjects WHERE id = $1", erasure.subject.0)
        .execute(&mut *tx)
        .await
        .map_err(from_sqlx)?;
    insert_archive(&mut *tx, archive).await?;
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
    Ok(Outcome::Erased {
        existed: deleted.rows_affected() > 0,
    })
}

/// Retention: the values go (their index entries by ON DELETE CASCADE) and the archive entries
/// come, if the subject still holds exactly the values the plan was made from.
pub(crate) async fn remove_values(
    tx: &mut PgConnection,
    subject: SubjectId,
    values: &[ValueId],
    archive: Vec<ArchiveRecord>,
    planned: &[ValueId],
) -> Result<bool, StoreError> {
    // Locked like an erasure: a value being added waits, or was seen.
    let locked: Option<Uuid> =
        sqlx::query_scalar("SELECT id FROM subjects WHERE id = $1 FOR UPDATE")
            .bind(subject.0)
            .fetch_optional(&mut *tx)
            .await
            .map_err(from_sqlx)?;
    if locked.is_none() {
        return Ok(false);
    }
    let current: Vec<Uuid> =
        sqlx::query_scalar("SELECT id FROM subject_values WHERE subject_id = $1")
            .bind(subject.0)
            .fetch_all(&mut *tx)
            .await
            .map_err(from_sqlx)?;
    let current: std::collections::BTreeSet<Uuid> = current.into_iter().collect();
    let planned: std::collections::BTreeSet<Uuid> = planned.iter().map(|v| v.0).collect();
    if current != planned {
        return Err(StoreError::Conflict(
            "the subject's values changed while their retention was planned; plan again".into(),
        ));
    }
    let ids: Vec<Uuid> = values.iter().map(|v| v.0).collect();
    sqlx::query("DELETE FROM subject_values WHERE subject_id = $1 AND id = ANY($2)")
        .bind(subject.0)
        .bind(&ids)
        .execute(&mut *tx)
        .await
        .map_err(from_sqlx)?;
    insert_archive(&mut *tx, archive).await?;
    Ok(true)
}

/// The entries sealed on `day` written again in this transaction, in a random order: they then
/// share this transaction's id and new places, none of the erasures' that made them.
pub(crate) async fn reshuffle_archive(
    tx: &mut PgConnection,
    day: time::Date,
) -> Result<u64, StoreError> {
    let created = to_ns(day.midnight().assume_utc())?;
    sqlx::query(
        "CREATE TEMPORARY TABLE archive_reshuffled ON COMMIT DROP AS \
         SELECT * FROM archive WHERE created_at_ns = $1",
    )
    .bind(created)
    .execute(&mut *tx)
    .await
    .map_err(from_sqlx)?;
    sqlx::query("DELETE FROM archive WHERE created_at_ns = $1")
        .bind(created)
        .execute(&mut *tx)
        .await
        .map_err(from_sqlx)?;
    let written =
        sqlx::query("INSERT INTO archive SELECT * FROM archive_reshuffled ORDER BY random()")
            .execute(&mut *tx)
            .await
            .map_err(from_sqlx)?
            .rows_affected();
    sqlx::query("DROP TABLE archive_reshuffled")
        .execute(&mut *tx)
        .await
        .map_err(from_sqlx)?;
    Ok(written)
}

pub(crate) async fn shred_archive(
    tx: &mut PgConnection,
    references: Vec<ArchiveRef>,
) -> Result<u64, StoreError> {
    let references: Vec<String> = references.iter().map(|r| r.as_str().to_owned()).collect();
    let deleted = sqlx::query!(
        "DELETE FROM archive WHERE reference = ANY($1::text[])",
        &references
    )
    .execute(&mut *tx)
    .await
    .map_err(from_sqlx)?;
    Ok(deleted.rows_affected())
}

pub(crate) async fn rewrap_keys(
    tx: &mut PgConnection,
    rows: Vec<WrappedKeyRow>,
) -> Result<(), StoreError> {
    let (ids, keys): (Vec<Uuid>, Vec<Vec<u8>>) = rows
        .into_iter()
        .map(|row| (row.subject.0, row.wrapped_key))
        .unzip();
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
    Ok(())
}

pub(crate) async fn insert_token(
    tx: &mut PgConnection,
    token: TokenRecord,
) -> Result<(), StoreError> {
    let expires_at = token.expires_at.map(to_ns).transpose()?;
    let revoked_at = token.revoked_at.map(to_ns).transpose()?;
    sqlx::query!(
        r#"
            INSERT INTO api_tokens (id, hash, role, label, created_at_ns, expires_at_ns,
                                    revoked_at_ns, mac)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
            "#,
        token.id,
        token.hash.as_slice(),
        token.role,
        token.label,
        to_ns(token.created_at)?,
        expires_at,
        revoked_at,
        token.mac.as_slice(),
    )
    .execute(&mut *tx)
    .await
    .map_err(from_sqlx)?;
    Ok(())
}

pub(crate) async fn revoke_token(
    tx: &mut PgConnection,
    id: &str,
    at: OffsetDateTime,
    mac: &[u8; 32],
) -> Result<bool, StoreError> {
    let at = to_ns(at)?;
    let changed = sqlx::query!(
        r#"
            UPDATE api_tokens SET revoked_at_ns = $2, mac = $3
            WHERE id = $1 AND revoked_at_ns IS NULL
            "#,
        id,
        at,
        mac.as_slice(),
    )
    .execute(&mut *tx)
    .await
    .map_err(from_sqlx)?
    .rows_affected();
    if changed == 0 {
        // Nothing changed, so nothing is audited; dropping the transaction rolls it back.
        return Ok(false);
    }
    Ok(true)
}
