//! [`Desk`]: the support desk as one service. Every entry point (the websocket's desk
//! requests, the host's admin commands, the relay's session bookkeeping) calls its typed
//! methods, which ask the access policy, change the store, and publish what happened; none of
//! them knows about sockets. What the desk needs to know about live sessions it asks through
//! [`Live`], which the relay implements.

use std::path::PathBuf;
use std::sync::Arc;

use tether_access::{Action, Actor, Policy};
use tether_protocol::{DeskEvent, Priority, TicketId, TicketSummary};
use tether_store::{StoreHandle, TicketRecord};
use tether_transcript::Library;
use tokio::sync::broadcast;

use crate::DeskError;
use crate::bus::Bus;
use crate::calendar::Calendar;
use crate::settings::DeskSettings;

/// What the desk asks of whoever runs sessions: who waits and who is busy right now.
pub trait Live: Send + Sync + std::fmt::Debug {
    /// Whether a customer waits at `ticket` for a technician.
    fn customer_waiting(&self, ticket: TicketId) -> bool;
    /// How many sessions `technician` is in right now.
    fn sessions_of(&self, technician: &str) -> usize;
    /// `ticket` now belongs to `owner`: a technician waiting to join it who is no longer its
    /// owner must stop waiting.
    fn ticket_assigned(&self, ticket: TicketId, owner: &str);
}

/// [`Live`] for a desk without a relay (the host's commands): nobody waits, nobody is in a
/// session.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoSessions;

impl Live for NoSessions {
    fn customer_waiting(&self, _: TicketId) -> bool {
        false
    }

    fn sessions_of(&self, _: &str) -> usize {
        0
    }

    fn ticket_assigned(&self, _: TicketId, _: &str) {}
}

/// The support desk.
#[derive(Debug)]
pub struct Desk {
    pub(crate) store: StoreHandle,
    pub(crate) policy: Policy,
    pub(crate) calendar: Calendar,
    pub(crate) settings: DeskSettings,
    pub(crate) bus: Bus,
    pub(crate) live: Arc<dyn Live>,
    pub(crate) library: Library,
    /// Where onsite attachments are kept.
    pub(crate) attachments: PathBuf,
    /// The budgets of customers' requests for help.
    pub(crate) intake: std::sync::Mutex<crate::intake::Intake>,
    /// The guess budget of customers' ticket links.
    pub(crate) links: std::sync::Mutex<tether_access::limiter::FailureLimiter>,
}

/// What a desk is made of.
#[derive(Debug)]
pub struct Parts {
    /// The store.
    pub store: StoreHandle,
    /// The authorization policy.
    pub policy: Policy,
    /// Business hours, deadlines, routing and the monitor.
    pub settings: DeskSettings,
    /// Where events go.
    pub bus: Bus,
    /// Live sessions.
    pub live: Arc<dyn Live>,
    /// Transcripts at rest, for review.
    pub library: Library,
    /// Where onsite attachments are kept.
    pub attachments: PathBuf,
}

impl Desk {
    /// A desk from its parts; fails if the settings' calendar is unusable.
    pub fn new(parts: Parts) -> Result<Desk, DeskError> {
        let calendar = parts.settings.calendar().map_err(DeskError::Invalid)?;
        let intake = std::sync::Mutex::new(crate::intake::Intake::new(&parts.settings));
        Ok(Desk {
            intake,
            links: std::sync::Mutex::new(crate::portal::link_limiter()),
            store: parts.store,
            policy: parts.policy,
            calendar,
            settings: parts.settings,
            bus: parts.bus,
            live: parts.live,
            library: parts.library,
            attachments: parts.attachments,
        })
    }

    /// The store the desk keeps its tickets in.
    pub fn store(&self) -> &StoreHandle {
        &self.store
    }

    /// A new watcher of desk events.
    pub fn subscribe(&self) -> broadcast::Receiver<DeskEvent> {
        self.bus.subscribe()
    }

    /// Whether `actor` may see `event` as it happens.
    pub fn may_see(&self, actor: &Actor, event: &DeskEvent) -> bool {
        self.policy.check(actor, Action::SeeEvent(event)).is_ok()
    }

    /// The response deadline for a ticket of `priority` logged at `now`.
    pub fn deadline(&self, priority: Priority, now: i64) -> i64 {
        self.calendar.deadline(priority, now)
    }

    /// The queue's view of `t`.
    pub fn summary(&self, t: &TicketRecord) -> TicketSummary {
        t.summary(self.live.customer_waiting(t.id))
    }

    /// Publishes a desk event about `t`.
    pub(crate) fn publish(&self, kind: &str, t: &TicketRecord, actor: &str, detail: String) {
        self.bus.publish(kind, t.id, actor, detail, Some(self.summary(t)));
    }

    /// One ticket, for code that has already been authorised.
    pub async fn ticket(&self, id: TicketId) -> Result<TicketRecord, DeskError> {
        self.store.ticket(id).await?.ok_or_else(|| DeskError::NotFound(format!("no ticket {id}")))
    }

    /// One ticket that is not closed.
    pub(crate) async fn open_ticket(&self, id: TicketId) -> Result<TicketRecord, DeskError> {
        let t = self.ticket(id).await?;
        if t.status == tether_protocol::TicketStatus::Closed {
            return Err(DeskError::Invalid(format!("{id} is closed")));
        }
        Ok(t)
    }

    /// Asks the policy.
    pub(crate) fn check(&self, actor: &Actor, action: Action<'_>) -> Result<(), DeskError> {
        Ok(self.policy.check(actor, action)?)
    }
}
