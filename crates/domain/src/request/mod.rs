//! A data subject's request as a record with a lifecycle: what was asked, through which
//! channel, when, who proved to be asking, and where it stands.
//!
//! ```text
//! received ──verify──▶ identity verified ──start──▶ in progress ──complete──▶ completed
//!     │                        │                         │
//!     └───────── refuse (reason) │ withdraw ──────────────┴──▶ refused | withdrawn
//! ```
//!
//! The rules live here and nowhere else: a request executes only once verified, and only
//! against the identifiers the verification covered; it is answered by its deadline
//! ([`deadline`]); it may be extended once, by at most two months, only while its first month
//! runs; a refusal needs a reason and is due within the first month too (Art. 12(4)). Every
//! operation takes its time as a parameter and either changes the request or says why not.

pub mod calendar;
pub mod deadline;
mod local_time;

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

pub use local_time::stockholm_date;

/// What the subject asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum RequestKind {
    /// Art. 15: a copy of the data and what is done with it.
    Access,
    /// Art. 16.
    Rectification,
    /// Art. 17.
    Erasure,
    /// Art. 18.
    Restriction,
    /// Art. 21: to one purpose, or to direct marketing on one channel.
    Objection { to: ObjectionTarget },
    /// Art. 20.
    Portability,
}

/// What an objection is to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ObjectionTarget {
    /// A purpose of the policy, by name.
    Purpose(String),
    /// Direct marketing on one channel (Art. 21(3): absolute).
    Marketing(MarketingChannel),
}

/// A channel marketing reaches people on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MarketingChannel {
    Email,
    Phone,
    Post,
}

/// How the request came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Portal,
    Email,
    Post,
    Phone,
    InPerson,
}

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum State {
    Received,
    IdentityVerified,
    InProgress,
    Completed,
    Refused,
    Withdrawn,
}

impl State {
    /// Whether nothing more happens to the request.
    pub fn is_closed(self) -> bool {
        matches!(self, State::Completed | State::Refused | State::Withdrawn)
    }

    pub const ALL: [State; 6] = [
        State::Received,
        State::IdentityVerified,
        State::InProgress,
        State::Completed,
        State::Refused,
        State::Withdrawn,
    ];

    /// The state of a name as [`State::as_str`] writes it.
    pub fn parse(name: &str) -> Option<State> {
        State::ALL.into_iter().find(|s| s.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            State::Received => "received",
            State::IdentityVerified => "identity_verified",
            State::InProgress => "in_progress",
            State::Completed => "completed",
            State::Refused => "refused",
            State::Withdrawn => "withdrawn",
        }
    }
}

/// The kind of an identifier a request names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum IdentifierKind {
    Email,
    Phone,
    IdentityNumber,
    CustomerNumber,
}

/// An identifier a request names, by reference only (the caller's keyed token of the
/// normalised value), never as plaintext.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Identifier {
    pub kind: IdentifierKind,
    pub reference: String,
}

/// How a person proved who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum VerificationMethod {
    /// A copy of an identity document checked by staff.
    IdDocumentChecked,
    /// Swedish e-identification (BankID, Freja eID).
    ElectronicId,
    /// A one-time code sent to the e-mail address on file.
    EmailCode,
    /// A one-time code sent to the phone number on file.
    PhoneCode,
    /// An identity document shown in person.
    InPerson,
}

/// Who proved what, how and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Verification {
    pub method: VerificationMethod,
    /// The staff member or system that checked (an actor id).
    pub by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The request's identifiers the proof covers.
    pub covers: Vec<Identifier>,
}

/// An extension of the deadline (Art. 12(3), second sentence).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Extension {
    pub months: u32,
    pub reason: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// How the subject was told.
    pub told_by: DeliveryMethod,
}

/// How an answer reaches the subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DeliveryMethod {
    /// A download in the privacy portal, behind the same proof.
    PortalDownload,
    Email,
    /// Post to the registered (folkbokförings-) address.
    Post,
}

