//! Pairing: who is waiting for which ticket, and which tickets have a live session.
//!
//! A plain struct behind one mutex, so that looking for the other side and registering as
//! waiting are one step: two sides arriving together always pair (the failure mode of relays
//! that look up and insert under separate locks), and the side that waits is told so before
//! anyone can pair with it. Nothing here awaits.

use std::collections::HashMap;
use std::sync::Arc;

use tether_protocol::{CheckResult, Role, ServerMessage, TicketId};
use tokio::sync::oneshot;

use crate::outbox::Outbox;
use crate::session::Session;

/// A connection waiting for its other side.
#[derive(Debug)]
pub(crate) struct Waiter {
    pub(crate) side: Arriving,
    pub(crate) paired: oneshot::Sender<Pairing>,
}

/// What a waiting connection learns.
#[derive(Debug)]
pub(crate) enum Pairing {
    /// The other side came: here is the session.
    Paired(Arc<Session>),
    /// It may no longer wait here, and why (its ticket went to someone else).
    Refused(String),
}

/// A connection arriving at a ticket.
#[derive(Debug)]
pub(crate) struct Arriving {
    pub(crate) conn_id: u64,
    pub(crate) role: Role,
    /// The customer's name or the technician's login.
    pub(crate) name: String,
    pub(crate) outbox: Arc<Outbox>,
    /// Its bandwidth check.
    pub(crate) check: Option<CheckResult>,
    /// A technician who may join only while the ticket is theirs (managers may join any).
    pub(crate) owner_bound: bool,
}

/// The result of arriving at a ticket.
#[derive(Debug)]
pub(crate) enum Arrival {
    /// Nobody on the other side yet; the session (or a refusal) arrives on this receiver.
    Waiting(oneshot::Receiver<Pairing>),
    /// The other side was waiting: here is the session, already handed to them.
    Paired(Arc<Session>),
    /// The ticket already has someone on this side, or a session.
    Busy,
}

/// Waiting connections and live sessions, by ticket.
#[derive(Debug, Default)]
pub(crate) struct Rendezvous {
    waiting: HashMap<TicketId, Waiter>,
    active: HashMap<TicketId, Arc<Session>>,
    /// The SHA-256 of each live resume token, and the ticket whose session it resumes.
    resumes: HashMap<[u8; 32], TicketId>,
    /// The other way round: each ticket's live token (one at most).
    resume_of: HashMap<TicketId, [u8; 32]>,
}

/// Makes the session for two sides: `(agent, console)`.
pub(crate) type MakeSession<'a> = &'a mut dyn FnMut(&Arriving, &Arriving) -> Option<Arc<Session>>;

impl Rendezvous {
    /// Arrives at `ticket`. If the other side waits there, `make` builds the session (given the
    /// agent's and the console's waiter) and both sides get it.
    pub(crate) fn arrive(
        &mut self,
        ticket: TicketId,
        side: Arriving,
        make: MakeSession<'_>,
    ) -> Arrival {
        if self.active.contains_key(&ticket) {
            return Arrival::Busy;
        }
        let role = side.role;
        let (tx, rx) = oneshot::channel();
        let me = Waiter { side, paired: tx };
        if let Some(other) = self.waiting.remove(&ticket) {
            if other.side.role == role && !other.paired.is_closed() {
                self.waiting.insert(ticket, other);
                return Arrival::Busy;
            }
            if other.side.role != role {
                let (agent, console) = if role == Role::Agent {
                    (&me.side, &other.side)
                } else {
                    (&other.side, &me.side)
                };
                if let Some(session) = make(agent, console)
                    && other.paired.send(Pairing::Paired(session.clone())).is_ok()
                {
                    self.active.insert(ticket, session.clone());
                    return Arrival::Paired(session);
                }
                // The other side vanished between waiting and now: wait in its place.
            }
        }
        // Told under the lock, so that `waiting` always comes before the other side's `paired`.
        me.side.outbox.notice(&ServerMessage::Waiting { ticket });
        self.waiting.insert(ticket, me);
        Arrival::Waiting(rx)
    }

