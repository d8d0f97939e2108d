//! The direct path's signalling: what agent and console tell each other, through the broker,
//! to set up a WebRTC peer connection (offer, answer, trickled ICE candidates) and which path
//! their screen and input travel on. The descriptions and candidates are opaque JSON to the
//! broker, bounded in size; the ICE servers to use are the broker's configuration.
//!
//! Each description or candidate JSON object also carries `"attempt": N`, the number of the
//! peer connection it belongs to: a path that went down is replaced by a fresh one (attempt
//! N + 1), and a late signal of an earlier attempt is dropped. A signal without the field
//! belongs to the attempt under way.

use serde::{Deserialize, Serialize};

use crate::Secret;

/// The largest offer, answer or candidate, in bytes.
pub const MAX_SIGNAL_BYTES: usize = 16 * 1024;

/// One step of setting up the direct path, relayed to the other side of the session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Signal {
    /// The agent's session description (JSON of an RTCSessionDescription).
    Offer {
        /// The description.
        sdp: String,
    },
    /// The console's answer (JSON of an RTCSessionDescription).
    Answer {
        /// The description.
        sdp: String,
    },
    /// A trickled ICE candidate (JSON of an RTCIceCandidateInit).
    Candidate {
        /// The candidate.
        candidate: String,
    },
    /// The sender's screen and input now travel on this path.
    Path {
        /// Direct (true) or through the broker.
        direct: bool,
        /// Why, in words.
        reason: String,
    },
}

impl Signal {
    /// The `kind` tag.
    pub fn kind(&self) -> &'static str {
        match self {
            Signal::Offer { .. } => "offer",
            Signal::Answer { .. } => "answer",
            Signal::Candidate { .. } => "candidate",
            Signal::Path { .. } => "path",
        }
    }

    /// Whether it is within [`MAX_SIGNAL_BYTES`].
    pub fn fits(&self) -> bool {
        let len = match self {
            Signal::Offer { sdp } | Signal::Answer { sdp } => sdp.len(),
            Signal::Candidate { candidate } => candidate.len(),
            Signal::Path { reason, .. } => reason.len(),
        };
        len <= MAX_SIGNAL_BYTES
    }
}

/// A STUN or TURN server for the direct path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IceServer {
    /// `stun:host:port` or `turn:host:port?transport=udp` URLs.
    pub urls: Vec<String>,
    /// The TURN user name, if any.
    #[serde(default)]
    pub username: String,
    /// The TURN credential, if any.
    #[serde(default)]
    pub credential: Option<Secret<String>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_are_tagged_and_bounded() {
        let s = Signal::Candidate { candidate: "{\"candidate\":\"x\"}".into() };
        let json = serde_json::to_string(&s).unwrap();
        assert!(json.starts_with(r#"{"kind":"candidate""#), "{json}");
        assert_eq!(serde_json::from_str::<Signal>(&json).unwrap(), s);
        assert!(s.fits());
        assert!(!Signal::Offer { sdp: "v".repeat(MAX_SIGNAL_BYTES + 1) }.fits());
        assert_eq!(Signal::Path { direct: true, reason: String::new() }.kind(), "path");
    }
}
