//! A paired session: the two outboxes, the consent the customer holds open, the counters, and
//! the one-time transition to ended. Shared by the two connection tasks through an `Arc`.

use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tether_protocol::{
    Capability, Channel, ConsentSet, ErrorCode, PeerInfo, Role, ServerMessage, SessionInfo,
    TicketId,
};
use tokio_util::sync::CancellationToken;

use crate::outbox::{Outbox, Overflow};

/// Who is in a session and what they may do.
#[derive(Debug)]
pub(crate) struct Session {
    pub(crate) id: String,
    pub(crate) ticket: TicketId,
    pub(crate) technician: String,
    pub(crate) customer: String,
    agent: Arc<Outbox>,
    console: Arc<Outbox>,
    consent: AtomicU8,
    ended: CancellationToken,
    end: Mutex<Option<SessionEnd>>,
    pub(crate) counters: Counters,
}

/// Why a session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SessionEnd {
    pub(crate) reason: String,
    pub(crate) code: Option<ErrorCode>,
}

/// What the relay did, for logs now and transcripts later.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) frames: [AtomicU64; 9],
    pub(crate) bytes: [AtomicU64; 9],
    /// Screen frames dropped because view was not held.
    pub(crate) screen_without_view: AtomicU64,
    /// Frames refused because a consent was not held.
    pub(crate) refused: AtomicU64,
}

impl Counters {
    fn count(&self, channel: Channel, len: usize) {
        let i = usize::from(channel.as_u8()).min(8);
        self.frames[i].fetch_add(1, Ordering::Relaxed);
        self.bytes[i].fetch_add(len as u64, Ordering::Relaxed);
    }

    /// Frames relayed on `channel`.
    pub(crate) fn frames(&self, channel: Channel) -> u64 {
        self.frames[usize::from(channel.as_u8()).min(8)].load(Ordering::Relaxed)
    }
}

/// What to do with a frame from one side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Admission {
    /// Relay it.
    Forward,
    /// Drop it silently (a screen frame while view is not held: the agent's timing, not a fault).
    Drop,
    /// Refuse it and tell the sender which consent is missing.
    Refuse(Capability),
}

impl Session {
    pub(crate) fn new(
        ticket: TicketId,
        technician: String,
        customer: String,
        agent: Arc<Outbox>,
        console: Arc<Outbox>,
    ) -> Result<Session, crate::auth::AuthError> {
        let id: String =
            crate::auth::random_bytes::<8>()?.iter().map(|b| format!("{b:02x}")).collect();
        Ok(Session {
            id: format!("s-{id}"),
            ticket,
            technician,
            customer,
            agent,
            console,
            consent: AtomicU8::new(0),
            ended: CancellationToken::new(),
            end: Mutex::new(None),
            counters: Counters::default(),
        })
    }

    /// The outbox of the side in `role`.
    pub(crate) fn outbox(&self, role: Role) -> &Arc<Outbox> {
        match role {
            Role::Agent => &self.agent,
            Role::Console => &self.console,
        }
    }

    /// The outbox of the other side from `role`.
    pub(crate) fn peer_outbox(&self, role: Role) -> &Arc<Outbox> {
        match role {
            Role::Agent => &self.console,
            Role::Console => &self.agent,
        }
    }

    /// What the side in `role` is told when paired.
    pub(crate) fn info_for(&self, role: Role) -> SessionInfo {
        let peer = match role {
            Role::Agent => PeerInfo { role: Role::Console, name: self.technician.clone() },
            Role::Console => PeerInfo { role: Role::Agent, name: self.customer.clone() },
        };
        SessionInfo { id: self.id.clone(), ticket: self.ticket, peer }
    }

    /// The consent held now.
    pub(crate) fn consent(&self) -> ConsentSet {
        ConsentSet::from_bits(self.consent.load(Ordering::Acquire))
    }

