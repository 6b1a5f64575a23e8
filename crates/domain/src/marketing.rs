//! Who may be marketed to, by which channel, for which purpose, today: the one rule every
//! audience is drawn by. Pure; the vault gathers the facts.
//!
//! A contact (an e-mail address, a phone number, a postal address) may be used for a
//! marketing purpose only when every one of these holds:
//!
//! - the purpose is direct marketing and offers the channel, and the contact is of the
//!   channel's kind;
//! - the contact was collected for the purpose (its authenticated grant names it): under
//!   consent that grant is the consent; under legitimate interest it marks an existing customer,
//!   the only group e-mail or SMS marketing without consent may reach (Marknadsföringslagen
//!   19 § andra stycket; `policy check` refuses a purpose that reaches others);
//! - the purpose still holds the contact under its retention rule (36 months after the last
//!   purchase, say: after that the person is no longer an existing customer);
//! - the person has not objected to the purpose, is not restricted (Art. 18), and the contact
//!   is not on the suppression list (Art. 21(3): an objection to direct marketing is absolute,
//!   and outlives an erasure);
//! - for telephone marketing, the number is not in the NIX-Telefon register.
//!
//! Erased people are not asked about: they are not there.

use time::Date;

use crate::policy::{MarketingChannel, Policy, ValueKind};
use crate::retention::{self, PurposeEnd, SubjectFacts, ValueFacts};

/// What is known about one contact of one person.
#[derive(Debug, Clone)]
pub struct ContactFacts<'a> {
    pub value: ValueFacts<'a>,
    pub subject: &'a SubjectFacts<'a>,
    pub restricted: bool,
    /// Its keyed hash is on the suppression list.
    pub suppressed: bool,
    /// A phone number in the imported NIX-Telefon register.
    pub nix_listed: bool,
}

/// Why a contact may not be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The purpose is not direct marketing, or does not offer the channel.
    NotThisChannel,
    /// The contact is not of the kind the channel reaches.
    WrongKind,
    /// The contact was not collected for the purpose (no consent, not a customer).
    NotGranted,
    /// The purpose's retention no longer holds the contact.
    RetentionEnded,
    Objected,
    Restricted,
    Suppressed,
    NixListed,
}

impl Refusal {
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::NotThisChannel => "not_this_channel",
            Refusal::WrongKind => "wrong_kind",
            Refusal::NotGranted => "not_granted",
            Refusal::RetentionEnded => "retention_ended",
            Refusal::Objected => "objected",
            Refusal::Restricted => "restricted",
            Refusal::Suppressed => "suppressed",
            Refusal::NixListed => "nix_listed",
        }
    }
}

/// The kind of contact a channel reaches.
pub fn channel_kind(channel: MarketingChannel) -> ValueKind {
    match channel {
        MarketingChannel::Email => ValueKind::Email,
        MarketingChannel::Phone | MarketingChannel::Sms => ValueKind::Phone,
        MarketingChannel::Post => ValueKind::PostalAddress,
    }
}

/// Whether `purpose` may reach `contact` by `channel` on `today` (see the module).
pub fn may_contact(
    policy: &Policy,
    purpose_id: &str,
    channel: MarketingChannel,
    contact: &ContactFacts<'_>,
    today: Date,
) -> Result<(), Refusal> {
    let Some(purpose) = policy.purposes.get(purpose_id) else {
        return Err(Refusal::NotThisChannel);
    };
    if !purpose.marketing_channels.contains(&channel) {
        return Err(Refusal::NotThisChannel);
    }
    let kind = policy
        .categories
        .get(contact.value.category)
        .map(|category| category.kind);
    if kind != Some(channel_kind(channel)) {
        return Err(Refusal::WrongKind);
    }
    if !contact.value.purposes.iter().any(|p| p == purpose_id) {
        return Err(Refusal::NotGranted);
    }
    if contact.subject.objections.contains(purpose_id) {
        return Err(Refusal::Objected);
    }
    if contact.restricted {
        return Err(Refusal::Restricted);
    }
    if contact.suppressed {
        return Err(Refusal::Suppressed);
    }
    if channel == MarketingChannel::Phone && contact.nix_listed {
        return Err(Refusal::NixListed);
    }
    match retention::purpose_end(policy, purpose_id, &contact.value, contact.subject) {
        PurposeEnd::Until(day) if day < today => Err(Refusal::RetentionEnded),
        PurposeEnd::NotHeld => Err(Refusal::NotGranted),
        PurposeEnd::Until(_) | PurposeEnd::Open => Ok(()),
    }
}

#[cfg(test)]
mod tests;
