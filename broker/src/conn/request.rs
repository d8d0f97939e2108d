//! The `request` and `check` phases of a customer: a support request is counted against the
//! desk's budgets and checked, the bandwidth check every session needs runs, and only then
//! does the request become a ticket (the desk logs and routes it), with the check kept beside
//! it, and the customer waits for a technician. A customer invited with a code runs the check
//! for the ticket the code names. An agent may also connect only to check its bandwidth.

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
        let desk = self.shared.desk.clone();
        desk.admit_request(self.peer.ip())?;
        desk.check_request(&request)?;
        // A ticket only for a customer who stayed for the check: a flood of requests that
        // leave at once makes no tickets.
        let result = self.check_first().await?;
        let ticket = desk.log_request(request, self.peer.ip()).await?;
        tracing::Span::current().record("ticket.id", tracing::field::display(ticket.id));
        self.outbox.control(&ServerMessage::TicketCreated { ticket: ticket.summary(true) })?;
        self.keep_check(ticket.id, Role::Agent, &ticket.client, &result);
        self.check = Some(result);
        Ok(Phase::Wait { role: Role::Agent, ticket: ticket.id, name: ticket.client })
    }

    /// Runs the bandwidth check the customer must ask for next.
    async fn check_first(&mut self) -> Result<tether_protocol::CheckResult, Refusal> {
        match self.next_control("the bandwidth check").await? {
            ClientMessage::Check => self.run_check(Role::Agent).await,
            other => Err(Refusal::new(
                ErrorCode::Malformed,
                format!("the bandwidth check comes before a session, not {}", other.kind()),
            )),
        }
    }

    /// Runs the bandwidth check the agent asks for (every session needs one) and keeps it with
    /// the ticket; then the customer waits for a technician.
    pub(super) async fn check_before_session(
        &mut self,
        ticket: TicketId,
        client: String,
    ) -> Result<Phase, Refusal> {
        let result = self.check_first().await?;
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
