//! The support desk over the wire: tickets, routing, escalation, closure, onsite visits, live
//! events and the deadline review. Requests travel as `desk` control messages from consoles;
//! the broker answers each with one [`DeskReply`] and streams [`DeskEvent`]s to watchers.

use serde::{Deserialize, Serialize};

use crate::{Priority, TicketId, TicketStatus};

/// A technician's availability as set from the console (the broker shows `busy` on its own
/// while a technician is in as many sessions as allowed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Availability {
    /// Takes new work.
    Available,
    /// Working; takes no new work.
    Busy,
    /// Away for a while.
    Away,
    /// Not working.
    Offline,
}

impl Availability {
    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Availability::Available => "available",
            Availability::Busy => "busy",
            Availability::Away => "away",
            Availability::Offline => "offline",
        }
    }
}

impl std::str::FromStr for Availability {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [Availability::Available, Availability::Busy, Availability::Away, Availability::Offline]
            .into_iter()
            .find(|a| a.name() == s)
            .ok_or_else(|| {
                format!("unknown availability {s:?}; expected available, busy, away or offline")
            })
    }
}

/// Which tickets to list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketFilter {
    /// Only this status.
    pub status: Option<TicketStatus>,
    /// Only this priority.
    pub priority: Option<Priority>,
    /// Only tickets assigned to this login.
    pub assigned_to: Option<String>,
    /// Only tickets past their response deadline without a response.
    #[serde(default)]
    pub breached: bool,
    /// Closed tickets too.
    #[serde(default)]
    pub include_closed: bool,
}

/// What an onsite log entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum OnsiteEntryKind {
    /// Something the technician did.
    Action,
    /// A part used.
    Part,
    /// Equipment used.
    Equipment,
    /// A file (photo, service form).
    Attachment,
}

/// A file sent with an onsite log entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Attachment {
    /// The file's name (sanitised by the broker).
    pub name: String,
    /// Its contents, base64.
    pub data_base64: String,
}

/// A desk request from a console.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "verb", rename_all = "snake_case")]
pub enum DeskRequest {
    /// Log a ticket for a request that came by phone, e-mail or the portal.
    TicketNew {
        /// phone, email or portal.
        channel: String,
        /// The customer's name.
        client: String,
        /// How to reach them.
        contact: String,
        /// The problem.
        issue: String,
        /// Priority.
        priority: Priority,
        /// Skills needed.
        #[serde(default)]
        skills: Vec<String>,
    },
    /// One ticket with its history.
    TicketShow {
        /// Which.
        ticket: TicketId,
    },
    /// Tickets matching a filter, most urgent first.
    TicketList {
        /// Which.
        filter: TicketFilter,
    },
    /// Dispatcher: give a ticket to a technician.
    Assign {
        /// Which.
        ticket: TicketId,
        /// To whom.
        to: String,
    },
    /// Technician: take a ticket.
    Claim {
        /// Which.
        ticket: TicketId,
    },
    /// Technician: acknowledge a ticket (counts as the response).
    Ack {
        /// Which.
        ticket: TicketId,
    },
    /// Change a ticket's priority, with a reason; the deadline is recomputed.
    SetPriority {
        /// Which.
        ticket: TicketId,
        /// The new priority.
        priority: Priority,
        /// Why.
        reason: String,
    },
    /// Hand an unresolved ticket to a manager.
    Escalate {
        /// Which.
        ticket: TicketId,
        /// A dispatcher or admin; the least loaded one when absent.
        to: Option<String>,
        /// Why.
        reason: String,
    },
    /// Close without the customer's confirmation, with a recorded reason.
    Close {
        /// Which.
        ticket: TicketId,
        /// Why confirmation could not be had.
        reason: String,
    },
    /// Mark for follow-up by a date.
    FollowUp {
        /// Which.
        ticket: TicketId,
        /// Due, Unix seconds.
        due: i64,
        /// What to follow up.
        note: String,
    },
    /// Set one's own availability.
    SetAvailability {
        /// The new availability.
        availability: Availability,
    },
    /// Set one's own location (for onsite dispatch).
    SetLocation {
        /// Degrees.
        lat: f64,
        /// Degrees.
        lon: f64,
    },
    /// Stream desk events on this connection.
    Watch,
    /// Turn a ticket into an onsite visit.
    Onsite {
        /// Which.
        ticket: TicketId,
        /// Window start, Unix seconds.
        window_start: i64,
        /// Window end, Unix seconds.
        window_end: i64,
        /// Site address.
        address: String,
        /// Degrees.
        lat: f64,
        /// Degrees.
        lon: f64,
        /// Access requirements (badge, key, parking...).
        access: String,
        /// Whether the site contact confirmed the visit.
        contact_confirmed: bool,
    },
    /// Assign the visit: to a technician, or the best by skill, availability and distance.
    Dispatch {
        /// Which.
        ticket: TicketId,
        /// To whom; chosen by the broker when absent.
        to: Option<String>,
    },
    /// Estimated arrival (changes and delays are sent to the client).
    Eta {
        /// Which.
        ticket: TicketId,
        /// Unix seconds.
        eta: i64,
        /// Why it moved, if it did.
        delay_reason: Option<String>,
    },
    /// Record an action, part, equipment or attachment of the visit.
    OnsiteLog {
        /// Which.
        ticket: TicketId,
        /// What.
        kind: OnsiteEntryKind,
        /// Description.
        text: String,
        /// For attachments.
        attachment: Option<Attachment>,
    },
    /// The client's sign-off at the end of the visit: their confirmation.
    SignOff {
        /// Which.
        ticket: TicketId,
        /// Who signed.
        name: String,
        /// Whether the problem is solved.
        solved: bool,
    },
    /// The deadline review.
    Report {
        /// From, Unix seconds (tickets logged at or after).
        from: i64,
        /// To, Unix seconds (logged before).
        to: i64,
    },
    /// Dispatcher: mark tickets as spam (closed, out of loads and the review), those named
    /// and every customer request from an address since a time.
    Spam {
        /// Tickets by number.
        #[serde(default)]
        tickets: Vec<TicketId>,
        /// An address the requests came from.
        #[serde(default)]
        source: Option<String>,
        /// Since when, Unix seconds (with `source`).
        #[serde(default)]
        since: i64,
    },
}

