//! Data subjects' requests as records with a lifecycle (`integritet_domain::request`): the
//! use cases that receive one, record who proved to be asking, extend, complete, refuse or
//! withdraw it. The rules are the domain's; here each use case loads the sealed record, lets
//! the domain change it, seals it again and writes it from the version it was read at, with an
//! audit entry naming the request and what happened (never what it says).

use integritet_domain::audit::AuditAction;
use integritet_domain::personal::PersonalValue;
use integritet_domain::policy;
use integritet_domain::report::AccessReport;
use integritet_domain::request::{
    Channel, Delivery, DeliveryMethod, Identifier, IdentifierKind, MarketingChannel,
    ObjectionTarget, Request, RequestError, RequestKind, State, Verification, VerificationMethod,
};
use integritet_domain::subject::SubjectId;
use integritet_domain::value;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{Actor, ErasureOutcome, LookupKind, PortableCopy, Vault, VaultError};
use crate::store::{RequestRow, Writes};

/// The table a request's record is sealed for.
const SEALED_FOR: &str = "subject_requests";

/// What carrying out a request did, for the answer to the person.
#[derive(Debug, Clone, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CarriedOut {
    pub request: Request,
    /// The subjects the proven identifiers lead to (none: nothing is held about the person).
    pub subjects: Vec<SubjectId>,
    pub result: RightResult,
}

/// The result of one right, per subject found.
#[derive(Debug, Clone, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum RightResult {
    /// Art. 15: the access report of each subject.
    Reports { reports: Vec<AccessReport> },
    /// Art. 16: the values replaced, whom to tell of each (Art. 19), and the corrected
    /// categories the subjects held no value of.
    Rectified {
        rectified: Vec<RectifiedValue>,
        not_held: Vec<String>,
    },
    /// Art. 20: what each subject provided, for consent and contract purposes.
    Portable { copies: Vec<PortableCopy> },
    /// Art. 17: what was erased and what a law keeps in the archive, and until when.
    Erased { erasures: Vec<ErasureOutcome> },
    /// Art. 18.
    Restricted,
    /// Art. 21: the purposes now objected to.
    Objected { purposes: Vec<String> },
    /// A right the system does not carry out by itself (yet), and what to do instead.
    NotAutomatic { why: String },
}

/// A corrected value a rectification request gives.
#[derive(Debug, Clone)]
pub struct Correction {
    pub category: String,
    pub value: PersonalValue,
}

/// One value a rectification request replaced.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RectifiedValue {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub subject: SubjectId,
    pub category: String,
    /// The id of the value that now holds the data.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub id: integritet_domain::subject::ValueId,
    /// Recipients to tell of the correction (Art. 19).
    pub notify: Vec<String>,
}

/// Open requests by deadline (see [`Vault::request_deadlines`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RequestDeadlines {
    pub open: u64,
    /// Open, not overdue, due within the days asked for.
    pub due_soon: u64,
    /// Open past their deadline.
    pub overdue: u64,
}

/// A request as it arrives.
#[derive(Debug, Clone)]
pub struct NewRequest {
    pub kind: RequestKind,
    pub channel: Channel,
    /// When it came in; now when not given (a letter registered the day after, say, gives
    /// the day it arrived).
    pub received_at: Option<OffsetDateTime>,
    /// The identifiers it names, as the person wrote them.
    pub identifiers: Vec<(LookupKind, PersonalValue)>,
}

/// What is done to a request after it arrived.
#[derive(Debug, Clone)]
pub enum RequestStep {
    /// Someone proved to be the person behind these of the request's identifiers.
    Verify {
        method: VerificationMethod,
        identifiers: Vec<(LookupKind, PersonalValue)>,
    },
    Start,
    Extend {
        months: u32,
        reason: String,
        told_by: DeliveryMethod,
    },
    Complete {
        method: DeliveryMethod,
        /// The address the answer went to (sealed with the request).
        address: Option<PersonalValue>,
    },
    Refuse {
        reason: String,
    },
    Withdraw,
}

