//! A second technician in a running session: sees the screen and the whole conversation,
//! chats with everyone, and (when helping, and while the customer grants control) drives the
//! mouse and keyboard. The session belongs to its first technician: a helper leaving ends
//! nothing but the helper's own part.

use std::sync::Arc;

use bytes::Bytes;
use serde_json::json;
use tether_protocol::{
    Capability, Channel, ClientMessage, ErrorCode, Frame, HEADER_LEN, HelperMode, PeerInfo, Role,
    ScreenRequest, ServerMessage, SessionInfo, screen_flags,
};

use tether_transcript::{Actor, Entry};

use super::{Conn, Inbound, Phase, Refusal};
use crate::session::{Admission, Helper, Session};

impl Conn {
    /// The `help` phase: joins `session` as a helper until the helper leaves or the session
    /// ends.
    pub(super) async fn help(
        &mut self,
        session: &Arc<Session>,
        name: &str,
        mode: HelperMode,
    ) -> Result<Phase, Refusal> {
        tracing::Span::current().record("session.id", session.id.as_str());
        let info = SessionInfo {
            id: session.id.clone(),
            ticket: session.ticket,
            peer: PeerInfo { role: Role::Agent, name: session.customer.clone() },
        };
        self.outbox.control(&ServerMessage::Paired(info))?;
        let me = Helper { conn_id: self.id, name: name.into(), mode, outbox: self.outbox.clone() };
        session.helpers.join(me);
        self.announce(session, name, mode, true).await;
        tracing::info!(?mode, "helper joined");
        let result = self.help_loop(session, name, mode).await;
        if let Some(gone) = session.helpers.leave(self.id) {
            self.announce(session, &gone.name, gone.mode, false).await;
        }
        result.map(|()| Phase::Done)
    }

    async fn announce(&self, session: &Arc<Session>, name: &str, mode: HelperMode, joined: bool) {
        let msg = ServerMessage::Helper { name: name.into(), mode, joined };
        session.outbox(Role::Agent).notice(&msg);
        session.outbox(Role::Console).notice(&msg);
        session.helpers.notice(&msg);
        let event = if joined { "helper_joined" } else { "helper_left" };
        let mode = if mode == HelperMode::Help { "help" } else { "watch" };
        let entry = Entry::now(Actor::of(Role::Console, name), event, json!({ "mode": mode }));
        session.transcript.record(entry).await;
    }

    async fn help_loop(
        &mut self,
        session: &Arc<Session>,
        name: &str,
        mode: HelperMode,
    ) -> Result<(), Refusal> {
        loop {
            let inbound = tokio::select! {
                biased;
                _ = session.ended() => return Ok(()),
                inbound = self.recv() => inbound?,
            };
            match inbound {
                Inbound::Closed | Inbound::Control(ClientMessage::Leave { .. }) => return Ok(()),
                Inbound::Frame(h, bytes) => self.helper_frame(session, name, mode, h.channel, h.flags, bytes).await,
                Inbound::Control(other) => self.complain(
                    ErrorCode::Forbidden,
                    format!("{} is for the session's technician; a helper chats and, when helping, uses input", other.kind()),
                ),
            }
        }
    }

    async fn helper_frame(
        &mut self,
        session: &Arc<Session>,
        name: &str,
        mode: HelperMode,
        channel: Channel,
        flags: u8,
        bytes: Bytes,
    ) {
        match channel {
            Channel::Chat
                if bytes.len() <= channel.max_frame_bytes()
                    && std::str::from_utf8(&bytes[HEADER_LEN..]).is_ok() =>
            {
                let text = String::from_utf8_lossy(&bytes[HEADER_LEN..]).into_owned();
                let entry =
                    Entry::now(Actor::of(Role::Console, name), "chat", json!({ "text": text }));
                session.transcript.record(entry).await;
                let _ = session.outbox(Role::Agent).frame(channel, bytes.clone());
                let _ = session.outbox(Role::Console).frame(channel, bytes.clone());
                session.helpers.frame(channel, &bytes, Some(self.id));
            }
            Channel::Input
                if mode == HelperMode::Help && bytes.len() <= channel.max_frame_bytes() =>
            {
                match session.admit(Role::Console, channel, bytes.len()) {
                    Admission::Forward => {
                        session.counters.count_input(flags);
                        let _ = session.outbox(Role::Agent).frame(channel, bytes);
                    }
                    _ => self.complain(
                        ErrorCode::ConsentRequired,
                        format!(
                            "input refused: the customer has not granted {}",
                            Capability::Control
                        ),
                    ),
                }
            }
            // A helper who missed updates asks for a keyframe, which everyone then gets; its
            // other requests are not its to make (the lead technician's console pulls).
            Channel::Screen if flags == screen_flags::REQUEST => {
                let keyframe =
                    ScreenRequest::decode(&bytes[HEADER_LEN..]).is_some_and(|r| r.keyframe);
                if keyframe
                    && matches!(
                        session.admit(Role::Console, channel, bytes.len()),
                        Admission::Forward
                    )
                {
                    let request = ScreenRequest { have: None, keyframe: true };
                    if let Ok(frame) =
                        Frame::encode(Channel::Screen, screen_flags::REQUEST, &request.encode())
                    {
                        let _ = session.outbox(Role::Agent).frame(channel, frame);
                    }
                }
            }
            Channel::Probe => {}
            other => self.complain(
                ErrorCode::Forbidden,
                format!(
                    "a {} helper may not send on the {} channel",
                    if mode == HelperMode::Help { "helping" } else { "watching" },
                    other.name()
                ),
            ),
        }
    }
}
