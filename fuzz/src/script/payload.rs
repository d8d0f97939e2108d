//! Binary frame payloads a script sends: raw bytes, or real file, shell, input, screen and
//! probe payloads built with the protocol's encoders.

use arbitrary::Arbitrary;
use tether_protocol::{
    Direction, FileMsg, InputEvent, ScreenRequest, ShellMsg, encode_ack, encode_data_header,
};

/// A channel byte: usually a real channel.
#[derive(Debug, Arbitrary)]
pub enum ChannelByte {
    /// Index into [`tether_protocol::Channel::ALL`], modulo its length.
    Known(u8),
    /// Any byte.
    Raw(u8),
}

/// A frame payload.
#[derive(Debug, Arbitrary)]
pub enum Payload {
    /// Any bytes.
    Raw(Vec<u8>),
    /// Text (chat, clipboard).
    Text(String),
    /// A mouse event (keys need a parsed combination; raw bytes cover those).
    Mouse { x: u32, y: u32, dx: i32, dy: i32, wheel: bool },
    /// A screen request.
    ScreenRequest { have: Option<u32>, keyframe: bool },
    /// A file control message.
    File(FileSpec),
    /// A file data chunk.
    FileData { id: u32, offset: u64, data: Vec<u8> },
    /// A shell control message.
    Shell(ShellSpec),
    /// A probe acknowledgement.
    Ack(u64),
}

/// File control messages.
#[derive(Debug, Arbitrary)]
pub enum FileSpec {
    Offer { id: u32, name: String, size: u64, sha256: String, to_agent: bool },
    Request { id: u32, path: String },
    Accept { id: u32, offset: u64 },
    Refuse { id: u32, reason: String },
    Ack { id: u32, received: u64 },
    Result { id: u32, ok: bool, sha256: String, detail: String },
    Cancel { id: u32, reason: String },
}

/// Shell control messages.
#[derive(Debug, Arbitrary)]
pub enum ShellSpec {
    Open { cols: u16, rows: u16 },
    Opened { shell: String },
    Resize { cols: u16, rows: u16 },
    Close { reason: String },
    Exited { code: Option<i32>, reason: String },
}

impl Payload {
    pub(super) fn bytes(&self) -> Vec<u8> {
        match self {
            Payload::Raw(b) => b.clone(),
            Payload::Text(t) => t.as_bytes().to_vec(),
            Payload::Mouse { x, y, dx, dy, wheel } => {
                let event = if *wheel {
                    InputEvent::Wheel { dx: *dx, dy: *dy }
                } else {
                    InputEvent::MouseMove { x: *x, y: *y }
                };
                event.encode()
            }
            Payload::ScreenRequest { have, keyframe } => {
                ScreenRequest { have: *have, keyframe: *keyframe }.encode().to_vec()
            }
            Payload::File(spec) => spec.message().encode(),
            Payload::FileData { id, offset, data } => {
                let mut out = encode_data_header(*id, *offset).to_vec();
                out.extend_from_slice(data);
                out
            }
            Payload::Shell(spec) => spec.message().encode(),
            Payload::Ack(n) => encode_ack(*n).to_vec(),
        }
    }
}

impl FileSpec {
    fn message(&self) -> FileMsg {
        match self {
            FileSpec::Offer { id, name, size, sha256, to_agent } => FileMsg::Offer {
                id: *id,
                name: name.clone(),
                size: *size,
                sha256: sha256.clone(),
                direction: if *to_agent { Direction::ToAgent } else { Direction::ToConsole },
            },
            FileSpec::Request { id, path } => FileMsg::Request { id: *id, path: path.clone() },
            FileSpec::Accept { id, offset } => FileMsg::Accept { id: *id, offset: *offset },
            FileSpec::Refuse { id, reason } => FileMsg::Refuse { id: *id, reason: reason.clone() },
            FileSpec::Ack { id, received } => FileMsg::Ack { id: *id, received: *received },
            FileSpec::Result { id, ok, sha256, detail } => {
                FileMsg::Result { id: *id, ok: *ok, sha256: sha256.clone(), detail: detail.clone() }
            }
            FileSpec::Cancel { id, reason } => FileMsg::Cancel { id: *id, reason: reason.clone() },
        }
    }
}

impl ShellSpec {
    fn message(&self) -> ShellMsg {
        match self {
            ShellSpec::Open { cols, rows } => ShellMsg::Open { cols: *cols, rows: *rows },
            ShellSpec::Opened { shell } => ShellMsg::Opened { shell: shell.clone() },
            ShellSpec::Resize { cols, rows } => ShellMsg::Resize { cols: *cols, rows: *rows },
            ShellSpec::Close { reason } => ShellMsg::Close { reason: reason.clone() },
            ShellSpec::Exited { code, reason } => {
                ShellMsg::Exited { code: *code, reason: reason.clone() }
            }
        }
    }
}
