//! Publishing desk events: each goes into the ticket's history (through the store's ordered
//! writer), to every watching console (a broadcast channel; a watcher that falls behind is
//! told how many it missed) and to the webhook queue.

use tether_protocol::{DeskEvent, TicketId, TicketSummary};
use tether_store::{StoreHandle, TicketEvent, unix_now};
use tokio::sync::broadcast;

use crate::webhooks::Webhooks;

/// Events watchers can fall behind by before missing some.
const BACKLOG: usize = 1024;

/// Where desk events go.
#[derive(Debug, Clone)]
pub struct Bus {
    store: StoreHandle,
    watchers: broadcast::Sender<DeskEvent>,
    webhooks: Option<Webhooks>,
}

impl Bus {
    /// A bus writing history to `store`; `webhooks` receives every event when configured.
    pub fn new(store: StoreHandle, webhooks: Option<Webhooks>) -> Bus {
        Bus { store, watchers: broadcast::channel(BACKLOG).0, webhooks }
    }

    /// A new watcher's receiver.
    pub fn subscribe(&self) -> broadcast::Receiver<DeskEvent> {
        self.watchers.subscribe()
    }

    /// Records `kind` on `ticket` by `actor` in its history and sends it out.
    pub fn publish(
        &self,
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
        self.store.record(move |s| async move { s.add_ticket_event(&history).await });
        let event =
            DeskEvent { kind: kind.into(), ticket, at, actor: actor.into(), detail, summary };
        tracing::info!(ticket.id = %ticket, kind, actor, "desk event");
        // No watcher is not an error.
        let _ = self.watchers.send(event.clone());
        if let Some(hooks) = &self.webhooks {
            hooks.send(event);
        }
    }

    /// Records a history entry that is not broadcast (session bookkeeping).
    pub fn note(&self, ticket: TicketId, actor: &str, kind: &str, detail: &str) {
        let entry = history(ticket, actor, kind, detail);
        self.store.record(move |s| async move { s.add_ticket_event(&entry).await });
    }
}

/// A history entry for `ticket`, now.
pub fn history(ticket: TicketId, actor: &str, kind: &str, detail: &str) -> TicketEvent {
    TicketEvent {
        ticket,
        at: unix_now(),
        actor: actor.into(),
        kind: kind.into(),
        detail: detail.into(),
    }
}
