//! `integritet sweep`: retention applied now (or as of `--now`), with a progress bar and a
//! report by purpose; `--dry-run` reports the same without changing anything.

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use integritet_app::vault::{SweepProgress, SweepReport};
use integritet_domain::Clock;
use integritet_domain::clock::{FixedClock, SystemClock};
use time::OffsetDateTime;

use super::context::{StoreArgs, operator, runtime};
use super::vault_cmds::progress_bar;

pub fn sweep(
    store: &StoreArgs,
    dry_run: bool,
    now: Option<&str>,
    list: bool,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let real_now = SystemClock.now();
    let clock: Arc<dyn Clock> = match now {
        None => Arc::new(SystemClock),
        Some(text) => match as_of(text, real_now) {
            Ok(at) => Arc::new(FixedClock(at)),
            Err(message) => {
                eprintln!("error: {message}");
                return Ok(ExitCode::from(2));
            }
        },
    };
    runtime()?.block_on(async {
        let vault = store.open_vault_at(clock).await?;
        let bar = progress_bar(0, if dry_run { "planning" } else { "sweeping" });
        let archive_file = store.archive_key_file();
        let report = vault
            .sweep(&operator(), dry_run, list, Some(&archive_file), &|step| match step {
                SweepProgress::Total(total) => bar.set_length(total),
                SweepProgress::Done(done) => bar.set_position(done),
            })
            .await
            .context("the sweep stopped; what it changed so far is complete, run it again to finish")?;
        bar.finish_and_clear();
        if json {
            let mut out = std::io::stdout().lock();
            serde_json::to_writer_pretty(&mut out, &report)?;
            writeln!(out)?;
        } else {
            super::write_stdout(&report_text(&report))?;
        }
        if report.values_refused + report.subjects_refused > 0 {
            eprintln!(
                "error: {} values and {} subjects failed their integrity check and were left alone; \
                 run `integritet store verify` and see the audit log's integrity_violation entries",
                report.values_refused, report.subjects_refused
            );
            return Ok(ExitCode::FAILURE);
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// The `--now` date: that day at the present time of day. A sweep never runs in the past: the
/// archive keys of past days are gone, and retention once applied is not undone.
fn as_of(text: &str, real_now: OffsetDateTime) -> Result<OffsetDateTime, String> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let day = time::Date::parse(text, format)
        .map_err(|_| format!("--now {text:?} is no date: write YYYY-MM-DD, e.g. 2036-01-01"))?;
    if day < real_now.date() {
        return Err(format!(
            "--now {day} is in the past: a sweep runs as of today ({}) or a later day",
            real_now.date()
        ));
    }
    Ok(day.with_time(real_now.time()).assume_utc())
}

/// The report as a person reads it.
fn report_text(report: &SweepReport) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let heading = if report.dry_run {
        format!(
            "Retention sweep as of {} (dry run: nothing was changed; this is what a sweep would do)",
            report.today
        )
    } else {
        format!("Retention sweep as of {}", report.today)
    };
    let _ = writeln!(out, "{heading}");
    for (label, count) in [
        ("subjects evaluated", report.subjects_evaluated),
        ("subjects erased (nothing kept)", report.subjects_erased),
        ("subjects with values removed", report.subjects_trimmed),
        (
            "subjects held (legal hold or restriction)",
            report.subjects_held,
        ),
        ("values erased", report.values_erased),
        ("values moved to the archive", report.values_archived),
        ("values held", report.values_held),
        ("archive entries made", report.archive_entries_made),
        ("archive entries shredded", report.archive_entries_shredded),
    ] {
        let _ = writeln!(out, "  {label:<44}{count:>10}");
    }
    if report.purposes.is_empty() {
        return out;
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "  {:<24}{:>10}{:>10}{:>10}{:>11}{:>10}",
        "purpose", "erased", "archived", "held", "archiving", "shredded"
    );
    for (purpose, counts) in &report.purposes {
        let _ = writeln!(
            out,
            "  {purpose:<24}{:>10}{:>10}{:>10}{:>11}{:>10}",
            counts.erased, counts.archived, counts.held, counts.archiving, counts.shredded
        );
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "  erased, archived, held: what became of the values the purpose no longer needs;\n  \
         archiving: values a legal obligation keeps in the archive from today; shredded: its\n  \
         archive entries past their day."
    );
    if !report.subjects.is_empty() {
        let _ = writeln!(out);
        for swept in &report.subjects {
            let mut line = format!("  {}  {}", swept.subject, swept.outcome);
            if !swept.erased.is_empty() {
                line.push_str(&format!("; erased: {}", swept.erased.join(", ")));
            }
            if !swept.archived.is_empty() {
                line.push_str(&format!("; archived: {}", swept.archived.join(", ")));
            }
            let _ = writeln!(out, "{line}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn now_is_a_date_today_or_later() {
        let real = datetime!(2026-12-03 14:30 UTC);
        assert_eq!(
            as_of("2036-12-03", real),
            Ok(datetime!(2036-12-03 14:30 UTC))
        );
        assert_eq!(as_of("2026-12-03", real), Ok(real));
        assert!(as_of("2026-12-02", real).unwrap_err().contains("past"));
        assert!(as_of("next year", real).unwrap_err().contains("YYYY-MM-DD"));
    }
}
