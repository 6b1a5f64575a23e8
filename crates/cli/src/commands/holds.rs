//! `integritet hold`: legal holds that stop erasure while a dispute lasts. Each subcommand is
//! a use case of the vault (`Vault::set_legal_hold`, `release_legal_hold`, `legal_holds`).

use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;
use integritet_domain::Clock;
use integritet_domain::clock::SystemClock;

use super::context::{StoreArgs, operator, runtime};

#[derive(Debug, Subcommand)]
pub enum HoldCommand {
    /// Stop the erasure of a subject's data until a day (a dispute: GDPR Art. 17(3)(e)).
    #[command(
        after_help = "Neither the retention sweep nor an erasure request removes anything of the subject while the hold lasts; the sweep reports it as held.\n\nExample:\n  integritet --policy policy.toml hold set 0190f3c2-8b1e-7c4d-9a55-3f6e1d2c4b5a --until 2027-06-30 --reason \"tvist om faktura 7000\""
    )]
    Set {
        /// The subject id.
        subject: String,
        /// The hold's last day (YYYY-MM-DD).
        #[arg(long, value_name = "DATE")]
        until: String,
        /// Why, in at least 10 characters and without personal data (it is audited).
        #[arg(long)]
        reason: String,
        /// Print the hold as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Every legal hold, in force or not.
    #[command(after_help = "Example:\n  integritet --policy policy.toml hold list --json")]
    List {
        /// Print the holds as JSON.
        #[arg(long)]
        json: bool,
    },
    /// End a hold before its day, when the dispute is over.
    #[command(
        after_help = "Example:\n  integritet --policy policy.toml hold release 0190f3c2-0000-4000-8000-000000000001"
    )]
    Release {
        /// The hold's id (from `hold set` or `hold list`).
        id: String,
    },
}

pub fn run(store: &StoreArgs, command: HoldCommand) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let vault = store.open_vault().await?;
        let actor = operator();
        match command {
            HoldCommand::Set {
                subject,
                until,
                reason,
                json,
            } => {
                let subject = subject.trim().parse().with_context(|| {
                    format!("{subject:?} is not a subject id (a UUID such as 0190f3c2-…)")
                })?;
                let format = time::macros::format_description!("[year]-[month]-[day]");
                let until = time::Date::parse(&until, format).with_context(|| {
                    format!("--until {until:?} is no date: write YYYY-MM-DD, e.g. 2027-06-30")
                })?;
                let hold = vault
                    .set_legal_hold(&actor, subject, &reason, until)
                    .await?;
                if json {
                    outln!("{}", serde_json::to_string_pretty(&hold)?);
                } else {
                    outln!(
                        "legal hold {} on subject {} until {}",
                        hold.id,
                        hold.subject,
                        hold.until
                    );
                }
            }
            HoldCommand::List { json } => {
                let holds = vault.legal_holds(&actor).await?;
                if json {
                    outln!("{}", serde_json::to_string_pretty(&holds)?);
                } else {
                    let today = SystemClock.today();
                    for hold in &holds {
                        let state = match &hold.released {
                            Some(release) => format!("released {}", release.at.date()),
                            None if hold.in_force_on(today) => "in force".to_owned(),
                            None => "ended".to_owned(),
                        };
                        outln!(
                            "{}  subject {}  until {}  {state}  {}",
                            hold.id,
                            hold.subject,
                            hold.until,
                            hold.reason
                        );
                    }
                    if holds.is_empty() {
                        outln!("no legal holds");
                    }
                }
            }
            HoldCommand::Release { id } => {
                let id = id
                    .trim()
                    .parse()
                    .with_context(|| format!("{id:?} is not a hold id (a UUID)"))?;
                let hold = vault.release_legal_hold(&actor, id).await?;
                outln!(
                    "legal hold {} on subject {} released",
                    hold.id,
                    hold.subject
                );
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}
