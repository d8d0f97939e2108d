//! What a customer without an account sees of their own ticket, through the link the desk gave
//! them: its state, who works on it, its deadline, an onsite visit's window and arrival, and
//! the milestones so far. Nothing the desk keeps for itself (contacts, internal notes, reasons,
//! other tickets) is in it.

use serde::{Deserialize, Serialize};

use crate::{Priority, TicketId, TicketStatus};

/// A customer's view of their ticket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CustomerTicket {
    /// Which.
    pub id: TicketId,
    /// Their name, as they gave it.
    pub client: String,
    /// The problem, as they put it.
    pub issue: String,
    /// Where it is.
    pub status: TicketStatus,
    /// The priority the desk works it at.
    pub priority: Priority,
    /// The priority they asked for (a claim; the desk's triage sets `priority`).
    pub claimed_priority: Option<Priority>,
    /// The technician working on it (their login name).
    pub technician: Option<String>,
    /// When it was logged, Unix seconds.
    pub created_at: i64,
    /// When a technician must have answered, Unix seconds.
    pub deadline_at: Option<i64>,
    /// When a technician answered.
    pub responded_at: Option<i64>,
    /// What the technician says fixed it, once they say so.
    pub resolution: Option<String>,
    /// When it was closed.
    pub closed_at: Option<i64>,
    /// Their rating, 1 to 5, once given.
    pub rating: Option<u8>,
    /// Whether the desk waits for them to say it is solved (or not).
    pub awaiting_answer: bool,
    /// The onsite visit, if one is planned.
    pub visit: Option<CustomerVisit>,
    /// Milestones, oldest first.
    pub updates: Vec<CustomerUpdate>,
}

/// An onsite visit as the customer sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CustomerVisit {
    /// The window's start, Unix seconds.
    pub window_start: i64,
    /// The window's end.
    pub window_end: i64,
    /// Where.
    pub address: String,
    /// Who is coming.
    pub technician: Option<String>,
    /// When they expect to arrive.
    pub eta: Option<i64>,
}

/// One milestone of the ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CustomerUpdate {
    /// Unix seconds.
    pub at: i64,
    /// created, responded, assigned, eta_changed, onsite_done, resolved, closed or reopened.
    pub kind: String,
}
