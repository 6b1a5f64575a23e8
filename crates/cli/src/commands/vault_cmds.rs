//! Commands over the vault: import, export, erase, archive read, audit verify, keys rotate,
//! backup and restore.

use std::fs::File;
use std::io::{BufReader, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use integritet_app::audit_log;
use integritet_app::import::{self, ImportFormat};
use integritet_app::store::prelude::*;
use integritet_app::vault::{Actor, ReplayRecord};
use integritet_crypto::KeyFiles;
use integritet_domain::Clock;
use integritet_domain::clock::SystemClock;
use integritet_domain::subject::{ArchiveRef, SubjectId};
use integritet_store_sqlite::SqliteStore;

use super::context::{StoreArgs, operator, os_rng, runtime};

pub(super) fn progress_bar(len: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template(&format!(
            "{{spinner}} {what} [{{bar:40}}] {{percent:>3}}% {{msg}} ({{elapsed}})"
        ))
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar
}

fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

pub fn import(store: &StoreArgs, file: &Path, json: bool) -> anyhow::Result<ExitCode> {
    let format = ImportFormat::from_path(file).with_context(|| {
        format!(
            "cannot tell the format of {}: name the file .jsonl (JSON Lines) or .csv",
            file.display()
        )
    })?;
    let input = File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    let size = input.metadata().map(|m| m.len()).unwrap_or(0);
    runtime()?.block_on(async {
        let vault = store.open_or_create_vault().await?;
        let bar = progress_bar(size, "importing");
        let summary = import::import(
            &vault,
            &operator(),
            format,
            BufReader::with_capacity(1 << 20, input),
            |bytes, summary| {
                bar.set_position(bytes);
                bar.set_message(format!(
                    "{} imported, {} rejected",
                    summary.imported, summary.rejected
                ));
            },
        )
        .await?;
        bar.finish_and_clear();
        if json {
            print_json(&summary)?;
        } else {
            for error in &summary.errors {
                eprintln!("{}:{}: {}", file.display(), error.line, error.message);
            }
            if summary.rejected as usize > summary.errors.len() {
                eprintln!(
                    "… and {} more rejected rows",
                    summary.rejected as usize - summary.errors.len()
                );
            }
            outln!(
                "imported {} subjects, rejected {} rows",
                summary.imported,
                summary.rejected
            );
        }
        Ok(if summary.rejected == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        })
    })
}

fn parse_subject(text: &str) -> anyhow::Result<SubjectId> {
    text.trim()
        .parse()
        .with_context(|| format!("{text:?} is not a subject id (a UUID such as 0190f3c2-…)"))
}

pub fn lookup(
    store: &StoreArgs,
    kind: crate::LookupArg,
    value: &str,
    purpose: &str,
) -> anyhow::Result<ExitCode> {
    use integritet_app::vault::LookupKind;
    let kind = match kind {
        crate::LookupArg::Email => LookupKind::Email,
        crate::LookupArg::Phone => LookupKind::Phone,
        crate::LookupArg::IdentityNumber => LookupKind::IdentityNumber,
        crate::LookupArg::CustomerNumber => LookupKind::CustomerNumber,
    };
    runtime()?.block_on(async {
        let vault = store.open_vault().await?;
        let found = vault
            .lookup(
                &operator(),
                kind,
                &integritet_domain::personal::PersonalValue::new(value),
                purpose,
            )
            .await?;
        for id in &found {
            outln!("{id}");
        }
        Ok(if found.is_empty() {
            eprintln!("no subject has that value");
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        })
    })
}

pub fn disclose(
    store: &StoreArgs,
    subject: &str,
    recipient: &str,
    purpose: &str,
    categories: &[String],
) -> anyhow::Result<ExitCode> {
    let id = parse_subject(subject)?;
    runtime()?.block_on(async {
        let vault = store.open_vault().await?;
        vault
            .record_disclosure(&operator(), id, recipient, purpose, categories)
            .await?;
        outln!(
            "recorded: {} of subject {id} disclosed to {recipient} for {purpose}",
            categories.join(", ")
        );
        Ok(ExitCode::SUCCESS)
    })
}

pub fn export(store: &StoreArgs, subject: &str) -> anyhow::Result<ExitCode> {
    let id = parse_subject(subject)?;
    runtime()?.block_on(async {
        let vault = store.open_vault().await?;
        let view = vault.export(&operator(), id).await?;
        print_json(&view)?;
        Ok(ExitCode::SUCCESS)
    })
}

