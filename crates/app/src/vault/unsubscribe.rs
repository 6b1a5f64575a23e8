//! One-click unsubscribe (RFC 8058). A link's token is opaque and unforgeable: the recipient,
//! channel, purpose and campaign are sealed under a key of the key directory, with a random id
//! of the link. It is valid until used or revoked; a spent link is recorded by that id, bound
//! by a MAC, so a row planted in the database blocks no one.
//!
//! Using a link is an objection to direct marketing by the person themselves
//! (`Actor::DataSubject`): absolute and at once (Art. 21(3)), with the suppression-list effect.

use integritet_domain::audit::AuditAction;
use integritet_domain::policy::MarketingChannel;
use integritet_domain::subject::SubjectId;
use serde::Serialize;

use super::{Actor, Vault, VaultError};
use crate::store::{SpentLink, Writes};

/// The key (and kind) the tokens are sealed under.
const TOKEN_KIND: &str = "unsubscribe-link";
const PAYLOAD_VERSION: u8 = 1;
/// The longest campaign name a link carries.
const MAX_CAMPAIGN: usize = 64;
/// The `List-Unsubscribe-Post` value RFC 8058 prescribes.
pub const ONE_CLICK: &str = "List-Unsubscribe=One-Click";

/// What a link says, once opened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LinkTarget {
    #[serde(skip)]
    pub subject: SubjectId,
    #[serde(skip)]
    id: [u8; 16],
    pub purpose: String,
    pub channel: MarketingChannel,
    pub campaign: Option<String>,
}

/// Where a link stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkState {
    /// Not a link of this installation (forged, altered, cut short, for another recipient's
    /// kind of token): nothing is said about anyone.
    Invalid,
    /// Used or revoked (`reason` says which).
    Spent {
        target: LinkTarget,
        reason: String,
    },
    Valid(LinkTarget),
}

/// The header values a marketing message carries (RFC 2369, RFC 8058).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListUnsubscribe {
    /// The link to put in the message's body and in the header.
    pub url: String,
    /// `List-Unsubscribe`: the HTTPS link, then the policy's opt-out address as `mailto:`.
    pub list_unsubscribe: String,
    /// `List-Unsubscribe-Post`: always `List-Unsubscribe=One-Click`.
    pub list_unsubscribe_post: &'static str,
}

impl Vault {
    /// A new unsubscribe link for `subject`'s marketing by `channel` for `purpose` (and
    /// `campaign`, a name of at most 64 letters, digits, `.`, `_` or `-`). Allowed to who may
    /// act for the purpose.
    pub async fn unsubscribe_token(
        &self,
        actor: &Actor,
        subject: SubjectId,
        purpose: &str,
        channel: MarketingChannel,
        campaign: Option<&str>,
    ) -> Result<String, VaultError> {
        self.marketing_channel(purpose, channel)?;
        check_campaign(campaign)?;
        self.authorise(actor, purpose, Some(subject)).await?;
        if self.store.subject(subject).await?.is_none() {
            return Err(VaultError::NotFound { what: "subject" });
        }
        self.seal_link(subject, purpose, channel, campaign)
    }

    /// A link's token, for a purpose and campaign already checked.
    pub(super) fn seal_link(
        &self,
        subject: SubjectId,
        purpose: &str,
        channel: MarketingChannel,
        campaign: Option<&str>,
    ) -> Result<String, VaultError> {
        let target = LinkTarget {
            subject,
            id: self.random(),
            purpose: purpose.to_owned(),
            channel,
            campaign: campaign.map(str::to_owned),
        };
        let token = self.with_rng(|rng| {
            self.record_key
                .seal_token(TOKEN_KIND, &encode(&target), rng)
        })?;
        Ok(token)
    }

    /// The header values for a message carrying `token`, its link under `base_url` (the
    /// server's public address, e.g. `https://shop.example`).
    pub fn list_unsubscribe(&self, token: &str, base_url: &str) -> ListUnsubscribe {
        let url = format!("{}/u/{token}", base_url.trim_end_matches('/'));
        let mailto = &self.rules().requests.marketing_opt_out.email;
        let list_unsubscribe = if mailto.is_empty() {
            format!("<{url}>")
        } else {
            format!("<{url}>, <mailto:{mailto}?subject=unsubscribe>")
        };
        ListUnsubscribe {
            url,
            list_unsubscribe,
            list_unsubscribe_post: ONE_CLICK,
        }
    }

    /// Where `token` stands. Changes nothing and writes nothing (mail scanners follow links).
    pub async fn unsubscribe_state(&self, token: &str) -> Result<LinkState, VaultError> {
        let Some(target) = self.open_link(token) else {
            return Ok(LinkState::Invalid);
        };
        Ok(match self.spent(&target).await? {
            Some(reason) => LinkState::Spent { target, reason },
            None => LinkState::Valid(target),
        })
    }

    /// Unsubscribes the link's recipient at once: an objection to the link's purpose by the
    /// person themselves, with the suppression-list effect, and the link spent. Answers the
    /// state the link was in; only a valid link changes anything.
    pub async fn unsubscribe(&self, token: &str) -> Result<LinkState, VaultError> {
        let state = self.unsubscribe_state(token).await?;
        let LinkState::Valid(target) = &state else {
            return Ok(state);
        };
        let person = Actor::DataSubject {
            subject: target.subject,
        };
        // A purpose the policy no longer has markets to no one.
        if self.rules().purposes.contains_key(&target.purpose) {
            match self.object(&person, target.subject, &target.purpose).await {
                // Erased meanwhile, or objected already: nothing more is to be stopped.
                Ok(()) | Err(VaultError::NotFound { .. }) => {}
                Err(other) => return Err(other),
            }
        }
        self.spend(&person, target, "used").await?;
        Ok(state)
    }

