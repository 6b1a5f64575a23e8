//! Tampering with the log behind the store's back: `audit verify` must fail at the first entry
//! touched.

use integritet_app::audit_log::{self, VerifyError};
use integritet_app::conformance::{draft, subject_id};
use integritet_app::store::prelude::*;
use std::sync::Arc;

use integritet_app::store::{Store, StoreError};
use integritet_domain::audit::{AuditAction, ChainBreak, ChainKey};
use sqlx::{Connection, PgConnection};

use crate::{Fresh, fresh};

/// A store with five chained entries, and a raw connection to its database.
async fn five_entries() -> (Fresh, PgConnection) {
    let fresh = fresh().await;
    let actions = [
        AuditAction::Create,
        AuditAction::Read,
        AuditAction::Lookup,
        AuditAction::Export,
        AuditAction::Erase,
    ];
    for (n, action) in (1..).zip(actions) {
        fresh
            .store
            .append_audit(vec![draft(action, Some(subject_id(n)))])
            .await
            .unwrap();
    }
    audit_log::verify(&fresh.store, |_| {}).await.unwrap();
    let conn = PgConnection::connect(&fresh.db.url).await.unwrap();
    (fresh, conn)
}

async fn run(conn: &mut PgConnection, sql: &'static str) {
    sqlx::raw_sql(sql).execute(conn).await.unwrap();
}

async fn broken(store: &dyn Store) -> ChainBreak {
    match audit_log::verify(store, |_| {}).await {
        Err(VerifyError::Broken(at)) => at,
        other => panic!("verify should find a broken chain, got {other:?}"),
    }
}

#[tokio::test]
async fn an_edited_entry_is_named() {
    let (fresh, mut conn) = five_entries().await;
    run(
        &mut conn,
        "UPDATE audit_log SET purpose = 'marketing' WHERE seq = 3",
    )
    .await;
    assert_eq!(broken(&fresh.store).await, ChainBreak::Content { seq: 3 });
}

#[tokio::test]
async fn a_deleted_entry_is_found_at_the_gap() {
    let (fresh, mut conn) = five_entries().await;
    run(&mut conn, "DELETE FROM audit_log WHERE seq = 3").await;
    assert_eq!(
        broken(&fresh.store).await,
        ChainBreak::Gap {
            seq: 4,
            expected: 3
        }
    );
}