impl RequestStep {
    fn event(&self) -> &'static str {
        match self {
            RequestStep::Verify { .. } => "verified",
            RequestStep::Start => "started",
            RequestStep::Extend { .. } => "extended",
            RequestStep::Complete { .. } => "completed",
            RequestStep::Refuse { .. } => "refused",
            RequestStep::Withdraw => "withdrawn",
        }
    }
}

impl Vault {
    /// Registers a request; its deadline counts from when it was received.
    pub async fn receive_request(
        &self,
        actor: &Actor,
        new: NewRequest,
    ) -> Result<Request, VaultError> {
        self.authorise_request_handling(actor, "register a data subject's request")
            .await?;
        let now = self.clock.now();
        let received_at = new.received_at.unwrap_or(now);
        if received_at > now {
            return Err(invalid(
                "received_at",
                "in_future",
                "a request cannot have been received later than now",
            ));
        }
        let names = self.identifiers(&new.identifiers)?;
        let id = uuid::Builder::from_random_bytes(self.random::<16>()).into_uuid();
        let request =
            Request::receive(id, new.kind, new.channel, received_at, names).map_err(domain)?;
        self.write_request(actor, &request, None, "received")
            .await?;
        Ok(request)
    }

    /// Moves a request on by `step`.
    pub async fn advance_request(
        &self,
        actor: &Actor,
        id: Uuid,
        step: RequestStep,
    ) -> Result<Request, VaultError> {
        self.authorise_request_handling(actor, "act on a data subject's request")
            .await?;
        let (mut request, version) = self.load_request(id).await?;
        let now = self.clock.now();
        let event = step.event();
        match step {
            RequestStep::Verify {
                method,
                identifiers,
            } => {
                let covers = self.identifiers(&identifiers)?;
                request
                    .verify(Verification {
                        method,
                        by: actor.id(),
                        at: now,
                        covers,
                    })
                    .map_err(domain)?;
            }
            RequestStep::Start => request.start(now).map_err(domain)?,
            RequestStep::Extend {
                months,
                reason,
                told_by,
            } => request
                .extend(months, &reason, told_by, now)
                .map_err(domain)?,
            RequestStep::Complete { method, address } => request
                .complete(Delivery {
                    method,
                    address: address.map(|a| a.expose().to_owned()),
                    at: now,
                })
                .map_err(domain)?,
            RequestStep::Refuse { reason } => request.refuse(&reason, now).map_err(domain)?,
            RequestStep::Withdraw => request.withdraw(now).map_err(domain)?,
        }
        self.write_request(actor, &request, Some(version), event)
            .await?;
        Ok(request)
    }

    /// One request.
    pub async fn request(&self, actor: &Actor, id: Uuid) -> Result<Request, VaultError> {
        self.authorise_request_handling(actor, "read a data subject's request")
            .await?;
        Ok(self.load_request(id).await?.0)
    }

    /// Every request, the one due first first.
    pub async fn requests(&self, actor: &Actor) -> Result<Vec<Request>, VaultError> {
        self.authorise_request_handling(actor, "list data subjects' requests")
            .await?;
        let rows = self.store.list_requests().await?;
        rows.iter().map(|row| self.open_request(row)).collect()
    }

