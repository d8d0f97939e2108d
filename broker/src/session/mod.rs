//! A paired session: the two outboxes, the consent the customer holds open, the counters, the
//! customer's connection coming and going (resume), and the one-time transition to ended.
//! Shared by the two connection tasks through an `Arc`.
//!
//! Beside it: [`counters`] (what was relayed), [`helpers`] (second technicians and
//! hand-overs), [`lifecycle`] (the transcript and the desk at a session's start and end).

mod counters;
pub(crate) mod helpers;
mod lifecycle;

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use tether_protocol::{
    Capability, Channel, CheckResult, ConsentSet, ErrorCode, PeerInfo, Role, ServerMessage,
    SessionInfo, TicketId, Verdict,
};
use tokio_util::sync::CancellationToken;

use tether_transcript::channels::ChannelLog;
use tether_transcript::{Actor, Transcript};

use crate::outbox::{Outbox, Overflow, QueueLimits};

pub(crate) use self::counters::Counters;
pub(crate) use self::helpers::Helper;
use self::helpers::Helpers;

/// Who is in a session and what they may do.
#[derive(Debug)]
pub(crate) struct Session {
    pub(crate) id: String,
    pub(crate) ticket: TicketId,
    pub(crate) technician: String,
    pub(crate) customer: String,
    /// Replaced when the customer's connection drops (by a holding outbox) and when it
    /// resumes (by the new connection's).
    agent: RwLock<Arc<Outbox>>,
    console: Arc<Outbox>,
    /// Which customer connection the session belongs to, and whether it is away.
    attachment: tokio::sync::watch::Sender<Attachment>,
    consent: AtomicU8,
    ended: CancellationToken,
    end: Mutex<Option<SessionEnd>>,
    pub(crate) counters: Counters,
    pub(crate) transcript: Transcript,
    /// Both sides' bandwidth checks.
    pub(crate) checks: Checks,
    /// Screen frames are held back: a check failed and nobody overrode it.
    screen_blocked: AtomicBool,
    /// Second technicians, approvals and hand-over.
    pub(crate) helpers: Helpers,
    /// What the transcript keeps of the file and shell channels.
    pub(crate) channel_log: ChannelLog,
}

/// The two sides' bandwidth checks.
#[derive(Debug, Clone, Default)]
pub(crate) struct Checks {
    pub(crate) agent: Option<CheckResult>,
    pub(crate) console: Option<CheckResult>,
}

impl Checks {
    /// Why screen sharing must wait, if a check failed.
    pub(crate) fn failure(&self) -> Option<String> {
        let failed = |side: &str, c: &Option<CheckResult>| {
            c.as_ref().filter(|c| c.verdict == Verdict::Fail).map(|c| {
                format!(
                    "the {side}'s connection failed the bandwidth check: {}",
                    c.reasons.join("; ")
                )
            })
        };
        let reasons: Vec<String> =
            [failed("customer", &self.agent), failed("technician", &self.console)]
                .into_iter()
                .flatten()
                .collect();
        (!reasons.is_empty()).then(|| reasons.join("; "))
    }
}

/// Why a session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SessionEnd {
    pub(crate) reason: String,
    pub(crate) code: Option<ErrorCode>,
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

/// A change of consent, and whether the capability was held before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ConsentChange {
    pub(crate) capability: Capability,
    pub(crate) granted: bool,
    pub(crate) was_held: bool,
}

/// Which of the customer's connections carries the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Attachment {
    /// Counts the customer's connections to this session: 0 for the one it paired with.
    pub(crate) generation: u64,
    /// The connection dropped and no other has taken its place yet.
    pub(crate) away: bool,
}

/// Who paired, before the session exists.
#[derive(Debug)]
pub(crate) struct Sides {
    pub(crate) ticket: TicketId,
    pub(crate) technician: String,
    pub(crate) customer: String,
    pub(crate) agent: Arc<Outbox>,
    pub(crate) console: Arc<Outbox>,
    pub(crate) checks: Checks,
}

impl Session {
    /// A fresh random session id.
    pub(crate) fn new_id() -> Result<String, tether_access::credentials::AuthError> {
        let id = tether_access::credentials::random_bytes::<8>()?;
        Ok(format!("s-{}", tether_protocol::hex(&id)))
    }

    pub(crate) fn new(id: String, sides: Sides, transcript: Transcript) -> Session {
        Session {
            id,
            ticket: sides.ticket,
            technician: sides.technician,
            customer: sides.customer,
            agent: RwLock::new(sides.agent),
            console: sides.console,
            attachment: tokio::sync::watch::Sender::new(Attachment::default()),
            consent: AtomicU8::new(0),
            ended: CancellationToken::new(),
            end: Mutex::new(None),
            counters: Counters::default(),
            transcript,
            screen_blocked: AtomicBool::new(sides.checks.failure().is_some()),
            checks: sides.checks,
            helpers: Helpers::default(),
            channel_log: ChannelLog::default(),
        }
    }

