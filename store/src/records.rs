//! The records the store keeps: accounts, tickets, codes, sessions, checks, visits.

use tether_protocol::{Availability, Priority, TicketId, TicketStatus, TicketSummary, UserRole};

/// A console account.
#[derive(Debug, Clone, PartialEq)]
pub struct UserRecord {
    /// Login name.
    pub name: String,
    /// Role.
    pub role: UserRole,
    /// Skill tags.
    pub skills: Vec<String>,
    /// The argon2id PHC string.
    pub password_hash: String,
    /// Disabled accounts cannot log in; their tokens are gone.
    pub disabled: bool,
    /// Unix seconds.
    pub created_at: i64,
    /// As set by the technician.
    pub availability: Availability,
    /// Latitude and longitude, for onsite dispatch.
    pub location: Option<(f64, f64)>,
    /// Failed sign-ins since the last successful one.
    pub failed_logins: u32,
    /// Sign-ins are refused until then (Unix seconds), after too many failures.
    pub locked_until: Option<i64>,
}

/// Failed sign-ins an account's owner is told about at their next sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedLogins {
    /// How many.
    pub count: u32,
    /// The last, Unix seconds.
    pub last_at: Option<i64>,
    /// From where the last came.
    pub last_from: Option<String>,
}

/// A bearer token as its owner and admins see it: never the token, never its whole hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    /// The first 12 hex digits of the token's SHA-256: enough to name it, useless to use it.
    pub id: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub expires_at: i64,
    /// Unix seconds, once used.
    pub last_used_at: Option<i64>,
}

/// A ticket's stored fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketRecord {
    /// Number.
    pub id: TicketId,
    /// agent, phone, email or portal.
    pub channel: String,
    /// Customer's name.
    pub client: String,
    /// Customer's contact.
    pub contact: String,
    /// The problem.
    pub issue: String,
    /// Priority.
    pub priority: Priority,
    /// Status.
    pub status: TicketStatus,
    /// Owning technician.
    pub assigned_to: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
    /// The technician's resolution, once resolved.
    pub resolution: Option<String>,
    /// The customer's confirmation: solved or not, once asked.
    pub confirmed: Option<bool>,
    /// The verdict of the customer's latest bandwidth check.
    pub bandwidth: Option<tether_protocol::Verdict>,
    /// Skills needed.
    pub skills: Vec<String>,
    /// The response deadline, Unix seconds.
    pub deadline_at: Option<i64>,
    /// When a technician first joined or acknowledged.
    pub responded_at: Option<i64>,
    /// When the customer confirmed it solved.
    pub resolved_at: Option<i64>,
    /// When it was closed.
    pub closed_at: Option<i64>,
    /// Why it was closed without confirmation.
    pub close_reason: Option<String>,
    /// The customer's rating, 1 to 5.
    pub rating: Option<u8>,
    /// The customer's comment.
    pub comment: Option<String>,
    /// Follow-up due and what.
    pub follow_up: Option<(i64, String)>,
    /// When dispatchers were warned the deadline neared.
    pub warned_at: Option<i64>,
    /// When they were told it was breached.
    pub breached_at: Option<i64>,
    /// The priority the customer asked for, on their own requests.
    pub claimed_priority: Option<Priority>,
    /// The address a customer's own request came from.
    pub source: Option<String>,
    /// Marked as spam by a dispatcher.
    pub spam: bool,
}

impl TicketRecord {
    /// The queue's view of this ticket.
    pub fn summary(&self, customer_waiting: bool) -> TicketSummary {
        TicketSummary {
            id: self.id,
            status: self.status,
            priority: self.priority,
            channel: self.channel.clone(),
            client: self.client.clone(),
            contact: self.contact.clone(),
            issue: self.issue.clone(),
            created_at: self.created_at,
            assigned_to: self.assigned_to.clone(),
            customer_waiting,
            bandwidth: self.bandwidth,
            deadline_at: self.deadline_at,
            responded_at: self.responded_at,
            claimed_priority: self.claimed_priority,
        }
    }
}

/// The fields of a new ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTicket {
    /// agent, phone, email or portal.
    pub channel: String,
    /// Customer's name.
    pub client: String,
    /// Customer's contact.
    pub contact: String,
    /// The problem.
    pub issue: String,
    /// Priority.
    pub priority: Priority,
    /// Initial status.
    pub status: TicketStatus,
    /// Skills needed.
    pub skills: Vec<String>,
    /// The response deadline, Unix seconds.
    pub deadline_at: Option<i64>,
    /// The priority the customer asked for, on their own requests.
    pub claimed_priority: Option<Priority>,
    /// The address a customer's own request came from.
    pub source: Option<String>,
}