#[tokio::test]
async fn a_forged_entry_is_found_where_it_no_longer_links() {
    let (fresh, mut conn) = five_entries().await;
    // A well-formed entry chained after entry 2, slipped in as entry 3; the rest move up and
    // the head is moved along with them.
    let second = fresh
        .store
        .audit_entries(1, u64::MAX, 1)
        .await
        .unwrap()
        .remove(0);
    let forged = draft(AuditAction::Read, Some(subject_id(99)))
        .chain(Some((2, second.hash)), &ChainKey::UNKEYED);
    run(
        &mut conn,
        "UPDATE audit_log SET seq = seq + 1000 WHERE seq >= 3; \
         UPDATE audit_log SET seq = seq - 999 WHERE seq >= 1000; \
         UPDATE audit_head SET seq = 6",
    )
    .await;
    sqlx::query(
        "INSERT INTO audit_log (seq, at_ns, actor, role, purpose, subject_id, categories, \
         action, policy_version, detail, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(3_i64)
    .bind(i64::try_from(forged.draft.at.unix_timestamp_nanos()).unwrap())
    .bind(&forged.draft.actor)
    .bind(&forged.draft.role)
    .bind(&forged.draft.purpose)
    .bind(forged.draft.subject)
    .bind(&forged.draft.categories)
    .bind(forged.draft.action.as_str())
    .bind(&forged.draft.policy_version)
    .bind(&forged.draft.detail)
    .bind(forged.prev_hash.0.as_slice())
    .bind(forged.hash.0.as_slice())
    .execute(&mut conn)
    .await
    .unwrap();
    assert_eq!(broken(&fresh.store).await, ChainBreak::Link { seq: 4 });
}

#[tokio::test]
async fn swapped_entries_are_found_at_the_first() {
    let (fresh, mut conn) = five_entries().await;
    run(
        &mut conn,
        "UPDATE audit_log AS a SET at_ns = b.at_ns, actor = b.actor, role = b.role, \
             purpose = b.purpose, subject_id = b.subject_id, categories = b.categories, \
             action = b.action, policy_version = b.policy_version, detail = b.detail, \
             prev_hash = b.prev_hash, hash = b.hash \
         FROM audit_log AS b \
         WHERE (a.seq, b.seq) IN ((2, 3), (3, 2))",
    )
    .await;
    let swapped = fresh
        .store
        .audit_entries(1, u64::MAX, 1)
        .await
        .unwrap()
        .remove(0);
    assert_eq!(
        swapped.draft.action,
        AuditAction::Lookup,
        "the rows were swapped"
    );
    assert_eq!(broken(&fresh.store).await, ChainBreak::Link { seq: 2 });
}

#[tokio::test]
async fn a_truncated_tail_is_caught_by_the_head() {
    let (fresh, mut conn) = five_entries().await;
    run(&mut conn, "DELETE FROM audit_log WHERE seq >= 4").await;
    assert_eq!(
        broken(&fresh.store).await,
        ChainBreak::Truncated {
            last_seq: 3,
            head_seq: 5
        }
    );
}

#[tokio::test]
async fn a_reset_head_does_not_hide_the_log() {
    let (fresh, mut conn) = five_entries().await;
    run(&mut conn, "UPDATE audit_head SET seq = 0").await;
    assert_eq!(
        broken(&fresh.store).await,
        ChainBreak::Gap {
            seq: 1,
            expected: 1
        }
    );
}

#[tokio::test]
async fn a_deleted_head_is_reported_as_damage() {
    let (fresh, mut conn) = five_entries().await;
    run(&mut conn, "DELETE FROM audit_head").await;
    match audit_log::verify(&fresh.store, |_| {}).await {
        Err(VerifyError::Store(StoreError::Corrupt(message))) => {
            assert!(message.contains("audit_head"), "{message}");
        }
        other => panic!("expected a Corrupt error, got {other:?}"),
    }
    let write = fresh
        .store
        .append_audit(vec![draft(AuditAction::Read, None)])
        .await;
    assert!(matches!(write, Err(StoreError::Corrupt(_))), "{write:?}");
}

/// Edits with plain SQL on the database, for the integrity scenario.
struct SqlTamperer(String);

impl SqlTamperer {
    async fn run(
        &self,
        query: sqlx::query::Query<'_, sqlx::Postgres, sqlx::postgres::PgArguments>,
    ) {
        let mut conn = PgConnection::connect(&self.0).await.unwrap();
        let changed = query.execute(&mut conn).await.unwrap().rows_affected();
        assert!(changed > 0, "the edit changed nothing");
    }
}

#[async_trait::async_trait]
impl integritet_app::conformance::integrity::Tamperer for SqlTamperer {
    async fn set_token_role(&self, id: &str, role: &str) {
        self.run(
            sqlx::query("UPDATE api_tokens SET role = $2 WHERE id = $1")
                .bind(id.to_owned())
                .bind(role.to_owned()),
        )
        .await;
    }

    async fn unrevoke_token(&self, id: &str) {
        self.run(
            sqlx::query("UPDATE api_tokens SET revoked_at_ns = NULL WHERE id = $1")
                .bind(id.to_owned()),
        )
        .await;
    }

    async fn set_password_hash(&self, user: &str, phc: &str) {
        self.run(
            sqlx::query("UPDATE console_users SET password_hash = $2 WHERE name = $1")
                .bind(user.to_owned())
                .bind(phc.to_owned()),
        )
        .await;
    }

    async fn move_sessions(&self, from: &str, to: &str) {
        self.run(
            sqlx::query("UPDATE console_sessions SET user_name = $2 WHERE user_name = $1")
                .bind(from.to_owned())
                .bind(to.to_owned()),
        )
        .await;
    }

    async fn set_value_purposes(
        &self,
        subject: integritet_domain::subject::SubjectId,
        value: integritet_domain::subject::ValueId,
        purposes: &[&str],
    ) {
        let purposes: Vec<String> = purposes.iter().map(|p| (*p).to_owned()).collect();
        self.run(
            sqlx::query(
                "UPDATE subject_values SET purposes = $3 WHERE subject_id = $1 AND id = $2",
            )
            .bind(uuid::Uuid::from_bytes(*subject.as_bytes()))
            .bind(uuid::Uuid::from_bytes(*value.as_bytes()))
            .bind(purposes),
        )
        .await;
    }

    async fn rewrite_audit_entry(&self, entry: &integritet_domain::audit::AuditEntry) {
        self.run(
            sqlx::query(
                "UPDATE audit_log SET purpose = $2, detail = $3, prev_hash = $4, hash = $5 \
                 WHERE seq = $1",
            )
            .bind(i64::try_from(entry.seq).unwrap())
            .bind(entry.draft.purpose.clone())
            .bind(entry.draft.detail.clone())
            .bind(entry.prev_hash.0.to_vec())
            .bind(entry.hash.0.to_vec()),
        )
        .await;
    }

    async fn set_audit_head(&self, seq: u64, hash: integritet_domain::audit::ChainHash) {
        self.run(
            sqlx::query("UPDATE audit_head SET seq = $1, hash = $2")
                .bind(i64::try_from(seq).unwrap())
                .bind(hash.0.to_vec()),
        )
        .await;
    }
}

async fn store_and_tamperer() -> (Arc<dyn Store>, SqlTamperer) {
    let fresh = fresh().await;
    let url = fresh.db.url.clone();
    (Arc::new(fresh), SqlTamperer(url))
}

integritet_app::integrity_tests!(store_and_tamperer());

/// After the daily rewrite no archive row shares a transaction id with an erasure record, so
/// the database's own bookkeeping does not tie an entry to the subject it came from.
#[tokio::test]
async fn rewritten_archive_rows_share_no_transaction_with_their_erasures() {
    use integritet_app::conformance::{archive_record, insert_subject};
    use integritet_app::store::ErasureRecord;

    let fresh = fresh().await;
    let day = time::macros::date!(2026 - 03 - 01);
    for n in 1..=3u8 {
        insert_subject(&fresh.store, u64::from(n)).await;
        let mut entry = archive_record(n, time::macros::date!(2033 - 12 - 31));
        entry.created_at = day.midnight().assume_utc();
        fresh
            .store
            .erase_subject(
                ErasureRecord {
                    subject: subject_id(u64::from(n)),
                    at: day.midnight().assume_utc(),
                    erased: vec![],
                    archived: vec!["name".into()],
                    reason: "request".into(),
                },
                vec![entry],
                None,
                vec![draft(AuditAction::Erase, Some(subject_id(u64::from(n))))],
            )
            .await
            .unwrap();
    }
    let mut conn = PgConnection::connect(&fresh.db.url).await.unwrap();
    let shared = "SELECT count(*) FROM archive a JOIN erasures e ON a.xmin::text = e.xmin::text";
    let before: i64 = sqlx::query_scalar(shared)
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(before, 3, "each entry was written with its erasure");
    assert_eq!(fresh.store.reshuffle_archive(day).await.unwrap(), 3);
    let after: i64 = sqlx::query_scalar(shared)
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(after, 0);
}
