//! The writer: a task that drains the shared group commit (`integritet_app::store::group`)
//! and commits each batch in one transaction — one lock of the audit head and one WAL flush
//! for all of it, where a transaction per write would hold the head lock through a flush each.
//!
//! Inside the transaction each job keeps to itself: the subject inserts of a batch go in
//! together (one `UNNEST` statement per table) in one savepoint, and if that fails each is
//! tried again in a savepoint of its own; every other change runs in its own savepoint; a job
//! that fails or finds nothing to change is rolled back to it, alone. Audit-only jobs (reads,
//! lookups) need no savepoint. As the transaction's last step every job's entries are chained
//! after the head, locked `FOR UPDATE` (`chain.rs`), so the servers sharing the database keep
//! one chain. If the transaction fails before its commit, each job is retried alone; a failed
//! commit is reported to all, since it may have been made.

use integritet_app::store::group::{Batch, Batches, Pending};
use std::sync::Arc;

use integritet_app::store::{
    ArchiveChange, ChainKeySlot, Change, KeyChange, Outcome, PolicyChange, StoreError,
    SubjectChange, TokenChange, UserChange,
};
use integritet_domain::audit::ChainKey;
use sqlx::{PgConnection, PgPool, Postgres, Transaction};

use crate::error::from_sqlx;
use crate::{chain, consent, holds, marketing, requests, subject_requests, users, writes};

/// Starts the writer task; it ends when every submitter is gone and the queue is empty.
pub(crate) fn start(pool: PgPool, mut batches: Batches, chain_key: Arc<ChainKeySlot>) {
    drop(tokio::spawn(async move {
        while let Some(batch) = batches.next().await {
            write(&pool, batch, chain_key.get()).await;
        }
    }));
}

/// Why a batch's transaction failed.
enum Failure {
    /// Nothing was committed.
    BeforeCommit(StoreError),
    /// The commit was sent and failed: it may or may not have been made.
    AtCommit(StoreError),
}

/// Commits one batch and answers every job of it.
async fn write(pool: &PgPool, batch: Batch, key: &ChainKey) {
    match write_together(pool, &batch, key).await {
        Ok(results) => {
            for (pending, result) in batch.into_iter().zip(results) {
                pending.answer(result);
            }
        }
        Err(Failure::AtCommit(e)) => {
            for pending in batch {
                pending.answer(Err(e.clone()));
            }
        }
        Err(Failure::BeforeCommit(e)) if batch.len() == 1 => {
            for pending in batch {
                pending.answer(Err(e.clone()));
            }
        }
        Err(Failure::BeforeCommit(_)) => {
            // Perhaps something of one job's (a deadlock with another server, say): each alone.
            for pending in batch {
                let result = match write_together(pool, std::slice::from_ref(&pending), key).await {
                    Ok(mut results) => results.pop().unwrap_or_else(|| Err(lost())),
                    Err(Failure::AtCommit(e) | Failure::BeforeCommit(e)) => Err(e),
                };
                pending.answer(result);
            }
        }
    }
}

fn lost() -> StoreError {
    StoreError::Unavailable("the write was not carried out; retry".into())
}

/// The batch's transaction: each job's result, or the failure that stopped them all.
async fn write_together(
    pool: &PgPool,
    jobs: &[Pending],
    key: &ChainKey,
) -> Result<Vec<Result<Outcome, StoreError>>, Failure> {
    let before = |e| Failure::BeforeCommit(from_sqlx(e));
    let mut tx = pool.begin().await.map_err(before)?;
    let mut results: Vec<Option<Result<Outcome, StoreError>>> = vec![None; jobs.len()];
    if jobs.len() > 1 {
        insert_together(&mut tx, jobs, &mut results).await?;
    }
    for (pending, result) in jobs.iter().zip(results.iter_mut()) {
        if result.is_some() {
            continue;
        }
        let change = &pending.job.change;
        if matches!(change, Change::Audit) {
            *result = Some(Ok(Outcome::Done));
            continue;
        }
        if jobs.len() == 1 {
            let applied = apply(&mut tx, change, key).await;
            if applied.is_err() {
                // The transaction is aborted; dropping it rolls it back.
                return Ok(vec![applied]);
            }
            *result = Some(applied);
            continue;
        }
        savepoint(&mut tx, "SAVEPOINT job").await?;
        let applied = apply(&mut tx, change, key).await;
        match &applied {
            Ok(outcome) if outcome.changed() => savepoint(&mut tx, "RELEASE SAVEPOINT job").await?,
            Ok(_) | Err(_) => {
                savepoint(&mut tx, "ROLLBACK TO SAVEPOINT job").await?;
                savepoint(&mut tx, "RELEASE SAVEPOINT job").await?;
            }
        }
        *result = Some(applied);
    }
    let results: Vec<Result<Outcome, StoreError>> = results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(lost())))
        .collect();
    let mut drafts = Vec::new();
    for (pending, result) in jobs.iter().zip(&results) {
        if let Ok(outcome) = result {
            drafts.extend(pending.job.audit_after(*outcome).cloned());
        }
    }
    chain::append(&mut tx, drafts, key)
        .await
        .map_err(Failure::BeforeCommit)?;
    tx.commit()
        .await
        .map_err(|e| Failure::AtCommit(from_sqlx(e)))?;
    Ok(results)
}