/// A one-time code, stored only as its keyed hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvitationRecord {
    /// Row id.
    pub id: i64,
    /// HMAC-SHA256 of the code under the broker's code key.
    pub code_hash: Vec<u8>,
    /// The ticket the code joins.
    pub ticket: TicketId,
    /// The technician who asked for it.
    pub issued_by: String,
    /// Unix seconds.
    pub expires_at: i64,
    /// When an agent used it.
    pub used_at: Option<i64>,
}

/// A new session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// Session id.
    pub id: String,
    /// Ticket.
    pub ticket: TicketId,
    /// Technician's login name.
    pub technician: String,
    /// Customer's name.
    pub customer: String,
    /// Unix seconds.
    pub started_at: i64,
    /// The transcript's file name in the transcript directory, when recorded.
    pub transcript: Option<String>,
}

/// A stored session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    /// What it started as.
    pub start: SessionRecord,
    /// Unix seconds, once ended.
    pub ended_at: Option<i64>,
    /// Why it ended.
    pub end_reason: Option<String>,
    /// Records in the sealed transcript, once sealed.
    pub sealed_records: Option<u64>,
    /// Hex SHA-256 of the seal record, once sealed.
    pub sealed_hash: Option<String>,
}

impl SessionRow {
    /// The list's view of this session.
    pub fn summary(&self) -> tether_protocol::SessionSummary {
        tether_protocol::SessionSummary {
            id: self.start.id.clone(),
            ticket: self.start.ticket,
            technician: self.start.technician.clone(),
            customer: self.start.customer.clone(),
            started_at: self.start.started_at,
            ended_at: self.ended_at,
            end_reason: self.end_reason.clone(),
            sealed: self.sealed_records.is_some(),
        }
    }
}

/// Which sessions to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionFilter {
    /// Started at or after, Unix seconds.
    pub since: Option<i64>,
    /// Of this ticket.
    pub ticket: Option<TicketId>,
    /// Of this technician.
    pub technician: Option<String>,
}

/// A bandwidth check kept with its ticket.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckRecord {
    /// The ticket.
    pub ticket: TicketId,
    /// Which side.
    pub role: tether_protocol::Role,
    /// The customer's name or technician's login.
    pub name: String,
    /// Unix seconds.
    pub at: i64,
    /// What was measured and judged.
    pub result: tether_protocol::CheckResult,
}

/// One entry in a ticket's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketEvent {
    /// The ticket.
    pub ticket: TicketId,
    /// Unix seconds.
    pub at: i64,
    /// Who: a login name, `customer`, or `broker`.
    pub actor: String,
    /// What kind of change.
    pub kind: String,
    /// The change in words.
    pub detail: String,
}

/// An onsite visit as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct VisitRecord {
    /// The ticket.
    pub ticket: TicketId,
    /// Window start, Unix seconds.
    pub window_start: i64,
    /// Window end, Unix seconds.
    pub window_end: i64,
    /// Site address.
    pub address: String,
    /// Degrees.
    pub lat: f64,
    /// Degrees.
    pub lon: f64,
    /// Access requirements.
    pub access: String,
    /// Whether the contact confirmed.
    pub contact_confirmed: bool,
    /// Who goes.
    pub technician: Option<String>,
    /// Estimated arrival.
    pub eta: Option<i64>,
    /// Who signed off, and when.
    pub signed_off: Option<(String, i64)>,
}

/// An onsite log entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnsiteEntry {
    /// The ticket.
    pub ticket: TicketId,
    /// Unix seconds.
    pub at: i64,
    /// Who.
    pub actor: String,
    /// action, part, equipment or attachment.
    pub kind: String,
    /// Description.
    pub text: String,
    /// The stored file's name, for attachments.
    pub file: Option<String>,
    /// Its SHA-256, hex.
    pub sha256: Option<String>,
}

/// The customer's answer to the resolution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirmation {
    /// Solved?
    pub solved: bool,
    /// 1 to 5.
    pub rating: Option<u8>,
    /// In their words.
    pub comment: Option<String>,
}

/// A customer's link to their ticket, found by its token's hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkRecord {
    /// The ticket it opens.
    pub ticket: TicketId,
    /// When it was made, Unix seconds.
    pub created_at: i64,
    /// When it was revoked, if it was.
    pub revoked_at: Option<i64>,
}

/// Which tickets a listing may include: the policy decides, the store applies it in its query
/// so that pages and totals count only what the reader may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TicketScope {
    /// Every ticket.
    All,
    /// Tickets assigned to this technician, and those assigned to nobody.
    OwnOrUnassigned(String),
}
