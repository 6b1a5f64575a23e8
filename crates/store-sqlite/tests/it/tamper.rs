//! Changing the audit log behind the store's back, with plain SQL on the file, is caught by
//! `audit verify` at the first entry that is not as written.

use std::path::{Path, PathBuf};

use integritet_app::audit_log::{self, VerifyError};
use integritet_app::conformance::{draft, new_subject, subject_id};
use integritet_app::store::{AuditStore, Writes};
use integritet_domain::audit::{AuditAction, ChainBreak, ChainHash, ChainKey};
use integritet_store_sqlite::SqliteStore;
use rusqlite::Connection;

use crate::scratch_dir;

/// A store whose log holds five entries: two creates and three reads.
async fn store_with_five_entries() -> (SqliteStore, PathBuf) {
    let path = scratch_dir().join("vault.db");
    let store = SqliteStore::open(&path).await.unwrap();
    for n in 1..=2 {
        store
            .insert_subjects(
                vec![new_subject(n)],
                vec![draft(AuditAction::Create, Some(subject_id(n)))],
            )
            .await
            .unwrap();
    }
    store
        .append_audit(vec![
            draft(AuditAction::Read, Some(subject_id(1))),
            draft(AuditAction::Read, Some(subject_id(2))),
            draft(AuditAction::Lookup, None),
        ])
        .await
        .unwrap();
    assert_eq!(audit_log::verify(&store, |_| {}).await.unwrap().entries, 5);
    (store, path)
}

/// A raw connection to the file, with the append-only triggers dropped as a tamperer would.
fn raw(path: &Path) -> Connection {
    let conn = Connection::open(path).unwrap();
    conn.execute_batch(
        "DROP TRIGGER IF EXISTS audit_log_no_update;
         DROP TRIGGER IF EXISTS audit_log_no_delete;",
    )
    .unwrap();
    conn
}

async fn broken(store: &SqliteStore) -> ChainBreak {
    match audit_log::verify(store, |_| {}).await {
        Err(VerifyError::Broken(b)) => b,
        other => panic!("expected a broken chain, got {other:?}"),
    }
}

#[tokio::test]
async fn the_log_refuses_changes_through_sql() {
    let (_store, path) = store_with_five_entries().await;
    let conn = Connection::open(&path).unwrap();
    let update = conn.execute(
        "UPDATE audit_log SET purpose = 'marketing' WHERE seq = 3",
        [],
    );
    assert!(update.unwrap_err().to_string().contains("append-only"));
    let delete = conn.execute("DELETE FROM audit_log WHERE seq = 5", []);
    assert!(delete.unwrap_err().to_string().contains("append-only"));
}

#[tokio::test]
async fn an_edited_entry_is_named() {
    let (store, path) = store_with_five_entries().await;
    let conn = raw(&path);
    conn.execute(
        "UPDATE audit_log SET purpose = 'marketing' WHERE seq = 3",
        [],
    )
    .unwrap();
    assert_eq!(broken(&store).await, ChainBreak::Content { seq: 3 });
}

#[tokio::test]
async fn a_deleted_entry_is_caught_at_the_next() {
    let (store, path) = store_with_five_entries().await;
    let conn = raw(&path);
    conn.execute("DELETE FROM audit_log WHERE seq = 3", [])
        .unwrap();
    assert_eq!(
        broken(&store).await,
        ChainBreak::Gap {
            seq: 4,
            expected: 3
        }
    );
}

#[tokio::test]
async fn a_forged_entry_is_caught() {
    let (store, path) = store_with_five_entries().await;
    let entries = store.audit_entries(0, u64::MAX, 10).await.unwrap();
    let conn = raw(&path);
    // Make room at seq 3 (in two steps, so no seq is ever taken twice).
    conn.execute_batch(
        "UPDATE audit_log SET seq = seq + 1000 WHERE seq >= 3;
         UPDATE audit_log SET seq = seq - 999 WHERE seq >= 1000;",
    )
    .unwrap();
    // The forger computes a valid hash for the forged entry itself (the hash is not keyed), so
    // the first entry that can be shown wrong is the one after it, which no longer links.
    let forged = draft(AuditAction::Read, Some(subject_id(2)))
        .chain(Some((2, entries[1].hash)), &ChainKey::UNKEYED);
    conn.execute(
        "INSERT INTO audit_log (seq, at, actor, role, purpose, subject_id, categories, action,
                               policy_version, detail, prev_hash, hash)
         VALUES (3, ?1, ?2, ?3, ?4, ?5, '[\"email\"]', 'read', ?6, NULL, ?7, ?8)",
        rusqlite::params![
            i64::try_from(forged.draft.at.unix_timestamp_nanos()).unwrap(),
            forged.draft.actor,
            forged.draft.role,
            forged.draft.purpose,
            forged.draft.subject.map(|s| s.as_bytes().to_vec()),
            forged.draft.policy_version,
            forged.prev_hash.0.to_vec(),
            forged.hash.0.to_vec(),
        ],
    )
    .unwrap();
    assert_eq!(
        store.audit_entries(0, u64::MAX, 10).await.unwrap()[2],
        forged
    );
    assert_eq!(broken(&store).await, ChainBreak::Link { seq: 4 });
}

#[tokio::test]
async fn reordered_entries_are_caught_at_the_first_moved() {
    let (store, path) = store_with_five_entries().await;
    let conn = raw(&path);
    conn.execute_batch(
        "UPDATE audit_log SET seq = 100 WHERE seq = 2;
         UPDATE audit_log SET seq = 2 WHERE seq = 3;
         UPDATE audit_log SET seq = 3 WHERE seq = 100;",
    )
    .unwrap();
    assert_eq!(broken(&store).await, ChainBreak::Link { seq: 2 });
}

