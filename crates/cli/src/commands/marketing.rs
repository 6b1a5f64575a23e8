//! `integritet marketing`: the audience a purpose may reach by a channel, one-click unsubscribe
//! headers, opt-outs that came by letter, phone or e-mail, and the NIX-Telefon register. Each
//! subcommand is a use case of the vault; this only reads arguments and prints.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use integritet_app::vault::{LinkState, LookupKind};
use integritet_domain::personal::PersonalValue;
use integritet_domain::policy::MarketingChannel;

use super::context::{StoreArgs, operator, runtime};

#[derive(Debug, Subcommand)]
pub enum MarketingCommand {
    /// The contacts a marketing purpose may use by a channel right now.
    #[command(
        after_help = "Only contacts that are not objected, suppressed, restricted or erased, within retention, with consent where the purpose needs it and, for phone, not in the NIX-Telefon register. Every draw is audited with its purpose and size. E-mail and SMS contacts come with their own one-click unsubscribe link.\n\nExamples:\n  integritet --policy policy.toml marketing audience --channel email --purpose direct_marketing\n  integritet --policy policy.toml marketing audience --channel email --purpose newsletter --csv > audience.csv"
    )]
    Audience {
        #[command(flatten)]
        target: Target,
        /// A campaign the unsubscribe links name (letters, digits, '.', '_', '-').
        #[arg(long)]
        campaign: Option<String>,
        #[command(flatten)]
        links: PublicUrl,
        /// Print JSON.
        #[arg(long, conflicts_with = "csv")]
        json: bool,
        /// Print CSV: subject, contact, unsubscribe_url, list_unsubscribe.
        #[arg(long)]
        csv: bool,
    },
    /// The List-Unsubscribe headers (RFC 8058) of a message to one subject.
    #[command(
        after_help = "Prints a fresh link's `List-Unsubscribe` (the HTTPS link and the policy's opt-out address) and `List-Unsubscribe-Post: List-Unsubscribe=One-Click`. The link works until it is used or revoked.\n\nExample:\n  integritet --policy policy.toml marketing headers 0190f3c2-8b1e-7c4d-9a55-3f6e1d2c4b5a --channel email --purpose newsletter --public-url https://shop.example\n  curl -X POST -d 'List-Unsubscribe=One-Click' https://shop.example/u/…"
    )]
    Headers {
        /// The subject id.
        subject: String,
        #[command(flatten)]
        target: Target,
        /// A campaign the link names.
        #[arg(long)]
        campaign: Option<String>,
        #[command(flatten)]
        links: PublicUrl,
        /// Print JSON (token, url and both header values).
        #[arg(long)]
        json: bool,
    },
    /// Revoke an unsubscribe link before it is used.
    #[command(after_help = "Example:\n  integritet --policy policy.toml marketing revoke Qm9…")]
    Revoke {
        /// The link's token (the last part of its URL).
        token: String,
    },
    /// Record an opt-out that came by letter, phone or e-mail.
    #[command(
        after_help = "Everyone the address or number belongs to objects to the purpose (every marketing purpose when none is named), and the address or number goes on the suppression list whether or not anyone was found. Only the address is needed, never an identity number.\n\nExamples:\n  integritet --policy policy.toml marketing opt-out --email anna@example.se\n  integritet --policy policy.toml marketing opt-out --phone '070-123 45 67' --purpose direct_marketing"
    )]
    OptOut {
        /// The e-mail address the opt-out names.
        #[arg(long, conflicts_with = "phone", required_unless_present = "phone")]
        email: Option<String>,
        /// The phone number the opt-out names.
        #[arg(long)]
        phone: Option<String>,
        /// One marketing purpose; every marketing purpose when left out.
        #[arg(long)]
        purpose: Option<String>,
    },
    /// Replace the NIX-Telefon register with a file of numbers, one per line.
    #[command(
        after_help = "The register replaces the previous one whole. Numbers are normalised to E.164 and kept only as keyed hashes. A line that is no phone number is reported with its number, and nothing is replaced. Blank lines and lines starting with '#' are skipped.\n\nExample:\n  integritet --policy policy.toml marketing nix-import nix-2026-12.txt"
    )]
    NixImport {
        /// The register as delivered: one number per line.
        file: PathBuf,
    },
}

/// Which purpose, by which channel.
#[derive(Debug, Args)]
pub struct Target {
    /// The channel: email, sms, phone or post.
    #[arg(long, value_enum)]
    channel: Channel,
    /// A marketing purpose of the policy (e.g. direct_marketing, newsletter).
    #[arg(long)]
    purpose: String,
}

/// Where the links point.
#[derive(Debug, Args)]
pub struct PublicUrl {
    /// The address the server is reached at, for the unsubscribe links
    /// [default: http://127.0.0.1:8080; INTEGRITET_PUBLIC_URL].
    #[arg(long, value_name = "URL", env = "INTEGRITET_PUBLIC_URL", value_parser = parse_public_url)]
    public_url: Option<String>,
}

