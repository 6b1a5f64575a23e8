//! Marketing: the audience a purpose may reach by a channel today (drawn by the domain's one
//! rule, `integritet_domain::marketing::may_contact`), opt-outs that staff record from a
//! letter, a call or an e-mail, and the NIX-Telefon register.

use integritet_domain::audit::AuditAction;
use integritet_domain::marketing::{ContactFacts, channel_kind, may_contact};
use integritet_domain::personal::PersonalValue;
use integritet_domain::policy::{MarketingChannel, ValueKind};
use integritet_domain::subject::SubjectId;
use integritet_domain::value;
use serde::Serialize;

use super::sweep::{subject_facts, value_facts};
use super::{Actor, LookupKind, Vault, VaultError};
use crate::store::{StoreError, SubjectRecord, SuppressionEntry, Writes};

/// Subjects read per page while an audience is drawn.
const PAGE: u32 = 500;

/// Who a purpose may reach by a channel, as of one day.
#[derive(Debug, Clone, Serialize)]
pub struct Audience {
    pub purpose: String,
    pub channel: MarketingChannel,
    #[serde(serialize_with = "super::model::iso_date")]
    pub on: time::Date,
    pub contacts: Vec<AudienceContact>,
}

/// One contact of an audience: the person (by id) and the address or number to use, with a
/// fresh one-click unsubscribe link's token for messages by e-mail or SMS.
#[derive(Debug, Clone, Serialize)]
pub struct AudienceContact {
    pub subject: SubjectId,
    pub contact: PersonalValue,
    pub unsubscribe_token: Option<String>,
}

/// What a recorded opt-out did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OptOut {
    /// People found by the address or number whose objection was recorded.
    pub subjects: Vec<SubjectId>,
    /// Whether the address or number itself is now on the suppression list (always, whether or
    /// not anyone was found: it stays there for a later import).
    pub suppressed: bool,
}

