//! Control messages: JSON text frames, each a tagged enum (`{"type": "...", ...}`).
//!
//! [`ClientMessage`] flows from agents and consoles to the broker; [`ServerMessage`] from the
//! broker to them. Decoding checks the size before parsing and tells an unknown message type
//! apart from a malformed one, so the broker can answer each with the right error.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::{
    AdminReply, AdminRequest, Capability, CheckResult, DeskEvent, DeskReply, DeskRequest,
    ErrorCode, IceServer, InvitationInfo, MAX_MESSAGE_BYTES, Priority, ProbePhase, Role, Secret,
    SessionInfo, Signal, TicketId, TicketSummary, UserInfo, VersionRange,
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

/// Why a control message was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// Over [`MAX_MESSAGE_BYTES`].
    #[error("message of {0} bytes exceeds the limit")]
    TooLarge(usize),
    /// Valid JSON with a `type` nobody knows.
    #[error("unknown message type {0:?}")]
    UnknownType(String),
    /// Not JSON, no `type`, or fields that do not fit the type.
    #[error("malformed message: {0}")]
    Malformed(String),
}

impl DecodeError {
    /// The error code to answer with.
    pub fn code(&self) -> ErrorCode {
        match self {
            DecodeError::TooLarge(_) => ErrorCode::TooLarge,
            DecodeError::UnknownType(_) => ErrorCode::UnknownMessage,
            DecodeError::Malformed(_) => ErrorCode::Malformed,
        }
    }
}

