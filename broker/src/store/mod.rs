//! The broker's store: accounts, tokens, tickets, invitation codes and sessions behind one
//! interface ([`Store`]), so that a deployment can later keep them elsewhere than the embedded
//! SQLite ([`SqliteStore`]).
//!
//! Store calls are blocking; async code reaches them through [`StoreHandle::call`], which runs
//! them on tokio's blocking pool so no store call ever stalls a relay task, or through
//! [`StoreHandle::record`], which queues a write for one writer thread that applies writes in
//! the order they were queued (a session's end is never stored before its start).

mod records;
mod sqlite;

pub use records::*;

use std::sync::Arc;

use tether_protocol::{Availability, TicketFilter, TicketId, TicketStatus};

pub(crate) use sqlite::SqliteStore;

/// Why a store call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database failed.
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The change conflicts with what is stored (a duplicate name...).
    #[error("{0}")]
    Conflict(String),
    /// A stored value this version cannot read.
    #[error("stored data is not readable: {0}")]
    Corrupt(String),
    /// The blocking task running the call died.
    #[error("store task failed: {0}")]
    Task(String),
}

/// Accounts and their bearer tokens.
pub trait Accounts {
    /// Adds an account; a taken name is a [`StoreError::Conflict`].
    fn add_user(&self, user: &UserRecord) -> Result<(), StoreError>;
    /// All accounts, by name.
    fn users(&self) -> Result<Vec<UserRecord>, StoreError>;
    /// One account.
    fn user(&self, name: &str) -> Result<Option<UserRecord>, StoreError>;
    /// Disables or enables an account; disabling deletes its tokens. False if no such user.
    fn set_disabled(&self, name: &str, disabled: bool) -> Result<bool, StoreError>;
    /// Stores a token hash for `user`.
    fn add_token(
        &self,
        hash: &[u8],
        user: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StoreError>;
    /// The enabled account an unexpired token hash belongs to.
    fn token_user(&self, hash: &[u8], now: i64) -> Result<Option<UserRecord>, StoreError>;
    /// Sets an account's availability.
    fn set_availability(&self, name: &str, availability: Availability) -> Result<(), StoreError>;
    /// Sets an account's location.
    fn set_location(&self, name: &str, lat: f64, lon: f64) -> Result<(), StoreError>;
}

/// Tickets and their history.
pub trait Tickets {
    /// Logs a ticket.
    fn create_ticket(&self, ticket: &NewTicket, now: i64) -> Result<TicketRecord, StoreError>;
    /// One ticket.
    fn ticket(&self, id: TicketId) -> Result<Option<TicketRecord>, StoreError>;
    /// Tickets not yet resolved or closed, most urgent and oldest first.
    fn open_tickets(&self) -> Result<Vec<TicketRecord>, StoreError>;
    /// How many open tickets each account owns (routing's load), counted in the database.
    fn open_loads(&self) -> Result<std::collections::HashMap<String, usize>, StoreError>;
    /// Moves a ticket to `status`, owned by `assigned_to`.
    fn set_ticket_state(
        &self,
        id: TicketId,
        status: TicketStatus,
        assigned_to: Option<&str>,
        now: i64,
    ) -> Result<(), StoreError>;
    /// Records the technician's resolution and marks the ticket resolved.
    fn set_resolution(&self, id: TicketId, text: &str, now: i64) -> Result<(), StoreError>;
    /// Records the customer's confirmation: solved closes the ticket (resolved and closed now),
    /// not solved reopens it; with their rating and comment.
    fn set_confirmed(
        &self,
        id: TicketId,
        confirmation: &Confirmation,
        now: i64,
    ) -> Result<(), StoreError>;
    /// Closes without confirmation, with the reason.
    fn close_unconfirmed(&self, id: TicketId, reason: &str, now: i64) -> Result<(), StoreError>;
    /// Changes the priority and its deadline.
    fn set_priority(
        &self,
        id: TicketId,
        priority: tether_protocol::Priority,
        deadline_at: Option<i64>,
        now: i64,
    ) -> Result<(), StoreError>;
    /// Records the first response; false if there already was one.
    fn mark_responded(&self, id: TicketId, at: i64) -> Result<bool, StoreError>;
    /// Records that dispatchers were warned (`breached` false) or told of a breach.
    fn mark_alerted(&self, id: TicketId, breached: bool, at: i64) -> Result<(), StoreError>;
    /// Marks for follow-up.
    fn set_follow_up(&self, id: TicketId, due: i64, note: &str, now: i64)
    -> Result<(), StoreError>;
    /// Tickets matching `filter` (breaches judged at `now`), most urgent then soonest due.
    fn list_tickets(
        &self,
        filter: &TicketFilter,
        now: i64,
    ) -> Result<Vec<TicketRecord>, StoreError>;
    /// Tickets logged in `[from, to)`, for the deadline review.
    fn tickets_logged(&self, from: i64, to: i64) -> Result<Vec<TicketRecord>, StoreError>;
    /// Keeps a bandwidth check with its ticket.
    fn add_check(&self, check: &CheckRecord) -> Result<(), StoreError>;
    /// Appends to the ticket's history.
    fn add_ticket_event(&self, event: &TicketEvent) -> Result<(), StoreError>;
    /// The ticket's history, oldest first.
    fn ticket_events(&self, id: TicketId) -> Result<Vec<TicketEvent>, StoreError>;
}

/// One-time invitation codes.
pub trait Codes {
    /// Stores a new invitation.
    fn add_invitation(&self, inv: &InvitationRecord, now: i64) -> Result<(), StoreError>;
    /// Invitations a guess could match: unused, not burned, expired no longer than `grace`
    /// seconds ago (so that a late customer hears "expired" rather than "wrong").
    fn invitation_candidates(
        &self,
        now: i64,
        grace: i64,
    ) -> Result<Vec<InvitationRecord>, StoreError>;
    /// Unexpired invitations `user` issued, used or not (a console joins by its own code).
    fn invitations_issued_by(
        &self,
        user: &str,
        now: i64,
    ) -> Result<Vec<InvitationRecord>, StoreError>;
    /// Marks an invitation used; false if it already was (single use, even under races).
    fn use_invitation(&self, id: i64, now: i64) -> Result<bool, StoreError>;
    /// Counts a failed guess against every live invitation and burns those that reach
    /// `burn_after` failures; returns how many were burned now.
    fn record_failed_guess(&self, now: i64, burn_after: u32) -> Result<usize, StoreError>;
}

/// Sessions and their transcript seals.
pub trait Sessions {
    /// Records a session's start.
    fn start_session(&self, session: &SessionRecord) -> Result<(), StoreError>;
    /// Records a session's end.
    fn end_session(&self, id: &str, now: i64, reason: &str) -> Result<(), StoreError>;
    /// Records the seal of a session's transcript: how many records, and the seal's hash.
    fn seal_session(&self, id: &str, records: u64, hash: &str) -> Result<(), StoreError>;
    /// One session.
    fn session(&self, id: &str) -> Result<Option<SessionRow>, StoreError>;
    /// Sessions matching `filter`, newest first.
    fn sessions(&self, filter: &SessionFilter) -> Result<Vec<SessionRow>, StoreError>;
    /// Marks sessions left open by a broker that stopped without ending them; returns them.
    fn close_unfinished(&self, now: i64, reason: &str) -> Result<Vec<SessionRow>, StoreError>;
}

/// Onsite visits and what happened on them.
pub trait Onsite {
    /// Creates (or replaces, before dispatch) the visit of a ticket.
    fn set_visit(&self, visit: &VisitRecord) -> Result<(), StoreError>;
    /// The visit of a ticket.
    fn visit(&self, ticket: TicketId) -> Result<Option<VisitRecord>, StoreError>;
    /// Sends a technician.
    fn set_visit_technician(&self, ticket: TicketId, name: &str) -> Result<(), StoreError>;
    /// Sets the estimated arrival.
    fn set_eta(&self, ticket: TicketId, eta: i64) -> Result<(), StoreError>;
    /// Records the client's sign-off.
    fn sign_off(&self, ticket: TicketId, name: &str, at: i64) -> Result<(), StoreError>;
    /// Records an action, part, equipment or attachment.
    fn add_onsite_entry(&self, entry: &OnsiteEntry) -> Result<(), StoreError>;
    /// The visit's log, oldest first.
    fn onsite_entries(&self, ticket: TicketId) -> Result<Vec<OnsiteEntry>, StoreError>;
}

/// Everything the broker keeps between restarts. Implementations must be safe to call from
/// several threads.
pub trait Store: Accounts + Tickets + Codes + Sessions + Onsite + Send + Sync + 'static {}

impl<T: Accounts + Tickets + Codes + Sessions + Onsite + Send + Sync + 'static> Store for T {}

/// A write queued for the writer thread.
type Job = Box<dyn FnOnce(&dyn Store) -> Result<(), StoreError> + Send>;

/// A cloneable handle on the store for async code.
#[derive(Clone)]
pub struct StoreHandle {
    store: Arc<dyn Store>,
    writes: std::sync::mpsc::Sender<Job>,
}

impl std::fmt::Debug for StoreHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoreHandle")
    }
}

