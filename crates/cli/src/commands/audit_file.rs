//! The audit log as a file of JSON Lines, one entry per line: written by `audit export`, read
//! back by `restore --audit-log` to carry the entries a restored log lacks. Entries hold ids,
//! names and times, never personal data.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, bail};
use integritet_app::store::prelude::*;
use integritet_domain::audit::AuditEntry;

use super::context::{StoreArgs, runtime};

/// Entries read or carried per round trip.
const PAGE: u32 = 10_000;

/// `integritet audit export`: the entries after `after`, in order, to stdout.
pub fn audit_export(store: &StoreArgs, after: u64) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let store = store.open_store().await?;
        // The end as it is now: entries written while exporting belong to a later export.
        let until = store.audit_head().await?.map_or(0, |(seq, _)| seq);
        let mut out = BufWriter::new(std::io::stdout().lock());
        let mut from = after;
        while from < until {
            let page = store.audit_entries(from, until, PAGE).await?;
            let Some(last) = page.last() else {
                break;
            };
            from = last.seq;
            for entry in &page {
                serde_json::to_writer(&mut out, entry)?;
                out.write_all(b"\n")?;
            }
        }
        out.flush()?;
        Ok(ExitCode::SUCCESS)
    })
}

/// Carries the entries of the file at `path` that come after `store`'s last entry into it,
/// when the file continues that log exactly (its entry at the log's end has the same hash).
/// How many were carried.
pub async fn carry_from_file(store: &dyn Store, path: &Path) -> anyhow::Result<u64> {
    let file = File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let head = store.audit_head().await?;
    let end = head.map_or(0, |(seq, _)| seq);
    let mut carried = 0;
    let mut page: Vec<AuditEntry> = Vec::new();
    let mut expected = None;
    for (n, line) in BufReader::new(file).lines().enumerate() {
        let line = line.with_context(|| format!("cannot read {}", path.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        // The error names the line only: an edited file may hold anything.
        let entry: AuditEntry = serde_json::from_str(&line).map_err(|_| {
            anyhow::anyhow!(
                "line {} of {} is not an audit entry as `integritet audit export` writes it",
                n + 1,
                path.display()
            )
        })?;
        if let Some(expected) = expected
            && entry.seq != expected
        {
            bail!(
                "{} jumps from entry {} to entry {} at line {}; export the log again",
                path.display(),
                expected - 1,
                entry.seq,
                n + 1
            );
        }
        expected = Some(entry.seq + 1);
        if entry.seq < end {
            continue;
        }
        if entry.seq == end {
            if Some(entry.hash) != head.map(|(_, hash)| hash) {
                bail!(
                    "entry {end} of {} differs from the restored log's last entry: the file is \
                     not a later state of this log, and nothing was carried",
                    path.display()
                );
            }
            continue;
        }
        if page.is_empty() && carried == 0 && entry.seq != end + 1 {
            bail!(
                "{} starts at entry {} but the restored log ends at entry {end}: export it with \
                 `--after {end}` or less",
                path.display(),
                entry.seq
            );
        }
        page.push(entry);
        if page.len() >= PAGE as usize {
            carried += store.carry_audit(std::mem::take(&mut page)).await?;
        }
    }
    if !page.is_empty() {
        carried += store.carry_audit(page).await?;
    }
    Ok(carried)
}