pub fn erase(store: &StoreArgs, subject: &str, json: bool) -> anyhow::Result<ExitCode> {
    let id = parse_subject(subject)?;
    runtime()?.block_on(async {
        let vault = store.open_vault().await?;
        let outcome = vault.erase(&operator(), id, "request").await?;
        if json {
            print_json(&outcome)?;
        } else {
            outln!("erased subject {id}");
            outln!("  destroyed: {}", outcome.erased.join(", "));
            if !outcome.archived.is_empty() {
                outln!(
                    "  archived (a law still requires them): {}",
                    outcome.archived.join(", ")
                );
                for reference in &outcome.archive_references {
                    outln!("  archive reference: {reference}");
                }
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

pub fn archive_read(store: &StoreArgs, reference: &str, reason: &str) -> anyhow::Result<ExitCode> {
    let Some(reference) = ArchiveRef::parse(reference) else {
        bail!("{reference:?} is not an archive reference (ar_ followed by 32 hex digits)");
    };
    runtime()?.block_on(async {
        let vault = store.open_vault().await?;
        let view = vault.read_archive(&operator(), &reference, reason).await?;
        print_json(&view)?;
        Ok(ExitCode::SUCCESS)
    })
}

pub fn archive_shred(store: &StoreArgs) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let vault = store.open_vault().await?;
        let (shredded, day) = vault
            .shred_and_advance_archive(&operator(), &store.archive_key_file())
            .await?;
        outln!("shredded {shredded} archive entries; archive keys before {day} destroyed");
        Ok(ExitCode::SUCCESS)
    })
}

pub fn audit_verify(store: &StoreArgs, json: bool) -> anyhow::Result<ExitCode> {
    let public_key = store.audit_public_key()?;
    runtime()?.block_on(async {
        let store = store.open_store().await?;
        let total = store.audit_head().await?.map_or(0, |(seq, _)| seq);
        let bar = progress_bar(total, "verifying");
        let started = std::time::Instant::now();
        let progress = |done| bar.set_position(done);
        let result = match &public_key {
            Some(key) => audit_log::verify_signed(store.as_ref(), key, progress).await,
            None => audit_log::verify(store.as_ref(), progress)
                .await
                .map(|summary| (summary, None)),
        };
        bar.finish_and_clear();
        let seconds = started.elapsed().as_secs_f64();
        match result {
            Ok((summary, signed)) => {
                if json {
                    print_json(&serde_json::json!({
                        "whole": true,
                        "entries": summary.entries,
                        "head": summary.head.map(|h| h.to_hex()),
                        "signed": signed.map(|s| serde_json::json!({
                            "seq": s.seq,
                            "head": s.head.to_hex(),
                            "at": s.at.format(&time::format_description::well_known::Rfc3339).ok(),
                            "unsigned_after": summary.entries - s.entry,
                        })),
                        "public_key": public_key.map(|k| k.to_base64()),
                    }))?;
                } else {
                    outln!(
                        "the audit log is whole: {} entries verified in {seconds:.2} s",
                        summary.entries
                    );
                    match (signed, public_key) {
                        (Some(s), _) => outln!(
                            "signed checkpoint: the head at entry {} was signed at {}; {} later entries not yet signed",
                            s.seq,
                            s.at,
                            summary.entries - s.entry
                        ),
                        (None, Some(_)) => outln!(
                            "no signed checkpoint yet (a running server signs the head every minute; `integritet audit checkpoint` signs it now)"
                        ),
                        (None, None) => outln!(
                            "no audit signing key in the key directory: checkpoints were not checked"
                        ),
                    }
                    if let Some(head) = summary.head {
                        outln!("head {head} (note it down to detect a later rewrite)");
                    }
                }
                Ok(ExitCode::SUCCESS)
            }
            Err(audit_log::VerifyError::Broken(at)) => {
                if json {
                    print_json(&serde_json::json!({
                        "whole": false,
                        "first_bad_entry": at.seq(),
                        "problem": at.to_string(),
                    }))?;
                } else {
                    outln!("the audit log is BROKEN at {at}");
                }
                Ok(ExitCode::FAILURE)
            }
            Err(other) => Err(other.into()),
        }
    })
}

/// Signs the log's head now (a running server does it every minute and at shutdown).
pub fn audit_checkpoint(store: &StoreArgs) -> anyhow::Result<ExitCode> {
    let signing = store.audit_signing_key()?;
    let policy_version = match &store.policy {
        Some(path) => super::load_policy(path)?.version.to_string(),
        None => String::new(),
    };
    runtime()?.block_on(async {
        let store = store.open_store().await?;
        let signed = audit_log::write_checkpoint(
            store.as_ref(),
            &signing,
            SystemClock.now(),
            &operator().id(),
            &policy_version,
        )
        .await?;
        match signed {
            Some(seq) => outln!("signed the audit log's head at entry {seq}"),
            None => outln!("nothing to sign: the head is signed already, or the log is empty"),
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// Prints the public key that verifies the audit log's checkpoints.
pub fn audit_public_key(store: &StoreArgs) -> anyhow::Result<ExitCode> {
    let signing = store.audit_signing_key()?;
    outln!("{}", signing.public_key());
    Ok(ExitCode::SUCCESS)
}

pub fn store_migrate(store: &StoreArgs) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        // Opening a store brings its schema up to date.
        let opened = store.open_or_create_store().await?;
        outln!("the {} schema is up to date", opened.backend());
        Ok(ExitCode::SUCCESS)
    })
}

pub fn store_verify(store: &StoreArgs, json: bool) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let vault = store.open_vault().await?;
        let report = vault.verify_integrity(&operator()).await?;
        if json {
            print_json(&serde_json::json!({
                "whole": report.is_whole(),
                "report": report,
            }))?;
        } else {
            outln!(
                "checked {} tokens, {} console users, {} legal holds, {} subjects and {} values",
                report.tokens_checked,
                report.users_checked,
                report.holds_checked,
                report.subjects_checked,
                report.values_checked
            );
            for id in &report.tokens_refused {
                outln!("token {id}: its row is not as written (refused; revoke it and issue another)");
            }
            for name in &report.users_refused {
                outln!("console user {name}: its row is not as written (refused at login)");
            }
            for id in &report.holds_refused {
                outln!("legal hold {id}: its row is not as written (it holds nothing; set it again if it is genuine)");
            }
            for subject in &report.keys_refused {
                outln!("subject {subject}: its data key does not open under the key ring");
            }
            for (subject, value) in &report.values_refused {
                outln!(
                    "subject {subject}, value {value}: does not authenticate (edited; restore the subject from a backup)"
                );
            }
            if report.values_unbound > 0 {
                outln!(
                    "{} values predate purpose binding: readable, but rectify them to bind their purposes",
                    report.values_unbound
                );
            }
            if report.is_whole() {
                outln!("every row is as written");
            } else {
                outln!("the store is NOT as written: see the rows above");
            }
        }
        Ok(if report.is_whole() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        })
    })
}