impl PublicUrl {
    fn get(&self) -> &str {
        self.public_url
            .as_deref()
            .unwrap_or("http://127.0.0.1:8080")
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Channel {
    Email,
    Sms,
    Phone,
    Post,
}

impl From<Channel> for MarketingChannel {
    fn from(channel: Channel) -> MarketingChannel {
        match channel {
            Channel::Email => MarketingChannel::Email,
            Channel::Sms => MarketingChannel::Sms,
            Channel::Phone => MarketingChannel::Phone,
            Channel::Post => MarketingChannel::Post,
        }
    }
}

/// An `http://` or `https://` address without a path beyond `/`, query or fragment.
pub fn parse_public_url(text: &str) -> Result<String, String> {
    let trimmed = text.trim().trim_end_matches('/');
    let rest = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"))
        .ok_or("write the address with its scheme, e.g. https://shop.example")?;
    if rest.is_empty() || rest.contains(['?', '#', ' ']) {
        return Err(
            "write the address without a query or fragment, e.g. https://shop.example".into(),
        );
    }
    Ok(trimmed.to_owned())
}

pub fn run(store: &StoreArgs, command: MarketingCommand) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let vault = store.open_vault().await?;
        let actor = operator();
        match command {
            MarketingCommand::Audience {
                target,
                campaign,
                links,
                json,
                csv,
            } => {
                let drawn = vault
                    .audience(
                        &actor,
                        &target.purpose,
                        target.channel.into(),
                        campaign.as_deref(),
                    )
                    .await?;
                let contacts: Vec<serde_json::Value> = drawn
                    .contacts
                    .iter()
                    .map(|c| {
                        let link = c
                            .unsubscribe_token
                            .as_deref()
                            .map(|t| vault.list_unsubscribe(t, links.get()));
                        serde_json::json!({
                            "subject": c.subject,
                            "contact": c.contact.expose(),
                            "unsubscribe_url": link.as_ref().map(|l| l.url.clone()),
                            "list_unsubscribe": link.as_ref().map(|l| l.list_unsubscribe.clone()),
                        })
                    })
                    .collect();
                if json {
                    let body = serde_json::json!({
                        "purpose": drawn.purpose,
                        "channel": drawn.channel,
                        "on": drawn.on.to_string(),
                        "contacts": contacts,
                    });
                    outln!("{}", serde_json::to_string_pretty(&body)?);
                } else if csv {
                    let mut writer = ::csv::Writer::from_writer(Vec::new());
                    writer.write_record([
                        "subject",
                        "contact",
                        "unsubscribe_url",
                        "list_unsubscribe",
                    ])?;
                    for c in &contacts {
                        let field = |k: &str| c[k].as_str().unwrap_or("").to_owned();
                        writer.write_record([
                            field("subject"),
                            field("contact"),
                            field("unsubscribe_url"),
                            field("list_unsubscribe"),
                        ])?;
                    }
                    let text = String::from_utf8(writer.into_inner()?)?;
                    outln!("{}", text.trim_end_matches('\n'));
                } else {
                    for c in &contacts {
                        outln!("{}", c["contact"].as_str().unwrap_or(""));
                    }
                    eprintln!(
                        "{} contacts for {} by {} on {} (audited)",
                        contacts.len(),
                        drawn.purpose,
                        drawn.channel.as_str(),
                        drawn.on
                    );
                }
            }
            MarketingCommand::Headers {
                subject,
                target,
                campaign,
                links,
                json,
            } => {
                let subject = subject.trim().parse().with_context(|| {
                    format!("{subject:?} is not a subject id (a UUID such as 0190f3c2-…)")
                })?;
                let token = vault
                    .unsubscribe_token(
                        &actor,
                        subject,
                        &target.purpose,
                        target.channel.into(),
                        campaign.as_deref(),
                    )
                    .await?;
                let headers = vault.list_unsubscribe(&token, links.get());
                if json {
                    let body = serde_json::json!({
                        "token": token,
                        "url": headers.url,
                        "list_unsubscribe": headers.list_unsubscribe,
                        "list_unsubscribe_post": headers.list_unsubscribe_post,
                    });
                    outln!("{}", serde_json::to_string_pretty(&body)?);
                } else {
                    outln!("List-Unsubscribe: {}", headers.list_unsubscribe);
                    outln!("List-Unsubscribe-Post: {}", headers.list_unsubscribe_post);
                }
            }
            MarketingCommand::Revoke { token } => {
                match vault.revoke_unsubscribe_token(&actor, token.trim()).await? {
                    LinkState::Valid(_) => outln!("revoked"),
                    LinkState::Spent { reason, .. } => {
                        outln!("the link was {reason} already");
                    }
                    LinkState::Invalid => {
                        eprintln!("error: that is not an unsubscribe link of this installation");
                        return Ok(ExitCode::from(1));
                    }
                }
            }
            MarketingCommand::OptOut {
                email,
                phone,
                purpose,
            } => {
                let (kind, value) = match (email, phone) {
                    (Some(email), _) => (LookupKind::Email, email),
                    (None, Some(phone)) => (LookupKind::Phone, phone),
                    (None, None) => anyhow::bail!("name the address with --email or --phone"),
                };
                let done = vault
                    .record_opt_out(&actor, kind, &PersonalValue::new(value), purpose.as_deref())
                    .await?;
                outln!(
                    "recorded: {} subject(s) object; the {} is on the suppression list",
                    done.subjects.len(),
                    match kind {
                        LookupKind::Phone => "number",
                        _ => "address",
                    }
                );
            }
            MarketingCommand::NixImport { file } => {
                let text = std::fs::read_to_string(&file)
                    .with_context(|| format!("cannot read {}", file.display()))?;
                let count = vault.import_nix(&actor, &text).await?;
                outln!("the NIX-Telefon register now holds {count} numbers");
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}
