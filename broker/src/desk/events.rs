//! Publishing desk events: each goes into the ticket's history, to every watching console
//! (a broadcast channel; a watcher that falls behind is told how many it missed) and to the
//! webhook deliverer.

use tether_protocol::{DeskEvent, TicketId, TicketSummary};
use tokio::sync::{broadcast, mpsc};

use crate::state::unix_now;
use crate::store::{StoreHandle, TicketEvent};

/// Events watchers can fall behind by before missing some.
const BACKLOG: usize = 1024;

/// Where desk events go.
#[derive(Debug, Clone)]
pub struct Bus {
    watchers: broadcast::Sender<DeskEvent>,
    webhooks: Option<mpsc::UnboundedSender<DeskEvent>>,
}

impl Bus {
    /// A bus; `webhooks` receives every event when webhooks are configured.
    pub fn new(webhooks: Option<mpsc::UnboundedSender<DeskEvent>>) -> Bus {
        Bus { watchers: broadcast::channel(BACKLOG).0, webhooks }
    }

    /// A new watcher's receiver.
    pub fn subscribe(&self) -> broadcast::Receiver<DeskEvent> {
        self.watchers.subscribe()
    }

    /// Records `kind` on `ticket` by `actor` in its history and sends it out.
    pub fn publish(
        &self,
        store: &StoreHandle,
        kind: &str,
        ticket: TicketId,
        actor: &str,
        detail: String,
        summary: Option<TicketSummary>,
    ) {
        let at = unix_now();
        let history = TicketEvent {
            ticket,
            at,
            actor: actor.into(),
            kind: kind.into(),
            detail: detail.clone(),
        };
        store.record(move |s| s.add_ticket_event(&history));
        let event =
            DeskEvent { kind: kind.into(), ticket, at, actor: actor.into(), detail, summary };
        tracing::info!(ticket.id = %ticket, kind, actor, "desk event");
        // No watcher is not an error.
        let _ = self.watchers.send(event.clone());
        if let Some(hooks) = &self.webhooks {
            let _ = hooks.send(event);
        }
    }
}
