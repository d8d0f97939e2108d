//! The `request` and `check` phases of a customer: a support request becomes a ticket (the
//! desk logs and routes it), then the bandwidth check every session needs runs and is kept
//! with the ticket before the customer waits for a technician. An agent may also connect only
//! to check its bandwidth.

use tether_desk::CustomerRequest;
use tether_protocol::{ClientMessage, ErrorCode, Role, ServerMessage, TicketId};

use super::{Conn, Phase, Refusal};
use crate::shared::lock;

impl Conn {
    /// Reads what an agent without a code wants: a support request (logged as a ticket, then
    /// checked and queued), or a standalone bandwidth check.
    pub(super) async fn request(&mut self) -> Result<Phase, Refusal> {
        let req = match self.next_control("a support request or a check").await? {
            ClientMessage::Request(req) => req,
            ClientMessage::Check => {
                self.run_check(Role::Agent).await?;
                return Ok(Phase::Done);
            }
            other => {
                return Err(Refusal::new(
                    ErrorCode::Malformed,
                    format!(
                        "an agent without a code sends a support request or a check, not {}",
                        other.kind()
                    ),
                ));
            }
        };
        let request = CustomerRequest {
            name: req.name,
            contact: req.contact,
            issue: req.issue,
            priority: req.priority,
        };
        let ticket = self.shared.desk.log_request(request).await?;
        tracing::Span::current().record("ticket.id", tracing::field::display(ticket.id));
        self.outbox.control(&ServerMessage::TicketCreated { ticket: ticket.summary(true) })?;
        Ok(Phase::Check { ticket: ticket.id, client: ticket.client })
    }

    /// Runs the bandwidth check the agent asks for (every session needs one) and keeps it with
    /// the ticket; then the customer waits for a technician.
    pub(super) async fn check_before_session(
        &mut self,
        ticket: TicketId,
        client: String,
    ) -> Result<Phase, Refusal> {
        match self.next_control("the bandwidth check").await? {
            ClientMessage::Check => {}
            other => {
                return Err(Refusal::new(
                    ErrorCode::Malformed,
                    format!("the bandwidth check comes before a session, not {}", other.kind()),
                ));
            }
        }
        let result = self.run_check(Role::Agent).await?;
        self.keep_check(ticket, Role::Agent, &client, &result);
        self.check = Some(result);
        if lock(&self.shared.rendezvous).in_session(ticket) {
            return Err(Refusal::new(
                ErrorCode::Busy,
                format!("ticket {ticket} already has a session"),
            ));
        }
        Ok(Phase::Wait { role: Role::Agent, ticket, name: client })
    }
}
