//! The `relay` phase: until the session ends, frames go from this side to the other and
//! control messages are handled. On the relay path the reader decodes only the frame header,
//! checks direction, size and consent, and hands the very same `Bytes` to the peer's outbox.
//! Every few seconds the live quality of this side's connection is sampled.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde_json::json;
use tether_protocol::{
    Channel, ErrorCode, FrameHeader, HEADER_LEN, Role, ServerMessage, probe_flags, screen_flags,
};
use tether_transcript::{Actor, Entry};

use super::quality::Live;
use super::{Conn, Inbound, Phase, Refusal};
use crate::session::{Admission, Attachment, Session};

impl Conn {
    /// Relays `session` until it ends for this side. A customer handed over to another
    /// technician waits for them next; everyone else is done.
    pub(super) async fn relay(
        &mut self,
        role: Role,
        session: Arc<Session>,
    ) -> Result<Phase, Refusal> {
        self.relay_until_ended(&session, role).await?;
        match session.helpers.handover() {
            Some(to) if role == Role::Agent => {
                tracing::info!(%to, "customer handed over; waiting for the new technician");
                let (ticket, name) = (session.ticket, session.customer.clone());
                Ok(Phase::Wait { role, ticket, name })
            }
            _ => Ok(Phase::Done),
        }
    }

    async fn relay_until_ended(
        &mut self,
        session: &Arc<Session>,
        role: Role,
    ) -> Result<(), Refusal> {
        let shared = self.shared.clone();
        let who = match role {
            Role::Agent => "the customer",
            Role::Console => "the technician",
        };
        let grace = Duration::from_secs(shared.config.limits.shutdown_grace_secs);
        let mut shutdown_at: Option<tokio::time::Instant> = None;
        let every = Duration::from_secs(shared.config.bandwidth.quality_interval_secs);
        let mut sampling = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        let mut live = Live::new();
        // The customer's connection stops relaying when a resumed one takes its place.
        let mut attachment = session.watch_attachment();
        let mine = *attachment.borrow_and_update();
        // What ends the relay is waited for by futures made once, not once a message: each
        // would register (and on the next message unregister) a waiter behind a lock.
        let ended = session.ended();
        let replaced = replaced(&mut attachment, mine);
        let shutdown = shared.shutdown.cancelled();
        tokio::pin!(ended, replaced, shutdown);
        loop {
            tokio::select! {
                biased;
                () = &mut ended => return Ok(()),
                () = &mut replaced, if role == Role::Agent => {
                    tracing::info!("a resumed connection took this one's place");
                    return Ok(());
                }
                _ = sampling.tick() => {
                    if let Some(ping) = live.ping(Instant::now()) {
                        self.outbox.frame(Channel::Probe, ping)?;
                    }
                }
                () = &mut shutdown, if shutdown_at.is_none() => {
                    self.outbox.notice(&ServerMessage::ShuttingDown { grace_secs: grace.as_secs() });
                    shutdown_at = Some(tokio::time::Instant::now() + grace);
                }
                _ = sleep_until(shutdown_at) => {
                    shared.end_session(session, "the broker shut down", Some(ErrorCode::ShuttingDown));
                    return Ok(());
                }
                inbound = self.recv() => match inbound {
                    Ok(Inbound::Frame(header, bytes)) if header.channel == Channel::Probe => {
                        if header.flags == probe_flags::PONG {
                            self.sampled(session, role, &mut live, &bytes[HEADER_LEN..]).await?;
                        }
                    }
                    Ok(Inbound::Frame(header, bytes)) => self.relay_frame(session, role, header, bytes).await,
                    Ok(Inbound::Control(msg)) => {
                        if let Some(reason) = self.session_control(session, role, msg).await? {
                            shared.end_session(session, format!("{who} {reason}"), None);
                            return Ok(());
                        }
                    }
                    Ok(Inbound::Closed) => {
                        shared.end_session(session, format!("{who} disconnected"), Some(ErrorCode::PeerGone));
                        return Ok(());
                    }
                    Err(r) => {
                        let lost = matches!(r.code, ErrorCode::PeerGone | ErrorCode::Timeout);
                        if role == Role::Agent && lost && self.await_resume(session, mine, &r.message).await {
                            return Err(r);
                        }
                        let reason = if r.code == ErrorCode::Unauthenticated {
                            format!("{who} was signed out: {}", r.message)
                        } else {
                            format!("{who}'s connection failed: {}", r.message)
                        };
                        shared.end_session(session, reason, Some(r.code));
                        return Err(r);
                    }
                },
            }
        }
    }

