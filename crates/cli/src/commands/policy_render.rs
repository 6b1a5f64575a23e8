//! `integritet policy notice` and `integritet policy ropa`: render the privacy notice and the
//! Art. 30(1) register from the policy file, to standard output.

use std::process::ExitCode;

use anyhow::Context;
use integritet_notice::{Format, Lang};

use super::load_policy;
use crate::{NoticeFormat, NoticeLang, PolicyNoticeArgs, PolicyRopaArgs, RopaFormat};

/// Prints the privacy notice in the chosen language and format.
pub fn notice(args: &PolicyNoticeArgs) -> anyhow::Result<ExitCode> {
    let loaded = load_policy(&args.file)?;
    let lang = match args.lang {
        NoticeLang::Sv => Lang::Sv,
        NoticeLang::En => Lang::En,
    };
    let format = match args.format {
        NoticeFormat::Md => Format::Markdown,
        NoticeFormat::Html => Format::Html,
    };
    let text = integritet_notice::render_notice(&loaded.policy, &loaded.version, lang, format);
    print(&text)?;
    Ok(ExitCode::SUCCESS)
}

/// Prints the record of processing activities as CSV or JSON.
pub fn ropa(args: &PolicyRopaArgs) -> anyhow::Result<ExitCode> {
    let loaded = load_policy(&args.file)?;
    let text = match args.format {
        RopaFormat::Csv => integritet_notice::render_ropa_csv(&loaded.policy, &loaded.version)?,
        RopaFormat::Json => {
            let value = integritet_notice::render_ropa_json(&loaded.policy, &loaded.version);
            let mut json = serde_json::to_string_pretty(&value)
                .context("could not write the register as JSON")?;
            json.push('\n');
            json
        }
    };
    print(&text)?;
    Ok(ExitCode::SUCCESS)
}

fn print(text: &str) -> anyhow::Result<()> {
    super::write_stdout(text)
}