#[tokio::test]
async fn a_truncated_tail_is_caught_by_the_head() {
    let (store, path) = store_with_five_entries().await;
    let conn = raw(&path);
    conn.execute("DELETE FROM audit_log WHERE seq = 5", [])
        .unwrap();
    let b = broken(&store).await;
    assert_eq!(
        b,
        ChainBreak::Truncated {
            last_seq: 4,
            head_seq: 5
        }
    );
    assert_eq!(b.seq(), 5);
}

#[tokio::test]
async fn a_rewritten_head_is_caught() {
    let (store, path) = store_with_five_entries().await;
    let conn = raw(&path);
    conn.execute(
        "UPDATE audit_head SET hash = ?1",
        [ChainHash([7; 32]).0.to_vec()],
    )
    .unwrap();
    assert_eq!(broken(&store).await, ChainBreak::HeadMismatch { seq: 5 });
}

/// Edits with plain SQL on the file, for the integrity scenario.
struct FileTamperer(PathBuf);

#[async_trait::async_trait]
impl integritet_app::conformance::integrity::Tamperer for FileTamperer {
    async fn set_token_role(&self, id: &str, role: &str) {
        let conn = Connection::open(&self.0).unwrap();
        conn.execute("UPDATE api_tokens SET role = ?2 WHERE id = ?1", (id, role))
            .unwrap();
    }

    async fn unrevoke_token(&self, id: &str) {
        let conn = Connection::open(&self.0).unwrap();
        conn.execute(
            "UPDATE api_tokens SET revoked_at = NULL WHERE id = ?1",
            [id],
        )
        .unwrap();
    }

    async fn set_password_hash(&self, user: &str, phc: &str) {
        let conn = Connection::open(&self.0).unwrap();
        conn.execute(
            "UPDATE console_users SET password_hash = ?2 WHERE name = ?1",
            (user, phc),
        )
        .unwrap();
    }

    async fn move_sessions(&self, from: &str, to: &str) {
        let conn = Connection::open(&self.0).unwrap();
        conn.execute(
            "UPDATE console_sessions SET user_name = ?2 WHERE user_name = ?1",
            (from, to),
        )
        .unwrap();
    }

    async fn set_value_purposes(
        &self,
        subject: integritet_domain::subject::SubjectId,
        value: integritet_domain::subject::ValueId,
        purposes: &[&str],
    ) {
        let conn = Connection::open(&self.0).unwrap();
        let changed = conn
            .execute(
                "UPDATE subject_values SET purposes = ?3 WHERE subject_id = ?1 AND id = ?2",
                (
                    subject.as_bytes().as_slice(),
                    value.as_bytes().as_slice(),
                    serde_json::to_string(purposes).unwrap(),
                ),
            )
            .unwrap();
        assert_eq!(changed, 1);
    }

    async fn rewrite_audit_entry(&self, entry: &integritet_domain::audit::AuditEntry) {
        let conn = raw(&self.0);
        let changed = conn
            .execute(
                "UPDATE audit_log SET purpose = ?2, detail = ?3, prev_hash = ?4, hash = ?5
                 WHERE seq = ?1",
                rusqlite::params![
                    i64::try_from(entry.seq).unwrap(),
                    entry.draft.purpose,
                    entry.draft.detail,
                    entry.prev_hash.0.to_vec(),
                    entry.hash.0.to_vec(),
                ],
            )
            .unwrap();
        assert_eq!(changed, 1);
    }

    async fn set_audit_head(&self, seq: u64, hash: ChainHash) {
        let conn = Connection::open(&self.0).unwrap();
        conn.execute(
            "UPDATE audit_head SET seq = ?1, hash = ?2",
            rusqlite::params![i64::try_from(seq).unwrap(), hash.0.to_vec()],
        )
        .unwrap();
    }
}

async fn store_and_tamperer() -> (
    std::sync::Arc<dyn integritet_app::store::Store>,
    FileTamperer,
) {
    let path = scratch_dir().join("vault.db");
    let store = SqliteStore::open(&path).await.unwrap();
    (std::sync::Arc::new(store), FileTamperer(path))
}

integritet_app::integrity_tests!(store_and_tamperer());

/// The archive keeps no insertion order a reader could match with the erasure records': the
/// table has no rowid and its rows sit in the order of their random references.
#[tokio::test]
async fn archive_rows_keep_no_insertion_order() {
    use integritet_app::conformance::{archive_record, insert_subject};
    use integritet_app::store::ErasureRecord;

    let path = scratch_dir().join("vault.db");
    let store = SqliteStore::open(&path).await.unwrap();
    // References written in descending order come back in ascending order.
    for n in (1..=3u8).rev() {
        insert_subject(&store, u64::from(n)).await;
        let entry = archive_record(n, time::macros::date!(2033 - 12 - 31));
        store
            .erase_subject(
                ErasureRecord {
                    subject: subject_id(u64::from(n)),
                    at: time::macros::datetime!(2026-03-01 10:00 UTC),
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
    let conn = Connection::open(&path).unwrap();
    assert!(conn.prepare("SELECT rowid FROM archive").is_err());
    let mut stmt = conn.prepare("SELECT reference FROM archive").unwrap();
    let stored: Vec<String> = stmt
        .query_map([], |row| row.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut sorted = stored.clone();
    sorted.sort();
    assert_eq!(stored, sorted);
}