    /// A live-quality pong from this side: tell it how its connection is doing, and warn both
    /// sides if it has stayed too slow.
    async fn sampled(
        &mut self,
        session: &Arc<Session>,
        role: Role,
        live: &mut Live,
        payload: &[u8],
    ) -> Result<(), Refusal> {
        let c = &session.counters;
        let peer = if role == Role::Agent { Role::Console } else { Role::Agent };
        let sent = c.relayed_from(role).load(Ordering::Relaxed);
        let received = c.relayed_from(peer).load(Ordering::Relaxed);
        let bw = &self.shared.config.bandwidth;
        let max_rtt = bw.thresholds(role).max_rtt_ms;
        let Some(sample) =
            live.pong(payload, Instant::now(), sent, received, max_rtt, bw.quality_warn_after)
        else {
            return Ok(());
        };
        self.outbox.control(&sample.quality)?;
        if let Some(warning) = sample.warning {
            let who = if role == Role::Agent { "the customer" } else { "the technician" };
            let message = format!("{who}'s connection: {warning}");
            tracing::info!(%message, "quality warning");
            let data = json!({ "message": message });
            session.transcript.record(Entry::now(Actor::broker(), "quality_warning", data)).await;
            let msg = ServerMessage::QualityWarning { message };
            session.outbox(Role::Agent).control(&msg)?;
            session.outbox(Role::Console).control(&msg)?;
        }
        Ok(())
    }

    /// The hot path: header checks, consent, then the same bytes onto the peer's queue.
    async fn relay_frame(
        &mut self,
        session: &Arc<Session>,
        role: Role,
        header: FrameHeader,
        bytes: Bytes,
    ) {
        let channel = header.channel;
        if !channel.may_send(role) {
            return self.complain(
                ErrorCode::WrongDirection,
                format!("the {} may not send on the {} channel", role.name(), channel.name()),
            );
        }
        if channel == Channel::Screen && !screen_frame_fits(role, header.flags, bytes.len()) {
            return self.complain(
                ErrorCode::Malformed,
                "screen frames are updates from the customer or requests from the technician",
            );
        }
        if bytes.len() > channel.max_frame_bytes() {
            return self.complain(
                ErrorCode::TooLarge,
                format!(
                    "{} frames are limited to {} bytes",
                    channel.name(),
                    channel.max_frame_bytes()
                ),
            );
        }
        let text = matches!(channel, Channel::Chat | Channel::Clipboard);
        if text && std::str::from_utf8(&bytes[HEADER_LEN..]).is_err() {
            return self
                .complain(ErrorCode::Malformed, format!("{} text must be UTF-8", channel.name()));
        }
        match session.admit(role, channel, bytes.len()) {
            Admission::Forward => {
                match channel {
                    // Chat is documented in full; input only counted by kind, never its keys.
                    Channel::Chat => {
                        let text = String::from_utf8_lossy(&bytes[HEADER_LEN..]).into_owned();
                        let entry =
                            Entry::now(session.actor(role), "chat", json!({ "text": text }));
                        session.transcript.record(entry).await;
                    }
                    Channel::Input => session.counters.count_input(header.flags),
                    // Files by name, size, digest and outcome; the clipboard by size and
                    // digest; the shell in full.
                    Channel::File | Channel::Shell | Channel::Clipboard => {
                        let payload = &bytes[HEADER_LEN..];
                        let event = match channel {
                            Channel::File => session.channel_log.file(header.flags, payload),
                            Channel::Shell => {
                                session.channel_log.shell(role, header.flags, payload)
                            }
                            _ => Some(tether_transcript::channels::clipboard(payload)),
                        };
                        if let Some((event, data)) = event {
                            let entry = Entry::now(session.actor(role), event, data);
                            session.transcript.record(entry).await;
                        }
                    }
                    _ => {}
                }
                // Second technicians see the screen (not the lead's requests for it) and the
                // whole conversation.
                if channel == Channel::Chat || (channel == Channel::Screen && role == Role::Agent) {
                    session.helpers.frame(channel, &bytes, None);
                }
                let stall = Duration::from_secs(self.shared.config.limits.stall_timeout_secs);
                let queued = session.peer_outbox(role).frame_or_wait(channel, bytes, stall).await;
                if let Err(overflow) = queued {
                    let peer = if role == Role::Agent { "technician" } else { "customer" };
                    self.shared.end_session(
                        session,
                        format!("the {peer} fell too far behind ({overflow})"),
                        Some(ErrorCode::Overflow),
                    );
                }
            }
            Admission::Drop => {}
            Admission::Refuse(cap) => {
                tracing::debug!(channel = channel.name(), "frame refused without consent");
                self.complain(
                    ErrorCode::ConsentRequired,
                    format!("{} refused: the customer has not granted {cap}", channel.name()),
                );
            }
        }
    }
}

/// Screen updates come only from the agent; the console sends only well-formed requests.
fn screen_frame_fits(role: Role, flags: u8, len: usize) -> bool {
    match role {
        Role::Agent => flags == screen_flags::UPDATE,
        Role::Console => {
            flags == screen_flags::REQUEST
                && len == HEADER_LEN + tether_protocol::SCREEN_REQUEST_LEN
        }
    }
}

/// Resolves when a connection other than `mine` carries the customer's side.
async fn replaced(watch: &mut tokio::sync::watch::Receiver<Attachment>, mine: Attachment) {
    if watch.wait_for(|a| a.generation != mine.generation).await.is_err() {
        std::future::pending::<()>().await;
    }
}

async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