    /// Carries out a verified request against the subjects its proven identifiers lead to,
    /// and only those: an erasure erases them (archiving what a law keeps), a restriction
    /// restricts them, an objection records itself on the purpose — or, to marketing on a
    /// channel, on every purpose that markets on it — and an access request gives each one's
    /// full copy. Each of those steps is audited as it always is; the request is in progress
    /// afterwards and is completed when the answer has gone out.
    pub async fn carry_out_request(
        &self,
        actor: &Actor,
        id: Uuid,
    ) -> Result<CarriedOut, VaultError> {
        let (request, subjects) = self.begin_carrying_out(actor, id).await?;
        let reason = format!("request {id}");
        let result = match &request.kind {
            RequestKind::Erasure => {
                let mut erasures = Vec::with_capacity(subjects.len());
                for subject in &subjects {
                    erasures.push(self.erase(actor, *subject, &reason).await?);
                }
                RightResult::Erased { erasures }
            }
            RequestKind::Restriction => {
                for subject in &subjects {
                    self.set_restricted(actor, *subject, true).await?;
                }
                RightResult::Restricted
            }
            RequestKind::Objection { to } => {
                let purposes = self.purposes_objected_to(to);
                for subject in &subjects {
                    for purpose in &purposes {
                        self.object(actor, *subject, purpose).await?;
                    }
                }
                RightResult::Objected { purposes }
            }
            RequestKind::Access => {
                let mut reports = Vec::with_capacity(subjects.len());
                for subject in &subjects {
                    reports.push(self.access_report(actor, *subject).await?);
                }
                RightResult::Reports { reports }
            }
            RequestKind::Rectification => RightResult::NotAutomatic {
                why: "a rectification is carried out with the corrected values: give them \
                      (POST /api/v1/requests/{id}/rectify, or request carry-out --correct \
                      CATEGORY=VALUE)"
                    .into(),
            },
            RequestKind::Portability => {
                let mut copies = Vec::with_capacity(subjects.len());
                for subject in &subjects {
                    copies.push(self.portability(actor, *subject).await?);
                }
                RightResult::Portable { copies }
            }
        };
        Ok(CarriedOut {
            request,
            subjects,
            result,
        })
    }

    /// Carries out a verified rectification request (Art. 16) with the corrected values: every
    /// value of each corrected category, of every subject the proven identifiers lead to, is
    /// replaced (no old plaintext kept), and the answer names the recipients to tell (Art. 19).
    pub async fn carry_out_rectification(
        &self,
        actor: &Actor,
        id: Uuid,
        corrections: Vec<Correction>,
    ) -> Result<CarriedOut, VaultError> {
        if corrections.is_empty() {
            return Err(invalid(
                "corrections",
                "no_corrections",
                "give at least one corrected value (a category and its new value)",
            ));
        }
        let (request, subjects) = self.begin_carrying_out(actor, id).await?;
        if request.kind != RequestKind::Rectification {
            return Err(invalid(
                "corrections",
                "not_a_rectification",
                "only a rectification request is carried out with corrected values",
            ));
        }
        let mut rectified = Vec::new();
        let mut not_held = std::collections::BTreeSet::new();
        for subject in &subjects {
            let Some(record) = self.store.subject(*subject).await? else {
                continue;
            };
            for correction in &corrections {
                let values: Vec<_> = record
                    .values
                    .iter()
                    .filter(|v| v.category == correction.category)
                    .map(|v| v.id)
                    .collect();
                if values.is_empty() {
                    not_held.insert(correction.category.clone());
                }
                for value in values {
                    let done = self
                        .rectify_authorised(actor, &record, value, correction.value.clone())
                        .await?;
                    rectified.push(RectifiedValue {
                        subject: *subject,
                        category: correction.category.clone(),
                        id: done.id,
                        notify: done.notify,
                    });
                }
            }
        }
        Ok(CarriedOut {
            request,
            subjects,
            result: RightResult::Rectified {
                rectified,
                not_held: not_held.into_iter().collect(),
            },
        })
    }