    /// Grants or revokes `cap` and tells both sides. Revoking view revokes control too: nobody
    /// should drive a screen they may not see. Returns what was reported: the decision itself
    /// (always, so the asking side gets an answer) and any control it took away.
    /// Fails if either side's control queue is full (the session should then end).
    pub(crate) fn set_consent(
        &self,
        cap: Capability,
        granted: bool,
    ) -> Result<Vec<(Capability, bool)>, Overflow> {
        let cascade = cap == Capability::View && !granted;
        let update = |bits| {
            let mut set = ConsentSet::from_bits(bits).with(cap, granted);
            if cascade {
                set = set.with(Capability::Control, false);
            }
            Some(set.bits())
        };
        // The closure always returns Some, so both arms carry the previous bits.
        let before = self
            .consent
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, update)
            .unwrap_or_else(|bits| bits);
        let mut changed = vec![(cap, granted)];
        if cascade && ConsentSet::from_bits(before).holds(Capability::Control) {
            changed.push((Capability::Control, false));
        }
        for (capability, granted) in &changed {
            let msg = ServerMessage::ConsentChanged { capability: *capability, granted: *granted };
            self.console.control(&msg)?;
            self.agent.control(&msg)?;
        }
        Ok(changed)
    }

    /// Decides what happens to a frame on `channel` from the side in `role`.
    pub(crate) fn admit(&self, channel: Channel, len: usize) -> Admission {
        match channel.required_consent() {
            Some(cap) if !self.consent().holds(cap) => {
                if channel == Channel::Screen {
                    self.counters.screen_without_view.fetch_add(1, Ordering::Relaxed);
                    Admission::Drop
                } else {
                    self.counters.refused.fetch_add(1, Ordering::Relaxed);
                    Admission::Refuse(cap)
                }
            }
            _ => {
                self.counters.count(channel, len);
                Admission::Forward
            }
        }
    }

    /// Ends the session once: records why, tells both sides, wakes both connection tasks.
    /// Returns whether this call ended it (false if it had ended already).
    pub(crate) fn end(&self, reason: impl Into<String>, code: Option<ErrorCode>) -> bool {
        let mut end = self.end.lock().unwrap_or_else(|p| p.into_inner());
        if end.is_some() {
            return false;
        }
        let reason = reason.into();
        let msg = ServerMessage::SessionEnded { reason: reason.clone(), code };
        self.agent.notice(&msg);
        self.console.notice(&msg);
        *end = Some(SessionEnd { reason, code });
        drop(end);
        self.ended.cancel();
        true
    }

    /// Resolves when the session has ended.
    pub(crate) async fn ended(&self) {
        self.ended.cancelled().await
    }

    /// Why it ended, once it has.
    #[cfg(test)]
    fn end_state(&self) -> Option<SessionEnd> {
        self.end.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbox::QueueLimits;

    fn session() -> Session {
        let limits = QueueLimits { max_bytes: 1 << 20, max_messages: 100 };
        Session::new(
            TicketId(1),
            "alice".into(),
            "Bob".into(),
            Arc::new(Outbox::new(limits)),
            Arc::new(Outbox::new(limits)),
        )
        .unwrap()
    }

    #[test]
    fn frames_need_their_consent() {
        let s = session();
        assert_eq!(s.admit(Channel::Chat, 10), Admission::Forward);
        assert_eq!(s.admit(Channel::Screen, 10), Admission::Drop);
        assert_eq!(s.admit(Channel::Input, 10), Admission::Refuse(Capability::Control));
        s.set_consent(Capability::View, true).unwrap();
        assert_eq!(s.admit(Channel::Screen, 10), Admission::Forward);
        assert_eq!(s.admit(Channel::Input, 10), Admission::Refuse(Capability::Control));
        s.set_consent(Capability::Control, true).unwrap();
        assert_eq!(s.admit(Channel::Input, 10), Admission::Forward);
        assert_eq!(s.counters.frames(Channel::Input), 1);
        assert_eq!(s.counters.refused.load(Ordering::Relaxed), 2);
    }

    #[test]
    fn revoking_view_revokes_control() {
        let s = session();
        s.set_consent(Capability::View, true).unwrap();
        s.set_consent(Capability::Control, true).unwrap();
        let changed = s.set_consent(Capability::View, false).unwrap();
        assert_eq!(changed, vec![(Capability::View, false), (Capability::Control, false)]);
        assert!(!s.consent().holds(Capability::Control));
        // Revoking what is not held reports the answer but no further change.
        assert_eq!(
            s.set_consent(Capability::View, false).unwrap(),
            vec![(Capability::View, false)]
        );
    }

    #[test]
    fn ends_exactly_once() {
        let s = session();
        assert!(s.end("technician left", None));
        assert!(!s.end("customer left", Some(ErrorCode::PeerGone)));
        assert_eq!(s.end_state().unwrap().reason, "technician left");
        assert!(s.ended.is_cancelled());
    }
}
