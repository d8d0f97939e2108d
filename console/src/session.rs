//! `join`: one console session from the join request to the end. Commands come from standard
//! input (typed, or piped with `--batch`); events go to standard output.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use tether_client::check::pong;
use tether_client::check_ui::check_with_progress;
use tether_client::{ClientError, Incoming, Printer, Sender, stdin_lines};
use tether_protocol::{
    Capability, Channel, ClientMessage, Frame, HEADER_LEN, JoinTarget, ServerMessage, TicketId,
    probe_flags,
};

use crate::commands::{self, Command};
use crate::desk::{DeskError, Target};
use crate::events::Event;
use crate::screen::Latest;

/// How long a snapshot waits for a fresh frame.
const SNAPSHOT_WAIT: Duration = Duration::from_secs(15);

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
pub async fn join(target: &Target, join: JoinTarget, printer: Printer) -> Result<(), DeskError> {
    let (mut conn, welcome) = target.connect().await?;
    if let Some(user) = welcome.user {
        printer.emit(&Event::Connected { user: user.name });
    }
    // Every session starts with a bandwidth check on both sides.
    check_with_progress(&mut conn, printer).await?;
    conn.send(&ClientMessage::Join { target: join }).await?;
    let (sender, mut receiver, writer) = conn.split();
    let mut s = Console {
        printer,
        sender,
        customer: "customer".into(),
        latest: None,
        snapshotted: None,
        snapshots: Vec::new(),
        quitting: false,
    };
    let mut lines = stdin_lines();
    let mut stdin_open = true;
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    let result = loop {
        tokio::select! {
            incoming = receiver.recv() => match incoming {
                Ok(msg) => match s.incoming(msg).await {
                    Ok(true) => {}
                    Ok(false) => break Ok(()),
                    Err(e) => break Err(e),
                },
                Err(ClientError::Closed { reason, .. }) => {
                    let reason = reason.unwrap_or_else(|| "the broker closed the connection".into());
                    if s.quitting {
                        s.printer.emit(&Event::Ended { reason, code: None });
                        break Ok(());
                    }
                    break Err(ClientError::Closed { code: None, reason: Some(reason) });
                }
                Err(e) => break Err(e),
            },
            line = lines.recv(), if stdin_open => {
                let result = match line {
                    Some(line) => s.typed(&line).await,
                    // End of input is the end of the script: leave.
                    None => {
                        stdin_open = false;
                        s.run(Command::Quit).await
                    }
                };
                if let Err(e) = result {
                    break Err(e);
                }
            }
            _ = tick.tick() => s.expire_snapshots(),
            _ = tokio::signal::ctrl_c() => {
                if let Err(e) = s.run(Command::Quit).await {
                    break Err(e);
                }
            }
        }
    };
    drop(s);
    writer.finish().await;
    result.map_err(DeskError::from)
}

struct Console {
    printer: Printer,
    sender: Sender,
    customer: String,
    latest: Option<Latest>,
    /// Sequence number of the last frame written as a snapshot.
    snapshotted: Option<u32>,
    /// Snapshots waiting for a fresh frame.
    snapshots: Vec<(PathBuf, Instant)>,
    quitting: bool,
}

impl Console {
    /// Handles one message from the broker; false when the session is over.
    async fn incoming(&mut self, incoming: Incoming) -> Result<bool, ClientError> {
        match incoming {
            Incoming::Control(msg) => return self.control(msg).await,
            Incoming::Frame(header, bytes) => match header.channel {
                Channel::Chat => {
                    let text = String::from_utf8_lossy(&bytes[HEADER_LEN..]).into_owned();
                    self.printer.emit(&Event::Chat { from: self.customer.clone(), text });
                }
                Channel::Probe if header.flags == probe_flags::PING => {
                    self.sender.frame(pong(&bytes)).await?
                }
                Channel::Screen => match Latest::from_message(bytes) {
                    Ok(frame) => self.frame(frame),
                    Err(e) => tracing::debug!(%e, "bad screen frame dropped"),
                },
                other => tracing::debug!(channel = other.name(), "frame ignored"),
            },
        }
        Ok(true)
    }

