//! The direct path's signalling during a session: offers, answers and ICE candidates pass
//! from one side to the other, bounded in size and only where the broker allows direct paths;
//! each is recorded in the transcript by kind (not content), and a side reporting which path
//! its screen and input use is recorded with its reason.

use std::sync::Arc;

use serde_json::json;
use tether_protocol::{ErrorCode, MAX_SIGNAL_BYTES, Role, ServerMessage, Signal};

use tether_transcript::Entry;

use super::{Conn, Refusal};
use crate::session::Session;

impl Conn {
    /// Relays `signal` from the side in `role` to the other side, and records it.
    pub(super) async fn signal(
        &self,
        session: &Arc<Session>,
        role: Role,
        signal: Signal,
    ) -> Result<(), Refusal> {
        if !self.shared.config.p2p.enabled {
            self.complain(ErrorCode::Forbidden, "direct paths are turned off on this broker");
            return Ok(());
        }
        if !signal.fits() {
            self.complain(
                ErrorCode::TooLarge,
                format!("a {} is limited to {MAX_SIGNAL_BYTES} bytes", signal.kind()),
            );
            return Ok(());
        }
        let entry = match &signal {
            Signal::Path { direct, reason } => {
                let path = if *direct { "direct" } else { "relay" };
                tracing::info!(path, %reason, "path in use");
                let reason: String = reason.chars().take(200).collect();
                json!({ "path": path, "reason": reason })
            }
            other => json!({ "kind": other.kind() }),
        };
        let event = if matches!(signal, Signal::Path { .. }) { "path" } else { "signal" };
        session.transcript.record(Entry::now(session.actor(role), event, entry)).await;
        session.peer_outbox(role).control(&ServerMessage::Signal { signal })?;
        Ok(())
    }
}
