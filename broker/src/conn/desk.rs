//! A console's desk requests: answered by [`crate::desk::ops`]; `watch` turns the connection
//! into a live event stream until the console leaves.

use tether_protocol::{
    ClientMessage, DeskEvent, DeskReply, DeskRequest, ErrorCode, ServerMessage, UserRole,
};
use tokio::sync::broadcast::error::RecvError;

use super::{Conn, Inbound, Refusal};
use crate::desk::ops::DeskError;
use crate::store::UserRecord;

impl Conn {
    /// Answers one desk request for `user`; `watch` does not return until the console leaves.
    pub(super) async fn desk(
        &mut self,
        user: &UserRecord,
        req: DeskRequest,
    ) -> Result<(), Refusal> {
        if req == DeskRequest::Watch {
            return self.watch(user).await;
        }
        let broker = self.broker.clone();
        match broker.desk_request(user, req).await {
            Ok(reply) => self.outbox.control(&ServerMessage::Desk(reply))?,
            Err(DeskError::Store(e)) => return Err(e.into()),
            Err(e) => {
                let code = match e {
                    DeskError::NotFound(_) => ErrorCode::NotFound,
                    DeskError::Forbidden(_) => ErrorCode::Forbidden,
                    _ => ErrorCode::Malformed,
                };
                tracing::info!(%e, "desk request refused");
                self.complain(code, e.to_string());
            }
        }
        Ok(())
    }

    async fn watch(&mut self, user: &UserRecord) -> Result<(), Refusal> {
        let broker = self.broker.clone();
        let mut events = broker.desk.bus.subscribe();
        self.outbox.control(&ServerMessage::Desk(DeskReply::Watching))?;
        tracing::info!("watching desk events");
        loop {
            tokio::select! {
                _ = broker.shutdown.cancelled() => {
                    return Err(Refusal::new(ErrorCode::ShuttingDown, "the broker is shutting down"));
                }
                event = events.recv() => match event {
                    Ok(event) if visible(user, &event) => self.outbox.control(&ServerMessage::Event(Box::new(event)))?,
                    Ok(_) => {}
                    Err(RecvError::Lagged(missed)) => {
                        self.complain(ErrorCode::Overflow, format!("{missed} events were missed; run ticket list"))
                    }
                    Err(RecvError::Closed) => return Ok(()),
                },
                inbound = self.recv() => match inbound? {
                    Inbound::Closed | Inbound::Control(ClientMessage::Leave { .. }) => return Ok(()),
                    _ => self.complain(ErrorCode::Malformed, "a watching connection only listens"),
                },
            }
        }
    }
}

/// Dispatchers and admins see everything; technicians see their own tickets and new
/// unassigned ones.
fn visible(user: &UserRecord, e: &DeskEvent) -> bool {
    if user.role != UserRole::Technician {
        return true;
    }
    let owner = e.summary.as_ref().and_then(|s| s.assigned_to.as_deref());
    owner == Some(user.name.as_str()) || (owner.is_none() && e.kind == "created")
}