    /// What both sides are told about the checks and the screen gate.
    pub(crate) fn gate(&self, reason: Option<String>) -> ServerMessage {
        let blocked = self.screen_blocked.load(Ordering::Acquire);
        let reason = reason.or_else(|| self.checks.failure()).unwrap_or_else(|| {
            if blocked {
                String::new()
            } else {
                "both connections are good enough for screen sharing".into()
            }
        });
        ServerMessage::BandwidthGate {
            agent: self.checks.agent.clone(),
            console: self.checks.console.clone(),
            screen_blocked: blocked,
            reason,
        }
    }

    /// Lets screen frames through despite a failed check; false if they were not held back.
    pub(crate) fn override_gate(&self) -> bool {
        self.screen_blocked.swap(false, Ordering::AcqRel)
    }

    /// The transcript actor for the side in `role`.
    pub(crate) fn actor(&self, role: Role) -> Actor {
        match role {
            Role::Agent => Actor::of(role, &self.customer),
            Role::Console => Actor::of(role, &self.technician),
        }
    }

    /// The outbox of the side in `role`.
    pub(crate) fn outbox(&self, role: Role) -> Arc<Outbox> {
        match role {
            Role::Agent => self.agent.read().unwrap_or_else(|p| p.into_inner()).clone(),
            Role::Console => self.console.clone(),
        }
    }

    /// The outbox of the other side from `role`.
    pub(crate) fn peer_outbox(&self, role: Role) -> Arc<Outbox> {
        match role {
            Role::Agent => self.console.clone(),
            Role::Console => self.outbox(Role::Agent),
        }
    }

    /// The customer's connection now.
    pub(crate) fn attachment(&self) -> Attachment {
        *self.attachment.borrow()
    }

    /// Watches the customer's connection change.
    pub(crate) fn watch_attachment(&self) -> tokio::sync::watch::Receiver<Attachment> {
        self.attachment.subscribe()
    }

    /// The customer's connection `generation` dropped: what is queued for it waits in a
    /// holding outbox until a resumed connection takes it. Returns the attachment now away, or
    /// None if that connection had already been replaced.
    pub(crate) fn detach(&self, generation: u64, limits: QueueLimits) -> Option<Attachment> {
        let mut agent = self.agent.write().unwrap_or_else(|p| p.into_inner());
        let now = self.attachment();
        if now.generation != generation || now.away {
            return None;
        }
        let holding = Arc::new(Outbox::new(limits));
        agent.hand_over(&holding);
        *agent = holding;
        let away = Attachment { generation: generation + 1, away: true };
        self.attachment.send_replace(away);
        Some(away)
    }

    /// A resumed connection whose outbox is `outbox` takes the customer's side; everything
    /// queued meanwhile follows what `outbox` already holds. The connection it replaces (if
    /// it had not been noticed gone) sees a new generation and stops. Returns the new one.
    pub(crate) fn attach(&self, outbox: Arc<Outbox>) -> Attachment {
        let mut agent = self.agent.write().unwrap_or_else(|p| p.into_inner());
        agent.hand_over(&outbox);
        *agent = outbox;
        let attached = Attachment { generation: self.attachment().generation + 1, away: false };
        self.attachment.send_replace(attached);
        attached
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
    ) -> Result<Vec<ConsentChange>, Overflow> {
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
        let before = ConsentSet::from_bits(before);
        let mut changed =
            vec![ConsentChange { capability: cap, granted, was_held: before.holds(cap) }];
        if cascade && before.holds(Capability::Control) {
            changed.push(ConsentChange {
                capability: Capability::Control,
                granted: false,
                was_held: true,
            });
        }
        for change in &changed {
            let msg = ServerMessage::ConsentChanged {
                capability: change.capability,
                granted: change.granted,
            };
            self.console.control(&msg)?;
            self.outbox(Role::Agent).control(&msg)?;
        }
        Ok(changed)
    }

    /// Decides what happens to a frame on `channel` from the side in `role`.
    pub(crate) fn admit(&self, from: Role, channel: Channel, len: usize) -> Admission {
        if channel == Channel::Screen && self.screen_blocked.load(Ordering::Acquire) {
            self.counters.screen_held_back.fetch_add(1, Ordering::Relaxed);
            return Admission::Drop;
        }
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
                self.counters.count(from, channel, len);
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
        match self.helpers.handover() {
            // The customer stays connected for the next technician.
            Some(to) => self.outbox(Role::Agent).notice(&ServerMessage::HandedOver { to }),
            None => self.outbox(Role::Agent).notice(&msg),
        }
        self.console.notice(&msg);
        self.helpers.notice(&msg);
        *end = Some(SessionEnd { reason, code });
        drop(end);
        self.ended.cancel();
        true
    }

