//! What the agent tells the customer (or a script): one event enum, printed by
//! [`tether_client::Printer`] as sentences for a person or as JSON lines with `--json`.

use serde::Serialize;

use crate::files::FileQuestion;
use tether_client::Sentence;
use tether_protocol::{Approval, Capability, ErrorCode, HelperMode};

/// Something worth telling the customer.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum AgentEvent {
    /// The request became a ticket.
    Ticket {
        /// e.g. T12.
        ticket: String,
    },
    /// Waiting for a technician.
    Waiting {
        /// e.g. T12.
        ticket: String,
    },
    /// A technician joined.
    Paired {
        /// Session id.
        session: String,
        /// The technician's name.
        technician: String,
    },
    /// The technician asks for a capability and the customer must answer.
    ConsentAsked {
        /// What is asked.
        capability: Capability,
        /// Who asks.
        technician: String,
    },
    /// The technician resolved the ticket; the customer is asked to confirm.
    ResolutionProposed {
        /// Who.
        technician: String,
        /// What was done.
        text: String,
    },
    /// The customer is asked to let a second technician in, or to be handed over.
    ApprovalAsked {
        /// Who asks.
        technician: String,
        /// What.
        what: Approval,
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
    /// This session ended; the next technician will join shortly.
    HandedOver {
        /// Who.
        to: String,
    },
    /// The connection to the broker dropped mid-session; the agent is reconnecting.
    Reconnecting {
        /// It keeps trying for this long.
        within_secs: u64,
        /// What happened.
        reason: String,
    },
    /// The connection is back and the session goes on.
    Reconnected,
    /// Screen and input go direct to the technician, or through the support server.
    Path {
        /// Direct?
        direct: bool,
        /// Why.
        reason: String,
    },
    /// The customer is asked about a file.
    FileAsked {
        /// Who asks.
        technician: String,
        /// What.
        question: FileQuestion,
    },
    /// The technician opened (or the shell closed) a shell on this computer.
    Shell {
        /// Who.
        technician: String,
        /// Open now?
        open: bool,
    },
    /// The customer is asked to rate the help.
    RatingAsked,
    /// The customer is asked for a comment.
    CommentAsked,
    /// The customer answered the resolution.
    Confirmed {
        /// Whether the problem is solved.
        solved: bool,
    },
    /// Both sides' bandwidth checks are in: whether screen sharing waits.
    Bandwidth {
        /// Whether screen frames are held back.
        screen_blocked: bool,
        /// Why.
        reason: String,
    },
    /// A capability is now held or not.
    Consent {
        /// Which.
        capability: Capability,
        /// Held?
        granted: bool,
    },
    /// A chat message from the technician.
    Chat {
        /// Who wrote it.
        from: String,
        /// The text.
        text: String,
    },
    /// Something went wrong.
    Error {
        /// The broker's code, or `agent` for local problems.
        code: String,
        /// In words.
        message: String,
    },
    /// Information for the customer.
    Notice {
        /// In words.
        message: String,
    },
    /// The session is over.
    Ended {
        /// Why.
        reason: String,
    },
}

impl AgentEvent {
    /// An error from the broker.
    pub fn broker_error(code: ErrorCode, message: String) -> AgentEvent {
        AgentEvent::Error { code: code.name().into(), message }
    }
}

