//! tether-protocol: every message and frame that crosses a tether socket.
//!
//! Control messages are JSON text frames ([`ClientMessage`] from agent or console to the broker,
//! [`ServerMessage`] from the broker); channel data are binary frames with a two-byte header
//! ([`FrameHeader`]). This crate owns the types, the codecs, version negotiation, size limits and
//! error codes. It does no IO and reads no clock: time arrives as arguments, so one crate serves
//! broker, agent and console and is tested without sockets.
#![forbid(unsafe_code)]

mod account;
mod admin;
#[cfg(feature = "cli")]
pub mod admin_cli;
mod bandwidth;
mod consent;
mod control;
mod customer;
mod desk;
mod direct;
pub mod encoding;
mod error;
mod file;
mod frame;
mod input;
mod model;
mod screen;
mod secret;
mod shell;
pub mod text;
pub mod tiles;
mod version;

pub use account::{AccountReply, AccountRequest, TokenInfo};
pub use admin::{
    AdminAnswer, AdminReply, AdminRequest, ExportFormat, SessionSummary, VerifyReport,
    VerifyStatus, parse_since, verify_exit_code,
};
pub use bandwidth::{
    CheckResult, Measurement, PROBE_CHUNK, ProbePhase, Thresholds, Verdict, decode_ack, encode_ack,
    flags as probe_flags, mbps, probe_window, rtt_stats,
};
pub use consent::{Capability, ConsentSet};
pub use control::{
    Approval, ClientMessage, Credential, DecodeError, FailedSignIns, Hello, HelperMode, JoinTarget,
    ServerMessage, SupportRequest, Welcome,
};
pub use customer::{CustomerTicket, CustomerUpdate, CustomerVisit};
pub use desk::{
    Attachment, Availability, Breach, DeskEvent, DeskReply, DeskRequest, HistoryEntry,
    OnsiteEntryKind, OnsiteInfo, PriorityStats, SlaReport, TechnicianStats, TicketDetail,
    TicketFilter, WeekStats, format_duration,
};
pub use direct::{IceServer, MAX_SIGNAL_BYTES, Signal};
pub use encoding::{group_code, hex, rfc3339, system_time, unhex, unix_seconds};
pub use error::ErrorCode;
pub use file::{
    Direction, FILE_CHUNK, FILE_DATA_HEADER, FileMsg, decode_data, encode_data_header, file_flags,
    safe_file_name,
};
pub use frame::{
    Channel, Frame, FrameError, FrameHeader, HEADER_LEN, Lane, MAX_CHAT_BYTES, MAX_CLIPBOARD_BYTES,
};
pub use input::{
    Action, InputError, InputEvent, KeyCombo, MAX_INPUT_EVENT_BYTES, Modifier, MouseButton,
    NAMED_KEYS,
};
pub use model::{
    InvitationInfo, PeerInfo, Priority, Role, SessionInfo, TicketId, TicketStatus, TicketSummary,
    UserInfo, UserRole,
};
pub use screen::{
    MAX_DIMENSION, MAX_PIXELS, SCREEN_HEADER_LEN, SCREEN_REQUEST_LEN, ScreenEncoding, ScreenError,
    ScreenFrame, ScreenRequest, screen_flags,
};
pub use secret::Secret;
pub use shell::{ShellMsg, shell_flags};
pub use text::visible;
pub use version::{PROTOCOL_VERSION, VersionError, VersionRange, negotiate};

/// The largest websocket message (and websocket frame) either end accepts, in bytes.
///
/// This one constant bounds every inbound message: the broker and the clients configure their
/// websocket with it as both the maximum message and the maximum frame size, so nothing larger
/// is ever buffered.
pub const MAX_MESSAGE_BYTES: usize = 1 << 20;

/// The websocket path the broker serves.
pub const WS_PATH: &str = "/v1/ws";
