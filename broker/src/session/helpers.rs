//! Second technicians and hand-overs in a session: the approvals the customer is asked for,
//! the technicians the customer let in (watching, or helping), who has joined, and whether the
//! session ends by handing the customer over to another technician. Plain state behind one
//! mutex; nothing here awaits.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use tether_protocol::{Approval, Channel, HelperMode, ServerMessage};

use crate::outbox::Outbox;

/// A second technician in the session.
#[derive(Debug, Clone)]
pub(crate) struct Helper {
    pub(crate) conn_id: u64,
    pub(crate) name: String,
    pub(crate) mode: HelperMode,
    pub(crate) outbox: Arc<Outbox>,
}

#[derive(Debug, Default)]
struct State {
    pending: HashMap<u32, Approval>,
    next_id: u32,
    allowed: HashMap<String, HelperMode>,
    joined: Vec<Helper>,
    handover: Option<String>,
}

/// The session's helpers and approvals.
#[derive(Debug, Default)]
pub(crate) struct Helpers {
    state: Mutex<State>,
}

impl Helpers {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records a question for the customer; returns its id.
    pub(crate) fn ask(&self, what: Approval) -> u32 {
        let mut s = self.lock();
        s.next_id += 1;
        let id = s.next_id;
        s.pending.insert(id, what);
        id
    }

    /// The customer answered `id`: the question, if it was pending. An allowed second
    /// technician may now join; an allowed hand-over is remembered for the session's end.
    pub(crate) fn decide(&self, id: u32, allowed: bool) -> Option<Approval> {
        let mut s = self.lock();
        let what = s.pending.remove(&id)?;
        if allowed {
            match &what {
                Approval::SecondTechnician { name, mode } => {
                    s.allowed.insert(name.clone(), *mode);
                }
                Approval::Transfer { to } => s.handover = Some(to.clone()),
            }
        }
        Some(what)
    }

    /// How `name` may join, if the customer allowed it.
    pub(crate) fn allowed(&self, name: &str) -> Option<HelperMode> {
        self.lock().allowed.get(name).copied()
    }

    /// Adds a helper who joined.
    pub(crate) fn join(&self, helper: Helper) {
        self.lock().joined.push(helper);
    }

    /// Removes the helper on connection `conn_id`.
    pub(crate) fn leave(&self, conn_id: u64) -> Option<Helper> {
        let mut s = self.lock();
        let i = s.joined.iter().position(|h| h.conn_id == conn_id)?;
        Some(s.joined.remove(i))
    }

    /// Sends a frame to every helper; a helper too far behind misses it (the session does
    /// not wait for an onlooker).
    pub(crate) fn frame(&self, channel: Channel, frame: &Bytes, except: Option<u64>) {
        for h in self.lock().joined.iter().filter(|h| Some(h.conn_id) != except) {
            let _ = h.outbox.frame(channel, frame.clone());
        }
    }

    /// Sends a control message to every helper.
    pub(crate) fn notice(&self, msg: &ServerMessage) {
        for h in &self.lock().joined {
            h.outbox.notice(msg);
        }
    }

    /// Who takes over when the session ends, if the customer allowed a hand-over.
    pub(crate) fn handover(&self) -> Option<String> {
        self.lock().handover.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbox::QueueLimits;

    fn outbox() -> Arc<Outbox> {
        Arc::new(Outbox::new(QueueLimits { max_bytes: 1 << 20, max_messages: 16 }))
    }

    #[test]
    fn only_approved_technicians_may_join_and_answers_count_once() {
        let h = Helpers::default();
        let id = h.ask(Approval::SecondTechnician { name: "bob".into(), mode: HelperMode::Watch });
        assert_eq!(h.allowed("bob"), None, "not before the customer answers");
        assert!(h.decide(id, true).is_some());
        assert!(h.decide(id, true).is_none(), "an answer counts once");
        assert_eq!(h.allowed("bob"), Some(HelperMode::Watch));
        let refused =
            h.ask(Approval::SecondTechnician { name: "eve".into(), mode: HelperMode::Help });
        h.decide(refused, false);
        assert_eq!(h.allowed("eve"), None);
        assert!(h.decide(99, true).is_none(), "unknown ids are ignored");
    }

    #[test]
    fn helpers_join_receive_and_leave() {
        let h = Helpers::default();
        let (a, b) = (outbox(), outbox());
        h.join(Helper {
            conn_id: 1,
            name: "bob".into(),
            mode: HelperMode::Watch,
            outbox: a.clone(),
        });
        h.join(Helper {
            conn_id: 2,
            name: "cat".into(),
            mode: HelperMode::Help,
            outbox: b.clone(),
        });
        let frame = tether_protocol::Frame::encode(Channel::Chat, 0, b"hi").unwrap();
        h.frame(Channel::Chat, &frame, Some(2));
        assert_eq!(h.leave(1).unwrap().name, "bob");
        assert!(h.leave(1).is_none());
        let handover = h.ask(Approval::Transfer { to: "dan".into() });
        assert_eq!(h.handover(), None);
        h.decide(handover, true);
        assert_eq!(h.handover().as_deref(), Some("dan"));
    }
}
