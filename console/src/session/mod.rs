//! `join`: one console session from the join request to the end. Commands come from standard
//! input (typed, or piped with `--batch`) or from the viewer window; events go to standard
//! output and the window. [`terminal`] reads standard input (key by key into an interactive
//! shell); [`remote`] handles what the customer's side sends besides control messages.

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use tether_client::check::pong;
use tether_client::check_ui::check_with_progress;
use tether_client::{ClientError, Incoming, Printer, Sender, SessionEvent, stdin_chunks};
use tether_direct::{Link, News, Route};
use tether_protocol::{
    Capability, Channel, ClientMessage, ErrorCode, Frame, HEADER_LEN, JoinTarget, ServerMessage,
    ShellMsg, TicketId, probe_flags,
};
use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio::sync::mpsc;

use crate::commands::{self, Command};
use crate::desk::{DeskError, Target};
use crate::events::Event;
use crate::files::{self, Transfers};
use crate::screen::RemoteScreen;
use crate::shell::{self, RawMode, ShellState};
use crate::viewer::state::Shared;
use crate::viewer::{ViewerLink, ViewerMsg};

mod remote;
mod terminal;

/// What to join: a ticket number or a nine-digit code this technician issued.
pub fn parse_target(s: &str) -> Result<JoinTarget, String> {
    let digits: String = s.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    if digits.len() == 9 && digits.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(JoinTarget::Code(tether_protocol::Secret::new(digits)));
    }
    s.parse::<TicketId>().map(JoinTarget::Ticket)
}

/// Joins and runs the session until it ends. Returns an error only for failures, not for the
/// session ending.
pub async fn join(
    target: &Target,
    join: JoinTarget,
    printer: Printer,
    viewer: Option<ViewerLink>,
    p2p: bool,
) -> Result<(), DeskError> {
    let (mut conn, welcome) = target.connect().await?;
    if let Some(user) = welcome.user {
        printer.emit(&Event::Connected { user: user.name });
    }
    // Every session starts with a bandwidth check on both sides.
    check_with_progress(&mut conn, printer).await?;
    conn.send(&ClientMessage::Join { target: join }).await?;
    // The direct path binds where this side reaches the broker from.
    let mut link = Link::new(false, p2p, conn.local_ip());
    let (sender, mut receiver, writer) = conn.split();
    let mut s = Console {
        printer,
        sender,
        route: link.route(),
        updates: (0, 0),
        customer: "customer".into(),
        screen: match &viewer {
            Some(v) => RemoteScreen::sharing(v.shared.picture.clone()),
            None => RemoteScreen::default(),
        },
        screen_blocked: false,
        awaiting_draw: None,
        quitting: false,
        transfers: Transfers::new(printer),
        shell: ShellState::Closed,
        raw: None,
        interactive: std::io::stdin().is_terminal() && !printer.is_json(),
        held: Vec::new(),
        line: Vec::new(),
        input_ended: false,
        viewer: None,
    };
    let mut from_window = viewer.map(|v| {
        let ViewerLink { shared, rx } = v;
        s.viewer = Some(shared);
        rx
    });
    let mut chunks = stdin_chunks();
    let mut stdin_open = true;
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    let mut resized = if s.interactive { signal(SignalKind::window_change()).ok() } else { None };
    let result = loop {
        tokio::select! {
            news = link.next() => {
                if let Err(e) = s.direct(news).await {
                    break Err(e);
                }
            }
            incoming = receiver.recv() => match incoming {
                Ok(Incoming::Control(ServerMessage::DirectPath { ice_servers, timeout_secs, peer_networks })) => {
                    if let Some(why) = link.invited(ice_servers, timeout_secs, &peer_networks) {
                        s.emit(SessionEvent::Path { direct: false, reason: why });
                    }
                }
                Ok(Incoming::Control(ServerMessage::Signal {
                    signal: tether_protocol::Signal::Path { direct: false, .. },
                })) => {
                    // The customer's side went back to the relay, perhaps before this side
                    // noticed: an update it sent on the path that went down is lost.
                    if let Err(e) = s.ask_again().await {
                        break Err(e);
                    }
                }
                Ok(Incoming::Control(ServerMessage::Signal { signal })) => link.signal(signal).await,
                Ok(msg) => match s.incoming(msg).await {
                    Ok(true) => {
                        if let Err(e) = s.quit_when_done().await {
                            break Err(e);
                        }
                    }
                    Ok(false) => break Ok(()),
                    Err(e) => break Err(e),
                },
                Err(ClientError::Closed { reason, .. }) => {
                    let reason = reason.unwrap_or_else(|| "the broker closed the connection".into());
                    if s.quitting {
                        s.emit(Event::Ended { reason, code: None });
                        break Ok(());
                    }
                    break Err(ClientError::Closed { code: None, reason: Some(reason) });
                }
                Err(e) => break Err(e),
            },
            chunk = chunks.recv(), if stdin_open => {
                let result = match chunk {
                    Some(bytes) => s.stdin(&bytes).await,
                    // End of input is the end of the script: leave once its transfers and
                    // shell are done.
                    None => {
                        stdin_open = false;
                        s.end_of_input().await
                    }
                };
                if let Err(e) = result {
                    break Err(e);
                }
            }
            msg = from_viewer(&mut from_window), if from_window.is_some() => {
                let result = match msg {
                    Some(msg) => s.viewer_msg(msg).await,
                    None => {
                        from_window = None;
                        Ok(())
                    }
                };
                if let Err(e) = result {
                    break Err(e);
                }
            }
            _ = window_changed(&mut resized), if s.raw.is_some() => {
                let (cols, rows) = shell::terminal_size();
                if let Err(e) = s.sender.frame(shell::control(&ShellMsg::Resize { cols, rows })).await {
                    break Err(e);
                }
            }
            _ = tick.tick() => {
                if let Err(e) = s.tick().await {
                    break Err(e);
                }
            }
            _ = tokio::signal::ctrl_c() => {
                if let Err(e) = s.run(Command::Quit).await {
                    break Err(e);
                }
            }
        }
    };
    link.finish().await;
    s.emit_updates();
    drop(s);
    writer.finish().await;
    result.map_err(DeskError::from)
}