fn decode<T: DeserializeOwned>(text: &str, known: &[&str]) -> Result<T, DecodeError> {
    if text.len() > MAX_MESSAGE_BYTES {
        return Err(DecodeError::TooLarge(text.len()));
    }
    serde_json::from_str(text).map_err(|err| {
        #[derive(Deserialize)]
        struct Tag {
            #[serde(rename = "type")]
            kind: String,
        }
        match serde_json::from_str::<Tag>(text) {
            Ok(Tag { kind }) if !known.contains(&kind.as_str()) => {
                // Bound what we echo back: the tag is the peer's text.
                DecodeError::UnknownType(kind.chars().take(64).collect())
            }
            _ => DecodeError::Malformed(err.to_string()),
        }
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::{ErrorCode, PeerInfo, TicketStatus, UserRole};

    fn client_samples() -> Vec<ClientMessage> {
        vec![
            ClientMessage::Hello(Hello {
                versions: VersionRange::CURRENT,
                role: Role::Console,
                credential: Credential::Password {
                    user: "alice".into(),
                    password: Secret::new("pw".into()),
                },
                software: "tether-console 0.1".into(),
            }),
            ClientMessage::Request(SupportRequest {
                name: "Bob".into(),
                contact: "bob@example.com".into(),
                issue: "printer".into(),
                priority: Priority::High,
            }),
            ClientMessage::Queue,
            ClientMessage::Invite { ticket: Some(TicketId(3)) },
            ClientMessage::Join { target: JoinTarget::Ticket(TicketId(3)) },
            ClientMessage::Join { target: JoinTarget::Code(Secret::new("123456789".into())) },
            ClientMessage::ConsentRequest { capability: Capability::Control },
            ClientMessage::ConsentRelease { capability: Capability::Control },
            ClientMessage::Consent { capability: Capability::View, granted: true },
            ClientMessage::Leave { reason: Some("done".into()) },
            ClientMessage::Note { text: "rebooted".into() },
            ClientMessage::Resolve { text: "replaced toner".into() },
            ClientMessage::Confirm { solved: true, rating: Some(5), comment: Some("great".into()) },
            ClientMessage::Desk(crate::DeskRequest::Claim { ticket: TicketId(4) }),
            ClientMessage::Check,
            ClientMessage::OverrideBandwidth { reason: "customer insists".into() },
            ClientMessage::InviteTechnician { name: "bob".into(), mode: HelperMode::Watch },
            ClientMessage::Transfer { to: "bob".into() },
            ClientMessage::Approve { id: 3, allowed: true },
            ClientMessage::Signal { signal: Signal::Path { direct: true, reason: "up".into() } },
            ClientMessage::Admin(AdminRequest::Export {
                session: "s-1".into(),
                format: crate::ExportFormat::Html,
            }),
        ]
    }

    fn server_samples() -> Vec<ServerMessage> {
        let check = CheckResult {
            measurement: crate::Measurement {
                rtt_ms: 10.0,
                jitter_ms: 1.0,
                download_mbps: 50.0,
                upload_mbps: 1.0,
            },
            verdict: crate::Verdict::Fail,
            reasons: vec!["upload".into()],
        };
        let ticket = TicketSummary {
            id: TicketId(1),
            status: TicketStatus::Queued,
            priority: Priority::Low,
            channel: "agent".into(),
            client: "Bob".into(),
            contact: "bob".into(),
            issue: "x".into(),
            created_at: 1_700_000_000,
            assigned_to: None,
            customer_waiting: true,
            bandwidth: Some(crate::Verdict::Warn),
            deadline_at: Some(1_700_007_200),
            responded_at: None,
        };
        vec![
            ServerMessage::Welcome(Welcome {
                version: 1,
                user: Some(UserInfo { name: "alice".into(), role: UserRole::Technician }),
                token: Some(Secret::new("t".into())),
                token_expires_at: Some(1),
                max_message_bytes: MAX_MESSAGE_BYTES,
            }),
            ServerMessage::TicketCreated { ticket: ticket.clone() },
            ServerMessage::Queue { tickets: vec![ticket] },
            ServerMessage::Invitation(InvitationInfo {
                code: Secret::new("123456789".into()),
                ticket: TicketId(1),
                expires_at: 5,
            }),
            ServerMessage::Waiting { ticket: TicketId(1) },
            ServerMessage::Paired(SessionInfo {
                id: "s1".into(),
                ticket: TicketId(1),
                peer: PeerInfo { role: Role::Agent, name: "Bob".into() },
            }),
            ServerMessage::ConsentRequested { capability: Capability::View },
            ServerMessage::ConsentChanged { capability: Capability::View, granted: false },
            ServerMessage::error(ErrorCode::RateLimited, "slow down", true),
            ServerMessage::SessionEnded { reason: "bye".into(), code: None },
            ServerMessage::ShuttingDown { grace_secs: 5 },
            ServerMessage::Recorded { what: "note".into() },
            ServerMessage::ResolutionProposed { text: "fixed".into() },
            ServerMessage::Confirmed { solved: false },
            ServerMessage::Admin(AdminReply::Document { part: "x".into(), last: true }),
            ServerMessage::CheckPhase {
                phase: ProbePhase::Upload,
                max_secs: 2.0,
                max_bytes: 8,
                rtt_ms: 3.0,
            },
            ServerMessage::CheckDone(check.clone()),
            ServerMessage::BandwidthGate {
                agent: Some(check.clone()),
                console: None,
                screen_blocked: true,
                reason: "upload too slow".into(),
            },
            ServerMessage::Quality { rtt_ms: 12.5, received_kbps: 900.0, sent_kbps: 20.0 },
            ServerMessage::QualityWarning { message: "slow".into() },
            ServerMessage::ApprovalRequested {
                id: 1,
                what: Approval::Transfer { to: "bob".into() },
            },
            ServerMessage::ApprovalDecided {
                what: Approval::SecondTechnician { name: "bob".into(), mode: HelperMode::Help },
                allowed: false,
            },
            ServerMessage::Helper { name: "bob".into(), mode: HelperMode::Watch, joined: true },
            ServerMessage::HandedOver { to: "bob".into() },
            ServerMessage::Resumable { token: Secret::new("t".repeat(43)), grace_secs: 30 },
            ServerMessage::PeerAway { grace_secs: 30 },
            ServerMessage::PeerBack,
            ServerMessage::DirectPath {
                ice_servers: vec![IceServer {
                    urls: vec!["turn:turn.example.com:3478".into()],
                    username: "u".into(),
                    credential: Some(Secret::new("p".into())),
                }],
                timeout_secs: 5,
            },
            ServerMessage::Signal { signal: Signal::Answer { sdp: "{}".into() } },
            ServerMessage::Desk(crate::DeskReply::Done { message: "ok".into() }),
            ServerMessage::Event(Box::new(crate::DeskEvent {
                kind: "assigned".into(),
                ticket: TicketId(1),
                at: 5,
                actor: "alice".into(),
                detail: "to bob".into(),
                summary: None,
            })),
        ]
    }

    fn tag(json: &str) -> String {
        serde_json::from_str::<serde_json::Value>(json).unwrap()["type"]
            .as_str()
            .unwrap()
            .to_string()
    }

    #[test]
    fn client_messages_round_trip_and_tags_are_listed() {
        let samples = client_samples();
        let mut seen = std::collections::BTreeSet::new();
        for msg in samples {
            let json = msg.encode();
            assert_eq!(ClientMessage::decode(&json).unwrap(), msg);
            assert_eq!(tag(&json), msg.kind());
            assert!(ClientMessage::TYPES.contains(&msg.kind()));
            seen.insert(msg.kind());
        }
        assert_eq!(seen.len(), ClientMessage::TYPES.len(), "every type has a sample");
    }

    #[test]
    fn server_messages_round_trip_and_tags_are_listed() {
        let mut seen = std::collections::BTreeSet::new();
        for msg in server_samples() {
            let json = msg.encode();
            assert_eq!(ServerMessage::decode(&json).unwrap(), msg);
            let t = tag(&json);
            assert!(ServerMessage::TYPES.contains(&t.as_str()), "{t}");
            seen.insert(t);
        }
        assert_eq!(seen.len(), ServerMessage::TYPES.len());
    }

    #[test]
    fn unknown_type_is_told_apart_from_malformed() {
        assert_eq!(
            ClientMessage::decode(r#"{"type":"frobnicate"}"#),
            Err(DecodeError::UnknownType("frobnicate".into()))
        );
        for bad in ["", "nonsense", "{}", r#"{"type":7}"#, r#"{"type":"join"}"#, "[1,2]"] {
            assert!(
                matches!(ClientMessage::decode(bad), Err(DecodeError::Malformed(_))),
                "{bad:?}"
            );
        }
        let big = format!(r#"{{"type":"leave","reason":"{}"}}"#, "x".repeat(MAX_MESSAGE_BYTES));
        assert_eq!(ClientMessage::decode(&big), Err(DecodeError::TooLarge(big.len())));
    }

    #[test]
    fn secrets_never_print_in_debug() {
        let msg = &client_samples()[0];
        let dbg = format!("{msg:?}");
        assert!(!dbg.contains("\"pw\""), "{dbg}");
        assert!(dbg.contains("[redacted]"));
    }

    proptest! {
        #[test]
        fn arbitrary_text_never_panics(text in ".{0,200}") {
            let _ = ClientMessage::decode(&text);
            let _ = ServerMessage::decode(&text);
        }

        #[test]
        fn arbitrary_json_shapes_never_panic(
            kind in prop::sample::select(ClientMessage::TYPES.to_vec()),
            field in "[a-z_]{1,10}",
            value in prop_oneof![Just("null".to_string()), "[0-9]{1,20}", "\"[a-z]{0,8}\"", Just("{}".into())],
        ) {
            let text = format!(r#"{{"type":"{kind}","{field}":{value}}}"#);
            let _ = ClientMessage::decode(&text);
        }
    }
}