/// How the answer went out. `address` is the address used (personal data: the store keeps
/// it encrypted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Delivery {
    pub method: DeliveryMethod,
    pub address: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// Why and when a request was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Refusal {
    pub reason: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Whether it was given within the first month (Art. 12(4)).
    pub on_time: bool,
}

/// A data subject's request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Request {
    pub id: uuid::Uuid,
    pub kind: RequestKind,
    pub channel: Channel,
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
    /// The identifiers the request names (at least one).
    pub names: Vec<Identifier>,
    pub state: State,
    pub verification: Option<Verification>,
    pub extension: Option<Extension>,
    pub delivery: Option<Delivery>,
    pub refusal: Option<Refusal>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub closed_at: Option<OffsetDateTime>,
}

/// Why an operation on a request was not done.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error(
        "a request must name at least one identifier of the person (e-mail, phone, identity number or customer number)"
    )]
    NoIdentifiers,
    #[error("the request is {state}; it cannot be {action}")]
    NotAllowed {
        state: &'static str,
        action: &'static str,
    },
    #[error("the verification covers an identifier the request does not name")]
    NotNamed,
    #[error("a verification must cover at least one of the request's identifiers")]
    CoversNothing,
    #[error("the request is not verified yet: record who proved to be asking first")]
    NotVerified,
    #[error("give a reason (it is recorded and told to the person)")]
    ReasonRequired,
    #[error("an extension adds one or two months")]
    ExtensionMonths,
    #[error("the request was extended already; the deadline can be moved only once")]
    AlreadyExtended,
    #[error("the first month ended on {due}; an extension is possible only before then")]
    ExtensionTooLate { due: Date },
    #[error("{what} at {at} is before the request was received")]
    BeforeReceipt {
        what: &'static str,
        at: OffsetDateTime,
    },
}

impl Request {
    /// A request as received, naming `names`.
    pub fn receive(
        id: uuid::Uuid,
        kind: RequestKind,
        channel: Channel,
        received_at: OffsetDateTime,
        mut names: Vec<Identifier>,
    ) -> Result<Request, RequestError> {
        names.sort();
        names.dedup();
        if names.is_empty() {
            return Err(RequestError::NoIdentifiers);
        }
        Ok(Request {
            id,
            kind,
            channel,
            received_at,
            names,
            state: State::Received,
            verification: None,
            extension: None,
            delivery: None,
            refusal: None,
            closed_at: None,
        })
    }

    /// The day of receipt, in Sweden.
    pub fn received_on(&self) -> Date {
        stockholm_date(self.received_at)
    }

    /// The last day to answer, with the extension if there is one.
    pub fn due(&self) -> Date {
        deadline::answer_by(
            self.received_on(),
            self.extension.as_ref().map_or(0, |e| e.months),
        )
    }

    /// The last day of the first month: for an extension, and for a refusal.
    pub fn first_due(&self) -> Date {
        deadline::answer_by(self.received_on(), 0)
    }

    /// Whether the request is open and its deadline has passed on `today`.
    pub fn is_overdue(&self, today: Date) -> bool {
        !self.state.is_closed() && today > self.due()
    }

    /// The identifiers the request may act on: those it names that the verification covered.
    pub fn targets(&self) -> Vec<&Identifier> {
        let Some(verification) = &self.verification else {
            return Vec::new();
        };
        self.names
            .iter()
            .filter(|name| verification.covers.contains(name))
            .collect()
    }

    /// Records who proved to be asking. A later proof adds what it covers to the earlier one.
    pub fn verify(&mut self, mut verification: Verification) -> Result<(), RequestError> {
        self.open_for("verified")?;
        self.after_receipt("the verification", verification.at)?;
        if verification.covers.iter().any(|c| !self.names.contains(c)) {
            return Err(RequestError::NotNamed);
        }
        if verification.covers.is_empty() {
            return Err(RequestError::CoversNothing);
        }
        if let Some(earlier) = &self.verification {
            verification.covers.extend(earlier.covers.iter().cloned());
        }
        verification.covers.sort();
        verification.covers.dedup();
        self.verification = Some(verification);
        if self.state == State::Received {
            self.state = State::IdentityVerified;
        }
        Ok(())
    }