/// The batch's subject inserts in one go, in a savepoint: on success they are done; on
/// failure nothing of them is kept and each is applied alone afterwards.
async fn insert_together(
    tx: &mut Transaction<'_, Postgres>,
    jobs: &[Pending],
    results: &mut [Option<Result<Outcome, StoreError>>],
) -> Result<(), Failure> {
    let inserts: Vec<usize> = jobs
        .iter()
        .enumerate()
        .filter(|(_, p)| matches!(p.job.change, Change::Subjects(SubjectChange::Insert(_))))
        .map(|(i, _)| i)
        .collect();
    if inserts.len() < 2 {
        return Ok(());
    }
    let mut subjects = Vec::new();
    for &i in &inserts {
        if let Some(Change::Subjects(SubjectChange::Insert(these))) =
            jobs.get(i).map(|p| &p.job.change)
        {
            subjects.extend(these.iter().cloned());
        }
    }
    savepoint(tx, "SAVEPOINT inserts").await?;
    if writes::insert_subjects_in(tx, subjects).await.is_ok() {
        savepoint(tx, "RELEASE SAVEPOINT inserts").await?;
        for i in inserts {
            if let Some(result) = results.get_mut(i) {
                *result = Some(Ok(Outcome::Done));
            }
        }
    } else {
        savepoint(tx, "ROLLBACK TO SAVEPOINT inserts").await?;
        savepoint(tx, "RELEASE SAVEPOINT inserts").await?;
    }
    Ok(())
}

async fn savepoint(tx: &mut PgConnection, sql: &'static str) -> Result<(), Failure> {
    sqlx::raw_sql(sql)
        .execute(&mut *tx)
        .await
        .map(drop)
        .map_err(|e| Failure::BeforeCommit(from_sqlx(e)))
}

fn flag(changed: bool) -> Outcome {
    if changed {
        Outcome::Done
    } else {
        Outcome::Nothing
    }
}

/// One change inside the writer's transaction.
async fn apply(
    tx: &mut PgConnection,
    change: &Change,
    key: &ChainKey,
) -> Result<Outcome, StoreError> {
    match change {
        Change::Audit => Ok(Outcome::Done),
        Change::Subjects(change) => match change {
            SubjectChange::Insert(subjects) => writes::insert_subjects_in(tx, subjects.clone())
                .await
                .map(|()| Outcome::Done),
            SubjectChange::ReplaceValue {
                subject,
                old,
                new,
                index,
            } => writes::replace_value(tx, *subject, *old, new.clone(), index.clone())
                .await
                .map(flag),
            SubjectChange::AddValues {
                subject,
                values,
                index,
            } => writes::add_values(tx, *subject, values.clone(), index.clone())
                .await
                .map(flag),
            SubjectChange::AddActivities {
                subject,
                activities,
            } => writes::add_activities(tx, *subject, activities.clone())
                .await
                .map(flag),
            SubjectChange::SetRestricted {
                subject,
                restricted,
            } => requests::set_restricted(tx, *subject, *restricted)
                .await
                .map(flag),
            SubjectChange::AddObjection {
                subject,
                objection,
                suppress,
            } => requests::add_objection(tx, *subject, objection.clone(), suppress)
                .await
                .map(flag),
            SubjectChange::WithdrawObjection { subject, purpose } => {
                requests::withdraw_objection(tx, *subject, purpose)
                    .await
                    .map(flag)
            }
            SubjectChange::Erase {
                erasure,
                archive,
                planned,
            } => {
                writes::erase_subject(tx, erasure.clone(), archive.clone(), planned.as_deref())
                    .await
            }
            SubjectChange::RemoveValues {
                subject,
                values,
                archive,
                planned,
            } => writes::remove_values(tx, *subject, values, archive.clone(), planned)
                .await
                .map(flag),
        },
        Change::Archive(ArchiveChange::Shred(references)) => {
            writes::shred_archive(tx, references.clone())
                .await
                .map(Outcome::Count)
        }
        Change::Archive(ArchiveChange::Reshuffle { created_on }) => {
            writes::reshuffle_archive(tx, *created_on)
                .await
                .map(Outcome::Count)
        }
        Change::Keys(KeyChange::Rewrap(rows)) => writes::rewrap_keys(tx, rows.clone())
            .await
            .map(|()| Outcome::Done),
        Change::Requests(change) => subject_requests::apply(tx, change).await,
        Change::Holds(change) => holds::apply(tx, change).await,
        Change::Marketing(change) => marketing::apply(tx, change).await,
        Change::Consent(change) => consent::apply(tx, change).await,
        Change::Tokens(change) => match change {
            TokenChange::Insert(token) => writes::insert_token(tx, token.clone())
                .await
                .map(|()| Outcome::Done),
            TokenChange::Revoke { id, at, mac } => {
                writes::revoke_token(tx, id, *at, mac).await.map(flag)
            }
        },
        Change::Users(change) => match change {
            UserChange::Insert(user) => users::insert_user(tx, user.clone())
                .await
                .map(|()| Outcome::Done),
            UserChange::Disable { name, at, mac } => {
                users::disable_user(tx, name, *at, mac).await.map(flag)
            }
            UserChange::LoginFailure { name, at, rule, .. } => {
                users::record_login_failure(tx, name, *at, *rule)
                    .await
                    .map(|failure| failure.map_or(Outcome::Nothing, Outcome::LoginFailure))
            }
            UserChange::StartSession { session, past_lock } => {
                users::start_session(tx, session.clone(), *past_lock)
                    .await
                    .map(flag)
            }
            UserChange::TouchSession { hash, at } => {
                users::touch_session(tx, hash, *at).await.map(flag)
            }
            UserChange::EndSession { hash } => users::end_session(tx, hash).await.map(flag),
            UserChange::PurgeSessions {
                idle_before,
                created_before,
            } => users::purge_sessions(tx, *idle_before, *created_before)
                .await
                .map(Outcome::Count),
        },
        Change::CarryAudit(entries) => chain::carry(tx, entries, key).await.map(Outcome::Count),
        Change::Policy(PolicyChange::Record(record)) => {
            requests::record_policy_version(tx, record.clone())
                .await
                .map(flag)
        }
    }
}