    /// Stops waiting at `ticket`, if `conn_id` is the one waiting there.
    pub(crate) fn leave(&mut self, ticket: TicketId, conn_id: u64) {
        if self.waiting.get(&ticket).is_some_and(|w| w.side.conn_id == conn_id) {
            self.waiting.remove(&ticket);
        }
    }

    /// `ticket` now belongs to `owner`: a technician waiting there who is no longer its owner
    /// is told so and stops waiting.
    pub(crate) fn reassigned(&mut self, ticket: TicketId, owner: &str) {
        let stale = self.waiting.get(&ticket).is_some_and(|w| {
            w.side.role == Role::Console && w.side.owner_bound && w.side.name != owner
        });
        if stale && let Some(w) = self.waiting.remove(&ticket) {
            let _ = w.paired.send(Pairing::Refused(format!("{ticket} was reassigned to {owner}")));
        }
    }

    /// Forgets the ended session at `ticket`, and its resume tokens.
    pub(crate) fn finish(&mut self, ticket: TicketId, session_id: &str) {
        if self.active.get(&ticket).is_some_and(|s| s.id == session_id) {
            self.active.remove(&ticket);
            if let Some(digest) = self.resume_of.remove(&ticket) {
                self.resumes.remove(&digest);
            }
        }
    }

    /// Lets the customer's side of the session at `ticket` be resumed with the token whose
    /// SHA-256 is `digest`, instead of any token issued before.
    pub(crate) fn offer_resume(&mut self, digest: [u8; 32], ticket: TicketId) {
        if self.active.contains_key(&ticket) {
            if let Some(old) = self.resume_of.insert(ticket, digest) {
                self.resumes.remove(&old);
            }
            self.resumes.insert(digest, ticket);
        }
    }

    /// Spends the resume token whose SHA-256 is `digest`: the live session it resumes.
    pub(crate) fn take_resume(&mut self, digest: &[u8; 32]) -> Option<Arc<Session>> {
        let ticket = self.resumes.remove(digest)?;
        self.resume_of.remove(&ticket);
        self.active.get(&ticket).cloned()
    }

    /// Whether a customer's agent waits at `ticket`.
    pub(crate) fn customer_waiting(&self, ticket: TicketId) -> bool {
        self.waiting
            .get(&ticket)
            .is_some_and(|w| w.side.role == Role::Agent && !w.paired.is_closed())
    }

    /// Whether `ticket` has a live session.
    pub(crate) fn in_session(&self, ticket: TicketId) -> bool {
        self.active.contains_key(&ticket)
    }

    /// The live session at `ticket`.
    pub(crate) fn session(&self, ticket: TicketId) -> Option<Arc<Session>> {
        self.active.get(&ticket).cloned()
    }

