//! The `desk` phase of a signed-in console: a loop of queue, invite, check, desk, admin and
//! account requests until the console joins a ticket (then it waits for the customer, or helps in a
//! running session the customer let it into), starts watching desk events, or leaves. Desk
//! requests are translated into calls on the desk service and its answers back; the service
//! and its policy decide what this account may do.

use tether_access::Actor;
use tether_protocol::{
    ClientMessage, DeskRequest, ErrorCode, InvitationInfo, JoinTarget, Role, ServerMessage,
    TicketId,
};
use tether_store::UserRecord;

use super::{Conn, Inbound, Phase, Refusal};
use crate::shared::lock;

impl Conn {
    /// Serves a console at the desk until it joins, watches or leaves.
    pub(super) async fn desk(&mut self, user: UserRecord) -> Result<Phase, Refusal> {
        let shared = self.shared.clone();
        let actor = Actor::Staff(user);
        loop {
            let inbound = tokio::select! {
                _ = shared.shutdown.cancelled() => {
                    return Err(Refusal::new(ErrorCode::ShuttingDown, "the broker is shutting down"));
                }
                inbound = self.recv() => inbound?,
            };
            let msg = match inbound {
                Inbound::Closed => return Ok(Phase::Done),
                Inbound::Frame(..) => {
                    self.complain(ErrorCode::Malformed, "binary frames need a session");
                    continue;
                }
                Inbound::Control(msg) => msg,
            };
            if let Actor::Staff(user) = &actor {
                shared.access.recheck(user).await?;
            }
            match msg {
                ClientMessage::Queue => {
                    let tickets = shared.desk.queue(&actor).await?;
                    self.outbox.control(&ServerMessage::Queue { tickets })?;
                }
                ClientMessage::Invite { ticket } => self.invite(&actor, ticket).await?,
                ClientMessage::Check => self.check = Some(self.run_check(Role::Console).await?),
                ClientMessage::Join { .. } if self.check.is_none() => self.complain(
                    ErrorCode::Malformed,
                    "run the bandwidth check (send check) before joining",
                ),
                ClientMessage::Join { target } => return self.join(actor, target).await,
                ClientMessage::Admin(req) => self.review(&actor, req).await?,
                ClientMessage::Account(req) => self.account(&actor, req).await?,
                ClientMessage::Desk(DeskRequest::Watch) => {
                    let Actor::Staff(user) = actor else { unreachable!("a console is staff") };
                    return Ok(Phase::Watch(user));
                }
                ClientMessage::Desk(req) => match shared.desk.request(&actor, req).await {
                    Ok(reply) => self.outbox.control(&ServerMessage::Desk(reply))?,
                    Err(tether_desk::DeskError::Store(e)) => return Err(e.into()),
                    Err(e) => {
                        if e.is_ours() {
                            tracing::error!(%e, "desk request failed");
                        } else {
                            tracing::info!(%e, "desk request refused");
                        }
                        self.complain(e.code(), e.to_string());
                    }
                },
                ClientMessage::Leave { .. } => return Ok(Phase::Done),
                ClientMessage::Hello(_) => {
                    return Err(Refusal::new(ErrorCode::Malformed, "hello was already said"));
                }
                other => self.complain(
                    ErrorCode::Malformed,
                    format!("{} is only meaningful during a session", other.kind()),
                ),
            }
        }
    }

    /// Issues a one-time code for `ticket`, or for a new ticket logged on the technician's
    /// behalf.
    async fn invite(&mut self, actor: &Actor, ticket: Option<TicketId>) -> Result<(), Refusal> {
        let ticket = self.shared.desk.invitation_ticket(actor, ticket).await?;
        let issued = self.shared.access.issue_code(ticket, actor.name()).await?;
        let info = InvitationInfo { code: issued.code, ticket, expires_at: issued.expires_at };
        self.outbox.control(&ServerMessage::Invitation(info))?;
        Ok(())
    }

    /// Resolves and authorises what a console wants to join, and keeps its bandwidth check
    /// with the ticket: then it waits for the customer, or (let in by the customer) helps in
    /// the running session.
    async fn join(&mut self, actor: Actor, target: JoinTarget) -> Result<Phase, Refusal> {
        let Actor::Staff(user) = &actor else { unreachable!("a console is staff") };
        let id = match target {
            JoinTarget::Ticket(id) => id,
            JoinTarget::Code(code) => {
                if tether_access::codes::normalize(code.expose()).is_none() {
                    return Err(Refusal::new(ErrorCode::CodeInvalid, "a code is nine digits"));
                }
                self.shared.access.own_code(user, &code).await?.ok_or_else(|| {
                    Refusal::new(
                        ErrorCode::NotFound,
                        "no live code you issued matches; join by ticket number instead",
                    )
                })?
            }
        };
        let running = lock(&self.shared.rendezvous).session(id);
        let mode = running.as_ref().and_then(|s| s.helpers.allowed(&user.name));
        self.shared.desk.join_ticket(&actor, id, mode.is_some()).await?;
        tracing::Span::current().record("ticket.id", tracing::field::display(id));
        if let Some(result) = self.check.clone() {
            self.keep_check(id, Role::Console, &user.name, &result);
        }
        let name = user.name.clone();
        Ok(match (running, mode) {
            // A technician the customer let into a running session joins it as a helper.
            (Some(session), Some(mode)) => Phase::Help { session, name, mode },
            _ => Phase::Wait { role: Role::Console, ticket: id, name },
        })
    }
}
