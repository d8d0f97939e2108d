//! What the relay did in a session, counted without locks: frames and bytes per channel,
//! screen requests, frames dropped or refused for want of consent, input events by kind (never
//! which keys). Logged when the session ends and summarised in its transcript.

use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::json;
use tether_protocol::{Channel, InputEvent, Role};
use tether_transcript::{Actor, Entry};

/// What the relay did, for logs now and transcripts later.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) frames: [AtomicU64; 9],
    pub(crate) bytes: [AtomicU64; 9],
    /// Requests for the next screen update, console to agent.
    pub(crate) screen_requests: AtomicU64,
    /// Screen frames dropped because view was not held.
    pub(crate) screen_without_view: AtomicU64,
    /// Frames refused because a consent was not held.
    pub(crate) refused: AtomicU64,
    /// Screen frames held back because a bandwidth check failed.
    pub(crate) screen_held_back: AtomicU64,
    /// Bytes relayed from the agent and from the console.
    pub(crate) from_agent: AtomicU64,
    pub(crate) from_console: AtomicU64,
    /// Input events relayed, by the kind in the frame's flags (0 for unknown kinds).
    pub(crate) input_kinds: [AtomicU64; 5],
}

impl Counters {
    pub(crate) fn count(&self, from: Role, channel: Channel, len: usize) {
        if channel == Channel::Screen && from == Role::Console {
            // The console's requests for the next update, not screen frames.
            self.screen_requests.fetch_add(1, Ordering::Relaxed);
        } else {
            let i = usize::from(channel.as_u8()).min(8);
            self.frames[i].fetch_add(1, Ordering::Relaxed);
            self.bytes[i].fetch_add(len as u64, Ordering::Relaxed);
        }
        self.relayed_from(from).fetch_add(len as u64, Ordering::Relaxed);
    }

    /// The running total of bytes relayed from `role`.
    pub(crate) fn relayed_from(&self, role: Role) -> &AtomicU64 {
        match role {
            Role::Agent => &self.from_agent,
            Role::Console => &self.from_console,
        }
    }

    /// Counts a relayed input event by the kind its frame's flags name.
    pub(crate) fn count_input(&self, flags: u8) {
        let i = if (1..=4).contains(&flags) { usize::from(flags) } else { 0 };
        self.input_kinds[i].fetch_add(1, Ordering::Relaxed);
    }

    /// Frames relayed on `channel`.
    pub(crate) fn frames(&self, channel: Channel) -> u64 {
        self.frames[usize::from(channel.as_u8()).min(8)].load(Ordering::Relaxed)
    }

    /// Bytes relayed on `channel`.
    pub(crate) fn bytes(&self, channel: Channel) -> u64 {
        self.bytes[usize::from(channel.as_u8()).min(8)].load(Ordering::Relaxed)
    }

    /// The transcript's closing summaries: input counts per kind (never which keys) and the
    /// screen's frames and bytes.
    pub(crate) fn summaries(&self, replaced: u64) -> Vec<Entry> {
        let mut counts = serde_json::Map::new();
        for (i, n) in self.input_kinds.iter().enumerate() {
            let n = n.load(Ordering::Relaxed);
            if n > 0 {
                counts.insert(InputEvent::kind_of_flag(i as u8).into(), n.into());
            }
        }
        let refused = self.refused.load(Ordering::Relaxed);
        vec![
            Entry::now(
                Actor::broker(),
                "input_summary",
                json!({"counts": counts, "refused": refused}),
            ),
            Entry::now(
                Actor::broker(),
                "screen_summary",
                json!({
                    "frames": self.frames(Channel::Screen),
                    "bytes": self.bytes(Channel::Screen),
                    "requests": self.screen_requests.load(Ordering::Relaxed),
                    "dropped_without_view": self.screen_without_view.load(Ordering::Relaxed),
                    "held_back_by_bandwidth": self.screen_held_back.load(Ordering::Relaxed),
                    "replaced_by_newer": replaced,
                }),
            ),
        ]
    }
}
