//! The `wait` phase: a side arrives at its ticket and waits for the other. Pairing happens
//! under the one rendezvous lock, so two sides arriving together always pair and the waiting
//! side is told `waiting` before anyone can pair with it. The side that completes the pairing
//! tells both sides (`paired`, the bandwidth gate, the invitation to try a direct path)
//! before anything is relayed; the customer then gets a token to resume with.

use std::sync::Arc;

use tether_protocol::{ClientMessage, ErrorCode, Role, ServerMessage, TicketId, UserRole};

use super::{Conn, Inbound, Phase, Refusal};
use crate::rendezvous::{Arrival, Arriving, Pairing};
use crate::session::{Checks, Session, Sides};
use crate::shared::lock;

impl Conn {
    /// Waits at `ticket` as `role` for the other side; then the session is relayed.
    pub(super) async fn wait(
        &mut self,
        role: Role,
        ticket: TicketId,
        name: String,
    ) -> Result<Phase, Refusal> {
        let Some((session, second)) = self.wait_for_peer(role, ticket, name).await? else {
            return Ok(Phase::Done);
        };
        tracing::Span::current().record("session.id", session.id.as_str());
        if second {
            // The side that completes the pairing tells both sides, before it relays anything:
            // the waiting side's first message is then always `paired`, never a request from a
            // peer it has not heard of yet.
            let peer = if role == Role::Agent { Role::Console } else { Role::Agent };
            let gate = session.gate(None);
            let tell = |outbox: &crate::outbox::Outbox, to: Role| {
                outbox.control(&ServerMessage::Paired(session.info_for(to)))?;
                outbox.control(&gate)?;
                match self.direct_path(&session.id, to) {
                    Some(d) => outbox.control(&d),
                    None => Ok(()),
                }
            };
            if tell(&session.outbox(peer), peer).is_err() {
                let reason = "the other side left before the session began";
                self.shared.end_session(&session, reason, Some(ErrorCode::PeerGone));
                return Ok(Phase::Done);
            }
            tell(&self.outbox, role)?;
        }
        if role == Role::Agent {
            self.offer_resume(&session)?;
        }
        self.trusted();
        Ok(Phase::Relay { role, session })
    }

    /// The invitation to try a direct path, for the side in `role` of `session`, if the
    /// broker allows one: its ICE servers carry TURN credentials for this session only.
    fn direct_path(&self, session: &str, role: Role) -> Option<ServerMessage> {
        let p2p = &self.shared.config.p2p;
        let expires = tether_store::unix_now() + p2p.turn_ttl_secs as i64;
        let secret = p2p.turn_secret.as_ref();
        p2p.enabled.then(|| ServerMessage::DirectPath {
            ice_servers: crate::ice::for_session(&p2p.ice_servers, secret, session, role, expires),
            timeout_secs: p2p.connect_timeout_secs,
            peer_networks: p2p.peer_networks.clone(),
        })
    }

    /// Arrives at `ticket` and waits for the other side: the session, and whether this side
    /// completed the pairing; `None` if this side left first.
    async fn wait_for_peer(
        &mut self,
        role: Role,
        ticket: TicketId,
        name: String,
    ) -> Result<Option<(Arc<Session>, bool)>, Refusal> {
        let shared = self.shared.clone();
        let me = Arriving {
            conn_id: self.id,
            role,
            name,
            outbox: self.outbox.clone(),
            check: self.check.clone(),
            owner_bound: self.user.as_ref().is_some_and(|u| u.role == UserRole::Technician),
        };
        let arrival = lock(&shared.rendezvous).arrive(ticket, me, &mut |agent, console| {
            shared.start_session(Sides {
                ticket,
                technician: console.name.clone(),
                customer: agent.name.clone(),
                agent: agent.outbox.clone(),
                console: console.outbox.clone(),
                checks: Checks { agent: agent.check.clone(), console: console.check.clone() },
            })
        });
        let mut paired = match arrival {
            Arrival::Paired(session) => return Ok(Some((session, true))),
            Arrival::Busy => {
                let who = if role == Role::Agent { "a customer" } else { "a technician" };
                return Err(Refusal::new(
                    ErrorCode::Busy,
                    format!("{ticket} already has {who} or a session"),
                ));
            }
            Arrival::Waiting(rx) => rx,
        };
        tracing::info!("waiting for the other side");
        // A customer does not hold a connection for ever waiting for a technician.
        let patience = std::time::Duration::from_secs(shared.config.limits.customer_wait_secs);
        let gave_up = tokio::time::sleep(patience);
        tokio::pin!(gave_up);
        let outcome = loop {
            tokio::select! {
                biased;
                pairing = &mut paired => break match pairing {
                    Ok(Pairing::Paired(session)) => Ok(Some((session, false))),
                    Ok(Pairing::Refused(why)) => Err(Refusal::new(ErrorCode::Forbidden, why)),
                    Err(_) => Err(Refusal::new(ErrorCode::Internal, "pairing was dropped")),
                },
                () = &mut gave_up, if role == Role::Agent => {
                    let minutes = patience.as_secs().div_ceil(60);
                    break Err(Refusal::new(
                        ErrorCode::Timeout,
                        format!("no technician joined within {minutes} minutes; please ask for help again"),
                    ));
                }
                _ = shared.shutdown.cancelled() => {
                    break Err(Refusal::new(ErrorCode::ShuttingDown, "the broker is shutting down"));
                }
                inbound = self.recv() => match inbound {
                    // The other side's `paired` reached the peer, which answered, before this
                    // task woke: the message is the session's.
                    Ok(inbound @ (Inbound::Control(_) | Inbound::Frame(..))) if !paired.is_empty() => {
                        self.pending = Some(inbound);
                    }
                    Ok(Inbound::Closed) | Ok(Inbound::Control(ClientMessage::Leave { .. })) => {
                        break Ok(None);
                    }
                    Ok(Inbound::Control(msg)) => self.complain(
                        ErrorCode::Malformed,
                        format!("{} needs a session; still waiting", msg.kind()),
                    ),
                    Ok(Inbound::Frame(..)) => {
                        self.complain(ErrorCode::Malformed, "binary frames need a session")
                    }
                    Err(r) => break Err(r),
                },
            }
        };
        if !matches!(outcome, Ok(Some(_))) {
            lock(&shared.rendezvous).leave(ticket, self.id);
            // Pairing and leaving both happen under the rendezvous lock: if a session was
            // handed over before we left, it is in the receiver now, and its other side must
            // hear that we are gone.
            if let Ok(Pairing::Paired(session)) = paired.try_recv() {
                shared.end_session(
                    &session,
                    "the other side left before the session began",
                    Some(ErrorCode::PeerGone),
                );
            }
        }
        outcome
    }
}
