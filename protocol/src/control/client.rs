//! Messages from agents and consoles to the broker: `hello` with its credential, support
//! requests, joins, consent, session and desk requests.

use serde::{Deserialize, Serialize};

use super::{DecodeError, HelperMode, decode};
use crate::{
    AccountRequest, AdminRequest, Capability, DeskRequest, Priority, Role, Secret, Signal,
    TicketId, VersionRange,
};

/// The first message on every connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    /// Protocol versions the client speaks.
    pub versions: VersionRange,
    /// Agent or console.
    pub role: Role,
    /// Who the client is.
    pub credential: Credential,
    /// Client software and version, for logs.
    #[serde(default)]
    pub software: String,
}

/// How a client proves who it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Credential {
    /// No credential: an agent asking for help.
    None,
    /// A technician's password; answered with a bearer token.
    Password {
        /// Login name.
        user: String,
        /// The password.
        password: Secret<String>,
    },
    /// A bearer token from an earlier password login.
    Token {
        /// The token.
        token: Secret<String>,
    },
    /// A one-time code a technician read out to the customer.
    Code {
        /// The nine digits.
        code: Secret<String>,
    },
    /// An agent whose connection dropped takes its session back with the token the broker gave
    /// it (see [`ServerMessage::Resumable`]).
    Resume {
        /// The resume token.
        token: Secret<String>,
    },
}

/// A customer's request for help.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupportRequest {
    /// Customer's name.
    pub name: String,
    /// How to reach them.
    pub contact: String,
    /// The problem, in their words.
    pub issue: String,
    /// How urgent they say it is.
    pub priority: Priority,
}

/// What a console joins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JoinTarget {
    /// A ticket from the queue.
    Ticket(TicketId),
    /// A code this technician issued with `invite`.
    Code(Secret<String>),
}

/// A message from an agent or console to the broker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ClientMessage {
    /// Opens the connection.
    Hello(Hello),
    /// Agent: log a ticket and wait for a technician.
    Request(SupportRequest),
    /// Console: list the tickets waiting.
    Queue,
    /// Console: issue a one-time code, for an existing ticket or a new one.
    Invite {
        /// The ticket the customer will join; a new ticket when absent.
        ticket: Option<TicketId>,
    },
    /// Console: join a ticket's session.
    Join {
        /// The ticket or code.
        target: JoinTarget,
    },
    /// Console: ask the customer for a capability.
    ConsentRequest {
        /// What is asked.
        capability: Capability,
    },
    /// Console: give a capability back.
    ConsentRelease {
        /// What is released.
        capability: Capability,
    },
    /// Agent: the customer granted or refused (or revoked) a capability.
    Consent {
        /// Which.
        capability: Capability,
        /// Whether it is now held.
        granted: bool,
    },
    /// Either side: end the session.
    Leave {
        /// Why, in words.
        #[serde(default)]
        reason: Option<String>,
    },
    /// Console: a technician's note for the ticket's documentation.
    Note {
        /// The note.
        text: String,
    },
    /// Console: the technician's resolution; the customer is asked to confirm it.
    Resolve {
        /// What was done.
        text: String,
    },
    /// Agent: the customer confirms (or disputes) that the problem is solved.
    Confirm {
        /// Whether it is solved.
        solved: bool,
        /// How satisfied, 1 to 5.
        #[serde(default)]
        rating: Option<u8>,
        /// In their words.
        #[serde(default)]
        comment: Option<String>,
    },
    /// Console: transcript review.
    Admin(AdminRequest),
    /// Console: its account's sign-in: sign out, list and revoke tokens.
    Account(AccountRequest),
    /// Either side, before pairing: measure this connection's bandwidth now.
    Check,
    /// Console, in a session: allow screen sharing despite a failed bandwidth check.
    OverrideBandwidth {
        /// Why, in words (recorded).
        reason: String,
    },
    /// Console: the support desk.
    Desk(DeskRequest),
    /// Console, in a session: ask the customer to let a second technician watch or help.
    InviteTechnician {
        /// The technician's login.
        name: String,
        /// Watch (view only) or help (view, chat, and input while control is held).
        mode: HelperMode,
    },
    /// Console, in a session: hand the customer over to another technician.
    Transfer {
        /// The technician's login.
        to: String,
    },
    /// Agent: the customer's answer to an approval request.
    Approve {
        /// The request's id.
        id: u32,
        /// Allowed?
        allowed: bool,
    },
    /// Either side, in a session: a step of setting up the direct path, for the other side.
    Signal {
        /// The step.
        signal: Signal,
    },
}

impl ClientMessage {
    /// Every `type` tag, for telling an unknown message from a malformed one.
    pub const TYPES: &'static [&'static str] = &[
        "hello",
        "request",
        "queue",
        "invite",
        "join",
        "consent_request",
        "consent_release",
        "consent",
        "leave",
        "note",
        "resolve",
        "confirm",
        "admin",
        "check",
        "override_bandwidth",
        "desk",
        "invite_technician",
        "transfer",
        "approve",
        "signal",
    ];

    /// Decodes a text frame.
    pub fn decode(text: &str) -> Result<ClientMessage, DecodeError> {
        decode(text, Self::TYPES)
    }

    /// Encodes as a text frame.
    pub fn encode(&self) -> String {
        // Serialising these plain data types cannot fail: no maps with non-string keys.
        serde_json::to_string(self).expect("control messages always serialise")
    }

    /// The `type` tag, for logs.
    pub fn kind(&self) -> &'static str {
        match self {
            ClientMessage::Hello(_) => "hello",
            ClientMessage::Request(_) => "request",
            ClientMessage::Queue => "queue",
            ClientMessage::Invite { .. } => "invite",
            ClientMessage::Join { .. } => "join",
            ClientMessage::ConsentRequest { .. } => "consent_request",
            ClientMessage::ConsentRelease { .. } => "consent_release",
            ClientMessage::Consent { .. } => "consent",
            ClientMessage::Leave { .. } => "leave",
            ClientMessage::Note { .. } => "note",
            ClientMessage::Resolve { .. } => "resolve",
            ClientMessage::Confirm { .. } => "confirm",
            ClientMessage::Admin(_) => "admin",
            ClientMessage::Account(_) => "account",
            ClientMessage::Check => "check",
            ClientMessage::OverrideBandwidth { .. } => "override_bandwidth",
            ClientMessage::Desk(_) => "desk",
            ClientMessage::InviteTechnician { .. } => "invite_technician",
            ClientMessage::Transfer { .. } => "transfer",
            ClientMessage::Approve { .. } => "approve",
            ClientMessage::Signal { .. } => "signal",
        }
    }
}
