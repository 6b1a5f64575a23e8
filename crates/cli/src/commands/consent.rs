//! `integritet consent`: the cookie consent records the banner's decisions left, as JSON-LD.

use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;

use super::context::{StoreArgs, operator, runtime};

#[derive(Debug, Subcommand)]
pub enum ConsentCommand {
    /// Every consent record as JSON-LD (the W3C DPV guide to ISO/IEC TS 27560).
    #[command(
        after_help = "Each record: the visitor's pseudonymous id, the time, the banner version and the hash of the text shown, the language, the choice per category (refusals included), the GPC flag and the page; its status is dpv:ConsentGiven, ConsentRefused, ConsentWithdrawn or ConsentExpired. The export is audited.\n\nExamples:\n  integritet --policy policy.toml consent export > consent.jsonld\n  integritet --policy policy.toml consent export --since 2026-12-01"
    )]
    Export {
        /// Only records made on this day or later (YYYY-MM-DD).
        #[arg(long, value_name = "DATE")]
        since: Option<String>,
    },
}

pub fn run(store: &StoreArgs, command: ConsentCommand) -> anyhow::Result<ExitCode> {
    let ConsentCommand::Export { since } = command;
    let since = match since {
        Some(text) => {
            let format = time::macros::format_description!("[year]-[month]-[day]");
            time::Date::parse(text.trim(), format)
                .with_context(|| format!("--since {text:?} is no date: write YYYY-MM-DD"))?
                .midnight()
                .assume_utc()
        }
        None => time::OffsetDateTime::UNIX_EPOCH,
    };
    runtime()?.block_on(async {
        let vault = store.open_vault().await?;
        let document = vault.consent_export(&operator(), since).await?;
        outln!("{}", serde_json::to_string_pretty(&document)?);
        Ok(ExitCode::SUCCESS)
    })
}