async fn from_viewer(rx: &mut Option<mpsc::UnboundedReceiver<ViewerMsg>>) -> Option<ViewerMsg> {
    match rx {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

async fn window_changed(signal: &mut Option<Signal>) {
    match signal {
        Some(signal) => {
            signal.recv().await;
        }
        None => std::future::pending().await,
    }
}

struct Console {
    printer: Printer,
    sender: Sender,
    /// Where screen requests and input go: the direct path while it is up, else `sender`.
    route: Route,
    /// Screen updates received through the broker and on the direct path.
    updates: (u64, u64),
    customer: String,
    screen: RemoteScreen,
    /// Screen sharing is held back by a failed bandwidth check.
    screen_blocked: bool,
    /// The update the viewer has yet to show (the next is asked for once it has).
    awaiting_draw: Option<u32>,
    /// The viewer window, if there is one.
    viewer: Option<Arc<Shared>>,
    quitting: bool,
    transfers: Transfers,
    shell: ShellState,
    /// The terminal in raw mode while an interactive shell is open.
    raw: Option<RawMode>,
    /// A person at a terminal (not a script).
    interactive: bool,
    /// What the customer has allowed, as last heard.
    held: Vec<Capability>,
    /// Typed bytes not yet ending in a newline.
    line: Vec<u8>,
    /// Standard input has ended: quit once transfers and the shell are done.
    input_ended: bool,
}

impl Console {
    /// Sends a screen request or input frame: direct while the path is up, else relayed.
    async fn fast(&self, frame: bytes::Bytes) -> Result<(), ClientError> {
        if self.route.send(&frame).await {
            return Ok(());
        }
        self.sender.frame(frame).await
    }

    /// How many screen updates came which way so far.
    fn emit_updates(&self) {
        let (relayed, direct) = self.updates;
        self.emit(Event::Updates { relayed, direct });
    }

    /// Asks for the screen again, without waiting for an update that may have been lost on
    /// the way, if the screen is shared at all.
    async fn ask_again(&mut self) -> Result<(), ClientError> {
        if self.held.contains(&Capability::View) && !self.screen_blocked {
            self.awaiting_draw = None;
            self.ask_screen(false).await?;
        }
        Ok(())
    }

    /// Asks for the next screen update (a keyframe if `keyframe`).
    async fn ask_screen(&mut self, keyframe: bool) -> Result<(), ClientError> {
        let request = self.screen.request(keyframe);
        self.fast(request).await
    }

    /// News from the direct path.
    async fn direct(&mut self, news: News) -> Result<(), ClientError> {
        let (direct, reason) = match news {
            News::Signal(signal) => {
                return self.sender.control(&ClientMessage::Signal { signal }).await;
            }
            // Only the customer's screen comes this way.
            News::Frame(bytes) => {
                return match tether_protocol::FrameHeader::decode(&bytes) {
                    Ok(h) if h.channel == Channel::Screen => {
                        self.updates.1 += 1;
                        self.screen_update(&bytes).await
                    }
                    _ => Ok(()),
                };
            }
            News::Up(why) => (true, why),
            News::Down(why) => (false, why),
        };
        self.emit(SessionEvent::Path { direct, reason: reason.clone() });
        self.emit_updates();
        let signal = tether_protocol::Signal::Path { direct, reason };
        self.sender.control(&ClientMessage::Signal { signal }).await?;
        if !direct {
            // A request in flight on the path that went down may be lost.
            self.ask_again().await?;
        }
        Ok(())
    }

    /// Reports an event: printed, and shown in the window if there is one.
    fn emit(&self, event: impl Into<Event>) {
        let event = &event.into();
        self.printer.emit(event);
        if let Some(viewer) = &self.viewer {
            viewer.state().record(event);
            viewer.repaint();
        }
    }

    /// Reports a transfer's news.
    fn emit_file(&self, event: &files::FileEvent) {
        self.printer.emit(event);
        if let Some(viewer) = &self.viewer {
            viewer.state().notice(tether_client::Sentence::sentence(event));
            viewer.repaint();
        }
    }

    /// Something from the window.
    async fn viewer_msg(&mut self, msg: ViewerMsg) -> Result<(), ClientError> {
        match msg {
            ViewerMsg::Command(cmd) => self.run(cmd).await,
            ViewerMsg::Drawn(seq) if self.awaiting_draw == Some(seq) => {
                self.awaiting_draw = None;
                self.ask_screen(false).await
            }
            ViewerMsg::Drawn(_) => Ok(()),
            ViewerMsg::Closed => {
                self.viewer = None;
                self.run(Command::Quit).await
            }
            ViewerMsg::Failed(why) => {
                self.viewer = None;
                self.emit(SessionEvent::Notice { message: format!("No window ({why}).") });
                match self.awaiting_draw.take() {
                    Some(_) => self.ask_screen(false).await,
                    None => Ok(()),
                }
            }
        }
    }

    /// Handles one message from the broker; false when the session is over.
    async fn incoming(&mut self, incoming: Incoming) -> Result<bool, ClientError> {
        match incoming {
            Incoming::Control(msg) => return self.control(msg).await,
            Incoming::Frame(header, bytes) => match header.channel {
                Channel::Chat => {
                    let text = String::from_utf8_lossy(&bytes[HEADER_LEN..]).into_owned();
                    self.emit(SessionEvent::Chat { from: self.customer.clone(), text });
                }
                Channel::Probe if header.flags == probe_flags::PING => {
                    self.sender.frame(pong(&bytes)).await?
                }
                Channel::Screen => {
                    self.updates.0 += 1;
                    self.screen_update(&bytes).await?
                }
                Channel::File => self.file_frame(header.flags, &bytes[HEADER_LEN..]).await?,
                Channel::Clipboard => {
                    let text = String::from_utf8_lossy(&bytes[HEADER_LEN..]).into_owned();
                    self.emit(Event::Clipboard { text });
                }
                Channel::Shell => self.shell_frame(header.flags, &bytes[HEADER_LEN..]),
                other => tracing::debug!(channel = other.name(), "frame ignored"),
            },
        }
        Ok(true)
    }

    async fn control(&mut self, msg: ServerMessage) -> Result<bool, ClientError> {
        match msg {
            ServerMessage::Waiting { ticket } => {
                self.emit(SessionEvent::Waiting { ticket: ticket.to_string() })
            }
            ServerMessage::Paired(info) => {
                self.customer = info.peer.name.clone();
                self.emit(Event::Paired {
                    session: info.id,
                    ticket: info.ticket.to_string(),
                    customer: info.peer.name,
                });
                // A technician always wants to see; the customer decides.
                self.sender
                    .control(&ClientMessage::ConsentRequest { capability: Capability::View })
                    .await?;
            }
            ServerMessage::ConsentChanged { capability, granted } => {
                self.held.retain(|c| *c != capability);
                if granted {
                    self.held.push(capability);
                }
                self.emit(SessionEvent::Consent { capability, granted });
                if !granted {
                    self.lost(capability);
                }
            }
            ServerMessage::Error { code, message, fatal } => {
                if fatal {
                    return Err(ClientError::Refused { code, message });
                }
                self.emit(Event::error(code.name(), message));
                // A shell or transfer the broker refused for want of consent is over.
                if code == ErrorCode::ConsentRequired {
                    for cap in [Capability::Files, Capability::Shell] {
                        if !self.held.contains(&cap) {
                            self.lost(cap);
                        }
                    }
                }
            }
            ServerMessage::SessionEnded { reason, code } => {
                self.raw = None;
                for event in self.transfers.drop_all("the session ended") {
                    self.emit_file(&event);
                }
                self.emit(Event::Ended { reason, code });
                return Ok(false);
            }
            ServerMessage::Recorded { what } => self.emit(Event::Recorded { what }),
            ServerMessage::BandwidthGate { agent, console, screen_blocked, reason } => {
                self.screen_blocked = screen_blocked;
                self.emit(Event::Bandwidth {
                    agent: agent.map(|c| c.verdict),
                    console: console.map(|c| c.verdict),
                    screen_blocked,
                    reason,
                })
            }
            ServerMessage::Quality { rtt_ms, received_kbps, sent_kbps } => {
                self.emit(Event::Quality { rtt_ms, received_kbps, sent_kbps })
            }
            ServerMessage::ApprovalDecided { what, allowed } => {
                self.emit(Event::Approval { what, allowed })
            }
            ServerMessage::Helper { name, mode, joined } => {
                self.emit(SessionEvent::Helper { name, mode, joined })
            }
            ServerMessage::QualityWarning { message } => {
                self.emit(Event::QualityWarning { message })
            }
            ServerMessage::PeerAway { grace_secs } => self.emit(Event::PeerAway { grace_secs }),
            ServerMessage::PeerBack => {
                self.emit(Event::PeerBack);
                // An update or request may have been lost with the connection.
                self.ask_again().await?;
            }
            ServerMessage::Confirmed { solved } => self.emit(SessionEvent::Confirmed { solved }),
            ServerMessage::ShuttingDown { grace_secs } => self.emit(SessionEvent::Notice {
                message: format!("the broker is shutting down; the session ends in {grace_secs} s"),
            }),
            other => tracing::debug!(?other, "ignored"),
        }
        Ok(true)
    }

    async fn typed(&mut self, line: &str) -> Result<(), ClientError> {
        match line.trim() {
            "help" | "?" => {
                self.emit(SessionEvent::Notice { message: commands::USAGE.into() });
                Ok(())
            }
            _ => match commands::parse(line) {
                Ok(Some(cmd)) => self.run(cmd).await,
                Ok(None) => Ok(()),
                Err(message) => {
                    self.emit(Event::error("bad_command", message));
                    Ok(())
                }
            },
        }
    }

    async fn run(&mut self, cmd: Command) -> Result<(), ClientError> {
        match cmd {
            Command::Chat(text) => match Frame::encode(Channel::Chat, 0, text.as_bytes()) {
                Ok(frame) if frame.len() <= Channel::Chat.max_frame_bytes() => {
                    self.sender.frame(frame).await?
                }
                _ => self.emit(Event::error("bad_command", "chat message too long")),
            },
            Command::Request(capability) => {
                self.sender.control(&ClientMessage::ConsentRequest { capability }).await?
            }
            Command::Release(capability) => {
                self.sender.control(&ClientMessage::ConsentRelease { capability }).await?
            }
            Command::Input(events) => {
                for event in events {
                    // The payload of a parsed event is tens of bytes; encoding cannot overflow.
                    if let Ok(frame) =
                        Frame::encode(Channel::Input, event.kind_flag(), &event.encode())
                    {
                        self.fast(frame).await?;
                    }
                }
            }
            Command::Snapshot(path) => {
                if let Some(written) = self.screen.snapshot(path) {
                    self.snapshot_written(written);
                }
            }
            Command::Clipboard(text) => {
                match Frame::encode(Channel::Clipboard, 0, text.as_bytes()) {
                    Ok(frame) if frame.len() <= Channel::Clipboard.max_frame_bytes() => {
                        self.sender.frame(frame).await?
                    }
                    _ => self.emit(Event::error("bad_command", "clipboard text too long")),
                }
            }
            Command::Note(text) => self.sender.control(&ClientMessage::Note { text }).await?,
            Command::InviteTechnician(name, mode) => {
                self.sender.control(&ClientMessage::InviteTechnician { name, mode }).await?
            }
            Command::Transfer(to) => self.sender.control(&ClientMessage::Transfer { to }).await?,
            Command::OverrideBandwidth(reason) => {
                self.sender.control(&ClientMessage::OverrideBandwidth { reason }).await?
            }
            Command::Resolve(text) => self.sender.control(&ClientMessage::Resolve { text }).await?,
            Command::SendFile(path) => {
                let step = self.transfers.send(&path).await;
                self.apply(step).await?
            }
            Command::GetFile(remote, dir) => {
                let step = self.transfers.get(&remote, dir);
                self.apply(step).await?
            }
            Command::ShellOpen => {
                if self.shell != ShellState::Closed {
                    self.emit(Event::error("bad_command", "a shell is already open"));
                } else {
                    let (cols, rows) = shell::terminal_size();
                    self.shell = ShellState::Opening;
                    self.sender.frame(shell::control(&ShellMsg::Open { cols, rows })).await?
                }
            }
            Command::ShellSend(text) => {
                if self.shell == ShellState::Closed {
                    self.printer
                        .emit(&Event::error("bad_command", "no shell is open; type 'shell' first"));
                } else {
                    for frame in shell::input(format!("{text}\n").as_bytes()) {
                        self.sender.frame(frame).await?;
                    }
                }
            }
            Command::ShellClose => {
                if self.shell != ShellState::Closed {
                    let close =
                        ShellMsg::Close { reason: "the technician closed the shell".into() };
                    self.sender.frame(shell::control(&close)).await?
                }
            }
            Command::Path => self.emit_updates(),
            Command::Quit => {
                if !self.quitting {
                    self.quitting = true;
                    self.sender.control(&ClientMessage::Leave { reason: None }).await?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_codes_or_tickets() {
        assert!(matches!(parse_target("123 456 789"), Ok(JoinTarget::Code(_))));
        assert_eq!(parse_target("T12").unwrap(), JoinTarget::Ticket(TicketId(12)));
        assert_eq!(parse_target("12").unwrap(), JoinTarget::Ticket(TicketId(12)));
        assert!(parse_target("banana").is_err());
    }
}
