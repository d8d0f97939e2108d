//! What happens in a session that both sides are told of: one definition of each such event
//! ([`SessionEvent`]), worded for the side that reads it (the customer at the agent, the
//! technician at the console). Agent and console keep their own event types for what only
//! one of them hears, and carry these inside, so that their JSON lines stay one flat object
//! tagged by `event`.
//!
//! Text that came from the other side (a name, a chat line, a reason) is shown through
//! [`shown`] in every sentence: its control characters appear instead of acting, and it stays
//! on one line, so a peer cannot clear the reader's screen or print a line that looks like
//! someone else's.

use std::borrow::Cow;

use serde::Serialize;
use tether_protocol::{Capability, ErrorCode, HelperMode, Role};

/// A session event both sides report.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum SessionEvent {
    /// Waiting for the other side to join the ticket.
    Waiting {
        /// e.g. T12.
        ticket: String,
    },
    /// A capability is now held, or not.
    Consent {
        /// Which.
        capability: Capability,
        /// Held now?
        granted: bool,
    },
    /// A chat message from the other side.
    Chat {
        /// Who wrote it.
        from: String,
        /// The text.
        text: String,
    },
    /// Something went wrong.
    Error {
        /// The broker's code, or a local one (`agent`, `console`, `bad_command`).
        code: String,
        /// In words.
        message: String,
    },
    /// The customer answered the proposed resolution.
    Confirmed {
        /// Whether the problem is solved.
        solved: bool,
    },
    /// Screen and input go direct between customer and technician, or through the broker.
    Path {
        /// Direct?
        direct: bool,
        /// Why.
        reason: String,
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
    /// Information.
    Notice {
        /// In words.
        message: String,
    },
}

impl SessionEvent {
    /// A local or broker error.
    pub fn error(code: impl Into<String>, message: impl Into<String>) -> SessionEvent {
        SessionEvent::Error { code: code.into(), message: message.into() }
    }

    /// An error the broker reported.
    pub fn broker_error(code: ErrorCode, message: String) -> SessionEvent {
        SessionEvent::Error { code: code.name().into(), message }
    }

    /// Information in words.
    pub fn notice(message: impl Into<String>) -> SessionEvent {
        SessionEvent::Notice { message: message.into() }
    }

    /// The event in words for `reader`: the customer (`Role::Agent`) or the technician
    /// (`Role::Console`).
    pub fn sentence_for(&self, reader: Role) -> String {
        let customer = reader == Role::Agent;
        match self {
            SessionEvent::Waiting { ticket } if customer => {
                format!("Waiting for a technician to join {}... (Ctrl-C to cancel)", shown(ticket))
            }
            SessionEvent::Waiting { ticket } => {
                format!("Waiting for the customer on {}...", shown(ticket))
            }
            SessionEvent::Consent { capability, granted } => match (customer, granted) {
                (true, true) => format!("You allowed {capability}."),
                (true, false) => format!("{capability} is not allowed."),
                (false, true) => format!("Customer allowed {capability}."),
                (false, false) => format!("You do not have {capability}."),
            },
            SessionEvent::Chat { from, text } => format!("[{}] {}", shown(from), shown(text)),
            SessionEvent::Error { code, message } => {
                format!("error ({}): {}", shown(code), shown(message))
            }
            SessionEvent::Confirmed { solved } => match (customer, solved) {
                (true, true) => "Thank you; the ticket will be closed.".into(),
                (true, false) => {
                    "Thank you; the ticket stays open and the technician is told.".into()
                }
                (false, true) => "The customer confirmed the problem is solved.".into(),
                (false, false) => "The customer says the problem is not solved.".into(),
            },
            SessionEvent::Path { direct: true, .. } if customer => {
                "The screen goes straight to the technician now.".into()
            }
            SessionEvent::Path { direct: false, reason } if customer => {
                format!("The screen goes through the support server ({}).", shown(reason))
            }
            SessionEvent::Path { direct: true, .. } => "[path] direct to the customer".into(),
            SessionEvent::Path { direct: false, reason } => {
                format!("[path] through the broker: {}", shown(reason))
            }
            SessionEvent::Helper { name, mode, joined: true } => match (customer, mode) {
                (true, HelperMode::Watch) => format!("{} is now watching.", shown(name)),
                (true, HelperMode::Help) => format!("{} is now helping.", shown(name)),
                (false, mode) => format!("{} joined ({mode:?}).", shown(name)),
            },
            SessionEvent::Helper { name, joined: false, .. } if customer => {
                format!("{} has left.", shown(name))
            }
            SessionEvent::Helper { name, joined: false, .. } => format!("{} left.", shown(name)),
            // Notices are this program's own words (some span lines, such as the command
            // list); peer text inside one was passed through `shown` when it was made.
            SessionEvent::Notice { message } => tether_protocol::visible(message, true).into(),
        }
    }
}

/// Text from the other side as it may be shown in a sentence: control characters (escape
/// sequences, carriage returns, newlines) and bidirectional overrides appear as visible
/// stand-ins instead of acting, and the text stays on one line.
pub fn shown(text: &str) -> Cow<'_, str> {
    tether_protocol::visible(text, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_one_flat_object_tagged_by_event() {
        let e = SessionEvent::Consent { capability: Capability::Control, granted: false };
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#"{"event":"consent","capability":"control","granted":false}"#
        );
        let e = SessionEvent::Helper { name: "eve".into(), mode: HelperMode::Watch, joined: true };
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#"{"event":"helper","name":"eve","mode":"watch","joined":true}"#
        );
    }

    #[test]
    fn each_side_reads_its_own_words() {
        let e = SessionEvent::Consent { capability: Capability::Control, granted: true };
        assert_eq!(e.sentence_for(Role::Agent), "You allowed control.");
        assert_eq!(e.sentence_for(Role::Console), "Customer allowed control.");
        let e = SessionEvent::Path { direct: false, reason: "the link dropped".into() };
        assert!(e.sentence_for(Role::Agent).contains("support server"));
        assert!(e.sentence_for(Role::Console).starts_with("[path] through the broker"));
    }

    #[test]
    fn peer_text_shows_its_escapes_and_stays_on_one_line() {
        let e = SessionEvent::Chat {
            from: "mallory\x1b]0;pwned\x07".into(),
            text: "hi\x1b[2J\r\n[broker] session ended".into(),
        };
        for reader in [Role::Agent, Role::Console] {
            let s = e.sentence_for(reader);
            assert!(!s.contains('\x1b') && !s.contains('\n') && !s.contains('\r'), "{s:?}");
            assert_eq!(s, "[mallory␛]0;pwned␇] hi␛[2J␍␊[broker] session ended");
        }
        let e = SessionEvent::notice("line one\nline two\x1b[31m");
        assert_eq!(e.sentence_for(Role::Console), "line one\nline two␛[31m");
    }
}