    /// How many sessions `technician` is in right now.
    pub(crate) fn sessions_of(&self, technician: &str) -> usize {
        self.active.values().filter(|s| s.technician == technician).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbox::QueueLimits;

    fn outbox() -> Arc<Outbox> {
        Arc::new(Outbox::new(QueueLimits { max_bytes: 1 << 20, max_messages: 16 }))
    }

    fn side(conn_id: u64, role: Role, name: &str) -> Arriving {
        Arriving {
            conn_id,
            role,
            name: name.into(),
            outbox: outbox(),
            check: None,
            owner_bound: true,
        }
    }

    fn maker() -> impl FnMut(&Arriving, &Arriving) -> Option<Arc<Session>> {
        |agent: &Arriving, console: &Arriving| {
            assert_eq!((agent.role, console.role), (Role::Agent, Role::Console));
            let sides = crate::session::Sides {
                ticket: TicketId(1),
                technician: console.name.clone(),
                customer: agent.name.clone(),
                agent: agent.outbox.clone(),
                console: console.outbox.clone(),
                checks: crate::session::Checks::default(),
            };
            let id = Session::new_id().ok()?;
            Some(Arc::new(Session::new(id, sides, tether_transcript::Transcript::disabled())))
        }
    }

    #[test]
    fn two_sides_pair_whichever_comes_first() {
        for first in [Role::Agent, Role::Console] {
            let mut r = Rendezvous::default();
            let t = TicketId(1);
            let second = if first == Role::Agent { Role::Console } else { Role::Agent };
            let Arrival::Waiting(mut rx) = r.arrive(t, side(1, first, "a"), &mut maker()) else {
                panic!("first side should wait");
            };
            assert_eq!(r.customer_waiting(t), first == Role::Agent);
            let Arrival::Paired(s) = r.arrive(t, side(2, second, "b"), &mut maker()) else {
                panic!("second side should pair");
            };
            let Pairing::Paired(theirs) = rx.try_recv().unwrap() else { panic!("refused") };
            assert_eq!(theirs.id, s.id, "both sides hold the same session");
            assert!(r.in_session(t));
            assert!(matches!(r.arrive(t, side(3, first, "c"), &mut maker()), Arrival::Busy));
            r.finish(t, &s.id);
            assert!(!r.in_session(t));
        }
    }

    #[test]
    fn a_second_console_is_busy_and_a_vanished_waiter_is_replaced() {
        let mut r = Rendezvous::default();
        let t = TicketId(1);
        let first = r.arrive(t, side(1, Role::Console, "a"), &mut maker());
        assert!(matches!(r.arrive(t, side(2, Role::Console, "b"), &mut maker()), Arrival::Busy));
        drop(first); // the waiting console vanished without leave()
        let third = r.arrive(t, side(3, Role::Console, "c"), &mut maker());
        assert!(matches!(third, Arrival::Waiting(_)));
        // An agent arriving now pairs with the live console, not the vanished one.
        let Arrival::Paired(s) = r.arrive(t, side(4, Role::Agent, "bob"), &mut maker()) else {
            panic!("should pair");
        };
        assert_eq!(s.technician, "c");
    }

    #[test]
    fn a_technician_waiting_at_a_reassigned_ticket_is_told_and_stops_waiting() {
        let mut r = Rendezvous::default();
        let t = TicketId(1);
        let Arrival::Waiting(mut rx) = r.arrive(t, side(1, Role::Console, "ann"), &mut maker())
        else {
            panic!("should wait");
        };
        r.reassigned(t, "ann");
        assert!(rx.try_recv().is_err(), "still ann's: still waiting");
        r.reassigned(t, "ben");
        let Ok(Pairing::Refused(why)) = rx.try_recv() else { panic!("should be refused") };
        assert_eq!(why, "T1 was reassigned to ben");
        let Arrival::Waiting(_) = r.arrive(t, side(2, Role::Agent, "bob"), &mut maker()) else {
            panic!("the customer waits for the new owner instead of pairing with ann");
        };
    }

    #[test]
    fn leaving_only_removes_oneself() {
        let mut r = Rendezvous::default();
        let t = TicketId(1);
        let _rx = r.arrive(t, side(1, Role::Agent, "a"), &mut maker());
        r.leave(t, 99);
        assert!(r.customer_waiting(t));
        r.leave(t, 1);
        assert!(!r.customer_waiting(t));
    }

    #[test]
    fn a_waiter_whose_receiver_is_gone_is_not_paired_with() {
        let mut r = Rendezvous::default();
        let t = TicketId(1);
        drop(r.arrive(t, side(1, Role::Agent, "gone"), &mut maker()));
        assert!(!r.customer_waiting(t));
        assert!(matches!(
            r.arrive(t, side(2, Role::Console, "alice"), &mut maker()),
            Arrival::Waiting(_)
        ));
        assert!(!r.in_session(t));
    }

    #[test]
    fn a_resume_token_works_once_and_only_the_newest_for_its_session() {
        let mut r = Rendezvous::default();
        let t = TicketId(1);
        let _rx = r.arrive(t, side(1, Role::Agent, "bob"), &mut maker());
        let Arrival::Paired(s) = r.arrive(t, side(2, Role::Console, "alice"), &mut maker()) else {
            panic!("should pair");
        };
        r.offer_resume([1; 32], t);
        r.offer_resume([2; 32], t);
        assert!(r.take_resume(&[1; 32]).is_none(), "a replaced token is dead");
        assert_eq!(r.take_resume(&[2; 32]).unwrap().id, s.id);
        assert!(r.take_resume(&[2; 32]).is_none(), "spent");
        r.offer_resume([3; 32], t);
        r.finish(t, &s.id);
        assert!(r.take_resume(&[3; 32]).is_none(), "the session is over");
        assert!(r.resumes.is_empty() && r.resume_of.is_empty());
    }
}