pub fn keys_rotate(store: &StoreArgs, settle: std::time::Duration) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let db = store.open_store().await?;
        let files = KeyFiles::in_dir(store.key_dir());
        let mut rng = os_rng()?;
        let total = db.counts().await?.subjects;
        let bar = progress_bar(total, "re-wrapping");
        let summary = integritet_app::keys::rotate(
            db.as_ref(),
            &files,
            &mut rng,
            &operator(),
            SystemClock.now(),
            settle,
            |done| bar.set_position(done),
        )
        .await?;
        bar.finish_and_clear();
        outln!(
            "rotated the key-encryption key: {} data keys re-wrapped under {}, retired {}",
            summary.rewrapped,
            summary.active,
            if summary.retired.is_empty() {
                "none".to_owned()
            } else {
                summary.retired.join(", ")
            }
        );
        Ok(ExitCode::SUCCESS)
    })
}

pub fn backup(store: &StoreArgs, dest: &Path) -> anyhow::Result<ExitCode> {
    if store.is_postgres() {
        bail!(
            "for PostgreSQL use pg_dump: `pg_dump --format=custom DBNAME > FILE`; after a pg_restore run `integritet restore --replay ERASURES` with the erasures saved by `integritet erasures --json` (see the README)"
        );
    }
    runtime()?.block_on(async {
        let db = store.open_store().await?;
        db.backup_to(dest).await?;
        outln!(
            "backup written to {} (the key files in {} are NOT in it: back them up separately)",
            dest.display(),
            store.key_dir().display()
        );
        Ok(ExitCode::SUCCESS)
    })
}

pub fn erasures(store: &StoreArgs) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let vault = store.open_vault().await?;
        print_json(&vault.replay_record(&operator()).await?)?;
        Ok(ExitCode::SUCCESS)
    })
}

/// Entries read per round trip when carrying the log over.
const CARRY_PAGE: u32 = 10_000;

