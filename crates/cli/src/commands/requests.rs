//! `integritet request`: data subjects' requests, from receipt to answer. Each subcommand is a
//! use case of the vault (`Vault::receive_request`, `Vault::advance_request`); the rules
//! (deadline, extension, proof before execution) are the domain's.

use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Subcommand, ValueEnum};
use integritet_app::vault::{LookupKind, NewRequest, RequestStep};
use integritet_domain::Clock;
use integritet_domain::clock::SystemClock;
use integritet_domain::personal::PersonalValue;
use integritet_domain::request::{
    Channel, DeliveryMethod, MarketingChannel, ObjectionTarget, Request, RequestKind,
    VerificationMethod,
};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::context::{StoreArgs, operator, runtime};

#[derive(Debug, Subcommand)]
pub enum RequestCommand {
    /// Register a request as it arrived: what is asked, how it came, whom it names.
    #[command(
        after_help = "The deadline is one month after the day of receipt (GDPR Art. 12(3)), moved to the next \
working day when it falls on a Saturday, a Sunday or a Swedish public holiday.\n\n\
Examples:\n  integritet --policy policy.toml request new --type access --channel post --received 2026-01-31 --email omar@example.se\n  integritet --policy policy.toml request new --type objection --marketing email --channel email --email omar@example.se\n  integritet --policy policy.toml request new --type objection --purpose product_improvement --channel portal --customer-number 10042"
    )]
    New {
        /// What is asked for.
        #[arg(long = "type", value_enum)]
        kind: KindArg,
        /// For an objection: the purpose objected to.
        #[arg(long, conflicts_with = "marketing")]
        purpose: Option<String>,
        /// For an objection to direct marketing: the channel.
        #[arg(long, value_enum)]
        marketing: Option<MarketingArg>,
        /// How the request came in.
        #[arg(long, value_enum)]
        channel: ChannelArg,
        /// When it arrived: a date (YYYY-MM-DD) or an RFC 3339 time; now when left out.
        #[arg(long, value_name = "WHEN")]
        received: Option<String>,
        #[command(flatten)]
        identifiers: IdentifierArgs,
        /// Print the request as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List requests, the one due first first.
    #[command(
        after_help = "Examples:\n  integritet --policy policy.toml request list\n  integritet --policy policy.toml request list --due 7d   # open, due within a week or overdue"
    )]
    List {
        /// Only open requests due within this many days (`7d` or `7`), overdue ones included.
        #[arg(long, value_name = "DAYS")]
        due: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Show one request.
    #[command(after_help = "Example:\n  integritet --policy policy.toml request show 0193c2f4-…")]
    Show {
        id: uuid::Uuid,
        #[arg(long)]
        json: bool,
    },
    /// Record who proved to be asking, and which of the request's identifiers the proof covers.
    #[command(
        after_help = "A request is carried out only after this, and only against the identifiers proven here.\n\n\
Example:\n  integritet --policy policy.toml request verify 0193c2f4-… --method id-document-checked --email omar@example.se"
    )]
    Verify {
        id: uuid::Uuid,
        #[arg(long, value_enum)]
        method: MethodArg,
        #[command(flatten)]
        identifiers: IdentifierArgs,
        #[arg(long)]
        json: bool,
    },
    /// Work on the request begins.
    #[command(after_help = "Example:\n  integritet --policy policy.toml request start 0193c2f4-…")]
    Start { id: uuid::Uuid },
    /// Move the deadline by one or two months (only within the first month), telling the person why.
    #[command(
        after_help = "Example:\n  integritet --policy policy.toml request extend 0193c2f4-… --months 2 --reason \"records at two warehouses\" --told-by email"
    )]
    Extend {
        id: uuid::Uuid,
        #[arg(long)]
        months: u32,
        #[arg(long)]
        reason: String,
        #[arg(long, value_enum)]
        told_by: DeliveryArg,
    },
    /// The answer went out: record how, and to which address.
    #[command(
        after_help = "Example:\n  integritet --policy policy.toml request complete 0193c2f4-… --delivery post --address \"Storgatan 1, 702 11 Örebro\""
    )]
    Complete {
        id: uuid::Uuid,
        #[arg(long, value_enum)]
        delivery: DeliveryArg,
        /// The address used (stored sealed with the request).
        #[arg(long)]
        address: Option<String>,
    },
    /// Refuse the request, with the reason told to the person (due within the first month too).
    #[command(
        after_help = "Example:\n  integritet --policy policy.toml request refuse 0193c2f4-… --reason \"the identity could not be confirmed\""
    )]
    Refuse {
        id: uuid::Uuid,
        #[arg(long)]
        reason: String,
    },
    /// Carry out a verified request against the subjects its proven identifiers lead to.
    #[command(
        after_help = "An erasure erases (archiving what a law keeps, with the day), a restriction restricts, an \
objection records itself, an access request makes each subject's access report (Art. 15). Then \
record the answer with `request complete`.\n\n\
Examples:\n  integritet --policy policy.toml request carry-out 0193c2f4-… --report registerutdrag.html --lang sv\n  integritet --policy policy.toml request carry-out 0193c2f4-… --json > answer.json"
    )]
    CarryOut {
        id: uuid::Uuid,
        /// Print what was done as JSON (for an access request: the reports as data).
        #[arg(long, conflicts_with = "csv")]
        json: bool,
        /// For a portability request: print the portable data as CSV.
        #[arg(long)]
        csv: bool,
        /// For an access request: write the report, readable and printable, to FILE (mode
        /// 0600; a second subject's to FILE-2 and so on).
        #[arg(long, value_name = "FILE")]
        report: Option<std::path::PathBuf>,
        /// The report's language.
        #[arg(long, value_enum, default_value_t = crate::NoticeLang::Sv)]
        lang: crate::NoticeLang,
        /// The report's format: a standalone HTML page (A4 when printed) or Markdown.
        #[arg(long, value_enum, default_value_t = crate::NoticeFormat::Html)]
        format: crate::NoticeFormat,
        /// For a rectification request: a corrected value, CATEGORY=VALUE (repeat for more).
        #[arg(long, value_name = "CATEGORY=VALUE")]
        correct: Vec<String>,
    },
    /// The person took the request back.
    #[command(
        after_help = "Example:\n  integritet --policy policy.toml request withdraw 0193c2f4-…"
    )]
    Withdraw { id: uuid::Uuid },
}

