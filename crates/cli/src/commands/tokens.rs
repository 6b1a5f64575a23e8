//! `integritet token`: staff API tokens (create, list, revoke). The secret is printed once, at
//! creation; the store keeps only its hash.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use integritet_app::store::TokenRecord;
use integritet_app::tokens::{self, TokenRequest};
use integritet_domain::Clock;
use integritet_domain::clock::SystemClock;
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::context::{StoreArgs, operator, os_rng, runtime};

/// An instant in UTC to the second, e.g. `2026-11-25T15:30:00Z`.
fn rfc3339(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    let at = at.replace_nanosecond(0).unwrap_or(at);
    at.format(&Rfc3339).unwrap_or_else(|_| at.to_string())
}

/// A token as shown: never the secret, never the hash.
#[derive(Debug, Serialize)]
struct TokenView {
    id: String,
    role: String,
    label: Option<String>,
    created_at: String,
    expires_at: Option<String>,
    revoked_at: Option<String>,
    status: &'static str,
}

impl TokenView {
    fn new(record: &TokenRecord, now: OffsetDateTime) -> TokenView {
        let status = if record.revoked_at.is_some() {
            "revoked"
        } else if record.expires_at.is_some_and(|at| at <= now) {
            "expired"
        } else {
            "active"
        };
        TokenView {
            id: record.id.clone(),
            role: record.role.clone(),
            label: record.label.clone(),
            created_at: rfc3339(record.created_at),
            expires_at: record.expires_at.map(rfc3339),
            revoked_at: record.revoked_at.map(rfc3339),
            status,
        }
    }
}

fn print_json(value: &impl Serialize) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

pub fn create(
    store_args: &StoreArgs,
    role: &str,
    expires: Option<time::Duration>,
    label: Option<String>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let policy = super::load_policy(store_args.policy_path()?)?;
    let mut rng = os_rng()?;
    runtime()?.block_on(async {
        let store = store_args.open_or_create_store().await?;
        let key = store_args.record_key(store.as_ref()).await?;
        let request = TokenRequest {
            role: role.to_owned(),
            label,
            expires_in: expires,
        };
        let issued = tokens::issue_token(
            store.as_ref(),
            &key,
            SystemClock.now(),
            &mut rng,
            &operator().id(),
            request,
            &policy,
        )
        .await;
        let (record, secret) = match issued {
            // The operator typed the role: naming it back helps, and goes nowhere else.
            Err(tokens::IssueError::UnknownRole { role, .. }) => {
                let roles: Vec<&str> = policy.policy.roles.keys().map(String::as_str).collect();
                eprintln!(
                    "error: the policy has no role {role:?}; give admin or one of: {}",
                    roles.join(", ")
                );
                return Ok(ExitCode::FAILURE);
            }
            other => other.context("cannot create the token")?,
        };
        let view = TokenView::new(&record, SystemClock.now());
        let mut out = std::io::stdout().lock();
        if json {
            #[derive(Serialize)]
            struct Created<'a> {
                secret: &'a str,
                #[serde(flatten)]
                token: &'a TokenView,
                note: &'static str,
            }
            serde_json::to_writer_pretty(
                &mut out,
                &Created {
                    secret: secret.expose(),
                    token: &view,
                    note: "the secret is shown only now and cannot be shown again",
                },
            )?;
            writeln!(out)?;
        } else {
            writeln!(out, "token:   {}", secret.expose())?;
            writeln!(
                out,
                "This secret is shown only now and will not be shown again: store it safely."
            )?;
            writeln!(out, "id:      {}", view.id)?;
            writeln!(out, "role:    {}", view.role)?;
            if let Some(label) = &view.label {
                writeln!(out, "label:   {label}")?;
            }
            writeln!(
                out,
                "expires: {}",
                view.expires_at
                    .as_deref()
                    .unwrap_or("never (until revoked)")
            )?;
        }
        Ok(ExitCode::SUCCESS)
    })
}

pub fn list(store_args: &StoreArgs, json: bool) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let store = store_args.open_store().await?;
        let now = SystemClock.now();
        let views: Vec<TokenView> = store
            .list_tokens()
            .await?
            .iter()
            .map(|record| TokenView::new(record, now))
            .collect();
        if json {
            return print_json(&views).map(|()| ExitCode::SUCCESS);
        }
        let mut out = std::io::stdout().lock();
        if views.is_empty() {
            writeln!(
                out,
                "no tokens; create one with `integritet --policy policy.toml token create --role ROLE`"
            )?;
            return Ok(ExitCode::SUCCESS);
        }
        writeln!(
            out,
            "{:<12}  {:<8}  {:<12}  {:<20}  {:<20}  LABEL",
            "ID", "STATUS", "ROLE", "CREATED", "EXPIRES"
        )?;
        for view in &views {
            let line = format!(
                "{:<12}  {:<8}  {:<12}  {:<20}  {:<20}  {}",
                view.id,
                view.status,
                view.role,
                view.created_at,
                view.expires_at.as_deref().unwrap_or("never"),
                view.label.as_deref().unwrap_or("")
            );
            writeln!(out, "{}", line.trim_end())?;
        }
        Ok(ExitCode::SUCCESS)
    })
}

pub fn revoke(store_args: &StoreArgs, id: &str) -> anyhow::Result<ExitCode> {
    // The policy is optional here: when given, the audit entry names its version.
    let policy_version = match &store_args.policy {
        Some(path) => super::load_policy(path)?.version.to_string(),
        None => String::new(),
    };
    runtime()?.block_on(async {
        let store = store_args.open_store().await?;
        let key = store_args.record_key(store.as_ref()).await?;
        let revoked = tokens::revoke_token(
            store.as_ref(),
            &key,
            SystemClock.now(),
            &operator().id(),
            id,
            &policy_version,
        )
        .await?;
        if revoked {
            outln!("revoked {id}: it is refused from now on");
            Ok(ExitCode::SUCCESS)
        } else {
            eprintln!(
                "error: there is no active token {id} (unknown, or revoked already); see `integritet token list`"
            );
            Ok(ExitCode::FAILURE)
        }
    })
}
