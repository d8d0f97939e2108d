//! What the console reports: one event enum, printed as one JSON object per line in `--batch`
//! mode (for scripts) or as sentences for a person.

use serde::Serialize;
use tether_client::Sentence;
use tether_protocol::{Approval, Capability, ErrorCode, HelperMode, Verdict};

/// Something that happened in a console session.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// Logged in to the broker.
    Connected {
        /// Account name.
        user: String,
    },
    /// Waiting for the customer.
    Waiting {
        /// e.g. T3.
        ticket: String,
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
    /// A capability was granted, refused or revoked.
    Consent {
        /// Which.
        capability: Capability,
        /// Held now?
        granted: bool,
    },
    /// A chat message from the customer.
    Chat {
        /// Who wrote it.
        from: String,
        /// The text.
        text: String,
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
    /// Something went wrong.
    Error {
        /// The broker's error code, or `bad_command` / `console` for local problems.
        code: String,
        /// In words.
        message: String,
    },
    /// The broker wrote a note or the resolution to the transcript.
    Recorded {
        /// note or resolution.
        what: String,
    },
    /// The customer answered the resolution.
    Confirmed {
        /// Whether the problem is solved.
        solved: bool,
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
    /// Screen and input go direct between customer and technician, or through the broker.
    Path {
        /// Direct?
        direct: bool,
        /// Why.
        reason: String,
    },
    /// The customer answered an approval request.
    Approval {
        /// What was asked.
        what: Approval,
        /// The answer.
        allowed: bool,
    },
    /// A second technician joined or left.
    Helper {
        /// Who.
        name: String,
        /// Watching or helping.
        mode: HelperMode,
        /// Joined or left.
        joined: bool,
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
    /// The shell is closed.
    ShellClosed {
        /// Its exit code, if it exited by itself.
        code: Option<i32>,
        /// Why.
        reason: String,
    },
    /// Information.
    Notice {
        /// In words.
        message: String,
    },
    /// The session is over.
    Ended {
        /// Why.
        reason: String,
        /// The error that ended it, if any.
        code: Option<ErrorCode>,
    },
}

impl Event {
    /// An error event.
    pub fn error(code: impl Into<String>, message: impl Into<String>) -> Event {
        Event::Error { code: code.into(), message: message.into() }
    }
}

impl Sentence for Event {
    fn sentence(&self) -> String {
        match self {
            Event::Connected { user } => format!("Logged in as {user}."),
            Event::Waiting { ticket } => format!("Waiting for the customer on {ticket}..."),
            Event::Paired { customer, ticket, .. } => {
                format!("{customer} is connected ({ticket}). Type 'help' for commands.")
            }
            Event::Consent { capability, granted: true } => {
                format!("Customer allowed {capability}.")
            }
            Event::Consent { capability, granted: false } => {
                format!("You do not have {capability}.")
            }
            Event::Chat { from, text } => format!("[{from}] {text}"),
            Event::Screen { width, height } => format!("Remote screen is {width}x{height}."),
            Event::Clipboard { text } => {
                format!("The customer's clipboard: {}", text.chars().take(200).collect::<String>())
            }
            Event::Snapshot { path, width, height, .. } => {
                format!("Saved {width}x{height} snapshot to {path}.")
            }
            Event::Error { code, message } => format!("error ({code}): {message}"),
            Event::Recorded { what } => format!("The {what} is recorded."),
            Event::Confirmed { solved: true } => {
                "The customer confirmed the problem is solved.".into()
            }
            Event::Confirmed { solved: false } => {
                "The customer says the problem is not solved.".into()
            }
            Event::Bandwidth { screen_blocked: true, reason, .. } => {
                format!(
                    "Screen sharing waits: {reason}. Type 'override bandwidth REASON' to share anyway."
                )
            }
            Event::Bandwidth { reason, .. } => format!("Bandwidth: {reason}."),
            Event::Quality { rtt_ms, received_kbps, sent_kbps } => {
                format!(
                    "[status] rtt {rtt_ms:.0} ms, in {received_kbps:.0} kbit/s, out {sent_kbps:.0} kbit/s"
                )
            }
            Event::QualityWarning { message } => format!("warning: {message}"),
            Event::PeerAway { grace_secs } => format!(
                "The customer's connection dropped; waiting up to {grace_secs} s for it to come back."
            ),
            Event::PeerBack => "The customer's connection is back.".into(),
            Event::Updates { relayed, direct } => {
                format!("[path] screen updates: {relayed} through the broker, {direct} direct")
            }
            Event::Path { direct: true, .. } => "[path] direct to the customer".into(),
            Event::Path { direct: false, reason } => format!("[path] through the broker: {reason}"),
            Event::Approval { what, allowed } => {
                let what = match what {
                    Approval::SecondTechnician { name, .. } => format!("{name} joining"),
                    Approval::Transfer { to } => format!("being handed over to {to}"),
                };
                format!("The customer {} {what}.", if *allowed { "allowed" } else { "refused" })
            }
            Event::Helper { name, joined: true, mode } => format!("{name} joined ({mode:?})."),
            Event::Helper { name, joined: false, .. } => format!("{name} left."),
            Event::ShellOpened { shell } => format!("Shell open ({shell})."),
            Event::ShellOutput { data } => data.clone(),
            Event::ShellClosed { reason, .. } => format!("Shell closed: {reason}."),
            Event::Notice { message } => message.clone(),
            Event::Ended { reason, .. } => format!("Session ended: {reason}."),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_serialise_with_an_event_tag() {
        let e = Event::Consent { capability: Capability::View, granted: true };
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#"{"event":"consent","capability":"view","granted":true}"#
        );
        let e = Event::Ended { reason: "bye".into(), code: Some(ErrorCode::PeerGone) };
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#"{"event":"ended","reason":"bye","code":"peer_gone"}"#
        );
    }
}