/// One entry of a ticket's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HistoryEntry {
    /// Unix seconds.
    pub at: i64,
    /// Who.
    pub actor: String,
    /// What kind of change.
    pub kind: String,
    /// In words.
    pub detail: String,
}

/// An onsite visit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OnsiteInfo {
    /// Window start, Unix seconds.
    pub window_start: i64,
    /// Window end, Unix seconds.
    pub window_end: i64,
    /// Address.
    pub address: String,
    /// Degrees.
    pub lat: f64,
    /// Degrees.
    pub lon: f64,
    /// Access requirements.
    pub access: String,
    /// Whether the contact confirmed.
    pub contact_confirmed: bool,
    /// The technician going.
    pub technician: Option<String>,
    /// Estimated arrival, Unix seconds.
    pub eta: Option<i64>,
    /// Who signed off, and when.
    pub signed_off: Option<(String, i64)>,
}

/// A ticket with everything known about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TicketDetail {
    /// The queue's view.
    pub summary: crate::TicketSummary,
    /// Skills needed.
    pub skills: Vec<String>,
    /// When a technician first joined or acknowledged.
    pub responded_at: Option<i64>,
    /// When the customer confirmed it solved.
    pub resolved_at: Option<i64>,
    /// When it was closed.
    pub closed_at: Option<i64>,
    /// Why it was closed without confirmation.
    pub close_reason: Option<String>,
    /// The technician's resolution.
    pub resolution: Option<String>,
    /// The customer's rating, 1 to 5.
    pub rating: Option<u8>,
    /// The customer's comment.
    pub comment: Option<String>,
    /// Follow-up due, and what.
    pub follow_up: Option<(i64, String)>,
    /// The onsite visit, if any.
    pub onsite: Option<OnsiteInfo>,
    /// Every change, oldest first.
    pub history: Vec<HistoryEntry>,
}