    /// Moves a verified request to in progress (once) and finds the subjects its proven
    /// identifiers lead to.
    async fn begin_carrying_out(
        &self,
        actor: &Actor,
        id: Uuid,
    ) -> Result<(Request, Vec<SubjectId>), VaultError> {
        self.authorise_request_handling(actor, "carry out a data subject's request")
            .await?;
        let (mut request, version) = self.load_request(id).await?;
        if request.state == State::IdentityVerified {
            request.start(self.clock.now()).map_err(domain)?;
            self.write_request(actor, &request, Some(version), "started")
                .await?;
        } else if request.state != State::InProgress {
            return Err(domain(if request.state == State::Received {
                RequestError::NotVerified
            } else {
                RequestError::NotAllowed {
                    state: request.state.as_str(),
                    action: "carried out",
                }
            }));
        }
        let subjects = self.subjects_of(&request).await?;
        Ok((request, subjects))
    }

    /// The subjects the request's proven identifiers lead to.
    async fn subjects_of(&self, request: &Request) -> Result<Vec<SubjectId>, VaultError> {
        let mut found = std::collections::BTreeSet::new();
        for target in request.targets() {
            let Some(token) = unhex32(&target.reference) else {
                continue;
            };
            let kind = lookup_kind(target.kind);
            found.extend(self.store.lookup(kind.as_str(), &token).await?);
        }
        Ok(found.into_iter().collect())
    }

    /// The purposes an objection reaches: the one named, or every purpose that markets on the
    /// channel named (Art. 21(3): absolute).
    fn purposes_objected_to(&self, to: &ObjectionTarget) -> Vec<String> {
        match to {
            ObjectionTarget::Purpose(purpose) => vec![purpose.clone()],
            ObjectionTarget::Marketing(channel) => {
                let channel = match channel {
                    MarketingChannel::Email => policy::MarketingChannel::Email,
                    MarketingChannel::Phone => policy::MarketingChannel::Phone,
                    MarketingChannel::Post => policy::MarketingChannel::Post,
                };
                self.rules()
                    .purposes
                    .iter()
                    .filter(|(_, p)| p.marketing_channels.contains(&channel))
                    .map(|(name, _)| name.clone())
                    .collect()
            }
        }
    }

    /// How many requests are open, due within `soon_days` of today (in Sweden) and overdue:
    /// numbers only, for monitoring, read from the rows' clear columns without opening any
    /// record. A row whose state is unknown counts as open.
    pub async fn request_deadlines(&self, soon_days: i64) -> Result<RequestDeadlines, VaultError> {
        let today = integritet_domain::request::stockholm_date(self.clock.now());
        let soon = today + time::Duration::days(soon_days);
        let mut counts = RequestDeadlines::default();
        for row in self.store.list_requests().await? {
            if State::parse(&row.state).is_some_and(State::is_closed) {
                continue;
            }
            counts.open += 1;
            if row.due < today {
                counts.overdue += 1;
            } else if row.due <= soon {
                counts.due_soon += 1;
            }
        }
        Ok(counts)
    }

    /// The references of identifiers as the person wrote them: the blind-index tokens of
    /// their normalised values, as lookups use, so that nothing in the record is plaintext.
    fn identifiers(
        &self,
        given: &[(LookupKind, PersonalValue)],
    ) -> Result<Vec<Identifier>, VaultError> {
        given
            .iter()
            .enumerate()
            .map(|(i, (kind, raw))| {
                let normalised =
                    value::normalise(kind.value_kind(), raw.expose(), self.clock.today()).map_err(
                        |e| VaultError::Invalid {
                            field: format!("identifiers[{i}]"),
                            code: e.code,
                            message: e.message,
                        },
                    )?;
                let token = self.index_key.index(kind.as_str(), normalised.as_bytes());
                Ok(Identifier {
                    kind: identifier_kind(*kind),
                    reference: token.iter().map(|b| format!("{b:02x}")).collect(),
                })
            })
            .collect()
    }

    async fn load_request(&self, id: Uuid) -> Result<(Request, u64), VaultError> {
        let row = self
            .store
            .request(id)
            .await?
            .ok_or(VaultError::NotFound { what: "request" })?;
        Ok((self.open_request(&row)?, row.version))
    }

