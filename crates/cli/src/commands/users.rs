//! `integritet user`: console users (create, list, disable). The password is read from standard
//! input (`--password-stdin`) or prompted for without echo; the store keeps only its argon2id
//! hash.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;
use integritet_app::store::UserRecord;
use integritet_app::users::{self, NewUser, Password, UserError};
use integritet_domain::Clock;
use integritet_domain::clock::SystemClock;
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::context::{StoreArgs, operator, os_rng, runtime};

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a console user with a role of the policy (or `admin`); asks for the password.
    #[command(
        after_help = "The password is prompted for twice, without echo, when standard input is a terminal; \
otherwise give --password-stdin and pipe it in (one line). It needs at least 12 characters and must \
not be the login name. Only its argon2id hash is stored.\n\n\
Examples:\n  integritet --policy examples/seed-shop/policy.toml user create anna.svensson --role support\n  printf '%s\\n' \"$PASSWORD\" | integritet --policy policy.toml user create ops --role admin --password-stdin\n\n\
Exit status: 0 when created; 1 when the name is taken or not valid, the role unknown, the password too weak, or the store failed; 2 on bad usage."
    )]
    Create {
        /// The login name: letters a-z, digits and . _ - @ (stored in lower case).
        name: String,
        /// A role of the policy ([roles]), or `admin`.
        #[arg(long)]
        role: String,
        /// Read the password from the first line of standard input instead of prompting.
        #[arg(long)]
        password_stdin: bool,
        /// Print the user as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List console users: name, role, status, times (never a password hash).
    #[command(after_help = "Examples:\n  integritet user list\n  integritet user list --json")]
    List {
        /// Print the list as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Disable a console user: its sessions end at once and it can no longer log in.
    #[command(after_help = "Example:\n  integritet user disable anna.svensson\n\n\
Exit status: 0 when disabled, 1 when there is no such enabled user.")]
    Disable {
        /// The login name.
        name: String,
    },
}

/// An instant in UTC to the second, e.g. `2026-11-25T15:30:00Z`.
fn rfc3339(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    let at = at.replace_nanosecond(0).unwrap_or(at);
    at.format(&Rfc3339).unwrap_or_else(|_| at.to_string())
}

/// A user as shown: never the password hash.
#[derive(Debug, Serialize)]
struct UserView {
    name: String,
    role: String,
    status: &'static str,
    created_at: String,
    disabled_at: Option<String>,
    locked_until: Option<String>,
    failed_logins: u32,
}

impl UserView {
    fn new(record: &UserRecord, now: OffsetDateTime) -> UserView {
        let locked = record.locked_until.filter(|until| *until > now);
        let status = if record.disabled_at.is_some() {
            "disabled"
        } else if locked.is_some() {
            "locked"
        } else {
            "active"
        };
        UserView {
            name: record.name.clone(),
            role: record.role.clone(),
            status,
            created_at: rfc3339(record.created_at),
            disabled_at: record.disabled_at.map(rfc3339),
            locked_until: locked.map(rfc3339),
            failed_logins: record.failed_logins,
        }
    }
}

pub fn run(store: &StoreArgs, command: UserCommand) -> anyhow::Result<ExitCode> {
    match command {
        UserCommand::Create {
            name,
            role,
            password_stdin,
            json,
        } => create(store, &name, &role, password_stdin, json),
        UserCommand::List { json } => list(store, json),
        UserCommand::Disable { name } => disable(store, &name),
    }
}

/// Where the password comes from.
enum PasswordSource {
    Stdin,
    Prompt,
}

fn read_password(source: PasswordSource, name: &str) -> anyhow::Result<Password> {
    match source {
        PasswordSource::Stdin => {
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .context("cannot read the password from standard input")?;
            let line = line.strip_suffix('\n').unwrap_or(&line);
            let line = line.strip_suffix('\r').unwrap_or(line);
            Ok(Password::new(line))
        }
        PasswordSource::Prompt => {
            let first = Password::new(
                rpassword::prompt_password(format!("Password for {name}: "))
                    .context("cannot read the password from the terminal")?,
            );
            let second = Password::new(
                rpassword::prompt_password("The same password again: ")
                    .context("cannot read the password from the terminal")?,
            );
            if !first.same_as(&second) {
                anyhow::bail!("the two passwords differ; run the command again");
            }
            Ok(first)
        }
    }
}

fn create(
    store_args: &StoreArgs,
    name: &str,
    role: &str,
    password_stdin: bool,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let source = if password_stdin {
        PasswordSource::Stdin
    } else if std::io::stdin().is_terminal() {
        PasswordSource::Prompt
    } else {
        eprintln!(
            "error: standard input is not a terminal, so the password cannot be prompted for; \
             give --password-stdin to read it from standard input"
        );
        return Ok(ExitCode::from(2));
    };
    let policy = super::load_policy(store_args.policy_path()?)?;
    // Check what can be checked before asking for a password.
    let name = match users::parse_name(name) {
        Ok(name) => name,
        Err(error) => {
            eprintln!("error: {error}");
            return Ok(ExitCode::FAILURE);
        }
    };
    let password = read_password(source, &name)?;
    let mut rng = os_rng()?;
    runtime()?.block_on(async {
        let store = store_args.open_or_create_store().await?;
        let key = store_args.record_key(store.as_ref()).await?;
        let created = users::create_user(
            store.as_ref(),
            &key,
            SystemClock.now(),
            &mut rng,
            &operator().id(),
            NewUser {
                name,
                role: role.to_owned(),
                password,
            },
            &policy,
        )
        .await;
        let record = match created {
            Ok(record) => record,
            Err(UserError::Store(error)) => {
                return Err(anyhow::Error::new(error).context("cannot create the user"));
            }
            Err(error) => {
                eprintln!("error: {error}");
                return Ok(ExitCode::FAILURE);
            }
        };
        let view = UserView::new(&record, SystemClock.now());
        let mut out = std::io::stdout().lock();
        if json {
            serde_json::to_writer_pretty(&mut out, &view)?;
            writeln!(out)?;
        } else {
            writeln!(
                out,
                "created console user {} with role {}; log in at POST /console/login",
                view.name, view.role
            )?;
        }
        Ok(ExitCode::SUCCESS)
    })
}

fn list(store_args: &StoreArgs, json: bool) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let store = store_args.open_store().await?;
        let now = SystemClock.now();
        let views: Vec<UserView> = store
            .list_users()
            .await?
            .iter()
            .map(|record| UserView::new(record, now))
            .collect();
        let mut out = std::io::stdout().lock();
        if json {
            serde_json::to_writer_pretty(&mut out, &views)?;
            writeln!(out)?;
            return Ok(ExitCode::SUCCESS);
        }
        if views.is_empty() {
            writeln!(
                out,
                "no console users; create one with `integritet --policy policy.toml user create NAME --role ROLE`"
            )?;
            return Ok(ExitCode::SUCCESS);
        }
        writeln!(
            out,
            "{:<24}  {:<12}  {:<8}  {:<20}  NOTE",
            "NAME", "ROLE", "STATUS", "CREATED"
        )?;
        for view in &views {
            let note = match (&view.disabled_at, &view.locked_until) {
                (Some(at), _) => format!("disabled {at}"),
                (None, Some(until)) => format!("locked until {until}"),
                (None, None) if view.failed_logins > 0 => {
                    format!("{} failed logins in a row", view.failed_logins)
                }
                (None, None) => String::new(),
            };
            let line = format!(
                "{:<24}  {:<12}  {:<8}  {:<20}  {note}",
                view.name, view.role, view.status, view.created_at
            );
            writeln!(out, "{}", line.trim_end())?;
        }
        Ok(ExitCode::SUCCESS)
    })
}

fn disable(store_args: &StoreArgs, name: &str) -> anyhow::Result<ExitCode> {
    // The policy is optional here: when given, the audit entry names its version.
    let policy_version = match &store_args.policy {
        Some(path) => super::load_policy(path)?.version.to_string(),
        None => String::new(),
    };
    runtime()?.block_on(async {
        let store = store_args.open_store().await?;
        let key = store_args.record_key(store.as_ref()).await?;
        let disabled = users::disable_user(
            store.as_ref(),
            &key,
            SystemClock.now(),
            &operator().id(),
            name,
            &policy_version,
        )
        .await?;
        if disabled {
            outln!("disabled {name}: its sessions have ended and it can no longer log in");
            Ok(ExitCode::SUCCESS)
        } else {
            eprintln!(
                "error: there is no enabled user {name} (unknown, or disabled already); see `integritet user list`"
            );
            Ok(ExitCode::FAILURE)
        }
    })
}
