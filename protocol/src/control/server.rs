//! Messages from the broker to agents and consoles: welcome, pairing, consent, errors, the
//! session's end, checks and quality, desk replies and events, approvals, resume and the
//! direct path.

use serde::{Deserialize, Serialize};

use super::{DecodeError, decode};
use crate::{
    AccountReply, AdminReply, Capability, CheckResult, DeskEvent, DeskReply, ErrorCode, IceServer,
    InvitationInfo, ProbePhase, Secret, SessionInfo, Signal, TicketId, TicketSummary, UserInfo,
};

/// The broker's answer to a `hello`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Welcome {
    /// The negotiated protocol version.
    pub version: u16,
    /// The account, for consoles.
    pub user: Option<UserInfo>,
    /// A fresh bearer token, after a password login only.
    pub token: Option<Secret<String>>,
    /// When that token expires, Unix seconds.
    pub token_expires_at: Option<i64>,
    /// The largest message the broker accepts.
    pub max_message_bytes: usize,
    /// After a password login: the failed sign-ins of this account since its last one, for
    /// its owner to know someone tried.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_sign_ins: Option<FailedSignIns>,
}

/// Failed sign-ins of an account since its last sign-in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedSignIns {
    /// How many.
    pub count: u32,
    /// The last, Unix seconds.
    pub last_at: Option<i64>,
    /// The address the last came from.
    pub last_from: Option<String>,
}

impl std::fmt::Display for FailedSignIns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = if self.count == 1 { "" } else { "s" };
        write!(f, "{} failed sign-in{s} to your account since your last sign-in", self.count)?;
        match (&self.last_from, self.last_at) {
            (Some(from), Some(at)) => {
                write!(f, " (the last from {from} at {})", crate::rfc3339(at))
            }
            _ => Ok(()),
        }
    }
}

