//! The vault commands end to end on SQLite: import, lookup, export, erase, archive, backup,
//! restore with erasure replay, key rotation and audit verification.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use tempfile::TempDir;

const EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/seed-shop");

pub(crate) struct Shop {
    pub(crate) dir: TempDir,
    /// A PostgreSQL store instead of SQLite in the data directory.
    database_url: Option<String>,
}

impl Shop {
    pub(crate) fn new() -> Shop {
        Shop {
            dir: tempfile::tempdir().unwrap(),
            database_url: None,
        }
    }

    pub(crate) fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub(crate) fn cmd(&self) -> Command {
        let mut cmd = Command::cargo_bin("integritet").unwrap();
        cmd.env_remove("INTEGRITET_DATABASE_URL")
            .arg("--data-dir")
            .arg(self.data_dir())
            .arg("--policy")
            .arg(format!("{EXAMPLES}/policy.toml"));
        if let Some(url) = &self.database_url {
            cmd.arg("--database-url").arg(url);
        }
        cmd
    }

    /// [`Shop::cmd`] as a process to spawn (and kill).
    pub(crate) fn process(&self) -> std::process::Command {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("integritet"));
        cmd.env_remove("INTEGRITET_DATABASE_URL")
            .arg("--data-dir")
            .arg(self.data_dir())
            .arg("--policy")
            .arg(format!("{EXAMPLES}/policy.toml"));
        if let Some(url) = &self.database_url {
            cmd.arg("--database-url").arg(url);
        }
        cmd
    }

    pub(crate) fn run(&self, args: &[&str]) -> (i32, String, String) {
        let output = self.cmd().args(args).output().unwrap();
        (
            output.status.code().unwrap_or(-1),
            String::from_utf8(output.stdout).unwrap(),
            String::from_utf8(output.stderr).unwrap(),
        )
    }

    fn import_examples(&self) {
        for file in ["customers.jsonl", "customers.csv"] {
            let (code, out, err) = self.run(&["import", &format!("{EXAMPLES}/{file}")]);
            assert_eq!(code, 0, "{file}: {out}{err}");
        }
    }

    fn lookup(&self, kind: &str, value: &str) -> Option<String> {
        let (code, out, _) = self.run(&["lookup", "--purpose", "purchase", kind, value]);
        (code == 0).then(|| out.trim().to_owned())
    }
}

#[test]
fn importing_the_examples_leaves_a_whole_audit_chain() {
    let shop = Shop::new();
    shop.import_examples();
    let (code, out, _) = shop.run(&["audit", "verify", "--json"]);
    assert_eq!(code, 0, "{out}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["whole"], true);
    // 7 subjects, each audited, plus one import entry per file.
    assert_eq!(report["entries"], 9);
    assert!(shop.lookup("email", "Beata.Lund@example.se").is_some());
    assert!(shop.lookup("phone", "+46 19 12 34 56").is_some());
}

#[test]
fn bad_rows_are_reported_by_line_and_not_imported() {
    let shop = Shop::new();
    let (code, out, err) = shop.run(&["import", &format!("{EXAMPLES}/bad-rows.jsonl")]);
    assert_eq!(code, 1);
    assert!(
        out.contains("imported 0 subjects, rejected 5 rows"),
        "{out}"
    );
    for line in 1..=5 {
        assert!(err.contains(&format!("bad-rows.jsonl:{line}: ")), "{err}");
    }
    assert!(
        err.contains("values[0].value: not an e-mail address"),
        "{err}"
    );
    assert!(
        !err.contains("inte-en-adress") && !err.contains("19960210"),
        "an error message repeats personal data: {err}"
    );
    let (_, out, _) = shop.run(&["audit", "verify", "--json"]);
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["entries"], 0);
}