    async fn control(&mut self, msg: ServerMessage) -> Result<bool, ClientError> {
        match msg {
            ServerMessage::Waiting { ticket } => {
                self.printer.emit(&Event::Waiting { ticket: ticket.to_string() })
            }
            ServerMessage::Paired(info) => {
                self.customer = info.peer.name.clone();
                self.printer.emit(&Event::Paired {
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
                self.printer.emit(&Event::Consent { capability, granted })
            }
            ServerMessage::Error { code, message, fatal } => {
                if fatal {
                    return Err(ClientError::Refused { code, message });
                }
                self.printer.emit(&Event::error(code.name(), message));
            }
            ServerMessage::SessionEnded { reason, code } => {
                self.printer.emit(&Event::Ended { reason, code });
                return Ok(false);
            }
            ServerMessage::Recorded { what } => self.printer.emit(&Event::Recorded { what }),
            ServerMessage::BandwidthGate { agent, console, screen_blocked, reason } => {
                self.printer.emit(&Event::Bandwidth {
                    agent: agent.map(|c| c.verdict),
                    console: console.map(|c| c.verdict),
                    screen_blocked,
                    reason,
                })
            }
            ServerMessage::Quality { rtt_ms, received_kbps, sent_kbps } => {
                self.printer.emit(&Event::Quality { rtt_ms, received_kbps, sent_kbps })
            }
            ServerMessage::ApprovalDecided { what, allowed } => {
                self.printer.emit(&Event::Approval { what, allowed })
            }
            ServerMessage::Helper { name, mode, joined } => {
                self.printer.emit(&Event::Helper { name, mode, joined })
            }
            ServerMessage::QualityWarning { message } => {
                self.printer.emit(&Event::QualityWarning { message })
            }
            ServerMessage::Confirmed { solved } => self.printer.emit(&Event::Confirmed { solved }),
            ServerMessage::ShuttingDown { grace_secs } => self.printer.emit(&Event::Notice {
                message: format!("the broker is shutting down; the session ends in {grace_secs} s"),
            }),
            other => tracing::debug!(?other, "ignored"),
        }
        Ok(true)
    }

    fn frame(&mut self, frame: Latest) {
        let resized =
            self.latest.as_ref().is_none_or(|l| (l.width, l.height) != (frame.width, frame.height));
        if resized {
            self.printer.emit(&Event::Screen { width: frame.width, height: frame.height });
        }
        self.latest = Some(frame);
        for (path, _) in std::mem::take(&mut self.snapshots) {
            self.snapshot_now(path);
        }
    }

    async fn typed(&mut self, line: &str) -> Result<(), ClientError> {
        match line.trim() {
            "help" | "?" => {
                self.printer.emit(&Event::Notice { message: commands::USAGE.into() });
                Ok(())
            }
            _ => match commands::parse(line) {
                Ok(Some(cmd)) => self.run(cmd).await,
                Ok(None) => Ok(()),
                Err(message) => {
                    self.printer.emit(&Event::error("bad_command", message));
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
                _ => self.printer.emit(&Event::error("bad_command", "chat message too long")),
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
                        self.sender.frame(frame).await?;
                    }
                }
            }
            Command::Snapshot(path) => {
                let fresh = self.latest.as_ref().is_some_and(|l| Some(l.seq) != self.snapshotted);
                if fresh {
                    self.snapshot_now(path);
                } else {
                    self.snapshots.push((path, Instant::now() + SNAPSHOT_WAIT));
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
            Command::Quit => {
                if !self.quitting {
                    self.quitting = true;
                    self.sender.control(&ClientMessage::Leave { reason: None }).await?;
                }
            }
        }
        Ok(())
    }

    fn snapshot_now(&mut self, path: PathBuf) {
        let Some(latest) = &self.latest else { return };
        match latest.write_png(&path) {
            Ok(()) => {
                self.snapshotted = Some(latest.seq);
                self.printer.emit(&Event::Snapshot {
                    path: path.display().to_string(),
                    width: latest.width,
                    height: latest.height,
                    seq: latest.seq,
                });
            }
            Err(message) => self.printer.emit(&Event::error("console", message)),
        }
    }

    fn expire_snapshots(&mut self) {
        let now = Instant::now();
        let (expired, waiting): (Vec<_>, Vec<_>) =
            std::mem::take(&mut self.snapshots).into_iter().partition(|(_, at)| *at <= now);
        self.snapshots = waiting;
        for (path, _) in expired {
            self.printer.emit(&Event::error(
                "console",
                format!(
                    "no new screen frame for {} within {} s (has the customer allowed view?)",
                    path.display(),
                    SNAPSHOT_WAIT.as_secs()
                ),
            ));
        }
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
