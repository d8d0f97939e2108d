//! The broker's store: accounts, tokens, tickets, invitation codes and sessions behind one
//! interface ([`Store`]), so that a deployment can later keep them elsewhere than the embedded
//! SQLite ([`SqliteStore`]).
//!
//! Store calls are blocking; async code reaches them through [`StoreHandle::call`], which runs
//! them on tokio's blocking pool so no store call ever stalls a relay task, or through
//! [`StoreHandle::record`], which queues a write for one writer thread that applies writes in
//! the order they were queued (a session's end is never stored before its start).

mod sqlite;

use std::sync::Arc;

use tether_protocol::{Priority, TicketId, TicketStatus, TicketSummary, UserRole};

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

/// A console account.
#[derive(Debug, Clone, PartialEq, Eq)]
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
}

/// Tickets and their history.
pub trait Tickets {
    /// Logs a ticket.
    fn create_ticket(&self, ticket: &NewTicket, now: i64) -> Result<TicketRecord, StoreError>;
    /// One ticket.
    fn ticket(&self, id: TicketId) -> Result<Option<TicketRecord>, StoreError>;
    /// Tickets not yet resolved or closed, most urgent and oldest first.
    fn open_tickets(&self) -> Result<Vec<TicketRecord>, StoreError>;
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
    /// Records the customer's confirmation: solved closes the ticket, not solved reopens it.
    fn set_confirmed(&self, id: TicketId, solved: bool, now: i64) -> Result<(), StoreError>;
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

/// Everything the broker keeps between restarts. Implementations must be safe to call from
/// several threads.
pub trait Store: Accounts + Tickets + Codes + Sessions + Send + Sync + 'static {}

impl<T: Accounts + Tickets + Codes + Sessions + Send + Sync + 'static> Store for T {}

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
