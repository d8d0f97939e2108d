//! What the console reports: one event enum, printed as one JSON object per line in `--batch`
//! mode (for scripts) or as sentences for a person.

use serde::Serialize;
use tether_client::{Sentence, SessionEvent, shown};
use tether_protocol::{Approval, ErrorCode, Role, Verdict};

/// Something that happened in a console session.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// Logged in to the broker.
    Connected {
        /// Account name.
        user: String,
    },
    /// The customer is here.
    Paired {
        /// Session id.
        session: String,
        /// e.g. T3.
        ticket: String,
        /// The customer's name.
        customer: String,
    },
    /// The customer's clipboard changed while control was held.
    Clipboard {
        /// The text.
        text: String,
    },
    /// The remote screen's size (on the first frame and whenever it changes).
    Screen {
        /// Pixels.
        width: u16,
        /// Pixels.
        height: u16,
    },
    /// A snapshot was written.
    Snapshot {
        /// The file.
        path: String,
        /// Pixels.
        width: u16,
        /// Pixels.
        height: u16,
        /// The frame's sequence number.
        seq: u32,
    },
    /// The broker wrote a note or the resolution to the transcript.
    Recorded {
        /// note or resolution.
        what: String,
    },
    /// Both sides' bandwidth checks, and whether screen sharing waits for an override.
    Bandwidth {
        /// The customer's verdict.
        agent: Option<Verdict>,
        /// The technician's verdict.
        console: Option<Verdict>,
        /// Whether screen frames are held back.
        screen_blocked: bool,
        /// Why.
        reason: String,
    },
    /// Live connection quality (the status line).
    Quality {
        /// Round trip, ms.
        rtt_ms: f64,
        /// kbit/s received from the customer.
        received_kbps: f64,
        /// kbit/s sent to the customer.
        sent_kbps: f64,
    },
    /// A connection stayed too slow.
    QualityWarning {
        /// In words.
        message: String,
    },
    /// The customer's connection dropped; the session waits for it to come back.
    PeerAway {
        /// For this long at most.
        grace_secs: u64,
    },
    /// The customer's connection is back.
    PeerBack,
    /// Screen updates received so far, through the broker and on the direct path.
    Updates {
        /// Through the broker.
        relayed: u64,
        /// On the direct path.
        direct: u64,
    },
    /// The customer answered an approval request.
    Approval {
        /// What was asked.
        what: Approval,
        /// The answer.
        allowed: bool,
    },
    /// The shell on the customer's machine is open.
    ShellOpened {
        /// The program.
        shell: String,
    },
    /// What the shell printed (in `--batch`; a terminal shows it as it is).
    ShellOutput {
        /// The text (invalid UTF-8 replaced).
        data: String,
    },
    /// The customer's terminal reads a secret (a password prompt), or no longer does: what
    /// is typed meanwhile is recorded masked (in `--batch`; a terminal simply echoes nothing).
    ShellInputHidden {
        /// Hidden now?
        hidden: bool,
    },
    /// The shell is closed.
    ShellClosed {
        /// Its exit code, if it exited by itself.
        code: Option<i32>,
        /// Why.
        reason: String,
    },
    /// The session is over.
    Ended {
        /// Why.
        reason: String,
        /// The error that ended it, if any.
        code: Option<ErrorCode>,
    },
    /// What the customer's side is told too, in the technician's words.
    #[serde(untagged)]
    Session(SessionEvent),
}

impl From<SessionEvent> for Event {
    fn from(event: SessionEvent) -> Event {
        Event::Session(event)
    }
}

impl Event {
    /// An error event.
    pub fn error(code: impl Into<String>, message: impl Into<String>) -> Event {
        SessionEvent::error(code, message).into()
    }

    /// Information.
    pub fn notice(message: impl Into<String>) -> Event {
        SessionEvent::notice(message).into()
    }
}

impl Sentence for Event {
    fn sentence(&self) -> String {
        match self {
            Event::Connected { user } => format!("Logged in as {}.", shown(user)),
            Event::Paired { customer, ticket, .. } => format!(
                "{} is connected ({}). Type 'help' for commands.",
                shown(customer),
                shown(ticket)
            ),
            Event::Screen { width, height } => format!("Remote screen is {width}x{height}."),
            Event::Clipboard { text } => {
                let start: String = text.chars().take(200).collect();
                format!("The customer's clipboard: {}", shown(&start))
            }
            Event::Snapshot { path, width, height, .. } => {
                format!("Saved {width}x{height} snapshot to {}.", shown(path))
            }
            Event::Recorded { what } => format!("The {} is recorded.", shown(what)),
            Event::Bandwidth { screen_blocked: true, reason, .. } => format!(
                "Screen sharing waits: {}. Type 'override bandwidth REASON' to share anyway.",
                shown(reason)
            ),
            Event::Bandwidth { reason, .. } => format!("Bandwidth: {}.", shown(reason)),
            Event::Quality { rtt_ms, received_kbps, sent_kbps } => format!(
                "[status] rtt {rtt_ms:.0} ms, in {received_kbps:.0} kbit/s, out {sent_kbps:.0} kbit/s"
            ),
            Event::QualityWarning { message } => format!("warning: {}", shown(message)),
            Event::PeerAway { grace_secs } => format!(
                "The customer's connection dropped; waiting up to {grace_secs} s for it to come back."
            ),
            Event::PeerBack => "The customer's connection is back.".into(),
            Event::Updates { relayed, direct } => {
                format!("[path] screen updates: {relayed} through the broker, {direct} direct")
            }
            Event::Approval { what, allowed } => {
                let what = match what {
                    Approval::SecondTechnician { name, .. } => format!("{} joining", shown(name)),
                    Approval::Transfer { to } => format!("being handed over to {}", shown(to)),
                };
                format!("The customer {} {what}.", if *allowed { "allowed" } else { "refused" })
            }
            Event::ShellOpened { shell } => format!("Shell open ({}).", shown(shell)),
            // Only ever printed as JSON: a terminal gets the shell's bytes as they are.
            Event::ShellOutput { data } => data.clone(),
            Event::ShellInputHidden { hidden: true } => {
                "The customer's terminal reads a secret: what you type is not recorded.".into()
            }
            Event::ShellInputHidden { hidden: false } => {
                "The customer's terminal no longer reads a secret.".into()
            }
            Event::ShellClosed { reason, .. } => format!("Shell closed: {}.", shown(reason)),
            Event::Ended { reason, .. } => format!("Session ended: {}.", shown(reason)),
            Event::Session(event) => event.sentence_for(Role::Console),
        }
    }
}

#[cfg(test)]
mod tests {
    use tether_protocol::Capability;

    use super::*;

    #[test]
    fn events_serialise_with_an_event_tag() {
        let e = Event::from(SessionEvent::Consent { capability: Capability::View, granted: true });
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#"{"event":"consent","capability":"view","granted":true}"#
        );
        assert_eq!(e.sentence(), "Customer allowed view.");
        let e = Event::Ended { reason: "bye".into(), code: Some(ErrorCode::PeerGone) };
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#"{"event":"ended","reason":"bye","code":"peer_gone"}"#
        );
    }
}
