//! What the agent tells the customer (or a script): one event enum, printed by
//! [`tether_client::Printer`] as sentences for a person or as JSON lines with `--json`.

use serde::Serialize;

use crate::files::FileQuestion;
use tether_client::{Sentence, SessionEvent, shown};
use tether_protocol::{Approval, Capability, HelperMode, Role};

/// Something worth telling the customer.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum AgentEvent {
    /// The request became a ticket.
    Ticket {
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
    /// Both sides' bandwidth checks are in: whether screen sharing waits.
    Bandwidth {
        /// Whether screen frames are held back.
        screen_blocked: bool,
        /// Why.
        reason: String,
    },
    /// The session is over.
    Ended {
        /// Why.
        reason: String,
    },
    /// What the technician's side is told too, in the customer's words.
    #[serde(untagged)]
    Session(SessionEvent),
}

impl From<SessionEvent> for AgentEvent {
    fn from(event: SessionEvent) -> AgentEvent {
        AgentEvent::Session(event)
    }
}

impl AgentEvent {
    /// Information for the customer.
    pub fn notice(message: impl Into<String>) -> AgentEvent {
        SessionEvent::notice(message).into()
    }

    /// Something went wrong: `code` is the broker's, or `agent` for local problems.
    pub fn error(code: impl Into<String>, message: impl Into<String>) -> AgentEvent {
        SessionEvent::error(code, message).into()
    }
}

impl Sentence for AgentEvent {
    fn sentence(&self) -> String {
        match self {
            AgentEvent::Ticket { ticket } => format!("Your request is ticket {}.", shown(ticket)),
            AgentEvent::Paired { technician, .. } => format!(
                "Technician {} has joined. Type to chat; 'revoke' takes back control \
                 (or view); 'quit' ends the session.",
                shown(technician)
            ),
            AgentEvent::ConsentAsked { capability, technician } => {
                let what = match capability {
                    Capability::View => "see your screen",
                    Capability::Control => "control your mouse and keyboard",
                    Capability::Files => "transfer files",
                    Capability::Shell => "open a command shell",
                };
                format!("{} asks to {what}. Allow? [y/N]", shown(technician))
            }
            AgentEvent::ResolutionProposed { technician, text } => format!(
                "{} says the problem is resolved: {}\nIs your problem solved? [y/N]",
                shown(technician),
                shown(text)
            ),
            AgentEvent::ApprovalAsked { technician, what } => {
                let technician = shown(technician);
                match what {
                    Approval::SecondTechnician { name, mode: HelperMode::Watch } => format!(
                        "{technician} invites {} to watch your screen (view only). Allow? [y/N]",
                        shown(name)
                    ),
                    Approval::SecondTechnician { name, mode: HelperMode::Help } => format!(
                        "{technician} invites {} to help (chat, and control while you allow \
                         it). Allow? [y/N]",
                        shown(name)
                    ),
                    Approval::Transfer { to } => format!(
                        "{technician} wants to hand you over to {}. Allow? [y/N]",
                        shown(to)
                    ),
                }
            }
            AgentEvent::HandedOver { to } => {
                format!("You are being handed over to {}. Please stay connected.", shown(to))
            }
            AgentEvent::Reconnecting { within_secs, reason } => format!(
                "The connection to the support server was lost ({}); reconnecting (up to \
                 {within_secs} s)...",
                shown(reason)
            ),
            AgentEvent::Reconnected => "Reconnected; the session goes on.".into(),
            AgentEvent::FileAsked {
                technician,
                question: FileQuestion::Offer { name, size, .. },
            } => format!(
                "{} sends you {} ({size} bytes). Accept? [y]es/[n]o/[a]ll for this session",
                shown(technician),
                shown(name)
            ),
            AgentEvent::FileAsked { technician, question: FileQuestion::Request { path, .. } } => {
                format!(
                    "{} asks for a copy of {}. Send it? [y]es/[n]o/[a]ll for this session",
                    shown(technician),
                    shown(path)
                )
            }
            AgentEvent::Shell { technician, open: true } => format!(
                "{} opened a command shell on this computer. Type 'close shell' to close it.",
                shown(technician)
            ),
            AgentEvent::Shell { open: false, .. } => "The command shell is closed.".into(),
            AgentEvent::RatingAsked => {
                "How would you rate the help, from 1 (poor) to 5 (excellent)? (Enter to skip)"
                    .into()
            }
            AgentEvent::CommentAsked => "Any comment for the help desk? (Enter to skip)".into(),
            AgentEvent::Bandwidth { screen_blocked: true, reason } => {
                format!("Screen sharing waits: {}. Chat still works.", shown(reason))
            }
            AgentEvent::Bandwidth { screen_blocked: false, reason } => {
                format!("Bandwidth: {}.", shown(reason))
            }
            AgentEvent::Ended { reason } => format!("Session ended: {}.", shown(reason)),
            AgentEvent::Session(event) => event.sentence_for(Role::Agent),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_events_are_tagged() {
        let e = AgentEvent::from(SessionEvent::Consent {
            capability: Capability::Control,
            granted: false,
        });
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#"{"event":"consent","capability":"control","granted":false}"#
        );
        assert_eq!(e.sentence(), "control is not allowed.");
        let e = AgentEvent::Ended { reason: "the technician left".into() };
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#"{"event":"ended","reason":"the technician left"}"#
        );
    }
}
