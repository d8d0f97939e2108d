//! The `watch` phase: the console's connection becomes a live stream of the desk events its
//! account may see, until it leaves.

use tether_access::Actor;
use tether_protocol::{ClientMessage, DeskReply, ErrorCode, ServerMessage};
use tether_store::UserRecord;
use tokio::sync::broadcast::error::RecvError;

use super::{Conn, Inbound, Phase, Refusal};

impl Conn {
    /// Streams desk events to `user` until the console leaves.
    pub(super) async fn watch(&mut self, user: &UserRecord) -> Result<Phase, Refusal> {
        let shared = self.shared.clone();
        let actor = Actor::Staff(user.clone());
        let mut events = shared.desk.subscribe();
        self.outbox.control(&ServerMessage::Desk(DeskReply::Watching))?;
        tracing::info!("watching desk events");
        loop {
            tokio::select! {
                _ = shared.shutdown.cancelled() => {
                    return Err(Refusal::new(ErrorCode::ShuttingDown, "the broker is shutting down"));
                }
                event = events.recv() => match event {
                    Ok(event) if shared.desk.may_see(&actor, &event) => {
                        self.outbox.control(&ServerMessage::Event(Box::new(event)))?
                    }
                    Ok(_) => {}
                    Err(RecvError::Lagged(missed)) => self.complain(
                        ErrorCode::Overflow,
                        format!("{missed} events were missed; run ticket list"),
                    ),
                    Err(RecvError::Closed) => return Ok(Phase::Done),
                },
                inbound = self.recv() => match inbound? {
                    Inbound::Closed | Inbound::Control(ClientMessage::Leave { .. }) => {
                        return Ok(Phase::Done);
                    }
                    _ => self.complain(ErrorCode::Malformed, "a watching connection only listens"),
                },
            }
        }
    }
}
