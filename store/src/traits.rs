//! The store's contract: one async trait per area (accounts, tickets, codes, sessions, onsite
//! visits, customers' links) and [`Store`], all of them together. Every implementation (the embedded SQLite one
//! today) keeps exactly these behaviours, which the contract tests in `tests.rs` pin down.

use async_trait::async_trait;
use tether_protocol::{Availability, TicketFilter, TicketId, TicketStatus};

use crate::StoreError;
use crate::records::*;

/// Accounts and their bearer tokens.
#[async_trait]
pub trait Accounts: Send + Sync {
    /// Adds an account; a taken name is a [`StoreError::Conflict`].
    async fn add_user(&self, user: &UserRecord) -> Result<(), StoreError>;
    /// All accounts, by name.
    async fn users(&self) -> Result<Vec<UserRecord>, StoreError>;
    /// One account.
    async fn user(&self, name: &str) -> Result<Option<UserRecord>, StoreError>;
    /// Disables or enables an account; disabling deletes its tokens. False if no such user.
    async fn set_disabled(&self, name: &str, disabled: bool) -> Result<bool, StoreError>;
    /// Stores a token hash for `user`.
    async fn add_token(
        &self,
        hash: &[u8],
        user: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StoreError>;
    /// The enabled account an unexpired token hash belongs to.
    async fn token_user(&self, hash: &[u8], now: i64) -> Result<Option<UserRecord>, StoreError>;
    /// Sets an account's availability.
    async fn set_availability(
        &self,
        name: &str,
        availability: Availability,
    ) -> Result<(), StoreError>;
    /// Sets an account's location.
    async fn set_location(&self, name: &str, lat: f64, lon: f64) -> Result<(), StoreError>;
    /// Changes an account's role; false if no such user.
    async fn set_role(
        &self,
        name: &str,
        role: tether_protocol::UserRole,
    ) -> Result<bool, StoreError>;
    /// Replaces an account's skill tags; false if no such user.
    async fn set_skills(&self, name: &str, skills: &[String]) -> Result<bool, StoreError>;
    /// Counts a failed sign-in of `name` from `from`; returns its consecutive failures now
    /// (0 when there is no such account).
    async fn login_failed(&self, name: &str, at: i64, from: &str) -> Result<u32, StoreError>;
    /// Refuses sign-ins of `name` until `until`.
    async fn lock_account(&self, name: &str, until: i64) -> Result<(), StoreError>;
    /// A successful sign-in of `name`: the failures since the last one (to tell its owner),
    /// now forgotten, and the lock lifted.
    async fn login_succeeded(&self, name: &str) -> Result<FailedLogins, StoreError>;
    /// Lifts the lock of `name` and starts its count of consecutive failures again (its owner
    /// is still told of them at the next sign-in); false if no such user.
    async fn unlock_account(&self, name: &str) -> Result<bool, StoreError>;
    /// The unexpired tokens of `name`.
    async fn tokens(&self, name: &str, now: i64) -> Result<Vec<TokenRecord>, StoreError>;
    /// Revokes the tokens of `name` whose id starts with `id` (all of them when `id` is
    /// empty); returns how many.
    async fn revoke_tokens(&self, name: &str, id: &str) -> Result<usize, StoreError>;
    /// Revokes the token whose hash is `hash`; false if there is none.
    async fn revoke_token_hash(&self, hash: &[u8]) -> Result<bool, StoreError>;
    /// The newest account change (disabled, enabled, role): open connections follow it.
    async fn account_changes(&self) -> Result<i64, StoreError>;
}

/// Tickets and their history.
#[async_trait]
pub trait Tickets: Send + Sync {
    /// Logs a ticket.
    async fn create_ticket(&self, ticket: &NewTicket, now: i64)
    -> Result<TicketRecord, StoreError>;
    /// One ticket.
    async fn ticket(&self, id: TicketId) -> Result<Option<TicketRecord>, StoreError>;
    /// Tickets not yet resolved or closed, most urgent and oldest first.
    async fn open_tickets(&self) -> Result<Vec<TicketRecord>, StoreError>;
    /// How many open tickets each account owns (routing's load), counted in the database.
    async fn open_loads(&self) -> Result<std::collections::HashMap<String, usize>, StoreError>;
    /// Moves a ticket to `status`, owned by `assigned_to`.
    async fn set_ticket_state(
        &self,
        id: TicketId,
        status: TicketStatus,
        assigned_to: Option<&str>,
        now: i64,
    ) -> Result<(), StoreError>;
    /// Records the technician's resolution and marks the ticket resolved.
    async fn set_resolution(&self, id: TicketId, text: &str, now: i64) -> Result<(), StoreError>;
    /// Records the customer's confirmation: solved closes the ticket (resolved and closed now),
    /// not solved reopens it; with their rating and comment.
    async fn set_confirmed(
        &self,
        id: TicketId,
        confirmation: &Confirmation,
        now: i64,
    ) -> Result<(), StoreError>;
    /// Closes without confirmation, with the reason.
    async fn close_unconfirmed(
        &self,
        id: TicketId,
        reason: &str,
        now: i64,
    ) -> Result<(), StoreError>;
    /// Changes the priority and its deadline.
    async fn set_priority(
        &self,
        id: TicketId,
        priority: tether_protocol::Priority,
        deadline_at: Option<i64>,
        now: i64,
    ) -> Result<(), StoreError>;
    /// Records the first response; false if there already was one.
    async fn mark_responded(&self, id: TicketId, at: i64) -> Result<bool, StoreError>;
    /// Records that dispatchers were warned (`breached` false) or told of a breach.
    async fn mark_alerted(&self, id: TicketId, breached: bool, at: i64) -> Result<(), StoreError>;
    /// Marks for follow-up.
    async fn set_follow_up(
        &self,
        id: TicketId,
        due: i64,
        note: &str,
        now: i64,
    ) -> Result<(), StoreError>;
    /// Tickets matching `filter` (breaches judged at `now`), most urgent then soonest due.
    async fn list_tickets(
        &self,
        filter: &TicketFilter,
        now: i64,
    ) -> Result<Vec<TicketRecord>, StoreError>;
    /// One page (`limit` from `offset`) of the tickets matching `filter` within `scope`, in the
    /// order of [`Tickets::list_tickets`], and how many match in all.
    async fn ticket_page(
        &self,
        filter: &TicketFilter,
        scope: &TicketScope,
        offset: usize,
        limit: usize,
        now: i64,
    ) -> Result<(Vec<TicketRecord>, usize), StoreError>;
    /// Tickets logged in `[from, to)`, for the deadline review.
    async fn tickets_logged(&self, from: i64, to: i64) -> Result<Vec<TicketRecord>, StoreError>;
    /// Keeps a bandwidth check with its ticket.
    async fn add_check(&self, check: &CheckRecord) -> Result<(), StoreError>;
    /// Appends to the ticket's history.
    async fn add_ticket_event(&self, event: &TicketEvent) -> Result<(), StoreError>;
    /// Marks tickets as spam: closed with the reason "spam", out of loads and the deadline
    /// review; returns those that were not closed already.
    async fn mark_spam(&self, ids: &[TicketId], now: i64) -> Result<Vec<TicketId>, StoreError>;
    /// The customers' own requests from `source` logged since `since`.
    async fn tickets_from(&self, source: &str, since: i64) -> Result<Vec<TicketId>, StoreError>;
    /// The ticket's history, oldest first.
    async fn ticket_events(&self, id: TicketId) -> Result<Vec<TicketEvent>, StoreError>;
}

/// One-time invitation codes.
#[async_trait]
pub trait Codes: Send + Sync {
    /// Stores a new invitation.
    async fn add_invitation(&self, inv: &InvitationRecord, now: i64) -> Result<(), StoreError>;
    /// Invitations a guess could match: unused, not burned, expired no longer than `grace`
    /// seconds ago (so that a late customer hears "expired" rather than "wrong").
    async fn invitation_candidates(
        &self,
        now: i64,
        grace: i64,
    ) -> Result<Vec<InvitationRecord>, StoreError>;
    /// Unexpired invitations `user` issued, used or not (a console joins by its own code).
    async fn invitations_issued_by(
        &self,
        user: &str,
        now: i64,
    ) -> Result<Vec<InvitationRecord>, StoreError>;
    /// Marks an invitation used; false if it already was (single use, even under races).
    async fn use_invitation(&self, id: i64, now: i64) -> Result<bool, StoreError>;
}

/// Sessions and their transcript seals.
#[async_trait]
pub trait Sessions: Send + Sync {
    /// Records a session's start.
    async fn start_session(&self, session: &SessionRecord) -> Result<(), StoreError>;
    /// Records a session's end.
    async fn end_session(&self, id: &str, now: i64, reason: &str) -> Result<(), StoreError>;
    /// Records the seal of a session's transcript: how many records, and the seal's hash.
    async fn seal_session(&self, id: &str, records: u64, hash: &str) -> Result<(), StoreError>;
    /// One session.
    async fn session(&self, id: &str) -> Result<Option<SessionRow>, StoreError>;
    /// Sessions matching `filter`, newest first.
    async fn sessions(&self, filter: &SessionFilter) -> Result<Vec<SessionRow>, StoreError>;
    /// Marks sessions left open by a broker that stopped without ending them; returns them.
    async fn close_unfinished(&self, now: i64, reason: &str)
    -> Result<Vec<SessionRow>, StoreError>;
}

/// Onsite visits and what happened on them.
#[async_trait]
pub trait Onsite: Send + Sync {
    /// Creates (or replaces, before dispatch) the visit of a ticket.
    async fn set_visit(&self, visit: &VisitRecord) -> Result<(), StoreError>;
    /// The visit of a ticket.
    async fn visit(&self, ticket: TicketId) -> Result<Option<VisitRecord>, StoreError>;
    /// Sends a technician.
    async fn set_visit_technician(&self, ticket: TicketId, name: &str) -> Result<(), StoreError>;
    /// Sets the estimated arrival.
    async fn set_eta(&self, ticket: TicketId, eta: i64) -> Result<(), StoreError>;
    /// Records the client's sign-off.
    async fn sign_off(&self, ticket: TicketId, name: &str, at: i64) -> Result<(), StoreError>;
    /// Records an action, part, equipment or attachment.
    async fn add_onsite_entry(&self, entry: &OnsiteEntry) -> Result<(), StoreError>;
    /// The visit's log, oldest first.
    async fn onsite_entries(&self, ticket: TicketId) -> Result<Vec<OnsiteEntry>, StoreError>;
}

/// The links that let a customer follow their own ticket, kept as their tokens' hashes.
#[async_trait]
pub trait Links: Send + Sync {
    /// Keeps a new link to `ticket` (its token's SHA-256) and revokes the ticket's older ones.
    async fn add_ticket_link(
        &self,
        ticket: TicketId,
        hash: &[u8],
        now: i64,
    ) -> Result<(), StoreError>;
    /// What a link's hash opens: the ticket, and whether the link was revoked (`None` when no
    /// link has that hash).
    async fn ticket_link(&self, hash: &[u8]) -> Result<Option<LinkRecord>, StoreError>;
    /// Revokes every live link to `ticket`; how many there were.
    async fn revoke_ticket_links(&self, ticket: TicketId, now: i64) -> Result<usize, StoreError>;
}

/// Everything the broker keeps between restarts. Implementations must be safe to call from
/// several threads.
pub trait Store:
    Accounts + Tickets + Codes + Sessions + Onsite + Links + Send + Sync + 'static
{
}

impl<T: Accounts + Tickets + Codes + Sessions + Onsite + Links + Send + Sync + 'static> Store
    for T
{
}
