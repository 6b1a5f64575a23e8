//! Who may do what: the policy's roles and purposes, and the subject's own say (restriction,
//! Art. 18; objection, Art. 21). Every refusal is written to the audit log before the caller
//! hears of it, like a read.
//!
//! Every rule matches on every kind of [`Actor`]: the operator's own tooling (CLI, background
//! jobs) is not limited by roles; staff act for the purposes of their role; a data subject
//! acts only on their own requests. The subject's restriction and objections bind everyone.

use std::collections::BTreeSet;

use integritet_domain::audit::AuditAction;
use integritet_domain::policy::{LegalBasis, Role};
use integritet_domain::subject::SubjectId;

use super::{Actor, NewValue, StaffRole, Vault, VaultError};
use crate::store::{SubjectRecord, Writes};

/// What an actor may do, as the rules below need it.
enum Authority<'a> {
    /// The operator's tools and background jobs: not limited by roles.
    Full,
    /// Staff in a role: its policy entry, or `None` for the administrator (and for a role the
    /// policy no longer declares), which holds no purpose.
    Role {
        name: &'a str,
        role: Option<&'a Role>,
    },
    /// A data subject, on their own data only.
    Subject(SubjectId),
}

/// Why a data subject is refused what staff may do.
const SUBJECT_ACTS_BY_REQUEST: &str =
    "a data subject acts on their own data through their requests, not by purpose";

impl Vault {
    /// Writes a refusal to the audit log and returns the error for the caller.
    pub(super) async fn refuse(
        &self,
        actor: &Actor,
        subject: Option<SubjectId>,
        purpose: Option<&str>,
        why: String,
    ) -> Result<VaultError, VaultError> {
        let refusal = self.draft(
            actor,
            AuditAction::Refused,
            subject,
            purpose,
            vec![],
            Some(why.clone()),
        );
        self.store.append_audit(vec![refusal]).await?;
        Ok(VaultError::Forbidden(why))
    }

    fn authority<'a>(&'a self, actor: &'a Actor) -> Authority<'a> {
        match actor {
            Actor::Operator { .. } | Actor::System { .. } => Authority::Full,
            Actor::Staff { role, .. } => Authority::Role {
                name: role.as_str(),
                role: match role {
                    StaffRole::Admin => None,
                    StaffRole::Policy(name) => self.rules().roles.get(name),
                },
            },
            Actor::DataSubject { subject } => Authority::Subject(*subject),
        }
    }