    /// Revokes a link before it is used (a message that was never sent, say).
    pub async fn revoke_unsubscribe_token(
        &self,
        actor: &Actor,
        token: &str,
    ) -> Result<LinkState, VaultError> {
        let state = self.unsubscribe_state(token).await?;
        if let LinkState::Valid(target) = &state {
            self.authorise(actor, &target.purpose, Some(target.subject))
                .await?;
            self.spend(actor, target, "revoked").await?;
        }
        Ok(state)
    }

    fn open_link(&self, token: &str) -> Option<LinkTarget> {
        let payload = self.record_key.open_token(TOKEN_KIND, token)?;
        decode(&payload)
    }

    /// Why the link is spent, if it is. A spent row whose MAC fails was planted or edited in
    /// the database: it is audited and does not count.
    async fn spent(&self, target: &LinkTarget) -> Result<Option<String>, VaultError> {
        let Some(row) = self.store.spent_link(target.id).await? else {
            return Ok(None);
        };
        if self
            .spent_mac(&row.id, row.at, &row.reason)
            .verify(&row.mac)
        {
            return Ok(Some(row.reason));
        }
        let audit = self.draft(
            &Actor::system("unsubscribe"),
            AuditAction::IntegrityViolation,
            None,
            None,
            Vec::new(),
            Some(format!("table=spent_links; link={}", hex(&row.id))),
        );
        self.store.append_audit(vec![audit]).await?;
        Ok(None)
    }

    async fn spend(
        &self,
        actor: &Actor,
        target: &LinkTarget,
        reason: &str,
    ) -> Result<(), VaultError> {
        let at = self.clock.now();
        let mac = self.spent_mac(&target.id, at, reason).finish().to_vec();
        let audit = self.draft(
            actor,
            AuditAction::UnsubscribeLink,
            None,
            Some(&target.purpose),
            Vec::new(),
            Some(format!(
                "{reason}; link={}; channel={}{}",
                hex(&target.id),
                target.channel.as_str(),
                target
                    .campaign
                    .as_deref()
                    .map(|c| format!("; campaign={c}"))
                    .unwrap_or_default()
            )),
        );
        let link = SpentLink {
            id: target.id,
            at,
            reason: reason.to_owned(),
            mac,
        };
        self.store.spend_link(link, vec![audit]).await?;
        Ok(())
    }

    fn spent_mac(
        &self,
        id: &[u8; 16],
        at: time::OffsetDateTime,
        reason: &str,
    ) -> integritet_crypto::RecordMac {
        self.record_key
            .record("spent_links")
            .bytes(id)
            .number(at.unix_timestamp_nanos())
            .text(reason)
    }
}

/// Refuses a campaign name that is not 1 to 64 letters, digits, `.`, `_` or `-`.
pub(super) fn check_campaign(campaign: Option<&str>) -> Result<(), VaultError> {
    match campaign {
        Some(campaign)
            if campaign.is_empty()
                || campaign.len() > MAX_CAMPAIGN
                || !campaign
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-')) =>
        {
            Err(VaultError::invalid(
                "campaign",
                "invalid_campaign",
                "a campaign is named by 1 to 64 letters, digits, '.', '_' or '-'",
            ))
        }
        _ => Ok(()),
    }
}

fn channel_code(channel: MarketingChannel) -> u8 {
    match channel {
        MarketingChannel::Post => 0,
        MarketingChannel::Email => 1,
        MarketingChannel::Phone => 2,
        MarketingChannel::Sms => 3,
    }
}

fn channel_of(code: u8) -> Option<MarketingChannel> {
    Some(match code {
        0 => MarketingChannel::Post,
        1 => MarketingChannel::Email,
        2 => MarketingChannel::Phone,
        3 => MarketingChannel::Sms,
        _ => return None,
    })
}

/// `version | subject (16) | id (16) | channel | len | purpose | len | campaign`.
fn encode(target: &LinkTarget) -> Vec<u8> {
    let mut out = Vec::with_capacity(40 + target.purpose.len());
    out.push(PAYLOAD_VERSION);
    out.extend_from_slice(target.subject.as_bytes());
    out.extend_from_slice(&target.id);
    out.push(channel_code(target.channel));
    for text in [Some(target.purpose.as_str()), target.campaign.as_deref()] {
        let bytes = text.unwrap_or("").as_bytes();
        // Purposes are policy keys and campaigns at most 64 bytes: both fit a length byte.
        out.push(u8::try_from(bytes.len()).unwrap_or(u8::MAX));
        out.extend_from_slice(&bytes[..bytes.len().min(255)]);
    }
    out
}

fn decode(payload: &[u8]) -> Option<LinkTarget> {
    let (&version, rest) = payload.split_first()?;
    if version != PAYLOAD_VERSION || rest.len() < 33 {
        return None;
    }
    let (subject, rest) = rest.split_at(16);
    let (id, rest) = rest.split_at(16);
    let (&channel, rest) = rest.split_first()?;
    let (&len, rest) = rest.split_first()?;
    let (purpose, rest) = rest.split_at_checked(usize::from(len))?;
    let (&len, rest) = rest.split_first()?;
    let (campaign, rest) = rest.split_at_checked(usize::from(len))?;
    if !rest.is_empty() {
        return None;
    }
    let campaign = std::str::from_utf8(campaign).ok()?;
    Some(LinkTarget {
        subject: SubjectId(uuid::Uuid::from_slice(subject).ok()?),
        id: id.try_into().ok()?,
        purpose: std::str::from_utf8(purpose).ok()?.to_owned(),
        channel: channel_of(channel)?,
        campaign: (!campaign.is_empty()).then(|| campaign.to_owned()),
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
