//! tether-direct: the direct path between a customer's agent and a technician's console.
//!
//! Sessions start on the broker's relay; when the broker invites them to, the two sides set up
//! a peer connection through signals the broker relays, and once it is up their screen frames
//! travel on an unordered data channel without retransmits (a stale frame is worthless) and
//! input on a reliable, ordered one. Control, chat, consent and everything recorded stay on
//! the broker. Frames keep the relay's wire format (two-byte header, payload), so a session
//! handles a frame the same whichever path brought it.
//!
//! A path that goes down sends everything back to the relay at once; once a path has been up
//! in a session, the [`Link`] sets up a fresh one (a new offer through the broker) with growing
//! pauses, so the path returns when the network between the two sides does.
//!
//! Sessions drive a [`Link`] and send through its [`Route`]; behind them is the
//! [`DirectPath`] trait, of which [`webrtc_path`] is the one implementation (webrtc-rs with
//! ring crypto). [`Reach`] decides which of the other side's addresses may be contacted.

use std::fmt::Debug;
use std::net::IpAddr;
use std::sync::Arc;

use bytes::Bytes;
use tether_protocol::{IceServer, Signal};
use tokio::sync::mpsc;

mod link;
mod reach;
pub mod webrtc_path;

pub use link::{FIRST_RETRY, Link, MAX_RETRY, News, Route};
pub use reach::Reach;

/// The largest frame the direct path carries; larger ones go on the relay.
pub const MAX_DIRECT_FRAME: usize = 64 * 1024;

/// What the direct path tells the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DirectEvent {
    /// Both data channels are open: screen and input may go direct.
    Up,
    /// The path failed or closed: everything goes on the relay again.
    Down(String),
    /// The other side closed the path because its session is over: everything goes on the
    /// relay, with nothing to report and nothing to try again.
    Ended,
    /// A frame from the other side, in the relay's wire format.
    Frame(Bytes),
}

/// How to set up the path.
#[derive(Debug, Clone)]
pub struct Setup {
    /// The side that offers (the agent) creates the data channels.
    pub offerer: bool,
    /// STUN and TURN servers from the broker; none means host candidates only.
    pub ice_servers: Vec<IceServer>,
    /// The local address to bind the path's UDP socket to (a wildcard bind skips loopback):
    /// typically the address this side reaches the broker from.
    pub bind: IpAddr,
    /// The other side's addresses this side may send checks to.
    pub reach: Reach,
}

/// Why the path could not be set up.
#[derive(Debug, thiserror::Error)]
#[error("direct path: {0}")]
pub struct DirectError(pub String);

/// A direct path between the two sides of a session, whatever carries it.
#[async_trait::async_trait]
pub trait DirectPath: Debug + Send + Sync {
    /// Takes in a signal the other side sent through the broker.
    async fn signal(&self, signal: Signal) -> Result<(), DirectError>;
    /// Sends a screen or input frame (in the relay's wire format). False when the path cannot
    /// take it now (not up, too large, or the screen channel is full): send it on the relay.
    async fn send(&self, frame: Bytes) -> bool;
    /// Closes the path.
    async fn close(&self);
    /// Tells the other side that the session is over (so that it does not take the path's end
    /// for a failure), waits briefly until it has heard, and closes the path.
    async fn finish(&self) {
        self.close().await;
    }
}

/// Opens a direct path: signals for the other side go to `signals`, news to `events`.
pub async fn open(
    setup: Setup,
    signals: mpsc::UnboundedSender<Signal>,
    events: mpsc::UnboundedSender<DirectEvent>,
) -> Result<Arc<dyn DirectPath>, DirectError> {
    let path = webrtc_path::WebRtcPath::open(setup, signals, events).await?;
    Ok(path)
}
