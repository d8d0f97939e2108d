//! The console's phases: after login, a loop of queue, invite and join commands; a join pairs
//! with the ticket's agent and relays the session.

use tether_protocol::{
    ClientMessage, ErrorCode, InvitationInfo, JoinTarget, Priority, Role, ServerMessage, TicketId,
    TicketStatus, UserRole,
};

use super::agent::desk_refusal;
use super::{Conn, Inbound, Refusal};
use crate::codes;
use crate::state::{lock, unix_now};
use crate::store::{InvitationRecord, NewTicket, UserRecord};

/// Serves a logged-in console until it leaves, or until its session ends.
pub(super) async fn serve(conn: &mut Conn, user: UserRecord) -> Result<(), Refusal> {
    let broker = conn.broker.clone();
    loop {
        let inbound = tokio::select! {
            _ = broker.shutdown.cancelled() => {
                return Err(Refusal::new(ErrorCode::ShuttingDown, "the broker is shutting down"));
            }
            inbound = conn.recv() => inbound?,
        };
        let msg = match inbound {
            Inbound::Closed => return Ok(()),
            Inbound::Frame(..) => {
                conn.complain(ErrorCode::Malformed, "binary frames need a session");
                continue;
            }
            Inbound::Control(msg) => msg,
        };
        match msg {
            ClientMessage::Queue => queue(conn).await?,
            ClientMessage::Invite { ticket } => invite(conn, &user, ticket).await?,
            ClientMessage::Check => conn.check = Some(conn.run_check(Role::Console).await?),
            ClientMessage::Join { .. } if conn.check.is_none() => conn.complain(
                ErrorCode::Malformed,
                "run the bandwidth check (send check) before joining",
            ),
            ClientMessage::Join { target } => {
                let ticket = join_target(conn, &user, target).await?;
                if let Some(result) = conn.check.clone() {
                    conn.keep_check(ticket, Role::Console, &user.name, &result);
                }
                // A technician the customer let into a running session joins it as a helper.
                let running = lock(&conn.broker.rendezvous).session(ticket);
                if let Some(session) = running {
                    if let Some(mode) = session.helpers.allowed(&user.name) {
                        return conn.help(&session, &user.name, mode).await;
                    }
                }
                return conn
                    .pair_and_relay(Role::Console, ticket, user.name.clone())
                    .await
                    .map(|_| ());
            }
            ClientMessage::Admin(req) => conn.review(&user, req).await?,
            ClientMessage::Desk(req) => conn.desk(&user, req).await?,
            ClientMessage::Leave { .. } => return Ok(()),
            ClientMessage::Hello(_) => {
                return Err(Refusal::new(ErrorCode::Malformed, "hello was already said"));
            }
            other => conn.complain(
                ErrorCode::Malformed,
                format!("{} is only meaningful during a session", other.kind()),
            ),
        }
    }
}

async fn queue(conn: &mut Conn) -> Result<(), Refusal> {
    let tickets = conn.broker.store.call(|s| s.open_tickets()).await?;
    let rendezvous = lock(&conn.broker.rendezvous);
    let tickets =
        tickets.iter().map(|t| t.summary(rendezvous.customer_waiting(t.id))).collect::<Vec<_>>();
    drop(rendezvous);
    conn.outbox.control(&ServerMessage::Queue { tickets })?;
    Ok(())
}

/// Issues a one-time code for `ticket`, or for a new ticket logged on the technician's behalf
/// (the code is read out over the phone, so the new ticket's channel is `phone`).
async fn invite(
    conn: &mut Conn,
    user: &UserRecord,
    ticket: Option<TicketId>,
) -> Result<(), Refusal> {
    let now = unix_now();
    let ticket = match ticket {
        Some(id) => {
            let t = conn.broker.store.call(move |s| s.ticket(id)).await?;
            match t {
                Some(t) if !matches!(t.status, TicketStatus::Closed) => t.id,
                Some(_) => {
                    return Err(Refusal::new(ErrorCode::NotFound, format!("{id} is closed")));
                }
                None => return Err(Refusal::new(ErrorCode::NotFound, format!("no ticket {id}"))),
            }
        }
        None => {
            let new = NewTicket {
                channel: "phone".into(),
                client: "invited customer".into(),
                contact: String::new(),
                issue: format!("remote session invited by {}", user.name),
                priority: Priority::Medium,
                status: TicketStatus::Queued,
                skills: Vec::new(),
                deadline_at: None,
            };
            let broker = conn.broker.clone();
            let t = broker.create_ticket(new, &user.name, false).await.map_err(desk_refusal)?;
            let t = broker
                .assign(t, &user.name, &user.name, "invited the customer")
                .await
                .map_err(desk_refusal)?;
            t.id
        }
    };
    let code = codes::new_code().map_err(|e| Refusal::new(ErrorCode::Internal, e.to_string()))?;
    let expires_at = now + conn.broker.config.codes.ttl_secs as i64;
    let record = InvitationRecord {
        id: 0,
        code_hash: conn.broker.code_key.hash(code.expose()),
        ticket,
        issued_by: user.name.clone(),
        expires_at,
        used_at: None,
    };
    conn.broker.store.call(move |s| s.add_invitation(&record, now)).await?;
    tracing::info!(ticket.id = %ticket, expires_at, "invitation code issued");
    conn.outbox.control(&ServerMessage::Invitation(InvitationInfo { code, ticket, expires_at }))?;
    Ok(())
}

/// Resolves and authorises what a console wants to join.
async fn join_target(
    conn: &mut Conn,
    user: &UserRecord,
    target: JoinTarget,
) -> Result<TicketId, Refusal> {
    let now = unix_now();
    let id = match target {
        JoinTarget::Ticket(id) => id,
        JoinTarget::Code(code) => {
            let code = codes::normalize(code.expose())
                .ok_or_else(|| Refusal::new(ErrorCode::CodeInvalid, "a code is nine digits"))?;
            let name = user.name.clone();
            let mine = conn.broker.store.call(move |s| s.invitations_issued_by(&name, now)).await?;
            match conn.broker.code_key.find(&code, &mine) {
                Some(inv) => inv.ticket,
                None => {
                    return Err(Refusal::new(
                        ErrorCode::NotFound,
                        "no live code you issued matches; join by ticket number instead",
                    ));
                }
            }
        }
    };
    let ticket = conn
        .broker
        .store
        .call(move |s| s.ticket(id))
        .await?
        .ok_or_else(|| Refusal::new(ErrorCode::NotFound, format!("no ticket {id}")))?;
    if matches!(ticket.status, TicketStatus::Resolved | TicketStatus::Closed) {
        return Err(Refusal::new(
            ErrorCode::Forbidden,
            format!("{id} is {}", ticket.status.name()),
        ));
    }
    let invited = lock(&conn.broker.rendezvous)
        .session(id)
        .is_some_and(|s| s.helpers.allowed(&user.name).is_some());
    if user.role == UserRole::Technician && !invited {
        if let Some(owner) = ticket.assigned_to.as_deref().filter(|o| *o != user.name) {
            return Err(Refusal::new(ErrorCode::Forbidden, format!("{id} is assigned to {owner}")));
        }
    }
    tracing::Span::current().record("ticket.id", tracing::field::display(id));
    Ok(id)
}