/// The identifiers a request names, or a proof covers.
#[derive(Debug, Args)]
pub struct IdentifierArgs {
    #[arg(long, value_name = "ADDRESS")]
    email: Vec<String>,
    #[arg(long, value_name = "NUMBER")]
    phone: Vec<String>,
    /// A personnummer, samordningsnummer or organisationsnummer.
    #[arg(long, value_name = "NUMBER")]
    identity_number: Vec<String>,
    #[arg(long, value_name = "NUMBER")]
    customer_number: Vec<String>,
}

impl IdentifierArgs {
    fn list(self) -> Vec<(LookupKind, PersonalValue)> {
        let of = |kind: LookupKind, values: Vec<String>| {
            values
                .into_iter()
                .map(move |v| (kind, PersonalValue::new(v)))
        };
        of(LookupKind::Email, self.email)
            .chain(of(LookupKind::Phone, self.phone))
            .chain(of(LookupKind::IdentityNumber, self.identity_number))
            .chain(of(LookupKind::CustomerNumber, self.customer_number))
            .collect()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KindArg {
    Access,
    Rectification,
    Erasure,
    Restriction,
    Objection,
    Portability,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MarketingArg {
    Email,
    Phone,
    Post,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ChannelArg {
    Portal,
    Email,
    Post,
    Phone,
    InPerson,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MethodArg {
    IdDocumentChecked,
    ElectronicId,
    EmailCode,
    PhoneCode,
    InPerson,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DeliveryArg {
    PortalDownload,
    Email,
    Post,
}

impl DeliveryArg {
    fn method(self) -> DeliveryMethod {
        match self {
            DeliveryArg::PortalDownload => DeliveryMethod::PortalDownload,
            DeliveryArg::Email => DeliveryMethod::Email,
            DeliveryArg::Post => DeliveryMethod::Post,
        }
    }
}

pub fn run(store: &StoreArgs, command: RequestCommand) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let vault = store.open_vault().await?;
        let actor = operator();
        match command {
            RequestCommand::New {
                kind,
                purpose,
                marketing,
                channel,
                received,
                identifiers,
                json,
            } => {
                let kind = request_kind(kind, purpose, marketing)?;
                let received_at = received.as_deref().map(parse_when).transpose()?;
                let request = vault
                    .receive_request(
                        &actor,
                        NewRequest {
                            kind,
                            channel: channel_of(channel),
                            received_at,
                            identifiers: identifiers.list(),
                        },
                    )
                    .await?;
                print(&request, json)?;
            }
            RequestCommand::List { due, json } => {
                let mut requests = vault.requests(&actor).await?;
                if let Some(days) = due {
                    let days = parse_days(&days)?;
                    let today = integritet_domain::request::stockholm_date(SystemClock.now());
                    let until = today + time::Duration::days(days);
                    requests.retain(|r| !r.state.is_closed() && r.due() <= until);
                }
                if json {
                    outln!("{}", serde_json::to_string_pretty(&requests)?);
                } else if requests.is_empty() {
                    outln!("no requests");
                } else {
                    for request in &requests {
                        outln!("{}", line(request));
                    }
                }
            }
            RequestCommand::Show { id, json } => print(&vault.request(&actor, id).await?, json)?,
            RequestCommand::Verify {
                id,
                method,
                identifiers,
                json,
            } => {
                let step = RequestStep::Verify {
                    method: method_of(method),
                    identifiers: identifiers.list(),
                };
                print(&vault.advance_request(&actor, id, step).await?, json)?;
            }
            RequestCommand::Start { id } => {
                let request = vault
                    .advance_request(&actor, id, RequestStep::Start)
                    .await?;
                print(&request, false)?;
            }
            RequestCommand::Extend {
                id,
                months,
                reason,
                told_by,
            } => {
                let step = RequestStep::Extend {
                    months,
                    reason,
                    told_by: told_by.method(),
                };
                print(&vault.advance_request(&actor, id, step).await?, false)?;
            }
            RequestCommand::Complete {
                id,
                delivery,
                address,
            } => {
                let step = RequestStep::Complete {
                    method: delivery.method(),
                    address: address.map(PersonalValue::new),
                };
                print(&vault.advance_request(&actor, id, step).await?, false)?;
            }
            RequestCommand::Refuse { id, reason } => {
                let step = RequestStep::Refuse { reason };
                print(&vault.advance_request(&actor, id, step).await?, false)?;
            }
            RequestCommand::CarryOut {
                id,
                json,
                csv,
                report,
                lang,
                format,
                correct,
            } => {
                let done = if correct.is_empty() {
                    vault.carry_out_request(&actor, id).await?
                } else {
                    let corrections = correct
                        .iter()
                        .map(|given| {
                            let (category, value) = given.split_once('=').with_context(|| {
                                "--correct takes CATEGORY=VALUE, e.g. --correct email=ny@example.se"
                            })?;
                            Ok(integritet_app::vault::Correction {
                                category: category.trim().to_owned(),
                                value: PersonalValue::new(value),
                            })
                        })
                        .collect::<anyhow::Result<Vec<_>>>()?;
                    vault.carry_out_rectification(&actor, id, corrections).await?
                };
                if let Some(path) = report {
                    let integritet_app::vault::RightResult::Reports { reports } = &done.result
                    else {
                        bail!("--report is for access requests: this request is carried out, see `request show {id}`");
                    };
                    let lang = match lang {
                        crate::NoticeLang::Sv => integritet_notice::Lang::Sv,
                        crate::NoticeLang::En => integritet_notice::Lang::En,
                    };
                    let format = match format {
                        crate::NoticeFormat::Html => integritet_notice::Format::Html,
                        crate::NoticeFormat::Md => integritet_notice::Format::Markdown,
                    };
                    let policy = vault.policy();
                    for (i, one) in reports.iter().enumerate() {
                        let file = numbered(&path, i);
                        let page = integritet_notice::render_access_report(
                            &policy.policy,
                            &policy.version,
                            one,
                            lang,
                            format,
                        );
                        write_private(&file, &page)?;
                        // On standard error: standard output may be the JSON answer.
                        eprintln!("the access report of subject {} is in {}", one.subject, file.display());
                    }
                }
                if csv {
                    let integritet_app::vault::RightResult::Portable { copies } = &done.result
                    else {
                        bail!("--csv is for portability requests; give --json for the others");
                    };
                    for copy in copies {
                        super::write_stdout(&copy.to_csv()?)?;
                    }
                } else if json {
                    outln!("{}", serde_json::to_string_pretty(&done)?);
                } else {
                    outln!("{}", line(&done.request));
                    outln!("{}", summary(&done));
                }
            }
            RequestCommand::Withdraw { id } => {
                let request = vault
                    .advance_request(&actor, id, RequestStep::Withdraw)
                    .await?;
                print(&request, false)?;
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

fn request_kind(
    kind: KindArg,
    purpose: Option<String>,
    marketing: Option<MarketingArg>,
) -> anyhow::Result<RequestKind> {
    if kind != KindArg::Objection && (purpose.is_some() || marketing.is_some()) {
        bail!("--purpose and --marketing belong to --type objection only");
    }
    Ok(match kind {
        KindArg::Access => RequestKind::Access,
        KindArg::Rectification => RequestKind::Rectification,
        KindArg::Erasure => RequestKind::Erasure,
        KindArg::Restriction => RequestKind::Restriction,
        KindArg::Portability => RequestKind::Portability,
        KindArg::Objection => RequestKind::Objection {
            to: match (purpose, marketing) {
                (Some(purpose), None) => ObjectionTarget::Purpose(purpose),
                (None, Some(channel)) => ObjectionTarget::Marketing(match channel {
                    MarketingArg::Email => MarketingChannel::Email,
                    MarketingArg::Phone => MarketingChannel::Phone,
                    MarketingArg::Post => MarketingChannel::Post,
                }),
                _ => bail!(
                    "an objection is to a purpose (--purpose NAME) or to direct marketing on a \
                     channel (--marketing email|phone|post)"
                ),
            },
        },
    })
}

fn channel_of(channel: ChannelArg) -> Channel {
    match channel {
        ChannelArg::Portal => Channel::Portal,
        ChannelArg::Email => Channel::Email,
        ChannelArg::Post => Channel::Post,
        ChannelArg::Phone => Channel::Phone,
        ChannelArg::InPerson => Channel::InPerson,
    }
}

fn method_of(method: MethodArg) -> VerificationMethod {
    match method {
        MethodArg::IdDocumentChecked => VerificationMethod::IdDocumentChecked,
        MethodArg::ElectronicId => VerificationMethod::ElectronicId,
        MethodArg::EmailCode => VerificationMethod::EmailCode,
        MethodArg::PhoneCode => VerificationMethod::PhoneCode,
        MethodArg::InPerson => VerificationMethod::InPerson,
    }
}

/// A date (taken as noon in Sweden, so it is that day there) or an RFC 3339 time.
fn parse_when(text: &str) -> anyhow::Result<OffsetDateTime> {
    if let Ok(at) = OffsetDateTime::parse(text, &Rfc3339) {
        return Ok(at);
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let day = time::Date::parse(text, format).with_context(|| {
        format!("--received {text:?} is no date: write YYYY-MM-DD or an RFC 3339 time such as 2026-01-31T10:00:00+01:00")
    })?;
    Ok(day.with_time(time::macros::time!(11:00)).assume_utc())
}

fn parse_days(text: &str) -> anyhow::Result<i64> {
    text.trim_end_matches('d')
        .parse::<i64>()
        .ok()
        .filter(|days| (0..=3650).contains(days))
        .with_context(|| format!("--due {text:?} is no number of days: write e.g. 7d"))
}

fn print(request: &Request, json: bool) -> anyhow::Result<()> {
    if json {
        outln!("{}", serde_json::to_string_pretty(request)?);
    } else {
        outln!("{}", line(request));
    }
    Ok(())
}

/// `path` for the first report, `path-2`, `path-3` … (before the extension) for the others.
fn numbered(path: &std::path::Path, index: usize) -> std::path::PathBuf {
    if index == 0 {
        return path.to_owned();
    }
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy())
        .unwrap_or_default();
    let name = match path.extension() {
        Some(ext) => format!("{stem}-{}.{}", index + 1, ext.to_string_lossy()),
        None => format!("{stem}-{}", index + 1),
    };
    path.with_file_name(name)
}

/// Writes a file only its owner can read: it holds personal data.
fn write_private(path: &std::path::Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot write the report to {}", path.display()))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write the report to {}", path.display()))
}

/// What carrying out did, in a line.
fn summary(done: &integritet_app::vault::CarriedOut) -> String {
    use integritet_app::vault::RightResult;
    let found = done.subjects.len();
    match &done.result {
        RightResult::Reports { reports } => format!(
            "{found} subjects found; {} access reports made (give --report FILE or --json to see them)",
            reports.len()
        ),
        RightResult::Portable { copies } => format!(
            "{found} subjects found; {} portable copies made (give --json or --csv to see them)",
            copies.len()
        ),
        RightResult::Erased { erasures } => {
            let archived: usize = erasures.iter().map(|e| e.archive.len()).sum();
            format!(
                "{found} subjects found and erased; {archived} archive entries keep what a law requires"
            )
        }
        RightResult::Restricted => format!("{found} subjects found and restricted"),
        RightResult::Objected { purposes } => {
            format!(
                "{found} subjects found; objection recorded to {}",
                purposes.join(", ")
            )
        }
        RightResult::Rectified {
            rectified,
            not_held,
        } => {
            let mut line = format!(
                "{found} subjects found; {} values rectified",
                rectified.len()
            );
            let mut notify: Vec<&str> = rectified
                .iter()
                .flat_map(|r| r.notify.iter().map(String::as_str))
                .collect();
            notify.sort_unstable();
            notify.dedup();
            if !notify.is_empty() {
                line.push_str(&format!("; tell {} (Art. 19)", notify.join(", ")));
            }
            if !not_held.is_empty() {
                line.push_str(&format!("; no value held of {}", not_held.join(", ")));
            }
            line
        }
        RightResult::NotAutomatic { why } => format!("not carried out by the system: {why}"),
    }
}

/// One line: id, what, how it came, received, state, due.
fn line(request: &Request) -> String {
    let kind = match &request.kind {
        RequestKind::Access => "access".to_owned(),
        RequestKind::Rectification => "rectification".to_owned(),
        RequestKind::Erasure => "erasure".to_owned(),
        RequestKind::Restriction => "restriction".to_owned(),
        RequestKind::Portability => "portability".to_owned(),
        RequestKind::Objection {
            to: ObjectionTarget::Purpose(purpose),
        } => format!("objection to {purpose}"),
        RequestKind::Objection {
            to: ObjectionTarget::Marketing(channel),
        } => format!("objection to marketing by {channel:?}").to_lowercase(),
    };
    let extended = if request.extension.is_some() {
        " (extended)"
    } else {
        ""
    };
    format!(
        "{} {kind}, received {} by {:?}, {}, due {}{extended}",
        request.id,
        request.received_on(),
        request.channel,
        request.state.as_str(),
        request.due(),
    )
}
