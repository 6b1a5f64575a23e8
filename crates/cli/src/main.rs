//! `integritet`: run a privacy policy instead of only publishing it.
//!
//! Exit codes: 0 ok, 1 the command ran and found a problem (or failed), 2 bad usage.

mod commands;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "integritet",
    version,
    about = "Run your privacy policy: check it, render the notice and the Art. 30 register, validate identity numbers.",
    after_help = "Examples:\n  integritet policy check examples/seed-shop/policy.toml\n  integritet policy notice examples/seed-shop/policy.toml --lang sv --format html > integritet.html\n  integritet id check 19121212-1212 556800-7610"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Swedish identity numbers: personnummer, samordningsnummer, organisationsnummer.
    #[command(subcommand)]
    Id(IdCommand),
    /// The policy file: check it, render the privacy notice and the Art. 30 register.
    #[command(subcommand)]
    Policy(PolicyCommand),
}

#[derive(Debug, Subcommand)]
enum IdCommand {
    /// Check identity numbers and print their kind and normalised form.
    #[command(
        after_help = "Reads one number per line from standard input when no NUMBER is given.\n\n\
Examples:\n  integritet id check 811228-9874 198112289874 556800-7610\n  integritet id check --json < numbers.txt\n  integritet id check --today 2026-11-25 121212-1212\n\n\
Exit status: 0 when every number is valid, 1 when any is not, 2 on bad usage."
    )]
    Check(IdCheckArgs),
}

#[derive(Debug, Args)]
pub struct IdCheckArgs {
    /// Numbers to check (10 or 12 digits, with or without `-` or `+`).
    pub numbers: Vec<String>,
    /// Print one JSON object per line instead of text.
    #[arg(long)]
    pub json: bool,
    /// The date that decides the century of a 10-digit number (YYYY-MM-DD); default today.
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub today: Option<time::Date>,
}

#[derive(Debug, Subcommand)]
enum PolicyCommand {
    /// Parse and lint a policy file; every finding has a severity and a legal reference.
    #[command(
        after_help = "Examples:\n  integritet policy check examples/seed-shop/policy.toml\n  integritet policy check examples/seed-shop/policy-as-published.toml --format json\n\n\
Exit status: 0 when there are no errors (warnings allowed), 1 when there are errors or the file cannot be read, 2 on bad usage."
    )]
    Check(PolicyCheckArgs),
    /// Render the privacy notice (integritetspolicy) from the policy file.
    #[command(
        after_help = "Examples:\n  integritet policy notice examples/seed-shop/policy.toml --lang sv --format md\n  integritet policy notice examples/seed-shop/policy.toml --lang en --format html > privacy.html"
    )]
    Notice(PolicyNoticeArgs),
    /// Render the GDPR Art. 30(1) record of processing activities.
    #[command(
        after_help = "Examples:\n  integritet policy ropa examples/seed-shop/policy.toml --format csv > register.csv\n  integritet policy ropa examples/seed-shop/policy.toml --format json"
    )]
    Ropa(PolicyRopaArgs),
}

#[derive(Debug, Args)]
pub struct PolicyCheckArgs {
    /// The policy file (policy.toml).
    pub file: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct PolicyNoticeArgs {
    /// The policy file (policy.toml).
    pub file: PathBuf,
    /// Language of the notice.
    #[arg(long, value_enum, default_value_t = NoticeLang::Sv)]
    pub lang: NoticeLang,
    /// Markdown or a standalone HTML page.
    #[arg(long, value_enum, default_value_t = NoticeFormat::Md)]
    pub format: NoticeFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NoticeLang {
    Sv,
    En,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NoticeFormat {
    Md,
    Html,
}

#[derive(Debug, Args)]
pub struct PolicyRopaArgs {
    /// The policy file (policy.toml).
    pub file: PathBuf,
    /// CSV (one row per purpose) or JSON (with DPV terms).
    #[arg(long, value_enum, default_value_t = RopaFormat::Csv)]
    pub format: RopaFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RopaFormat {
    Csv,
    Json,
}

/// Parses `YYYY-MM-DD` for options that take a date.
fn parse_date(text: &str) -> Result<time::Date, String> {
    time::Date::parse(
        text,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map_err(|_| format!("write the date as YYYY-MM-DD, e.g. 2026-11-25 (got {text:?})"))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Id(IdCommand::Check(args)) => commands::id::check(&args),
        Command::Policy(PolicyCommand::Check(args)) => commands::policy_check::run(&args),
        Command::Policy(PolicyCommand::Notice(args)) => commands::policy_render::notice(&args),
        Command::Policy(PolicyCommand::Ropa(args)) => commands::policy_render::ropa(&args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