    /// The record of `row`; one whose clear columns disagree with it was edited in the
    /// database and is refused.
    fn open_request(&self, row: &RequestRow) -> Result<Request, VaultError> {
        let plain = self
            .record_key
            .open(SEALED_FOR, row.id.as_bytes(), &row.sealed)?;
        let request: Request = serde_json::from_slice(&plain).map_err(|_| {
            VaultError::Store(crate::store::StoreError::Corrupt(format!(
                "request {} does not hold a request record",
                row.id
            )))
        })?;
        if request.id != row.id
            || request.state.as_str() != row.state
            || request.due() != row.due
            || request.received_at != row.received_at
        {
            return Err(VaultError::Store(crate::store::StoreError::Corrupt(
                format!(
                    "request {}: its state, deadline or time of receipt was changed in the database",
                    row.id
                ),
            )));
        }
        Ok(request)
    }

    async fn write_request(
        &self,
        actor: &Actor,
        request: &Request,
        replaces: Option<u64>,
        event: &str,
    ) -> Result<(), VaultError> {
        let plain = zeroize::Zeroizing::new(serde_json::to_vec(request).map_err(|e| {
            VaultError::Store(crate::store::StoreError::Corrupt(format!(
                "a request could not be encoded: {e}"
            )))
        })?);
        let sealed = self.with_rng(|rng| {
            self.record_key
                .seal(SEALED_FOR, request.id.as_bytes(), &plain, rng)
        })?;
        let row = RequestRow {
            id: request.id,
            state: request.state.as_str().to_owned(),
            received_at: request.received_at,
            due: request.due(),
            sealed,
            version: replaces.map_or(0, |v| v + 1),
        };
        let audit = self.draft(
            actor,
            AuditAction::Request,
            None,
            None,
            vec![],
            Some(format!(
                "request={}; event={event}; state={}; due={}",
                request.id,
                request.state.as_str(),
                request.due()
            )),
        );
        if !self.store.put_request(row, replaces, vec![audit]).await? {
            return Err(VaultError::Store(crate::store::StoreError::Conflict(
                "the request was changed by someone else meanwhile; read it again and retry".into(),
            )));
        }
        Ok(())
    }
}

fn lookup_kind(kind: IdentifierKind) -> LookupKind {
    match kind {
        IdentifierKind::Email => LookupKind::Email,
        IdentifierKind::Phone => LookupKind::Phone,
        IdentifierKind::IdentityNumber => LookupKind::IdentityNumber,
        IdentifierKind::CustomerNumber => LookupKind::CustomerNumber,
    }
}

fn unhex32(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 || !text.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

fn identifier_kind(kind: LookupKind) -> IdentifierKind {
    match kind {
        LookupKind::Email => IdentifierKind::Email,
        LookupKind::Phone => IdentifierKind::Phone,
        LookupKind::IdentityNumber => IdentifierKind::IdentityNumber,
        LookupKind::CustomerNumber => IdentifierKind::CustomerNumber,
    }
}

fn invalid(field: &str, code: &'static str, message: &str) -> VaultError {
    VaultError::Invalid {
        field: field.into(),
        code,
        message: message.into(),
    }
}

/// A rule of the request's lifecycle that the step breaks: the caller's to fix.
fn domain(error: RequestError) -> VaultError {
    let code = match error {
        RequestError::NoIdentifiers => "no_identifiers",
        RequestError::NotAllowed { .. } => "not_allowed",
        RequestError::NotNamed => "not_named",
        RequestError::CoversNothing => "covers_nothing",
        RequestError::NotVerified => "not_verified",
        RequestError::ReasonRequired => "reason_required",
        RequestError::ExtensionMonths => "extension_months",
        RequestError::AlreadyExtended => "already_extended",
        RequestError::ExtensionTooLate { .. } => "extension_too_late",
        RequestError::BeforeReceipt { .. } => "before_receipt",
    };
    VaultError::Invalid {
        field: "request".into(),
        code,
        message: error.to_string(),
    }
}