/// Restores a SQLite backup, then applies again everything the replaced database recorded
/// since (erasures, revoked tokens, disabled users, restrictions, objections; or what
/// `replay` holds), carries over the audit entries written after the backup, and keeps a
/// copy of the replaced database beside it: a restore never brings back what was stopped and
/// never shortens history.
pub fn restore(
    store: &StoreArgs,
    source: Option<&Path>,
    replay: Option<&Path>,
    audit_log: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let mut record = ReplayRecord::default();
        if let Some(replay) = replay {
            let text = std::fs::read_to_string(replay)
                .with_context(|| format!("cannot read {}", replay.display()))?;
            record.extend(ReplayRecord::from_json(&text).with_context(|| {
                format!(
                    "{} is not a record as written by `integritet erasures`",
                    replay.display()
                )
            })?);
        }
        let mut carried = 0;
        let mut kept = None;
        if let Some(source) = source {
            if store.is_postgres() {
                bail!(
                    "restore a PostgreSQL database with pg_restore, then run `integritet restore --replay RECORD`"
                );
            }
            // Validate the backup before replacing anything (opening a missing file would
            // create an empty store and restore that).
            if !source.is_file() {
                bail!("there is no backup at {}: give the file `integritet backup` wrote", source.display());
            }
            let backup = SqliteStore::open(source)
                .await
                .with_context(|| format!("{} is not a usable Integritet backup", source.display()))?;
            let backup_head = backup.audit_head().await?;
            backup.close().await;
            let target = store.sqlite_path();
            let mut tail = None;
            if target.exists() {
                let current = std::sync::Arc::new(SqliteStore::open(&target).await?);
                store.key_audit_chain(current.as_ref()).await?;
                {
                    let (_, vault) = store.vault_over(current.clone()).await?;
                    record.extend(vault.replay_record(&Actor::system("restore")).await?);
                }
                tail = later_entries(current.as_ref(), backup_head).await?;
                // The replaced database is kept whole, where the restore cannot reach it.
                let copy = target.with_file_name(format!(
                    "{}.replaced-{}",
                    super::context::SQLITE_FILE,
                    SystemClock.now().unix_timestamp()
                ));
                current.backup_to(&copy).await.with_context(|| {
                    format!("cannot keep a copy of the replaced database at {}", copy.display())
                })?;
                kept = Some(copy);
                // Closed for good before its files are replaced: a connection still open would
                // remove the restored database's write-ahead log when it closed.
                match std::sync::Arc::try_unwrap(current) {
                    Ok(current) => current.close().await,
                    Err(_) => bail!("the database being replaced is still in use; try again"),
                }
            }
            std::fs::create_dir_all(&store.data_dir)?;
            for suffix in ["-wal", "-shm"] {
                let side = target.with_file_name(format!("{}{suffix}", super::context::SQLITE_FILE));
                if side.exists() {
                    std::fs::remove_file(&side)?;
                }
            }
            let staging = target.with_extension("db.restoring");
            std::fs::copy(source, &staging)
                .with_context(|| format!("cannot copy {}", source.display()))?;
            std::fs::rename(&staging, &target)?;
            if let Some(tail) = tail {
                let restored = SqliteStore::open(&target).await?;
                store.key_audit_chain(&restored).await?;
                for page in tail.chunks(CARRY_PAGE as usize) {
                    carried += restored.carry_audit(page.to_vec()).await?;
                }
                restored.close().await;
            }
        } else if replay.is_none() && audit_log.is_none() {
            bail!("give a backup file to restore, or --replay RECORD (or both)");
        }
        let restored = store.open_store().await?;
        if let Some(audit_log) = audit_log {
            // Before the replay adds entries of its own to the restored log.
            carried += super::audit_file::carry_from_file(restored.as_ref(), audit_log).await?;
        }
        let (_, vault) = store.vault_over(restored).await?;
        let actor = Actor::system("restore");
        let replayed = vault.replay(&actor, &record).await?;
        let shredded = vault.shred_due_archive(&actor).await?;
        outln!(
            "restored; {} later erasures applied again, {} tokens revoked again, {} users disabled again, \
             {} restrictions and {} objections applied again, {carried} later audit entries carried over, \
             {shredded} archive entries past their day shredded",
            replayed.erasures,
            replayed.tokens_revoked,
            replayed.users_disabled,
            replayed.restrictions,
            replayed.objections,
        );
        if let Some(copy) = kept {
            outln!("the replaced database is kept at {}", copy.display());
        }
        if let Some((first, last)) = replayed.audit_entries_missing {
            eprintln!(
                "the restored audit log lacks entries {first} to {last} of the replaced one; this \
                 is recorded in the log. To keep them, run `integritet audit export` before the \
                 next restore and give the file with --audit-log"
            );
            return Ok(ExitCode::from(1));
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// The entries `current` holds after `backup_head`, when the backup's log is an earlier state
/// of this one (its last entry is this log's entry of that seq); `None` when the two logs
/// went apart, and the replaced database's copy is what keeps them.
async fn later_entries(
    current: &dyn integritet_app::store::Store,
    backup_head: Option<(u64, integritet_domain::audit::ChainHash)>,
) -> anyhow::Result<Option<Vec<integritet_domain::audit::AuditEntry>>> {
    let after = match backup_head {
        None => 0,
        Some((seq, hash)) => {
            let same = current.audit_entries(seq - 1, seq, 1).await?;
            if same.first().map(|e| e.hash) != Some(hash) {
                return Ok(None);
            }
            seq
        }
    };
    let mut out = Vec::new();
    loop {
        let from = out
            .last()
            .map_or(after, |e: &integritet_domain::audit::AuditEntry| e.seq);
        let page = current.audit_entries(from, u64::MAX, CARRY_PAGE).await?;
        if page.is_empty() {
            return Ok(Some(out));
        }
        out.extend(page);
    }
}