impl Sentence for AgentEvent {
    fn sentence(&self) -> String {
        match self {
            AgentEvent::Ticket { ticket } => format!("Your request is ticket {ticket}."),
            AgentEvent::Waiting { ticket } => {
                format!("Waiting for a technician to join {ticket}... (Ctrl-C to cancel)")
            }
            AgentEvent::Paired { technician, .. } => format!(
                "Technician {technician} has joined. Type to chat; 'revoke' takes back control \
                 (or view); 'quit' ends the session."
            ),
            AgentEvent::ConsentAsked { capability, technician } => {
                let what = match capability {
                    Capability::View => "see your screen",
                    Capability::Control => "control your mouse and keyboard",
                    Capability::Files => "transfer files",
                    Capability::Shell => "open a command shell",
                };
                format!("{technician} asks to {what}. Allow? [y/N]")
            }
            AgentEvent::ResolutionProposed { technician, text } => {
                format!(
                    "{technician} says the problem is resolved: {text}\nIs your problem solved? [y/N]"
                )
            }
            AgentEvent::ApprovalAsked { technician, what } => match what {
                Approval::SecondTechnician { name, mode: HelperMode::Watch } => {
                    format!(
                        "{technician} invites {name} to watch your screen (view only). Allow? [y/N]"
                    )
                }
                Approval::SecondTechnician { name, mode: HelperMode::Help } => format!(
                    "{technician} invites {name} to help (chat, and control while you allow it). Allow? [y/N]"
                ),
                Approval::Transfer { to } => {
                    format!("{technician} wants to hand you over to {to}. Allow? [y/N]")
                }
            },
            AgentEvent::Helper { name, mode, joined: true } => match mode {
                HelperMode::Watch => format!("{name} is now watching."),
                HelperMode::Help => format!("{name} is now helping."),
            },
            AgentEvent::Helper { name, joined: false, .. } => format!("{name} has left."),
            AgentEvent::HandedOver { to } => {
                format!("You are being handed over to {to}. Please stay connected.")
            }
            AgentEvent::Reconnecting { within_secs, reason } => format!(
                "The connection to the support server was lost ({reason}); reconnecting (up to {within_secs} s)..."
            ),
            AgentEvent::Reconnected => "Reconnected; the session goes on.".into(),
            AgentEvent::Path { direct: true, .. } => {
                "The screen goes straight to the technician now.".into()
            }
            AgentEvent::Path { direct: false, reason } => {
                format!("The screen goes through the support server ({reason}).")
            }
            AgentEvent::FileAsked {
                technician,
                question: FileQuestion::Offer { name, size, .. },
            } => {
                format!(
                    "{technician} sends you {name} ({size} bytes). Accept? [y]es/[n]o/[a]ll for this session"
                )
            }
            AgentEvent::FileAsked { technician, question: FileQuestion::Request { path, .. } } => {
                format!(
                    "{technician} asks for a copy of {path}. Send it? [y]es/[n]o/[a]ll for this session"
                )
            }
            AgentEvent::Shell { technician, open: true } => format!(
                "{technician} opened a command shell on this computer. Type 'close shell' to close it."
            ),
            AgentEvent::Shell { open: false, .. } => "The command shell is closed.".into(),
            AgentEvent::RatingAsked => {
                "How would you rate the help, from 1 (poor) to 5 (excellent)? (Enter to skip)"
                    .into()
            }
            AgentEvent::CommentAsked => "Any comment for the help desk? (Enter to skip)".into(),
            AgentEvent::Confirmed { solved: true } => {
                "Thank you; the ticket will be closed.".into()
            }
            AgentEvent::Confirmed { solved: false } => {
                "Thank you; the ticket stays open and the technician is told.".into()
            }
            AgentEvent::Bandwidth { screen_blocked: true, reason } => {
                format!("Screen sharing waits: {reason}. Chat still works.")
            }
            AgentEvent::Bandwidth { screen_blocked: false, reason } => {
                format!("Bandwidth: {reason}.")
            }
            AgentEvent::Consent { capability, granted: true } => {
                format!("You allowed {capability}.")
            }
            AgentEvent::Consent { capability, granted: false } => {
                format!("{capability} is not allowed.")
            }
            AgentEvent::Chat { from, text } => format!("[{from}] {text}"),
            AgentEvent::Error { code, message } => format!("error ({code}): {message}"),
            AgentEvent::Notice { message } => message.clone(),
            AgentEvent::Ended { reason } => format!("Session ended: {reason}."),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_events_are_tagged() {
        let e = AgentEvent::Consent { capability: Capability::Control, granted: false };
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#"{"event":"consent","capability":"control","granted":false}"#
        );
        assert!(e.sentence().contains("control"));
    }
}