    /// Which of `purposes` the actor may act for (all of them for the operator and system
    /// jobs, none for a data subject).
    pub(super) fn purposes_held<'p>(
        &self,
        actor: &Actor,
        purposes: impl IntoIterator<Item = &'p str>,
    ) -> BTreeSet<&'p str> {
        match self.authority(actor) {
            Authority::Full => purposes.into_iter().collect(),
            Authority::Role { role, .. } => purposes
                .into_iter()
                .filter(|p| Self::holds(role, p))
                .collect(),
            Authority::Subject(_) => BTreeSet::new(),
        }
    }

    fn holds(role: Option<&Role>, purpose: &str) -> bool {
        role.is_some_and(|r| r.purposes.iter().any(|p| p == purpose))
    }

    /// Refuses an unknown purpose with the list of known ones.
    pub(super) fn known_purpose(&self, field: &str, purpose: &str) -> Result<(), VaultError> {
        if self.rules().purposes.contains_key(purpose) {
            return Ok(());
        }
        Err(VaultError::invalid(
            field,
            "unknown_purpose",
            format!(
                "the policy has no such purpose; use one of: {}",
                self.rules()
                    .purposes
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ))
    }

    /// Refuses a purpose the actor's role does not hold, and audits the refusal.
    pub(super) async fn authorise(
        &self,
        actor: &Actor,
        purpose: &str,
        subject: Option<SubjectId>,
    ) -> Result<(), VaultError> {
        self.known_purpose("purpose", purpose)?;
        let why = match self.authority(actor) {
            Authority::Full => return Ok(()),
            Authority::Role { role, .. } if Self::holds(role, purpose) => return Ok(()),
            Authority::Role { name, .. } => {
                format!("the role {name:?} may not act for the purpose {purpose:?}")
            }
            Authority::Subject(_) => SUBJECT_ACTS_BY_REQUEST.to_owned(),
        };
        Err(self.refuse(actor, subject, Some(purpose), why).await?)
    }

    /// Storing a value is acting for its purposes: the role must hold at least one purpose of
    /// every value (a value collected for a purchase may also be kept for bookkeeping, but a
    /// role with no purpose of a value may not store it). Unknown purposes are left to the
    /// value checks, which name them.
    pub(super) async fn authorise_values(
        &self,
        actor: &Actor,
        values: &[NewValue],
        subject: Option<SubjectId>,
    ) -> Result<(), VaultError> {
        let (name, role) = match self.authority(actor) {
            Authority::Full => return Ok(()),
            Authority::Role { name, role } => (name, role),
            Authority::Subject(_) => {
                let why = SUBJECT_ACTS_BY_REQUEST.to_owned();
                return Err(self.refuse(actor, subject, None, why).await?);
            }
        };
        for (i, value) in values.iter().enumerate() {
            let known: Vec<&str> = value
                .purposes
                .iter()
                .map(String::as_str)
                .filter(|p| self.rules().purposes.contains_key(*p))
                .collect();
            if known.is_empty() || known.iter().any(|p| Self::holds(role, p)) {
                continue;
            }
            return Err(self
                .refuse(
                    actor,
                    subject,
                    known.first().copied(),
                    format!(
                        "values[{i}]: the role {name:?} holds none of the purposes {} and may not store data for them",
                        known.join(", ")
                    ),
                )
                .await?);
        }
        Ok(())
    }

    /// At least one of `purposes` must be held by the actor's role; `what` names the act for
    /// the message.
    pub(super) async fn authorise_any(
        &self,
        actor: &Actor,
        purposes: &BTreeSet<&str>,
        subject: Option<SubjectId>,
        what: &str,
    ) -> Result<(), VaultError> {
        let name = match self.authority(actor) {
            Authority::Full => return Ok(()),
            Authority::Role { role, .. } if purposes.iter().any(|p| Self::holds(role, p)) => {
                return Ok(());
            }
            Authority::Role { name, .. } => name,
            Authority::Subject(_) => {
                let why = SUBJECT_ACTS_BY_REQUEST.to_owned();
                return Err(self.refuse(actor, subject, None, why).await?);
            }
        };
        let listed = if purposes.is_empty() {
            "none".to_owned()
        } else {
            purposes.iter().copied().collect::<Vec<_>>().join(", ")
        };
        Err(self
            .refuse(
                actor,
                subject,
                None,
                format!(
                    "the role {name:?} may not {what}: that needs one of the purposes {listed}"
                ),
            )
            .await?)
    }

    /// A data subject's request (full copy, erasure, restriction, objection) may be carried out
    /// only by a role the policy marks `handles_requests`.
    pub(super) async fn authorise_request(
        &self,
        actor: &Actor,
        subject: SubjectId,
        what: &str,
    ) -> Result<(), VaultError> {
        let why = match self.authority(actor) {
            Authority::Full => return Ok(()),
            Authority::Role { role, .. } if role.is_some_and(|r| r.handles_requests) => {
                return Ok(());
            }
            Authority::Role { name, .. } => format!(
                "the role {name:?} does not handle data subjects' requests, so it may not {what}"
            ),
            // Their own request, about themselves.
            Authority::Subject(own) if own == subject => return Ok(()),
            Authority::Subject(_) => format!("a data subject may not {what} of someone else"),
        };
        Err(self.refuse(actor, Some(subject), None, why).await?)
    }

    /// Data subjects' requests as records (registering, recording a proof, answering) are for
    /// the operator and the roles the policy marks `handles_requests`, whoever the request
    /// names.
    pub(super) async fn authorise_request_handling(
        &self,
        actor: &Actor,
        what: &str,
    ) -> Result<(), VaultError> {
        let why = match self.authority(actor) {
            Authority::Full => return Ok(()),
            Authority::Role { role, .. } if role.is_some_and(|r| r.handles_requests) => {
                return Ok(());
            }
            Authority::Role { name, .. } => format!(
                "the role {name:?} does not handle data subjects' requests, so it may not {what}"
            ),
            Authority::Subject(_) => format!("a data subject may not {what}"),
        };
        Err(self.refuse(actor, None, None, why).await?)
    }

    /// Whether a purpose may still be served while the subject's processing is restricted:
    /// only storage the law requires and legal claims (Art. 18(2)), i.e. purposes whose basis is
    /// a legal obligation.
    pub(super) fn allowed_while_restricted(&self, purpose: &str) -> bool {
        self.rules()
            .purposes
            .get(purpose)
            .is_some_and(|p| p.legal_basis == Some(LegalBasis::LegalObligation))
    }

    /// The subject's own limits on a purpose: a restriction (Art. 18) and objections (Art. 21).
    pub(super) async fn check_subject_allows(
        &self,
        actor: &Actor,
        record: &SubjectRecord,
        purpose: &str,
    ) -> Result<(), VaultError> {
        if record.restricted && !self.allowed_while_restricted(purpose) {
            return Err(self
                .refuse(
                    actor,
                    Some(record.id),
                    Some(purpose),
                    format!(
                        "processing of this subject is restricted (GDPR Art. 18): only purposes \
                         under a legal obligation may be served, not {purpose:?}"
                    ),
                )
                .await?);
        }
        if record.objections.iter().any(|o| o.purpose == purpose) {
            return Err(self
                .refuse(
                    actor,
                    Some(record.id),
                    Some(purpose),
                    format!("the subject has objected to the purpose {purpose:?} (GDPR Art. 21)"),
                )
                .await?);
        }
        Ok(())
    }

    /// A restricted subject's data is only stored (Art. 18(2)): no change to it is recorded,
    /// by anyone, until the restriction is lifted.
    pub(super) async fn check_not_restricted(
        &self,
        actor: &Actor,
        record: &SubjectRecord,
        what: &str,
    ) -> Result<(), VaultError> {
        if !record.restricted {
            return Ok(());
        }
        Err(self
            .refuse(
                actor,
                Some(record.id),
                None,
                format!(
                    "processing of this subject is restricted (GDPR Art. 18), so {what} is \
                     refused until the restriction is lifted"
                ),
            )
            .await?)
    }

    /// Whether the subject's own limits (restriction, objections) let `purpose` be served,
    /// without refusing: for lookups, which leave such subjects out.
    pub(super) fn subject_allows(&self, record: &SubjectRecord, purpose: &str) -> bool {
        (!record.restricted || self.allowed_while_restricted(purpose))
            && !record.objections.iter().any(|o| o.purpose == purpose)
    }

    /// A lookup by a kind of value serves a purpose only if the purpose lists a category of
    /// that kind: a purpose that holds no identity numbers may not find people by one.
    pub(super) async fn authorise_lookup(
        &self,
        actor: &Actor,
        kind: super::LookupKind,
        purpose: &str,
    ) -> Result<(), VaultError> {
        self.authorise(actor, purpose, None).await?;
        let rules = self.rules();
        let lists_kind = rules.purposes.get(purpose).is_some_and(|p| {
            p.categories.iter().any(|c| {
                rules
                    .categories
                    .get(c)
                    .is_some_and(|category| category.kind == kind.value_kind())
            })
        });
        if lists_kind {
            return Ok(());
        }
        Err(self
            .refuse(
                actor,
                None,
                Some(purpose),
                format!(
                    "the purpose {purpose:?} lists no category of the kind {:?}, so it may not \
                     look people up by one; use a purpose that needs that data",
                    kind.as_str()
                ),
            )
            .await?)
    }

    /// The activity kinds whose last occurrence starts `purpose`'s retention clock.
    pub(super) fn activities_counted_by(&self, purpose: &str) -> BTreeSet<&str> {
        use integritet_domain::policy::Retention;
        match self.rules().purposes.get(purpose).map(|p| &p.retention) {
            Some(Some(Retention::AfterLastActivity { activities, .. })) => {
                activities.iter().map(String::as_str).collect()
            }
            _ => BTreeSet::new(),
        }
    }

    /// Purposes whose retention clock an activity of `kind` restarts.
    pub(super) fn purposes_counting(&self, kind: &str) -> BTreeSet<&str> {
        use integritet_domain::policy::Retention;
        self.rules()
            .purposes
            .iter()
            .filter(|(_, p)| {
                matches!(&p.retention, Some(Retention::AfterLastActivity { activities, .. })
                    if activities.iter().any(|a| a == kind))
            })
            .map(|(name, _)| name.as_str())
            .collect()
    }

    /// Managing staff tokens and users is for the administrator (and the operator's tools)
    /// only.
    pub(super) async fn authorise_admin(
        &self,
        actor: &Actor,
        what: &str,
    ) -> Result<(), VaultError> {
        let why = match actor {
            Actor::Operator { .. }
            | Actor::System { .. }
            | Actor::Staff {
                role: StaffRole::Admin,
                ..
            } => return Ok(()),
            Actor::Staff {
                role: StaffRole::Policy(role),
                ..
            } => format!("the role {role:?} may not {what}: only the administrator may"),
            Actor::DataSubject { .. } => format!("a data subject may not {what}"),
        };
        Err(self.refuse(actor, None, None, why).await?)
    }
}