#[test]
fn the_database_file_holds_no_plaintext() {
    let shop = Shop::new();
    shop.import_examples();
    let id = shop.lookup("email", "anders.holm@example.se").unwrap();
    let (code, _, _) = shop.run(&["export", &id]);
    assert_eq!(code, 0);
    let mut bytes = Vec::new();
    for name in ["integritet.db", "integritet.db-wal"] {
        if let Ok(mut b) = std::fs::read(shop.data_dir().join(name)) {
            bytes.append(&mut b);
        }
    }
    assert!(bytes.len() > 10_000);
    for known in [
        "Anders Fiktiv Holm",
        "anders.holm@example.se",
        "19791116-2381",
        "+46702223344",
        "Kyrkvägen 3",
        "K-20001",
        "Fiktiva Telematik HB",
    ] {
        assert!(
            !contains(&bytes, known.as_bytes()),
            "the database file holds {known:?} in clear"
        );
    }
    for key in ["kek.keys", "blind-index.key", "archive.keys"] {
        let mode = file_mode(&shop.data_dir().join("keys").join(key));
        assert_eq!(mode & 0o777, 0o600, "{key} has mode {mode:o}");
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn file_mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode()
}

#[test]
fn an_erased_person_never_comes_back_from_a_backup() {
    let shop = Shop::new();
    shop.import_examples();
    let backup = shop.dir.path().join("before-erasure.db");
    let (code, _, err) = shop.run(&["backup", backup.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");

    let id = shop.lookup("identity_number", "197911162381").unwrap();
    let (code, out, _) = shop.run(&["erase", &id, "--json"]);
    assert_eq!(code, 0);
    let outcome: serde_json::Value = serde_json::from_str(&out).unwrap();
    let reference = outcome["archive_references"][0]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(shop.lookup("email", "anders.holm@example.se").is_none());

    let (code, out, err) = shop.run(&["restore", backup.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("1 later erasures applied again"), "{out}");
    assert!(
        shop.lookup("email", "anders.holm@example.se").is_none(),
        "the erased person came back with the backup"
    );
    assert!(shop.lookup("email", "beata.lund@example.se").is_some());
    let (code, _, _) = shop.run(&["export", &id]);
    assert_eq!(code, 1);

    // The replay archived the bookkeeping data again; the first erasure's entry went with the
    // restore, the replay's entry is readable by its own reference.
    let (_, out, _) = shop.run(&["erasures"]);
    assert!(out.contains(&id), "{out}");
    assert!(!out.contains("anders"), "{out}");
    let _ = reference;
    let (code, out, _) = shop.run(&["audit", "verify"]);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn archive_reads_need_a_reason_and_are_audited() {
    let shop = Shop::new();
    shop.import_examples();
    let id = shop.lookup("customer_number", "k-20003").unwrap();
    let (_, out, _) = shop.run(&["erase", &id, "--json"]);
    let outcome: serde_json::Value = serde_json::from_str(&out).unwrap();
    let reference = outcome["archive_references"][0].as_str().unwrap();
    let (code, _, err) = shop.run(&["archive", "read", reference, "--reason", "why"]);
    assert_eq!(code, 1);
    assert!(err.contains("at least 10 characters"), "{err}");
    let (code, out, err) = shop.run(&[
        "archive",
        "read",
        reference,
        "--reason",
        "Skatteverket audit of the 2026 books",
    ]);
    assert_eq!(code, 0, "{err}");
    let view: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(view["subject"], id.as_str());
    assert_eq!(view["shred_after"], "2033-12-31");
    let (code, _, err) = shop.run(&[
        "archive",
        "read",
        "ar_nonsense",
        "--reason",
        "a long enough reason",
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("not an archive reference"), "{err}");
}

#[test]
fn key_rotation_keeps_every_subject_readable() {
    let shop = Shop::new();
    shop.import_examples();
    let (code, out, err) = shop.run(&["keys", "rotate", "--settle", "0"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("7 data keys re-wrapped under k2, retired k1"),
        "{out}"
    );
    let ring = std::fs::read_to_string(shop.data_dir().join("keys/kek.keys")).unwrap();
    assert!(
        ring.contains("active k2") && ring.contains("retired k1"),
        "{ring}"
    );
    assert!(
        !ring.contains("key k1 "),
        "the old key must be gone from the file"
    );
    let id = shop.lookup("email", "omar.nilsson@example.se").unwrap();
    let (code, out, _) = shop.run(&["export", &id]);
    assert_eq!(code, 0);
    assert!(out.contains("omar.nilsson@example.se"));
    let (code, _, _) = shop.run(&["audit", "verify"]);
    assert_eq!(code, 0);
}

#[test]
fn commands_that_need_a_policy_say_so() {
    let shop = Shop::new();
    let output = Command::cargo_bin("integritet")
        .unwrap()
        .env_remove("INTEGRITET_POLICY")
        .arg("--data-dir")
        .arg(shop.data_dir())
        .args(["import", &format!("{EXAMPLES}/customers.csv")])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--policy"));
    let (code, _, err) = shop.run(&["import", "customers.xlsx"]);
    assert_eq!(code, 1);
    assert!(err.contains(".jsonl") && err.contains(".csv"), "{err}");
    let (code, _, err) = shop.run(&["export", "not-a-uuid"]);
    assert_eq!(code, 1);
    assert!(err.contains("not a subject id"), "{err}");
}

#[test]
fn disclosures_are_recorded_only_to_declared_recipients() {
    let shop = Shop::new();
    shop.import_examples();
    let id = shop.lookup("email", "beata.lund@example.se").unwrap();
    let (code, out, err) = shop.run(&[
        "disclose",
        &id,
        "--recipient",
        "credit_agencies",
        "--purpose",
        "purchase",
        "--categories",
        "name,identity_number",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("disclosed to credit_agencies"), "{out}");
    let (code, _, err) = shop.run(&[
        "disclose",
        &id,
        "--recipient",
        "advertisers",
        "--purpose",
        "purchase",
        "--categories",
        "email",
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("declares no such recipient"), "{err}");
}

/// How a database is put back by other means than `integritet restore`: a file copy of a
/// backup on SQLite, a copy of the database as it was (what pg_restore gives) on PostgreSQL.
trait OutsideRestore {
    /// Puts the state saved at creation back in place of the shop's store.
    fn put_back(&mut self, shop: &mut Shop);
}

struct FileCopy(PathBuf);

impl OutsideRestore for FileCopy {
    fn put_back(&mut self, shop: &mut Shop) {
        for name in ["integritet.db", "integritet.db-wal", "integritet.db-shm"] {
            let _ = std::fs::remove_file(shop.data_dir().join(name));
        }
        std::fs::copy(&self.0, shop.data_dir().join("integritet.db")).unwrap();
    }
}

/// Two copies of the database as it was: one per restore of the story.
struct DatabaseCopies(
    Vec<crate::crash::FreshDatabase>,
    Option<crate::crash::FreshDatabase>,
);

impl OutsideRestore for DatabaseCopies {
    fn put_back(&mut self, shop: &mut Shop) {
        let copy = self.0.pop().unwrap();
        shop.database_url = Some(copy.url.clone());
        // Kept until the story ends, then dropped with the others.
        self.1 = Some(copy);
    }
}

/// What an operator does around a restore by other means: save what was said since the backup
/// (`integritet erasures`) and the log (`integritet audit export`), put the old database back,
/// then `restore --replay … --audit-log …`. The erasure is applied again and no audit entry is
/// lost; without the log the restore says which entries are missing, records it, and exits 1.
fn an_outside_restore_keeps_the_later_log(
    mut shop: Shop,
    backup: impl FnOnce(&Shop) -> Box<dyn OutsideRestore>,
) {
    shop.import_examples();
    let mut saved_state = backup(&shop);
    let id = shop.lookup("email", "omar.nilsson@example.se").unwrap();
    assert_eq!(shop.run(&["erase", &id]).0, 0);
    assert!(shop.lookup("email", "beata.lund@example.se").is_some());
    let (code, record, _) = shop.run(&["erasures"]);
    assert_eq!(code, 0);
    let saved = shop.dir.path().join("erasures.json");
    std::fs::write(&saved, record).unwrap();
    let (code, log, err) = shop.run(&["audit", "export"]);
    assert_eq!(code, 0, "{err}");
    let exported = shop.dir.path().join("audit.jsonl");
    std::fs::write(&exported, &log).unwrap();
    let (_, out, _) = shop.run(&["audit", "verify", "--json"]);
    let before: serde_json::Value = serde_json::from_str(&out).unwrap();
    let entries_before = before["entries"].as_u64().unwrap();
    assert!(log.lines().count() as u64 >= entries_before - 1, "{log}");
    assert!(
        !log.contains("@example.se"),
        "no personal data in the exported log"
    );

    // Nothing may use the restored store before this: a lookup's audit entry would make its
    // log go another way than the exported one, which is then refused.
    saved_state.put_back(&mut shop);
    let (code, out, err) = shop.run(&[
        "restore",
        "--replay",
        saved.to_str().unwrap(),
        "--audit-log",
        exported.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("1 later erasures applied again"), "{out}");
    assert!(
        !out.contains(" 0 later audit entries carried over"),
        "{out}"
    );
    assert!(shop.lookup("email", "omar.nilsson@example.se").is_none());
    let (code, out, _) = shop.run(&["audit", "verify", "--json"]);
    assert_eq!(code, 0, "{out}");
    let after: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(after["entries"].as_u64().unwrap() > entries_before, "{out}");
    // The same file again carries nothing twice.
    let (code, out, err) = shop.run(&["restore", "--audit-log", exported.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains(" 0 later audit entries carried over"), "{out}");

    // Without the log: done all the same, but said, recorded and exit 1.
    saved_state.put_back(&mut shop);
    let (code, out, err) = shop.run(&["restore", "--replay", saved.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("1 later erasures applied again"), "{out}");
    assert!(err.contains("lacks entries"), "{err}");
    assert!(shop.lookup("email", "omar.nilsson@example.se").is_none());
    let (code, out, _) = shop.run(&["audit", "verify"]);
    assert_eq!(code, 0, "{out}");
    let (_, log, _) = shop.run(&["audit", "export"]);
    assert!(log.contains("audit entries missing="), "{log}");

    let (code, _, err) = shop.run(&["restore", "--replay", "/nonexistent/erasures.json"]);
    assert_eq!(code, 1);
    assert!(err.contains("cannot read"), "{err}");
}

#[test]
fn an_outside_restore_keeps_the_later_log_on_sqlite() {
    an_outside_restore_keeps_the_later_log(Shop::new(), |shop| {
        let backup = shop.dir.path().join("dump.db");
        assert_eq!(shop.run(&["backup", backup.to_str().unwrap()]).0, 0);
        Box::new(FileCopy(backup))
    });
}

#[test]
fn an_outside_restore_keeps_the_later_log_on_postgres() {
    let live = crate::crash::FreshDatabase::create();
    let mut shop = Shop::new();
    shop.database_url = Some(live.url.clone());
    an_outside_restore_keeps_the_later_log(shop, |_| {
        Box::new(DatabaseCopies(vec![live.snapshot(), live.snapshot()], None))
    });
}

#[test]
fn store_verify_names_a_value_whose_purposes_were_widened_in_the_file() {
    let shop = Shop::new();
    shop.import_examples();
    let (code, out, err) = shop.run(&["store", "verify"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("every row is as written"), "{out}");

    // An intruder with the file but not the keys lets marketing use every e-mail address.
    let db = rusqlite::Connection::open(shop.data_dir().join("integritet.db")).unwrap();
    let widened = db
        .execute(
            "UPDATE subject_values SET purposes = '[\"purchase\",\"direct_marketing\"]'
             WHERE category = 'email'",
            [],
        )
        .unwrap();
    assert!(widened > 0);
    drop(db);

    let (code, out, _) = shop.run(&["store", "verify", "--json"]);
    assert_eq!(code, 1, "{out}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["whole"], false);
    assert_eq!(
        report["report"]["values_refused"].as_array().unwrap().len(),
        widened
    );
    // Ids only: no address leaks into the report.
    assert!(!out.contains("@example.se"), "{out}");
    let (code, out, _) = shop.run(&["audit", "verify"]);
    assert_eq!(
        code, 0,
        "the refusal is on record and the log is whole: {out}"
    );
}

/// A restore brings back neither a revoked token nor a disabled user, and shortens no history:
/// the entries written after the backup are carried into the restored log, and the replaced
/// database is kept beside it.
#[test]
fn a_restore_applies_again_what_was_stopped_and_keeps_the_later_log() {
    let shop = Shop::new();
    shop.import_examples();
    let (code, out, err) = shop.run(&["token", "create", "--role", "support", "--json"]);
    assert_eq!(code, 0, "{err}");
    let token: serde_json::Value = serde_json::from_str(&out).unwrap();
    let token_id = token["id"].as_str().unwrap().to_owned();
    let created = shop
        .cmd()
        .args([
            "user",
            "create",
            "anna",
            "--role",
            "support",
            "--password-stdin",
        ])
        .write_stdin("ett långt och hemligt lösenord\n")
        .output()
        .unwrap();
    assert!(created.status.success(), "{created:?}");
    let backup = shop.dir.path().join("backup.db");
    assert_eq!(shop.run(&["backup", backup.to_str().unwrap()]).0, 0);

    // After the backup: the token is revoked, the user disabled, a person erased.
    assert_eq!(shop.run(&["token", "revoke", &token_id]).0, 0);
    assert_eq!(shop.run(&["user", "disable", "anna"]).0, 0);
    let id = shop.lookup("email", "beata.lund@example.se").unwrap();
    assert_eq!(shop.run(&["erase", &id]).0, 0);
    let (_, out, _) = shop.run(&["audit", "verify", "--json"]);
    let before: serde_json::Value = serde_json::from_str(&out).unwrap();
    let entries_before = before["entries"].as_u64().unwrap();

    let (code, out, err) = shop.run(&["restore", backup.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("1 later erasures applied again"), "{out}");
    assert!(out.contains("1 tokens revoked again"), "{out}");
    assert!(out.contains("1 users disabled again"), "{out}");
    assert!(out.contains("later audit entries carried over"), "{out}");
    assert!(out.contains("the replaced database is kept at"), "{out}");
    assert!(shop.lookup("email", "beata.lund@example.se").is_none());

    let (_, out, _) = shop.run(&["token", "list", "--json"]);
    let tokens: serde_json::Value = serde_json::from_str(&out).unwrap();
    let listed = tokens
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == token_id.as_str())
        .unwrap();
    assert!(listed["revoked_at"].is_string(), "{listed}");
    let (_, out, _) = shop.run(&["user", "list"]);
    assert!(out.contains("disabled"), "{out}");

    // History is not shortened: every entry from before the restore is there, then the
    // replay's own, and the chain is whole.
    let (code, out, _) = shop.run(&["audit", "verify", "--json"]);
    assert_eq!(code, 0, "{out}");
    let after: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(
        after["entries"].as_u64().unwrap() > entries_before,
        "{before} → {after}"
    );
    let kept: Vec<_> = std::fs::read_dir(shop.data_dir())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().contains(".replaced-"))
        .collect();
    assert_eq!(kept.len(), 1);
}

/// The audit chain is keyed under `audit-chain.key`: an intruder with the database file who
/// edits the newest entry and recomputes its hash and the head, as anyone can for an unkeyed
/// chain, is caught although no checkpoint covers that entry yet.
#[test]
fn the_newest_audit_entry_cannot_be_rewritten_without_the_key_directory() {
    use integritet_domain::audit::{AuditAction, AuditDraft, ChainHash, ChainKey};

    let shop = Shop::new();
    shop.import_examples();
    let key_file = shop.data_dir().join("keys/audit-chain.key");
    let text = std::fs::read_to_string(&key_file).unwrap();
    assert!(
        text.contains("\nfrom 1\n"),
        "a new log is keyed from its first entry"
    );
    assert_eq!(file_mode(&key_file) & 0o777, 0o600);
    let (code, out, err) = shop.run(&["audit", "verify"]);
    assert_eq!(code, 0, "{out}{err}");

    let db = rusqlite::Connection::open(shop.data_dir().join("integritet.db")).unwrap();
    let (seq, mut draft, prev): (i64, AuditDraft, Vec<u8>) = db
        .query_row(
            "SELECT seq, at, actor, role, purpose, subject_id, categories, action,
                    policy_version, detail, prev_hash
             FROM audit_log ORDER BY seq DESC LIMIT 1",
            [],
            |row| {
                let at: i64 = row.get(1)?;
                let subject: Option<Vec<u8>> = row.get(5)?;
                let categories: String = row.get(6)?;
                let action: String = row.get(7)?;
                Ok((
                    row.get(0)?,
                    AuditDraft {
                        at: time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(at))
                            .unwrap(),
                        actor: row.get(2)?,
                        role: row.get(3)?,
                        purpose: row.get(4)?,
                        subject: subject.map(|b| uuid::Uuid::from_slice(&b).unwrap()),
                        categories: serde_json::from_str(&categories).unwrap(),
                        action: AuditAction::parse(&action).unwrap(),
                        policy_version: row.get(8)?,
                        detail: row.get(9)?,
                    },
                    row.get(10)?,
                ))
            },
        )
        .unwrap();
    draft.detail = Some("rewritten".into());
    let prev = ChainHash::from_slice(&prev).unwrap();
    let seq_u64 = u64::try_from(seq).unwrap();
    let forged = draft.chain(Some((seq_u64 - 1, prev)), &ChainKey::UNKEYED);
    assert_eq!(forged.seq, seq_u64);
    // The append-only triggers are no obstacle to someone who can write the file.
    db.execute_batch("DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;")
        .unwrap();
    db.execute(
        "UPDATE audit_log SET detail = 'rewritten', hash = ?1 WHERE seq = ?2",
        (forged.hash.0.as_slice(), seq),
    )
    .unwrap();
    db.execute(
        "UPDATE audit_head SET hash = ?1",
        [forged.hash.0.as_slice()],
    )
    .unwrap();
    drop(db);

    let (code, out, err) = shop.run(&["audit", "verify"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        format!("{out}{err}").contains(&format!("entry {seq}: its content does not match")),
        "{out}{err}"
    );

    // A key directory without this store's keys is refused, not answered with a new key.
    let empty = tempfile::tempdir().unwrap();
    let (code, out, err) = shop.run(&[
        "--key-dir",
        empty.path().to_str().unwrap(),
        "audit",
        "verify",
    ]);
    assert_ne!(code, 0, "{out}{err}");
    assert!(err.contains("no keys in"), "{err}");
    assert!(!empty.path().join("audit-chain.key").exists());
}

/// A postal access request from receipt to answer, through the CLI alone.
#[test]
fn a_postal_request_is_registered_proven_extended_and_answered() {
    let shop = Shop::new();
    shop.import_examples();
    let (code, out, err) = shop.run(&[
        "request",
        "new",
        "--type",
        "access",
        "--channel",
        "post",
        "--received",
        "2026-01-31",
        "--email",
        "omar.nilsson@example.se",
        "--phone",
        "070-111 22 33",
        "--json",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let request: serde_json::Value = serde_json::from_str(&out).unwrap();
    let id = request["id"].as_str().unwrap().to_owned();
    assert_eq!(request["state"], "received");
    assert!(
        !out.contains("omar"),
        "identifiers are kept as references: {out}"
    );

    let (code, out, _) = shop.run(&["request", "show", &id]);
    assert_eq!(code, 0);
    assert!(
        out.contains("access, received 2026-01-31 by Post, received, due 2026-03-02"),
        "{out}"
    );
    let (code, out, err) = shop.run(&[
        "request",
        "verify",
        &id,
        "--method",
        "id-document-checked",
        "--email",
        "Omar.Nilsson@example.se",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("identity_verified"), "{out}");
    // Carried out: the access report of the subject the proven e-mail leads to, saved as a
    // Swedish page the person can read and print.
    let report = shop.dir.path().join("registerutdrag.html");
    let (code, out, err) = shop.run(&[
        "request",
        "carry-out",
        &id,
        "--report",
        report.to_str().unwrap(),
        "--lang",
        "sv",
        "--json",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let done: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(err.contains("registerutdrag.html"), "{err}");
    assert_eq!(done["subjects"].as_array().unwrap().len(), 1, "{out}");
    assert_eq!(done["result"]["type"], "reports");
    assert!(
        out.contains("omar.nilsson@example.se"),
        "the report holds the data: {out}"
    );
    let page = std::fs::read_to_string(&report).unwrap();
    assert_eq!(file_mode(&report) & 0o077, 0, "only its owner may read it");
    for expected in [
        "<html lang=\"sv\">",
        "Registerutdrag",
        "omar.nilsson@example.se",
        "Lämnad av dig",
        "Sparas till och med",
        "Integritetsskyddsmyndigheten",
    ] {
        assert!(page.contains(expected), "the report lacks {expected:?}");
    }
    // Past the first month an extension is refused, with the day it ended.
    let (code, _, err) = shop.run(&[
        "request",
        "extend",
        &id,
        "--months",
        "2",
        "--reason",
        "many records",
        "--told-by",
        "post",
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("the first month ended on 2026-03-02"), "{err}");
    let (code, out, err) = shop.run(&[
        "request",
        "complete",
        &id,
        "--delivery",
        "post",
        "--address",
        "Storgatan 1, 702 11 Örebro",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("completed"), "{out}");
    let (code, _, err) = shop.run(&["request", "refuse", &id, "--reason", "late"]);
    assert_eq!(code, 1);
    assert!(err.contains("the request is completed"), "{err}");
    let (code, out, _) = shop.run(&["request", "list", "--due", "7d"]);
    assert_eq!(code, 0);
    assert_eq!(
        out.trim(),
        "no requests",
        "a completed request is due no more"
    );
    let (code, out, _) = shop.run(&["request", "list"]);
    assert_eq!(code, 0);
    assert!(out.contains(&id), "{out}");

    // Bad input is named, never echoed back as personal data.
    let (code, _, err) = shop.run(&[
        "request",
        "new",
        "--type",
        "access",
        "--channel",
        "post",
        "--received",
        "31/1",
        "--email",
        "omar@example.se",
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("YYYY-MM-DD"), "{err}");
    let (code, _, err) = shop.run(&[
        "request",
        "new",
        "--type",
        "objection",
        "--channel",
        "email",
        "--email",
        "omar@example.se",
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("--marketing"), "{err}");
    let (code, _, err) = shop.run(&[
        "request",
        "new",
        "--type",
        "access",
        "--channel",
        "email",
        "--email",
        "inte-en-adress",
    ]);
    assert_eq!(code, 1);
    assert!(!err.contains("inte-en-adress"), "{err}");
    let (code, _, err) = shop.run(&["request", "show", "0193c2f4-0000-7000-8000-000000000000"]);
    assert_eq!(code, 1);
    assert!(err.contains("no such request"), "{err}");
    let (code, out, _) = shop.run(&["audit", "verify"]);
    assert_eq!(code, 0, "{out}");
}
