//! The `broker_conn` fuzz input: a short script of websocket messages over a few connections.
//!
//! Usually decoded from the fuzzer's bytes with `arbitrary`: control messages are built from the
//! protocol's own types, so most of them parse and reach the state machine behind the decoder.
//! An input that starts with [`TEXT_MAGIC`] is a readable script instead, one step a line (seeds
//! and reproducers are written this way; see [`Script::parse_text`]). References to what only the
//! broker knows (the latest ticket, code, session, approval, a real account's token) are
//! resolved against what it has said so far in the script.

use arbitrary::Arbitrary;
use bytes::Bytes;
use tether_protocol::{Channel, ServerMessage, TicketId, UserRole, encode_ack, probe_flags};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;

mod control;
mod payload;

pub use control::{
    Admin, ApprovalRef, CodeRef, Control, Cred, Desk, SessionRef, TicketRef, Time, UserRef,
    Versions,
};
pub use payload::{ChannelByte, FileSpec, Payload, ShellSpec};

/// Steps played at most; the rest of a longer script is ignored.
pub const MAX_STEPS: usize = 24;
/// Connections a script may hold open at once.
pub const CONNECTIONS: usize = 3;

/// The accounts the harness creates: name and role. Passwords come from [`password`].
pub const USERS: [(&str, UserRole); 4] = [
    ("tech", UserRole::Technician),
    ("tech2", UserRole::Technician),
    ("disp", UserRole::Dispatcher),
    ("admin", UserRole::Admin),
];

/// The password of account `name`.
pub fn password(name: &str) -> String {
    format!("{name}-password")
}

/// The first line of a readable script.
pub const TEXT_MAGIC: &[u8] = b"#!tether-script\n";

/// One fuzz input.
#[derive(Debug, Arbitrary)]
pub struct Script {
    /// Played in order.
    pub steps: Vec<Step>,
}

impl Script {
    /// Decodes a fuzz input: a readable script after [`TEXT_MAGIC`], else `arbitrary` data.
    pub fn from_bytes(data: &[u8]) -> Script {
        match data.strip_prefix(TEXT_MAGIC) {
            Some(text) => Script::parse_text(&String::from_utf8_lossy(text)),
            None => {
                let u = arbitrary::Unstructured::new(data);
                Script::arbitrary_take_rest(u).unwrap_or(Script { steps: Vec::new() })
            }
        }
    }

    /// Parses a readable script: one `CONN VERB [ARGUMENT]` a line, where VERB is `text` (the
    /// rest of the line, with `$TOKEN0`..`$TOKEN3`, `$TICKET`, `$CODE`, `$SESSION` and
    /// `$APPROVAL` replaced when sent), `binary HEX` (a whole frame), `frame CHANNEL FLAGS TEXT`
    /// (decimal header bytes, then the payload as text), `ping [HEX]`, `pong [HEX]`,
    /// `close [CODE]`, `drop`, `answer-check` or `settle`. Blank lines, `#` comments and lines
    /// that do not parse (the fuzzer mutates these too) are skipped.
    pub fn parse_text(text: &str) -> Script {
        let steps = text.lines().filter_map(|line| {
            let (conn, rest) = line.split_once(' ')?;
            let conn = conn.parse().ok()?;
            let (verb, arg) = rest.split_once(' ').unwrap_or((rest, ""));
            let send = match verb {
                "text" => Send::Text(arg.to_string()),
                "binary" => {
                    let bytes = tether_protocol::unhex(arg.trim())?;
                    let (&channel, rest) = bytes.split_first()?;
                    let (&flags, payload) = rest.split_first()?;
                    Send::Binary {
                        channel: ChannelByte::Raw(channel),
                        flags,
                        payload: Payload::Raw(payload.to_vec()),
                    }
                }
                "frame" => {
                    let mut parts = arg.splitn(3, ' ');
                    let channel = parts.next()?.parse().ok()?;
                    let flags = parts.next()?.parse().ok()?;
                    let text = parts.next().unwrap_or_default().to_string();
                    Send::Binary {
                        channel: ChannelByte::Raw(channel),
                        flags,
                        payload: Payload::Text(text),
                    }
                }
                "ping" => Send::Ping(tether_protocol::unhex(arg.trim())?),
                "pong" => Send::Pong(tether_protocol::unhex(arg.trim())?),
                "close" => Send::Close(arg.parse().ok()),
                "drop" => Send::Drop,
                "answer-check" => Send::AnswerCheck,
                "settle" => Send::Settle,
                _ => return None,
            };
            Some(Step { conn, send, settle: false })
        });
        Script { steps: steps.collect() }
    }
}

/// One message on one connection.
#[derive(Debug, Arbitrary)]
pub struct Step {
    /// Which connection, modulo [`CONNECTIONS`]; opened on first use.
    pub conn: u8,
    /// What to do on it.
    pub send: Send,
    /// Then wait until the broker has dealt with everything sent on it so far.
    pub settle: bool,
}

