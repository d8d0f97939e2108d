//! The agent's phases: a support request becomes a ticket (or a redeemed code names one), the
//! bandwidth check runs and is kept with the ticket, then the agent waits for a technician and
//! the session runs. An agent may also connect only to check its bandwidth.

use std::sync::Arc;

use tether_protocol::{ClientMessage, ErrorCode, Role, ServerMessage, TicketStatus};

use super::{Conn, Inbound, Refusal};
use crate::desk::ops::DeskError;
use crate::session::Session;
use crate::state::lock;
use crate::store::{NewTicket, TicketRecord};

/// Field limits for a support request, in characters.
const MAX_NAME: usize = 200;
const MAX_CONTACT: usize = 200;
const MAX_ISSUE: usize = 4000;

/// Reads what an agent without a code wants: a support request (logged as a ticket, then
/// checked and queued), or a standalone bandwidth check.
pub(super) async fn request_or_check(conn: &mut Conn) -> Result<(), Refusal> {
    let req = match next_message(conn, "a support request or a check").await? {
        ClientMessage::Request(req) => req,
        ClientMessage::Check => {
            conn.run_check(Role::Agent).await?;
            return Ok(());
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
    let ticket = NewTicket {
        channel: "agent".into(),
        client: field("name", &req.name, MAX_NAME, true)?,
        contact: field("contact", &req.contact, MAX_CONTACT, false)?,
        issue: field("issue", &req.issue, MAX_ISSUE, true)?,
        priority: req.priority,
        status: TicketStatus::Queued,
        skills: Vec::new(),
        deadline_at: None,
    };
    let priority = req.priority;
    let broker = conn.broker.clone();
    let actor = ticket.client.clone();
    let ticket = broker.create_ticket(ticket, &actor, true).await.map_err(desk_refusal)?;
    tracing::Span::current().record("ticket.id", tracing::field::display(ticket.id));
    tracing::info!(priority = priority.name(), "support request logged");
    conn.outbox.control(&ServerMessage::TicketCreated { ticket: ticket.summary(true) })?;
    check_and_wait(conn, ticket).await
}

/// A desk failure while logging a request: the store's is ours, anything else the request's.
pub(super) fn desk_refusal(e: DeskError) -> Refusal {
    match e {
        DeskError::Store(e) => e.into(),
        other => Refusal::new(ErrorCode::Malformed, other.to_string()),
    }
}

/// The next control message, within the handshake timeout.
async fn next_message(conn: &mut Conn, expected: &str) -> Result<ClientMessage, Refusal> {
    let limit = conn.broker.config.handshake_timeout();
    match tokio::time::timeout(limit, conn.recv()).await {
        Err(_) => Err(Refusal::new(ErrorCode::Timeout, format!("waited in vain for {expected}"))),
        Ok(Ok(Inbound::Control(msg))) => Ok(msg),
        Ok(Ok(Inbound::Closed)) => Err(Refusal::new(ErrorCode::PeerGone, "left early")),
        Ok(Ok(Inbound::Frame(..))) => Err(Refusal::new(
            ErrorCode::Malformed,
            format!("expected {expected}, got a binary frame"),
        )),
        Ok(Err(r)) => Err(r),
    }
}

/// Runs the bandwidth check the agent asks for (every session needs one), keeps it with the
/// ticket, then waits for a technician.
pub(super) async fn check_and_wait(conn: &mut Conn, ticket: TicketRecord) -> Result<(), Refusal> {
    match next_message(conn, "the bandwidth check").await? {
        ClientMessage::Check => {}
        other => {
            return Err(Refusal::new(
                ErrorCode::Malformed,
                format!("the bandwidth check comes before a session, not {}", other.kind()),
            ));
        }
    }
    let result = conn.run_check(Role::Agent).await?;
    conn.keep_check(ticket.id, Role::Agent, &ticket.client, &result);
    conn.check = Some(result);
    wait_and_relay(conn, ticket).await
}

/// Waits at `ticket` for a technician, then relays the session.
async fn wait_and_relay(conn: &mut Conn, ticket: TicketRecord) -> Result<(), Refusal> {
    if lock(&conn.broker.rendezvous).in_session(ticket.id) {
        return Err(Refusal::new(
            ErrorCode::Busy,
            format!("ticket {} already has a session", ticket.id),
        ));
    }
    // A hand-over ends one session and keeps the customer connected for the next technician.
    while let Some(to) = conn.pair_and_relay(Role::Agent, ticket.id, ticket.client.clone()).await? {
        tracing::info!(%to, "customer handed over; waiting for the new technician");
    }
    Ok(())
}

/// Relays a session the customer resumed, then (after a hand-over) waits for the next
/// technician as a customer who never left.
pub(super) async fn resumed(conn: &mut Conn, session: Arc<Session>) -> Result<(), Refusal> {
    conn.rejoin(&session).await?;
    let (ticket, customer) = (session.ticket, session.customer.clone());
    if let Some(to) = conn.relay_session(&session, Role::Agent).await? {
        drop(session);
        tracing::info!(%to, "customer handed over; waiting for the new technician");
        while let Some(to) = conn.pair_and_relay(Role::Agent, ticket, customer.clone()).await? {
            tracing::info!(%to, "customer handed over; waiting for the new technician");
        }
    }
    Ok(())
}

/// A trimmed text field within its limit.
fn field(name: &str, value: &str, max: usize, required: bool) -> Result<String, Refusal> {
    let value = value.trim();
    if required && value.is_empty() {
        return Err(Refusal::new(ErrorCode::Malformed, format!("the {name} may not be empty")));
    }
    if value.chars().count() > max {
        return Err(Refusal::new(
            ErrorCode::Malformed,
            format!("the {name} is longer than {max} characters"),
        ));
    }
    if value.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(Refusal::new(
            ErrorCode::Malformed,
            format!("the {name} contains control characters"),
        ));
    }
    Ok(value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_trimmed_and_bounded() {
        assert_eq!(field("name", "  Bob ", 10, true).unwrap(), "Bob");
        assert!(field("name", "   ", 10, true).is_err());
        assert_eq!(field("contact", "", 10, false).unwrap(), "");
        assert!(field("name", &"x".repeat(11), 10, true).is_err());
        assert!(field("name", "a\u{1b}[31m", 10, true).is_err(), "no terminal escapes");
        assert!(field("issue", "line 1\nline 2", 100, true).is_ok());
    }
}