    /// Whether the session has ended.
    pub(crate) fn is_over(&self) -> bool {
        self.ended.is_cancelled()
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
        let sides = Sides {
            ticket: TicketId(1),
            technician: "alice".into(),
            customer: "Bob".into(),
            agent: Arc::new(Outbox::new(limits)),
            console: Arc::new(Outbox::new(limits)),
            checks: Checks::default(),
        };
        Session::new(Session::new_id().unwrap(), sides, Transcript::disabled())
    }

    #[test]
    fn a_dropped_customer_is_held_for_and_a_resumed_one_replaces_it() {
        let s = session();
        let limits = QueueLimits { max_bytes: 1 << 20, max_messages: 100 };
        let first = s.outbox(Role::Agent);
        let away = s.detach(0, limits).expect("the first connection detaches");
        assert_eq!(away, Attachment { generation: 1, away: true });
        assert!(s.detach(0, limits).is_none(), "only once");
        // Meanwhile messages for the customer wait in the holding outbox, not the dead one.
        s.set_consent(Capability::View, true).unwrap();
        assert!(first.is_empty());
        let resumed = Arc::new(Outbox::new(limits));
        assert_eq!(s.attach(resumed.clone()), Attachment { generation: 2, away: false });
        assert!(Arc::ptr_eq(&s.outbox(Role::Agent), &resumed));
        assert!(!resumed.is_empty(), "what waited went to the resumed connection");
        // A connection that was replaced before it was noticed gone cannot detach the session.
        assert!(s.detach(1, limits).is_none());
        assert_eq!(s.attachment(), Attachment { generation: 2, away: false });
    }

    #[test]
    fn frames_need_their_consent() {
        let s = session();
        assert_eq!(s.admit(Role::Console, Channel::Chat, 10), Admission::Forward);
        assert_eq!(s.admit(Role::Console, Channel::Screen, 10), Admission::Drop);
        assert_eq!(
            s.admit(Role::Console, Channel::Input, 10),
            Admission::Refuse(Capability::Control)
        );
        s.set_consent(Capability::View, true).unwrap();
        assert_eq!(s.admit(Role::Console, Channel::Screen, 10), Admission::Forward);
        assert_eq!(
            s.admit(Role::Console, Channel::Input, 10),
            Admission::Refuse(Capability::Control)
        );
        s.set_consent(Capability::Control, true).unwrap();
        assert_eq!(s.admit(Role::Console, Channel::Input, 10), Admission::Forward);
        assert_eq!(s.counters.frames(Channel::Input), 1);
        assert_eq!(s.counters.refused.load(Ordering::Relaxed), 2);
    }

    #[test]
    fn a_failed_check_holds_the_screen_back_until_overridden() {
        let mut s = session();
        let fail = CheckResult {
            measurement: tether_protocol::Measurement {
                rtt_ms: 1.0,
                jitter_ms: 0.0,
                download_mbps: 9.0,
                upload_mbps: 0.5,
            },
            verdict: Verdict::Fail,
            reasons: vec!["upload 0.50 Mbit/s is below the 1.5 Mbit/s needed".into()],
        };
        s.checks.agent = Some(fail);
        s.screen_blocked = AtomicBool::new(s.checks.failure().is_some());
        s.set_consent(Capability::View, true).unwrap();
        assert_eq!(s.admit(Role::Agent, Channel::Screen, 10), Admission::Drop);
        assert_eq!(s.admit(Role::Agent, Channel::Chat, 10), Admission::Forward, "chat still works");
        let ServerMessage::BandwidthGate { screen_blocked, reason, .. } = s.gate(None) else {
            panic!()
        };
        assert!(screen_blocked && reason.contains("customer's connection failed"), "{reason}");
        assert!(s.override_gate());
        assert!(!s.override_gate(), "only once");
        assert_eq!(s.admit(Role::Agent, Channel::Screen, 10), Admission::Forward);
    }

    #[test]
    fn revoking_view_revokes_control() {
        let s = session();
        s.set_consent(Capability::View, true).unwrap();
        s.set_consent(Capability::Control, true).unwrap();
        let changed = s.set_consent(Capability::View, false).unwrap();
        let pairs: Vec<_> = changed.iter().map(|c| (c.capability, c.granted, c.was_held)).collect();
        assert_eq!(
            pairs,
            vec![(Capability::View, false, true), (Capability::Control, false, true)]
        );
        assert!(!s.consent().holds(Capability::Control));
        // Refusing what is not held reports the answer, marked as never held.
        let again = s.set_consent(Capability::View, false).unwrap();
        let refused =
            ConsentChange { capability: Capability::View, granted: false, was_held: false };
        assert_eq!(again, vec![refused]);
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
