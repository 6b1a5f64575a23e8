//! `integritet id check`: what support staff use to check a number a customer wrote. Import
//! and the API validate with the same parser.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use anyhow::Context;
use integritet_domain::Clock;
use integritet_domain::clock::SystemClock;
use integritet_domain::identity::{IdentityError, IdentityNumber};
use serde::Serialize;

use crate::IdCheckArgs;

/// The answer for one input, as printed with `--json` (one object per line).
#[derive(Debug, Serialize)]
struct Checked<'a> {
    input: &'a str,
    valid: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    normalised: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    birth_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    legal_form: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
}

impl<'a> Checked<'a> {
    fn of(input: &'a str, result: Result<IdentityNumber, IdentityError>) -> Checked<'a> {
        match result {
            Ok(number) => Checked {
                input,
                valid: true,
                kind: Some(number.kind().as_str()),
                normalised: Some(number.long_form()),
                birth_date: number.birth_date().map(|d| d.to_string()),
                legal_form: number
                    .as_organisationsnummer()
                    .map(|org| org.legal_form().as_str()),
                error: None,
                message: None,
            },
            Err(error) => Checked {
                input,
                valid: false,
                kind: None,
                normalised: None,
                birth_date: None,
                legal_form: None,
                error: Some(error.code()),
                message: Some(error.to_string()),
            },
        }
    }

    fn text_line(&self) -> String {
        match (self.valid, self.kind, &self.normalised) {
            (true, Some(kind), Some(normalised)) => {
                let mut line = format!("{}: {kind} {normalised}", self.input);
                if let Some(form) = self.legal_form {
                    line.push_str(&format!(" ({form})"));
                }
                line
            }
            _ => format!(
                "{}: invalid: {}",
                self.input,
                self.message.as_deref().unwrap_or("not an identity number")
            ),
        }
    }
}

pub fn check(args: &IdCheckArgs) -> anyhow::Result<ExitCode> {
    let today = args.today.unwrap_or_else(|| SystemClock.today());
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut all_valid = true;
    let mut report = |input: &str, out: &mut dyn Write| -> anyhow::Result<()> {
        let checked = Checked::of(input, IdentityNumber::parse(input, today));
        all_valid &= checked.valid;
        if args.json {
            serde_json::to_writer(&mut *out, &checked)?;
            writeln!(out)?;
        } else {
            writeln!(out, "{}", checked.text_line())?;
        }
        Ok(())
    };

    if args.numbers.is_empty() {
        let stdin = std::io::stdin();
        if stdin.is_terminal() {
            eprintln!(
                "error: give numbers as arguments, or one per line on standard input\n\n\
                 Example: integritet id check 811228-9874"
            );
            return Ok(ExitCode::from(2));
        }
        for line in stdin.lock().lines() {
            let line = line.context("cannot read standard input")?;
            let input = line.trim();
            if !input.is_empty() {
                report(input, &mut out)?;
            }
        }
    } else {
        for input in &args.numbers {
            report(input.trim(), &mut out)?;
        }
    }
    out.flush()?;
    Ok(if all_valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
