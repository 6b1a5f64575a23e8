//! `integritet policy check FILE`: parse the policy, hold it to the law, report the findings.
//!
//! Findings go to standard output (they are the command's result); a file that cannot be read
//! or parsed is an error on standard error. Exit 0 without errors (warnings allowed), 1 with
//! errors or an unreadable file.

use std::io::Write;
use std::process::ExitCode;

use integritet_domain::policy::lint::{self, Finding, Severity};
use serde::Serialize;

use crate::{PolicyCheckArgs, ReportFormat};

/// The `--format json` document.
#[derive(Debug, Serialize)]
struct Report<'a> {
    file: &'a str,
    version: &'a str,
    errors: usize,
    warnings: usize,
    findings: &'a [Finding],
}

pub fn run(args: &PolicyCheckArgs) -> anyhow::Result<ExitCode> {
    let loaded = super::load_policy(&args.file)?;
    let findings = lint::check(&loaded);
    let file = args.file.display().to_string();
    let report = Report {
        file: &file,
        version: loaded.version.as_str(),
        errors: lint::count(&findings, Severity::Error),
        warnings: lint::count(&findings, Severity::Warning),
        findings: &findings,
    };

    let mut out = std::io::stdout().lock();
    match args.format {
        ReportFormat::Text => write_text(&mut out, &report)?,
        ReportFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &report)?;
            writeln!(out)?;
        }
    }
    out.flush()?;

    Ok(if report.errors > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// `FILE:LINE: SEVERITY[CODE] PATH: MESSAGE (REFERENCE)` per finding, the form editors and CI
/// annotate, then a summary and the version id.
fn write_text(out: &mut impl Write, report: &Report<'_>) -> std::io::Result<()> {
    for finding in report.findings {
        writeln!(out, "{}", finding_line(report.file, finding))?;
    }
    writeln!(out, "{}", summary(report.errors, report.warnings))?;
    writeln!(out, "policy version {}", report.version)
}

/// One finding as `policy check` prints it.
pub fn finding_line(file: &str, finding: &Finding) -> String {
    let location = match finding.line {
        Some(line) => format!("{file}:{line}"),
        None => file.to_owned(),
    };
    format!(
        "{location}: {}[{}] {}: {} ({})",
        finding.severity, finding.code, finding.path, finding.message, finding.reference
    )
}

fn summary(errors: usize, warnings: usize) -> String {
    if errors == 0 && warnings == 0 {
        return "no findings".to_owned();
    }
    format!(
        "{errors} error{}, {warnings} warning{}",
        if errors == 1 { "" } else { "s" },
        if warnings == 1 { "" } else { "s" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_counts_in_words() {
        assert_eq!(summary(0, 0), "no findings");
        assert_eq!(summary(1, 0), "1 error, 0 warnings");
        assert_eq!(summary(2, 1), "2 errors, 1 warning");
    }
}