    /// Work on the request begins.
    pub fn start(&mut self, at: OffsetDateTime) -> Result<(), RequestError> {
        self.after_receipt("the start", at)?;
        match self.state {
            State::IdentityVerified => {
                self.state = State::InProgress;
                Ok(())
            }
            State::Received => Err(RequestError::NotVerified),
            state => Err(not_allowed(state, "started")),
        }
    }

    /// Moves the deadline by `months` (1 or 2) for `reason`, the subject told by `told_by`.
    pub fn extend(
        &mut self,
        months: u32,
        reason: &str,
        told_by: DeliveryMethod,
        at: OffsetDateTime,
    ) -> Result<(), RequestError> {
        self.open_for("extended")?;
        self.after_receipt("the extension", at)?;
        if !(1..=deadline::MAX_EXTENSION_MONTHS).contains(&months) {
            return Err(RequestError::ExtensionMonths);
        }
        if self.extension.is_some() {
            return Err(RequestError::AlreadyExtended);
        }
        let reason = required(reason)?;
        let due = self.first_due();
        if stockholm_date(at) > due {
            return Err(RequestError::ExtensionTooLate { due });
        }
        self.extension = Some(Extension {
            months,
            reason,
            at,
            told_by,
        });
        Ok(())
    }

    /// The answer went out: the request is done.
    pub fn complete(&mut self, delivery: Delivery) -> Result<(), RequestError> {
        self.after_receipt("the delivery", delivery.at)?;
        match self.state {
            State::IdentityVerified | State::InProgress if !self.targets().is_empty() => {
                self.closed_at = Some(delivery.at);
                self.delivery = Some(delivery);
                self.state = State::Completed;
                Ok(())
            }
            State::Received | State::IdentityVerified | State::InProgress => {
                Err(RequestError::NotVerified)
            }
            state => Err(not_allowed(state, "completed")),
        }
    }

    /// Refuses the request for `reason` (Art. 12(5), or a proof that failed).
    pub fn refuse(&mut self, reason: &str, at: OffsetDateTime) -> Result<(), RequestError> {
        self.open_for("refused")?;
        self.after_receipt("the refusal", at)?;
        let reason = required(reason)?;
        let on_time = stockholm_date(at) <= self.first_due();
        self.refusal = Some(Refusal {
            reason,
            at,
            on_time,
        });
        self.state = State::Refused;
        self.closed_at = Some(at);
        Ok(())
    }

    /// The subject takes the request back.
    pub fn withdraw(&mut self, at: OffsetDateTime) -> Result<(), RequestError> {
        self.open_for("withdrawn")?;
        self.after_receipt("the withdrawal", at)?;
        self.state = State::Withdrawn;
        self.closed_at = Some(at);
        Ok(())
    }

    fn open_for(&self, action: &'static str) -> Result<(), RequestError> {
        if self.state.is_closed() {
            return Err(not_allowed(self.state, action));
        }
        Ok(())
    }

    fn after_receipt(&self, what: &'static str, at: OffsetDateTime) -> Result<(), RequestError> {
        if at < self.received_at {
            return Err(RequestError::BeforeReceipt { what, at });
        }
        Ok(())
    }
}

fn not_allowed(state: State, action: &'static str) -> RequestError {
    RequestError::NotAllowed {
        state: state.as_str(),
        action,
    }
}

fn required(reason: &str) -> Result<String, RequestError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(RequestError::ReasonRequired);
    }
    Ok(reason.to_owned())
}

#[cfg(test)]
mod tests;