/// What a step sends.
#[derive(Debug, Arbitrary)]
pub enum Send {
    /// A well-formed control message.
    Control(Control),
    /// Any text frame (placeholders are replaced: see [`Script::parse_text`]).
    Text(String),
    /// A binary frame.
    Binary {
        /// The channel byte.
        channel: ChannelByte,
        /// The flags byte.
        flags: u8,
        /// The rest.
        payload: Payload,
    },
    /// A websocket ping.
    Ping(Vec<u8>),
    /// An unsolicited pong.
    Pong(Vec<u8>),
    /// A close frame, with a code or without.
    Close(Option<u16>),
    /// Drop the connection without a close frame.
    Drop,
    /// The answers to a bandwidth check, all at once: a pong per ping, one acknowledgement of
    /// everything downloaded, and the end of an empty upload.
    AnswerCheck,
    /// Nothing (with a settle point, in readable scripts).
    Settle,
}

/// What the broker has said so far in this script, for resolving references.
#[derive(Debug, Default)]
pub struct Memory {
    tickets: Vec<TicketId>,
    codes: Vec<String>,
    sessions: Vec<String>,
    approvals: Vec<u32>,
}

impl Memory {
    /// Remembers the tickets, codes, sessions and approvals in `msg`.
    pub fn note(&mut self, msg: &ServerMessage) {
        match msg {
            ServerMessage::TicketCreated { ticket } => self.tickets.push(ticket.id),
            ServerMessage::Queue { tickets } => self.tickets.extend(tickets.iter().map(|t| t.id)),
            ServerMessage::Invitation(info) => {
                self.codes.push(info.code.expose().clone());
                self.tickets.push(info.ticket);
            }
            ServerMessage::Waiting { ticket } => self.tickets.push(*ticket),
            ServerMessage::Paired(info) => {
                self.sessions.push(info.id.clone());
                self.tickets.push(info.ticket);
            }
            ServerMessage::ApprovalRequested { id, .. } => self.approvals.push(*id),
            ServerMessage::Event(event) => self.tickets.push(event.ticket),
            _ => {}
        }
    }
}

/// What resolving references needs besides [`Memory`].
#[derive(Debug)]
pub struct Context<'a> {
    /// What the broker said.
    pub memory: &'a Memory,
    /// A token per account in [`USERS`].
    pub tokens: &'a [String],
    /// Unix seconds.
    pub now: i64,
    /// Pings in the broker's bandwidth check.
    pub pings: u32,
}

impl Context<'_> {
    /// `text` with its placeholders replaced.
    fn substitute(&self, text: &str) -> String {
        if !text.contains('$') {
            return text.to_string();
        }
        let m = self.memory;
        let mut out = text.to_string();
        for (i, token) in self.tokens.iter().enumerate() {
            out = out.replace(&format!("$TOKEN{i}"), token);
        }
        let ticket = m.tickets.last().map_or(1, |t| t.0);
        out.replace("$TICKET", &ticket.to_string())
            .replace("$CODE", m.codes.last().map_or("", String::as_str))
            .replace("$SESSION", m.sessions.last().map_or("", String::as_str))
            .replace("$APPROVAL", &m.approvals.last().copied().unwrap_or(1).to_string())
    }
}

impl Send {
    /// The websocket messages to send: none for [`Send::Drop`] (see [`Send::drops`]) and
    /// [`Send::Settle`].
    pub fn messages(&self, cx: &Context<'_>) -> Vec<Message> {
        let one = match self {
            Send::Control(c) => Message::text(c.message(cx).encode()),
            Send::Text(t) => Message::text(cx.substitute(t)),
            Send::Binary { channel, flags, payload } => {
                let channel = match *channel {
                    ChannelByte::Known(i) => {
                        Channel::ALL[usize::from(i) % Channel::ALL.len()].as_u8()
                    }
                    ChannelByte::Raw(b) => b,
                };
                let mut frame = vec![channel, *flags];
                frame.extend_from_slice(&payload.bytes());
                Message::binary(Bytes::from(frame))
            }
            Send::Ping(p) => Message::Ping(Bytes::copy_from_slice(p)),
            Send::Pong(p) => Message::Pong(Bytes::copy_from_slice(p)),
            Send::Close(code) => {
                Message::Close(code.map(|c| CloseFrame { code: c.into(), reason: "fuzz".into() }))
            }
            Send::AnswerCheck => return answer_check(cx.pings),
            Send::Drop | Send::Settle => return Vec::new(),
        };
        vec![one]
    }

    /// Whether this step drops its connection.
    pub fn drops(&self) -> bool {
        matches!(self, Send::Drop)
    }
}

/// The frames that get a silent client through a bandwidth check of `pings` pings.
fn answer_check(pings: u32) -> Vec<Message> {
    let probe = |flags, payload: &[u8]| {
        let mut frame = vec![Channel::Probe.as_u8(), flags];
        frame.extend_from_slice(payload);
        Message::binary(Bytes::from(frame))
    };
    let mut out: Vec<Message> =
        (0..pings).map(|seq| probe(probe_flags::PONG, &seq.to_be_bytes())).collect();
    out.push(probe(probe_flags::ACK, &encode_ack(u64::MAX)));
    out.push(probe(probe_flags::END, &[]));
    out
}