impl StoreHandle {
    /// Wraps a store and starts its writer thread, which ends when the last handle is dropped.
    pub fn new(store: impl Store) -> StoreHandle {
        let store: Arc<dyn Store> = Arc::new(store);
        let (writes, queue) = std::sync::mpsc::channel::<Job>();
        let writer = store.clone();
        std::thread::Builder::new()
            .name("tether-store-writer".into())
            .spawn(move || {
                for job in queue {
                    if let Err(err) = job(&*writer) {
                        tracing::error!(%err, "a queued store write failed");
                    }
                }
            })
            .expect("spawning the store writer thread");
        StoreHandle { store, writes }
    }

    /// Runs a blocking store call on the blocking pool.
    pub async fn call<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&dyn Store) -> Result<T, StoreError> + Send + 'static,
    {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || f(&*store))
            .await
            .map_err(|e| StoreError::Task(e.to_string()))?
    }

    /// Queues a write; writes run one at a time in the order queued. Failures are logged.
    pub fn record(&self, f: impl FnOnce(&dyn Store) -> Result<(), StoreError> + Send + 'static) {
        if self.writes.send(Box::new(f)).is_err() {
            tracing::error!("the store writer has stopped; a write was lost");
        }
    }

    /// Waits until every write queued before this call is applied.
    pub async fn flush(&self) {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.record(move |_| {
            let _ = tx.send(());
            Ok(())
        });
        let _ = rx.await;
    }

    /// The store itself, for synchronous callers (command-line tools).
    pub fn blocking(&self) -> &dyn Store {
        &*self.store
    }
}

/// Opens the embedded SQLite store at `path`.
pub fn open(path: &std::path::Path) -> Result<StoreHandle, StoreError> {
    Ok(StoreHandle::new(SqliteStore::open(path)?))
}