/// A message from the broker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ServerMessage {
    /// The `hello` was accepted.
    Welcome(Welcome),
    /// The agent's request is now this ticket.
    TicketCreated {
        /// The new ticket.
        ticket: TicketSummary,
    },
    /// The queue.
    Queue {
        /// Waiting tickets, most urgent first.
        tickets: Vec<TicketSummary>,
    },
    /// A one-time code.
    Invitation(InvitationInfo),
    /// Waiting for the other side to arrive.
    Waiting {
        /// The ticket.
        ticket: TicketId,
    },
    /// Both sides are here.
    Paired(SessionInfo),
    /// To the agent: the technician asks for a capability.
    ConsentRequested {
        /// What is asked.
        capability: Capability,
    },
    /// A capability was granted, refused or revoked.
    ConsentChanged {
        /// Which.
        capability: Capability,
        /// Whether it is now held.
        granted: bool,
    },
    /// Something went wrong; when `fatal`, the broker closes the connection next.
    Error {
        /// What.
        code: ErrorCode,
        /// In words.
        message: String,
        /// Whether the connection ends.
        fatal: bool,
    },
    /// The session is over.
    SessionEnded {
        /// Why, in words.
        reason: String,
        /// The error that ended it, if one did.
        code: Option<ErrorCode>,
    },
    /// The broker is shutting down; sessions end after the grace period.
    ShuttingDown {
        /// Seconds until connections close.
        grace_secs: u64,
    },
    /// Something was written to the session's transcript at the sender's request.
    Recorded {
        /// What: note or resolution.
        what: String,
    },
    /// To the agent: the technician proposes this resolution; please confirm.
    ResolutionProposed {
        /// What was done.
        text: String,
    },
    /// To the console: the customer's answer to the resolution.
    Confirmed {
        /// Whether it is solved.
        solved: bool,
    },
    /// An answer to an admin request.
    Admin(AdminReply),
    /// An answer to an account request.
    Account(AccountReply),
    /// A bandwidth check moves to its next phase (for progress displays).
    CheckPhase {
        /// The phase starting.
        phase: ProbePhase,
        /// It ends after this many seconds at most.
        max_secs: f64,
        /// Or after this many bytes.
        max_bytes: u64,
        /// The round trip measured so far (0 before the first phase ends), milliseconds; an
        /// uploading client sizes its window from it.
        rtt_ms: f64,
    },
    /// This connection's bandwidth check is done.
    CheckDone(CheckResult),
    /// Both sides' checks, and whether screen sharing is held back because one failed.
    BandwidthGate {
        /// The customer's check.
        agent: Option<CheckResult>,
        /// The technician's check.
        console: Option<CheckResult>,
        /// Whether screen frames are held back.
        screen_blocked: bool,
        /// Why, in words.
        reason: String,
    },
    /// Live connection quality, every few seconds during a session.
    Quality {
        /// Round trip to this side, milliseconds.
        rtt_ms: f64,
        /// Relayed to this side over the last interval, kbit/s.
        received_kbps: f64,
        /// Relayed from this side over the last interval, kbit/s.
        sent_kbps: f64,
    },
    /// The connection stayed below its thresholds for a while.
    QualityWarning {
        /// In words.
        message: String,
    },
    /// An answer to a desk request.
    Desk(DeskReply),
    /// A desk event, to watchers.
    Event(Box<DeskEvent>),
    /// To the agent: the technician asks the customer to approve something.
    ApprovalRequested {
        /// Answer with this id.
        id: u32,
        /// What.
        what: Approval,
    },
    /// To the technicians: the customer's answer.
    ApprovalDecided {
        /// What was asked.
        what: Approval,
        /// The answer.
        allowed: bool,
    },
    /// A second technician joined or left the session.
    Helper {
        /// Who.
        name: String,
        /// Watching or helping.
        mode: HelperMode,
        /// Joined (true) or left.
        joined: bool,
    },
    /// To the agent: this session ends, and the customer stays connected for the technician
    /// named, who takes over.
    HandedOver {
        /// The new technician.
        to: String,
    },
    /// To the agent: if the connection drops, reconnect within `grace_secs` with this token
    /// ([`Credential::Resume`]) to take the session back. Each token works once; a resumed
    /// session comes with a new one.
    Resumable {
        /// The resume token.
        token: Secret<String>,
        /// How long the broker holds the session for the agent.
        grace_secs: u64,
    },
    /// To the console: the customer's connection dropped; the session waits `grace_secs` for
    /// it to come back.
    PeerAway {
        /// Seconds the broker waits.
        grace_secs: u64,
    },
    /// To the console: the customer's connection is back; the session goes on.
    PeerBack,
    /// To both sides after pairing: try a direct path with these ICE servers (none: host
    /// candidates only), and fall back to the broker if it is not up within `timeout_secs`.
    DirectPath {
        /// STUN and TURN servers.
        ice_servers: Vec<IceServer>,
        /// Seconds to wait for the direct path before staying on the relay.
        timeout_secs: u64,
        /// Networks (CIDR) beside the public internet where the other side's addresses may be
        /// contacted, such as an office LAN; loopback, private and link-local candidates
        /// outside them are dropped.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        peer_networks: Vec<String>,
    },
    /// From the other side: a step of setting up the direct path.
    Signal {
        /// The step.
        signal: Signal,
    },
}

/// What a second technician may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HelperMode {
    /// See the screen and the chat.
    Watch,
    /// Also chat and, while the customer grants control, use mouse and keyboard.
    Help,
}

/// Something only the customer can allow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Approval {
    /// A second technician joins.
    SecondTechnician {
        /// Who.
        name: String,
        /// Watching or helping.
        mode: HelperMode,
    },
    /// The session is handed over to another technician.
    Transfer {
        /// Who takes over.
        to: String,
    },
}

impl ServerMessage {
    /// Every `type` tag.
    pub const TYPES: &'static [&'static str] = &[
        "welcome",
        "ticket_created",
        "queue",
        "invitation",
        "waiting",
        "paired",
        "consent_requested",
        "consent_changed",
        "error",
        "session_ended",
        "shutting_down",
        "recorded",
        "resolution_proposed",
        "confirmed",
        "admin",
        "check_phase",
        "check_done",
        "bandwidth_gate",
        "quality",
        "quality_warning",
        "desk",
        "event",
        "approval_requested",
        "approval_decided",
        "helper",
        "handed_over",
        "resumable",
        "peer_away",
        "peer_back",
        "direct_path",
        "signal",
    ];

    /// Decodes a text frame.
    pub fn decode(text: &str) -> Result<ServerMessage, DecodeError> {
        decode(text, Self::TYPES)
    }

    /// Encodes as a text frame.
    pub fn encode(&self) -> String {
        // As for ClientMessage: plain data, always serialisable.
        serde_json::to_string(self).expect("control messages always serialise")
    }

    /// An error message.
    pub fn error(code: ErrorCode, message: impl Into<String>, fatal: bool) -> ServerMessage {
        ServerMessage::Error { code, message: message.into(), fatal }
    }
}
