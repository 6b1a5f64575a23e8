//! Who is acting. Staff are named by account or token id, never by personal data of a data
//! subject; access control (`access.rs`) matches on every kind of actor.

use std::fmt;

use integritet_domain::subject::SubjectId;

use crate::tokens::ADMIN_ROLE;

/// Who is acting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// The operator at the keyboard (the CLI), with the operator's full authority. `login` is
    /// the operating-system account, for the audit log.
    Operator { login: String },
    /// A background job, or the server preparing itself.
    System { job: String },
    /// A member of staff, through an API token (`token:<id>`) or a console session
    /// (`user:<name>`), acting in one role.
    Staff { id: String, role: StaffRole },
    /// A data subject acting on their own data, once they have proven who they are (the
    /// privacy portal). Holds no staff role.
    DataSubject { subject: SubjectId },
}

/// The role a member of staff acts in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StaffRole {
    /// The reserved administrator: manages staff tokens and users, reads no personal data.
    Admin,
    /// A role of the policy's `[roles]`.
    Policy(String),
}

impl StaffRole {
    /// The role named `name`: the reserved administrator, or a role of the policy.
    pub fn named(name: &str) -> StaffRole {
        if name == ADMIN_ROLE {
            StaffRole::Admin
        } else {
            StaffRole::Policy(name.to_owned())
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            StaffRole::Admin => ADMIN_ROLE,
            StaffRole::Policy(name) => name,
        }
    }
}

impl fmt::Display for StaffRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Actor {
    /// The operator at the keyboard, named by the operating-system login.
    pub fn operator(login: &str) -> Actor {
        Actor::Operator {
            login: login.to_owned(),
        }
    }

    /// A background job such as `serve` or `restore`.
    pub fn system(job: &str) -> Actor {
        Actor::System {
            job: job.to_owned(),
        }
    }

    /// Staff with `id` (e.g. `token:tok_…`) in the role named `role`.
    pub fn staff(id: impl Into<String>, role: &str) -> Actor {
        Actor::Staff {
            id: id.into(),
            role: StaffRole::named(role),
        }
    }

    /// How the audit log names the actor: `cli:<login>`, `system:<job>`, the staff id, or
    /// `subject:<id>`.
    pub fn id(&self) -> String {
        match self {
            Actor::Operator { login } => format!("cli:{login}"),
            Actor::System { job } => format!("system:{job}"),
            Actor::Staff { id, .. } => id.clone(),
            Actor::DataSubject { subject } => format!("subject:{subject}"),
        }
    }

    /// The staff role, as the audit log records it; `None` for everyone else.
    pub fn role(&self) -> Option<&str> {
        match self {
            Actor::Staff { role, .. } => Some(role.as_str()),
            Actor::Operator { .. } | Actor::System { .. } | Actor::DataSubject { .. } => None,
        }
    }
}
