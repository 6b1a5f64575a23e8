//! Staff API tokens: issued for one policy role, stored only as a keyed hash, revocable,
//! optionally expiring.
//!
//! A secret is `itg_` followed by 64 hex digits (32 random bytes). It is shown once, when it is
//! issued; the store keeps its HMAC under the [`RecordKey`] of the key directory, so someone who
//! can write the database cannot add a token of their own. A token is found by the hash of what
//! is presented, so no secret is ever compared byte by byte. Each row carries a MAC over its id,
//! hash, role, label, creation, expiry and revocation ([`token_mac`]): a row edited to change
//! its role or lift its revocation is refused and audited.

use std::fmt;

use integritet_crypto::RecordKey;
use integritet_crypto::rand_core::CryptoRng;
use integritet_domain::audit::{AuditAction, AuditDraft};
use integritet_domain::policy::LoadedPolicy;
use time::OffsetDateTime;

use crate::store::{Store, StoreError, TokenRecord, Writes};

/// What every secret starts with, so that a leaked one is easy to recognise (and to scan for).
pub const SECRET_PREFIX: &str = "itg_";
/// The reserved role of the administrator token printed on first start: it manages staff
/// tokens and reads the policy and the audit state, and holds no purpose, so it reads no
/// personal data.
pub const ADMIN_ROLE: &str = "admin";
/// What every public id starts with.
pub const ID_PREFIX: &str = "tok_";
/// Hex digits after the prefix: 32 random bytes.
const SECRET_HEX_LEN: usize = 64;
/// Longest label kept; a label is a note for the operator, not a document.
pub const MAX_LABEL_CHARS: usize = 200;
/// Who audits a row refused for failing its integrity check.
pub(crate) const INTEGRITY_ACTOR: &str = "system:integrity";
/// Tries at a fresh id before giving up (ids are 32 random bits).
const ID_ATTEMPTS: usize = 4;

/// A token's secret. Its `Debug` never shows it; [`SecretToken::expose`] is the one way out.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretToken(String);

impl SecretToken {
    /// The secret, to be shown once to whoever asked for the token.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretToken(<redacted>)")
    }
}

/// The hash stored for a secret.
pub fn hash_secret(key: &RecordKey, secret: &str) -> [u8; 32] {
    key.secret_hash("token", secret.as_bytes())
}

/// The MAC a token row carries: over everything that decides what the token may do.
pub fn token_mac(key: &RecordKey, token: &TokenRecord) -> [u8; 32] {
    key.record("api_tokens")
        .text(&token.id)
        .bytes(&token.hash)
        .text(&token.role)
        .optional_text(token.label.as_deref())
        .number(token.created_at.unix_timestamp_nanos())
        .optional_number(token.expires_at.map(OffsetDateTime::unix_timestamp_nanos))
        .optional_number(token.revoked_at.map(OffsetDateTime::unix_timestamp_nanos))
        .finish()
}

/// Whether a stored token row is as this installation wrote it.
pub fn token_is_sealed(key: &RecordKey, token: &TokenRecord) -> bool {
    // Recomputed rather than verified in place: the row's own bytes are the input.
    let expected = token_mac(key, token);
    blake3::Hash::from_bytes(expected) == blake3::Hash::from_bytes(token.mac)
}

/// What a new token is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRequest {
    /// A role of the policy (`[roles]` in policy.toml).
    pub role: String,
    /// A note for the operator, e.g. "web shop backend". Never personal data.
    pub label: Option<String>,
    /// How long the token is valid; `None` for no expiry (until revoked).
    pub expires_in: Option<time::Duration>,
}

#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    /// The role asked for is named in logs and tests only: the message does not repeat what
    /// the caller sent.
    #[error("the policy has no such role; the roles it defines are: {}", roles_list(.roles))]
    UnknownRole { role: String, roles: Vec<String> },
    #[error(
        "the expiry must be in the future and before the year 2262; give a shorter positive duration"
    )]
    BadExpiry,
    #[error(
        "the label is longer than {MAX_LABEL_CHARS} characters or contains control characters; give a short note"
    )]
    BadLabel,
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn roles_list(roles: &[String]) -> String {
    if roles.is_empty() {
        "(none: add a [roles] table to the policy)".into()
    } else {
        roles.join(", ")
    }
}

