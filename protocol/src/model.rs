//! The nouns both ends share: roles, tickets, priorities, sessions and the summaries the broker
//! sends about them. Times are Unix seconds (UTC); this crate never reads a clock.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::Secret;

/// Which program is on the other end of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// `tether-agent`, on the customer's machine.
    Agent,
    /// `tether-console`, used by technicians, dispatchers and admins.
    Console,
}

impl Role {
    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Console => "console",
        }
    }
}

/// What a console account may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum UserRole {
    /// Works tickets and sessions.
    Technician,
    /// Assigns work and watches deadlines; can also work tickets.
    Dispatcher,
    /// Manages accounts and reads transcripts; can also work tickets.
    Admin,
}

impl UserRole {
    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            UserRole::Technician => "technician",
            UserRole::Dispatcher => "dispatcher",
            UserRole::Admin => "admin",
        }
    }
}

impl FromStr for UserRole {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "technician" => Ok(UserRole::Technician),
            "dispatcher" => Ok(UserRole::Dispatcher),
            "admin" => Ok(UserRole::Admin),
            _ => Err(format!("unknown role {s:?}; expected technician, dispatcher or admin")),
        }
    }
}

/// Ticket priority, which sets the response deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Priority {
    /// Major outage or security risk affecting several users.
    Critical,
    /// One user cannot work, or a minor outage.
    High,
    /// Intermittent problem with a workaround.
    Medium,
    /// General query.
    Low,
}

impl Priority {
    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Priority::Critical => "critical",
            Priority::High => "high",
            Priority::Medium => "medium",
            Priority::Low => "low",
        }
    }
}

impl FromStr for Priority {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "critical" => Ok(Priority::Critical),
            "high" => Ok(Priority::High),
            "medium" => Ok(Priority::Medium),
            "low" => Ok(Priority::Low),
            _ => Err(format!("unknown priority {s:?}; expected critical, high, medium or low")),
        }
    }
}

/// Where a ticket is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum TicketStatus {
    /// Logged, not yet in the queue.
    New,
    /// Waiting for a technician.
    Queued,
    /// A technician owns it.
    Assigned,
    /// A session is running.
    InSession,
    /// Handed to a manager.
    Escalated,
    /// An onsite visit is planned.
    OnsiteScheduled,
    /// The onsite visit is done and signed off.
    OnsiteDone,
    /// A technician resolved it; waiting for the customer's confirmation.
    Resolved,
    /// Done.
    Closed,
}

impl TicketStatus {
    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            TicketStatus::New => "new",
            TicketStatus::Queued => "queued",
            TicketStatus::Assigned => "assigned",
            TicketStatus::InSession => "in_session",
            TicketStatus::Escalated => "escalated",
            TicketStatus::OnsiteScheduled => "onsite_scheduled",
            TicketStatus::OnsiteDone => "onsite_done",
            TicketStatus::Resolved => "resolved",
            TicketStatus::Closed => "closed",
        }
    }
}

impl FromStr for TicketStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            TicketStatus::New,
            TicketStatus::Queued,
            TicketStatus::Assigned,
            TicketStatus::InSession,
            TicketStatus::Escalated,
            TicketStatus::OnsiteScheduled,
            TicketStatus::OnsiteDone,
            TicketStatus::Resolved,
            TicketStatus::Closed,
        ]
        .into_iter()
        .find(|t| t.name() == s)
        .ok_or_else(|| format!("unknown ticket status {s:?}"))
    }
}

/// A ticket number. Shown as `T42`; `T42`, `#42` and `42` all parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TicketId(pub u64);

impl fmt::Display for TicketId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "T{}", self.0)
    }
}

impl FromStr for TicketId {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let digits = s.strip_prefix(['T', 't', '#']).unwrap_or(s);
        digits
            .parse::<u64>()
            .ok()
            .filter(|n| *n > 0)
            .map(TicketId)
            .ok_or_else(|| format!("{s:?} is not a ticket number (like T42)"))
    }
}

/// A ticket as the queue shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TicketSummary {
    /// Ticket number.
    pub id: TicketId,
    /// Status.
    pub status: TicketStatus,
    /// Priority.
    pub priority: Priority,
    /// Where the request came from: agent, phone, email, portal.
    pub channel: String,
    /// Customer's name.
    pub client: String,
    /// Customer's contact (phone, e-mail).
    pub contact: String,
    /// The problem in the customer's words.
    pub issue: String,
    /// When it was logged, Unix seconds.
    pub created_at: i64,
    /// Technician who owns it, if any.
    pub assigned_to: Option<String>,
    /// Whether the customer's agent is connected and waiting right now.
    pub customer_waiting: bool,
    /// The verdict of the customer's latest bandwidth check on this ticket.
    #[serde(default)]
    pub bandwidth: Option<crate::Verdict>,
    /// The response deadline, Unix seconds.
    #[serde(default)]
    pub deadline_at: Option<i64>,
    /// When a technician first responded, Unix seconds.
    #[serde(default)]
    pub responded_at: Option<i64>,
    /// The priority the customer asked for, when they logged it themselves: a claim, which a
    /// dispatcher's triage turns into the priority.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claimed_priority: Option<Priority>,
}

/// A console account as others see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserInfo {
    /// Login name.
    pub name: String,
    /// Role.
    pub role: UserRole,
}

/// The other end of a paired session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerInfo {
    /// Agent or console.
    pub role: Role,
    /// The customer's or technician's name.
    pub name: String,
}

/// A running session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    /// Session id.
    pub id: String,
    /// The ticket it works.
    pub ticket: TicketId,
    /// The other end.
    pub peer: PeerInfo,
}

/// A one-time code a technician reads out to a customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationInfo {
    /// Nine digits. Shown to the technician who asked for it, never logged.
    pub code: Secret<String>,
    /// The ticket the customer joins.
    pub ticket: TicketId,
    /// When the code stops working, Unix seconds.
    pub expires_at: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticket_ids_parse_in_every_spelling() {
        for s in ["T42", "t42", "#42", "42"] {
            assert_eq!(s.parse::<TicketId>(), Ok(TicketId(42)));
        }
        assert_eq!(TicketId(7).to_string(), "T7");
        for bad in ["", "T", "T-1", "0", "x42", "T4 2"] {
            assert!(bad.parse::<TicketId>().is_err(), "{bad}");
        }
    }

    #[test]
    fn names_round_trip() {
        for p in [Priority::Critical, Priority::High, Priority::Medium, Priority::Low] {
            assert_eq!(p.name().parse::<Priority>(), Ok(p));
        }
        for r in [UserRole::Technician, UserRole::Dispatcher, UserRole::Admin] {
            assert_eq!(r.name().parse::<UserRole>(), Ok(r));
        }
        assert_eq!("in_session".parse::<TicketStatus>(), Ok(TicketStatus::InSession));
        assert!(Priority::Critical < Priority::Low);
    }
}