impl Vault {
    /// The contacts `purpose` may use by `channel` today: not objected, not suppressed, not
    /// restricted, within retention, with consent where the purpose needs it and, for calls,
    /// not in the NIX register. The draw is audited with its size, never its contacts. Each
    /// e-mail and SMS contact comes with its own unsubscribe link, for `campaign` if named.
    pub async fn audience(
        &self,
        actor: &Actor,
        purpose: &str,
        channel: MarketingChannel,
        campaign: Option<&str>,
    ) -> Result<Audience, VaultError> {
        self.marketing_channel(purpose, channel)?;
        super::unsubscribe::check_campaign(campaign)?;
        self.authorise(actor, purpose, None).await?;
        let today = self.clock.today();
        let kind = channel_kind(channel);
        let mut contacts = Vec::new();
        let mut refused_rows = Vec::new();
        let mut after = None;
        loop {
            let page = self.store.subjects_after(after, PAGE).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.id);
            for record in &page {
                self.contacts_of(
                    record,
                    (purpose, campaign),
                    channel,
                    kind,
                    today,
                    &mut contacts,
                )
                .await
                .or_else(|e| match e {
                    VaultError::Integrity { subject, value } => {
                        refused_rows.push((subject, value));
                        Ok(())
                    }
                    VaultError::Crypto(_) => Ok(()),
                    other => Err(other),
                })?;
            }
        }
        let mut audit: Vec<_> = refused_rows
            .iter()
            .map(|(subject, value)| {
                self.draft(
                    actor,
                    AuditAction::IntegrityViolation,
                    Some(*subject),
                    None,
                    Vec::new(),
                    Some(format!("table=values; value={value}; refused=audience")),
                )
            })
            .collect();
        audit.push(self.draft(
            actor,
            AuditAction::MarketingAudience,
            None,
            Some(purpose),
            vec![kind.as_str().to_owned()],
            Some(format!(
                "channel={}; contacts={}",
                channel.as_str(),
                contacts.len()
            )),
        ));
        self.store.append_audit(audit).await?;
        Ok(Audience {
            purpose: purpose.to_owned(),
            channel,
            on: today,
            contacts,
        })
    }

    /// The contacts of one subject that the purpose may use by the channel.
    async fn contacts_of(
        &self,
        record: &SubjectRecord,
        (purpose, campaign): (&str, Option<&str>),
        channel: MarketingChannel,
        kind: ValueKind,
        today: time::Date,
        out: &mut Vec<AudienceContact>,
    ) -> Result<(), VaultError> {
        let candidates: Vec<_> = record
            .values
            .iter()
            .filter(|v| v.purposes.iter().any(|p| p == purpose))
            .filter(|v| self.rules().categories.get(&v.category).map(|c| c.kind) == Some(kind))
            .collect();
        if candidates.is_empty() {
            return Ok(());
        }
        let facts = subject_facts(record, Vec::new());
        let key = self.open_key(record)?;
        for stored in candidates {
            let plain = self.authenticate_value(record.id, &key, stored)?;
            let Ok(text) = std::str::from_utf8(&plain) else {
                continue;
            };
            let suppressed = match kind {
                ValueKind::Email | ValueKind::Phone => {
                    let (name, hash) = self.suppression_hash(kind, text);
                    self.store.is_suppressed(name, &hash).await?
                }
                _ => false,
            };
            let nix_listed = channel == MarketingChannel::Phone
                && self.store.is_nix_listed(&self.nix_hash(text)).await?;
            let contact = ContactFacts {
                value: value_facts(stored),
                subject: &facts,
                restricted: record.restricted,
                suppressed,
                nix_listed,
            };
            if may_contact(self.rules(), purpose, channel, &contact, today).is_ok() {
                let electronic = matches!(channel, MarketingChannel::Email | MarketingChannel::Sms);
                out.push(AudienceContact {
                    subject: record.id,
                    contact: PersonalValue::new(text),
                    unsubscribe_token: electronic
                        .then(|| self.seal_link(record.id, purpose, channel, campaign))
                        .transpose()?,
                });
            }
        }
        Ok(())
    }

    /// Refuses a purpose that is not direct marketing by `channel`.
    pub(super) fn marketing_channel(
        &self,
        purpose: &str,
        channel: MarketingChannel,
    ) -> Result<(), VaultError> {
        self.known_purpose("purpose", purpose)?;
        let offered = &self.rules().purposes[purpose].marketing_channels;
        if offered.contains(&channel) {
            return Ok(());
        }
        let offered: Vec<&str> = offered.iter().map(|c| c.as_str()).collect();
        Err(VaultError::invalid(
            "channel",
            "not_this_channel",
            if offered.is_empty() {
                format!("the purpose {purpose:?} is not direct marketing; name a marketing purpose")
            } else {
                format!(
                    "the purpose {purpose:?} markets by {} only; choose one of those",
                    offered.join(", ")
                )
            },
        ))
    }

    /// Records an opt-out that came by letter, phone or e-mail: everyone the address or
    /// number belongs to objects to `purpose` (or to every marketing purpose), and the address
    /// or number goes on the suppression list whether or not anyone was found.
    pub async fn record_opt_out(
        &self,
        actor: &Actor,
        kind: LookupKind,
        raw: &PersonalValue,
        purpose: Option<&str>,
    ) -> Result<OptOut, VaultError> {
        self.authorise_request_handling(actor, "record a marketing opt-out")
            .await?;
        let value_kind = kind.value_kind();
        if !matches!(value_kind, ValueKind::Email | ValueKind::Phone) {
            return Err(VaultError::invalid(
                "kind",
                "not_suppressible",
                "an opt-out is recorded by e-mail address or phone number",
            ));
        }
        let purposes: Vec<String> = match purpose {
            Some(purpose) => {
                self.known_purpose("purpose", purpose)?;
                if !self.is_marketing_purpose(purpose) {
                    return Err(VaultError::invalid(
                        "purpose",
                        "not_marketing",
                        format!("the purpose {purpose:?} is not direct marketing"),
                    ));
                }
                vec![purpose.to_owned()]
            }
            None => self
                .rules()
                .purposes
                .keys()
                .filter(|p| self.is_marketing_purpose(p))
                .cloned()
                .collect(),
        };
        let normalised =
            value::normalise(value_kind, raw.expose(), self.clock.today()).map_err(|e| {
                VaultError::Invalid {
                    field: "value".into(),
                    code: e.code,
                    message: e.message,
                }
            })?;
        let token = self.index_key.index(kind.as_str(), normalised.as_bytes());
        let subjects = self.store.lookup(kind.as_str(), &token).await?;
        for subject in &subjects {
            for purpose in &purposes {
                match self.object(actor, *subject, purpose).await {
                    // Erased meanwhile: the list below still keeps the address.
                    Ok(()) | Err(VaultError::NotFound { .. }) => {}
                    Err(other) => return Err(other),
                }
            }
        }
        let (name, hash) = self.suppression_hash(value_kind, &normalised);
        let audit = self.draft(
            actor,
            AuditAction::Suppression,
            None,
            None,
            vec![value_kind.as_str().to_owned()],
            Some(format!(
                "purposes={}; subjects={}",
                purposes.join(","),
                subjects.len()
            )),
        );
        let entry = SuppressionEntry {
            kind: name.to_owned(),
            hash,
            at: self.clock.now(),
        };
        match self.store.suppress(vec![entry], vec![audit]).await {
            Ok(_) => {}
            Err(StoreError::Conflict(_)) => {}
            Err(other) => return Err(other.into()),
        }
        Ok(OptOut {
            subjects,
            suppressed: true,
        })
    }

    /// Replaces the NIX-Telefon register with the numbers of `lines` (one per line, as the
    /// register is delivered; blank lines and `#` comments skipped), normalised to E.164 and
    /// kept as keyed hashes. A line that is no phone number is refused with its line number,
    /// and nothing is replaced.
    pub async fn import_nix(&self, actor: &Actor, lines: &str) -> Result<u64, VaultError> {
        self.authorise_admin(actor, "import the NIX-Telefon register")
            .await?;
        let today = self.clock.today();
        let mut hashes = Vec::new();
        for (n, line) in lines.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let number = value::normalise(ValueKind::Phone, line, today).map_err(|e| {
                VaultError::Invalid {
                    field: format!("line {}", n + 1),
                    code: e.code,
                    message: e.message,
                }
            })?;
            hashes.push(self.nix_hash(&number));
        }
        let audit = self.draft(
            actor,
            AuditAction::NixImport,
            None,
            None,
            vec![ValueKind::Phone.as_str().to_owned()],
            Some(format!("numbers={}", hashes.len())),
        );
        Ok(self.store.replace_nix(hashes, vec![audit]).await?)
    }

    /// How many numbers the NIX register holds.
    pub async fn nix_entries(&self, actor: &Actor) -> Result<u64, VaultError> {
        self.authorise_admin(actor, "read the size of the NIX-Telefon register")
            .await?;
        Ok(self.store.nix_entries().await?)
    }

    /// The keyed hash a normalised phone number has in the NIX register.
    fn nix_hash(&self, e164: &str) -> [u8; 32] {
        self.record_key.secret_hash("nix-telefon", e164.as_bytes())
    }
}