/// Why a presented token was not accepted. The variants are for logs and tests: clients must
/// be shown [`AuthError::public_message`], the same whatever the reason, so that nobody can
/// learn which tokens exist.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("the token is not in the itg_ format")]
    Malformed,
    #[error("no such token")]
    Unknown,
    #[error("the token {id} expired at {at}")]
    Expired { id: String, at: OffsetDateTime },
    #[error("the token {id} was revoked at {at}")]
    Revoked { id: String, at: OffsetDateTime },
    #[error("the stored row of token {id} fails its integrity check (edited in the database)")]
    Tampered { id: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl AuthError {
    /// What a client is told (except for [`AuthError::Store`], which is the server's fault).
    pub fn public_message(&self) -> &'static str {
        match self {
            AuthError::Store(_) => "the token could not be checked; try again later",
            _ => "invalid, expired or revoked token",
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn draft(
    at: OffsetDateTime,
    actor: &str,
    action: AuditAction,
    policy_version: &str,
    detail: String,
) -> AuditDraft {
    AuditDraft {
        at,
        actor: actor.to_owned(),
        role: None,
        purpose: None,
        subject: None,
        categories: Vec::new(),
        action,
        policy_version: policy_version.to_owned(),
        detail: Some(detail),
    }
}

/// Issues a token for a role of `policy`, stores its hash with an audit entry, and returns the
/// record and the secret (which exists nowhere else from then on).
#[allow(clippy::too_many_arguments)]
pub async fn issue_token(
    store: &dyn Store,
    key: &RecordKey,
    now: OffsetDateTime,
    rng: &mut (dyn CryptoRng + Send),
    actor: &str,
    request: TokenRequest,
    policy: &LoadedPolicy,
) -> Result<(TokenRecord, SecretToken), IssueError> {
    if request.role != ADMIN_ROLE && !policy.policy.roles.contains_key(&request.role) {
        return Err(IssueError::UnknownRole {
            role: request.role,
            roles: policy.policy.roles.keys().cloned().collect(),
        });
    }
    if let Some(label) = &request.label
        && (label.chars().count() > MAX_LABEL_CHARS || label.chars().any(char::is_control))
    {
        return Err(IssueError::BadLabel);
    }
    let expires_at = match request.expires_in {
        None => None,
        Some(d) if d.is_positive() => Some(
            now.checked_add(d)
                .filter(|at| at.year() < 2262)
                .ok_or(IssueError::BadExpiry)?,
        ),
        Some(_) => return Err(IssueError::BadExpiry),
    };
    let mut attempt = 0;
    loop {
        attempt += 1;
        let mut secret_bytes = [0u8; SECRET_HEX_LEN / 2];
        rng.fill_bytes(&mut secret_bytes);
        let mut id_bytes = [0u8; 4];
        rng.fill_bytes(&mut id_bytes);
        let secret = SecretToken(format!("{SECRET_PREFIX}{}", hex(&secret_bytes)));
        let mut record = TokenRecord {
            id: format!("{ID_PREFIX}{}", hex(&id_bytes)),
            hash: hash_secret(key, secret.expose()),
            role: request.role.clone(),
            label: request.label.clone(),
            created_at: now,
            expires_at,
            revoked_at: None,
            mac: [0; 32],
        };
        record.mac = token_mac(key, &record);
        let detail = match expires_at {
            Some(at) => format!("token={}; role={}; expires={at}", record.id, record.role),
            None => format!("token={}; role={}; expires=never", record.id, record.role),
        };
        let audit = vec![draft(
            now,
            actor,
            AuditAction::TokenCreated,
            policy.version.as_str(),
            detail,
        )];
        match store.insert_token(record.clone(), audit).await {
            Ok(()) => return Ok((record, secret)),
            // An id taken already (32 random bits): draw again.
            Err(StoreError::Conflict(_)) if attempt < ID_ATTEMPTS => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

/// Revokes a token, with an audit entry. False when there is no such token or it was revoked
/// already.
pub async fn revoke_token(
    store: &dyn Store,
    key: &RecordKey,
    now: OffsetDateTime,
    actor: &str,
    id: &str,
    policy_version: &str,
) -> Result<bool, StoreError> {
    let tokens = store.list_tokens().await?;
    let Some(token) = tokens.into_iter().find(|t| t.id == id) else {
        return Ok(false);
    };
    if token.revoked_at.is_some() {
        return Ok(false);
    }
    // A row that was edited stays unsealed when revoked: `store verify` still reports it, and
    // revocation must never make an edited role look genuine.
    let mac = if token_is_sealed(key, &token) {
        token_mac(
            key,
            &TokenRecord {
                revoked_at: Some(now),
                ..token
            },
        )
    } else {
        [0; 32]
    };
    let audit = vec![draft(
        now,
        actor,
        AuditAction::TokenRevoked,
        policy_version,
        format!("token={id}"),
    )];
    store.revoke_token(id, now, mac, audit).await
}

/// Whether `presented` has the shape of a secret, checked before any lookup.
fn well_formed(presented: &str) -> bool {
    presented.strip_prefix(SECRET_PREFIX).is_some_and(|rest| {
        rest.len() == SECRET_HEX_LEN
            && rest
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// The token a presented secret belongs to, if it is valid at `now`. A row that fails its
/// MAC is refused, and the refusal audited (by id: the row may have been planted).
pub async fn authenticate(
    store: &dyn Store,
    key: &RecordKey,
    now: OffsetDateTime,
    presented: &str,
    policy_version: &str,
) -> Result<TokenRecord, AuthError> {
    if !well_formed(presented) {
        return Err(AuthError::Malformed);
    }
    let record = store
        .token_by_hash(&hash_secret(key, presented))
        .await?
        .ok_or(AuthError::Unknown)?;
    if !token_is_sealed(key, &record) {
        store
            .append_audit(vec![draft(
                now,
                INTEGRITY_ACTOR,
                AuditAction::IntegrityViolation,
                policy_version,
                format!(
                    "table=api_tokens; token={}; refused=authentication",
                    record.id
                ),
            )])
            .await?;
        return Err(AuthError::Tampered { id: record.id });
    }
    if let Some(at) = record.revoked_at {
        return Err(AuthError::Revoked { id: record.id, at });
    }
    if let Some(at) = record.expires_at
        && at <= now
    {
        return Err(AuthError::Expired { id: record.id, at });
    }
    Ok(record)
}

/// Parses a duration such as `30d`, `12h`, `90m` (days, hours, minutes; a positive whole
/// number), as `--expires` takes it.
pub fn parse_duration(text: &str) -> Result<time::Duration, String> {
    let text = text.trim();
    let usage = || {
        format!(
            "{text:?} is not a duration: write a positive whole number followed by d, h or m \
             (days, hours, minutes), e.g. 30d, 12h or 90m"
        )
    };
    let unit = text.chars().last().ok_or_else(usage)?;
    let number: i64 = text[..text.len() - unit.len_utf8()]
        .parse()
        .map_err(|_| usage())?;
    if number <= 0 {
        return Err(usage());
    }
    let seconds_per = match unit {
        'd' => 86_400,
        'h' => 3_600,
        'm' => 60,
        _ => return Err(usage()),
    };
    // Anything beyond a century is certainly a typo (and would overflow the stores' range).
    let seconds = number
        .checked_mul(seconds_per)
        .filter(|s| *s <= 36_500 * 86_400)
        .ok_or_else(|| format!("{text:?} is too long; give at most 36500d"))?;
    Ok(time::Duration::seconds(seconds))
}

/// On a store without a usable administrator token (none issued yet, or every one revoked or
/// expired), issues one (role [`ADMIN_ROLE`]). Staff tokens made with the CLI before the first
/// start do not count: the administrator token still appears on that start.
pub async fn bootstrap_admin(
    store: &dyn Store,
    key: &RecordKey,
    now: OffsetDateTime,
    rng: &mut (dyn CryptoRng + Send),
    actor: &str,
    policy: &LoadedPolicy,
) -> Result<Option<(TokenRecord, SecretToken)>, IssueError> {
    let usable_admin = store.list_tokens().await?.iter().any(|token| {
        token.role == ADMIN_ROLE
            && token_is_sealed(key, token)
            && token.revoked_at.is_none()
            && token.expires_at.is_none_or(|at| at > now)
    });
    if usable_admin {
        return Ok(None);
    }
    let request = TokenRequest {
        role: ADMIN_ROLE.to_owned(),
        label: Some("administrator (first start)".to_owned()),
        expires_in: None,
    };
    issue_token(store, key, now, rng, actor, request, policy)
        .await
        .map(Some)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("30d").unwrap(), time::Duration::days(30));
        assert_eq!(parse_duration("12h").unwrap(), time::Duration::hours(12));
        assert_eq!(parse_duration("90m").unwrap(), time::Duration::minutes(90));
        for bad in ["", "d", "0d", "-1d", "12", "12s", "1.5h", "99999999d", "ö"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn secrets_are_redacted_and_shapes_checked() {
        let secret = SecretToken(format!("itg_{}", "ab".repeat(32)));
        assert_eq!(format!("{secret:?}"), "SecretToken(<redacted>)");
        assert!(well_formed(secret.expose()));
        assert!(!well_formed("itg_short"));
        assert!(!well_formed(&format!("itg_{}", "AB".repeat(32))));
        assert!(!well_formed(&format!("xyz_{}", "ab".repeat(32))));
    }
}