/// The deadline review for one priority.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PriorityStats {
    /// Which.
    pub priority: Priority,
    /// Tickets logged in the period.
    pub tickets: u64,
    /// Share responded to within the deadline, 0..1.
    pub responded_in_time: f64,
    /// Share resolved (confirmed by the customer), 0..1.
    pub resolved: f64,
    /// Median time to response, seconds.
    pub median_response_secs: Option<i64>,
    /// 90th percentile time to response, seconds.
    pub p90_response_secs: Option<i64>,
    /// Median time to resolution, seconds.
    pub median_resolution_secs: Option<i64>,
    /// 90th percentile time to resolution, seconds.
    pub p90_resolution_secs: Option<i64>,
    /// Tickets answered within their deadline.
    #[serde(default)]
    pub met: u64,
    /// Tickets answered after their deadline, or not answered and past it.
    #[serde(default)]
    pub missed: u64,
}

/// A missed deadline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Breach {
    /// Which ticket.
    pub ticket: TicketId,
    /// Its priority.
    pub priority: Priority,
    /// The deadline, Unix seconds.
    pub deadline: i64,
    /// When it was answered, if it was.
    pub responded_at: Option<i64>,
    /// Why, as far as the history tells.
    pub reason: String,
}

/// One technician in the review.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TechnicianStats {
    /// Login.
    pub name: String,
    /// Tickets handled (assigned) in the period.
    pub tickets: u64,
    /// Average customer rating, if any were given.
    pub average_rating: Option<f64>,
    /// Their tickets answered within the deadline.
    #[serde(default)]
    pub met: u64,
    /// Their tickets answered late, or not answered and past the deadline.
    #[serde(default)]
    pub missed: u64,
}

/// Deadlines met and missed by the tickets logged in one week of the review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WeekStats {
    /// The week's start, Unix seconds (the review's start, then every 7 days).
    pub start: i64,
    /// Answered within the deadline.
    pub met: u64,
    /// Answered late, or not answered and past the deadline.
    pub missed: u64,
}

/// The deadline review.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SlaReport {
    /// From, Unix seconds.
    pub from: i64,
    /// To, Unix seconds.
    pub to: i64,
    /// Per priority, most urgent first.
    pub priorities: Vec<PriorityStats>,
    /// Missed deadlines.
    pub breaches: Vec<Breach>,
    /// Per technician.
    pub technicians: Vec<TechnicianStats>,
    /// Per week from `from`, oldest first.
    #[serde(default)]
    pub weeks: Vec<WeekStats>,
}

/// The broker's answer to a [`DeskRequest`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DeskReply {
    /// One ticket.
    Ticket(Box<TicketDetail>),
    /// A list.
    Tickets {
        /// Most urgent first.
        tickets: Vec<crate::TicketSummary>,
    },
    /// Done, in words.
    Done {
        /// What happened.
        message: String,
    },
    /// The deadline review.
    Report(SlaReport),
    /// Events follow on this connection.
    Watching,
}

/// Something that happened at the desk, streamed to watchers and sent to webhooks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeskEvent {
    /// created, assigned, eta_changed, deadline_warning, deadline_breached, escalated,
    /// resolved, closed, reopened, priority_changed, follow_up, onsite_scheduled, onsite_done...
    pub kind: String,
    /// The ticket.
    pub ticket: TicketId,
    /// Unix seconds.
    pub at: i64,
    /// Who caused it.
    pub actor: String,
    /// In words.
    pub detail: String,
    /// The ticket as it is now.
    pub summary: Option<crate::TicketSummary>,
}

impl DeskEvent {
    /// The kinds webhooks can subscribe to.
    pub const KINDS: &'static [&'static str] = &[
        "created",
        "assigned",
        "priority_changed",
        "eta_changed",
        "deadline_warning",
        "deadline_breached",
        "escalated",
        "resolved",
        "closed",
        "reopened",
        "follow_up",
        "onsite_scheduled",
        "onsite_done",
    ];
}

/// Seconds as `2h05m`, `7m`, `3d04h`.
pub fn format_duration(secs: i64) -> String {
    let s = secs.max(0);
    match s {
        s if s >= 86_400 => format!("{}d{:02}h", s / 86_400, s % 86_400 / 3600),
        s if s >= 3600 => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
        s => format!("{}m", (s + 59) / 60),
    }
}
