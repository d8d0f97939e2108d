//! Binary channel frames: a one-byte channel, a one-byte flags field, then the payload.
//!
//! The broker decodes only this header on the relay path; payload formats belong to each
//! channel's own module. Which role may send on a channel and which consent it needs are
//! facts of the protocol, so they live here too.

use bytes::{BufMut, Bytes, BytesMut};

use crate::{Capability, MAX_MESSAGE_BYTES, Role};

/// Length of the binary frame header.
pub const HEADER_LEN: usize = 2;

/// The longest chat message, in bytes of UTF-8.
pub const MAX_CHAT_BYTES: usize = 16 * 1024;
/// The most clipboard text carried at once, in bytes (UTF-8).
pub const MAX_CLIPBOARD_BYTES: usize = 256 * 1024;

/// A data channel. Control messages are not a binary channel: they travel as JSON text frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
#[non_exhaustive]
pub enum Channel {
    /// Chat text (UTF-8), both ways.
    Chat = 1,
    /// Screen updates, agent to console.
    Screen = 2,
    /// Input events, console to agent.
    Input = 3,
    /// Clipboard contents, both ways.
    Clipboard = 4,
    /// File transfer, both ways.
    File = 5,
    /// Remote shell, both ways.
    Shell = 6,
    /// Bandwidth probe, client and broker.
    Probe = 7,
    /// WebRTC signalling, both ways.
    Signal = 8,
}

/// Where a frame waits to be written, in the order lanes are drained (control messages go
/// before all of them). Every lane but [`Lane::Newest`] is never dropped and bounded: a sender
/// waits for room, and a peer that never makes room ends the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    /// Input and probes, right behind control, so that a keystroke is never late and a round
    /// trip measures the link, not the queue.
    First,
    /// Chat, shell, clipboard and signals: interactive, never behind file data.
    Interactive,
    /// Screen updates (and requests for them): only the newest waiting frame is kept, since a
    /// stale picture is worth less than none.
    Newest,
    /// File data: flow-controlled, sent when nothing else waits.
    Bulk,
}

impl Channel {
    /// Every channel, in wire order.
    pub const ALL: [Channel; 8] = [
        Channel::Chat,
        Channel::Screen,
        Channel::Input,
        Channel::Clipboard,
        Channel::File,
        Channel::Shell,
        Channel::Probe,
        Channel::Signal,
    ];

    /// The channel's wire byte.
    pub fn as_u8(self) -> u8 {
        self as u8
    }

    /// The channel for a wire byte.
    pub fn from_u8(byte: u8) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.as_u8() == byte)
    }

    /// A short lower-case name for logs and errors.
    pub fn name(self) -> &'static str {
        match self {
            Channel::Chat => "chat",
            Channel::Screen => "screen",
            Channel::Input => "input",
            Channel::Clipboard => "clipboard",
            Channel::File => "file",
            Channel::Shell => "shell",
            Channel::Probe => "probe",
            Channel::Signal => "signal",
        }
    }

    /// How this channel's frames wait when the link is slower than their sender: the policy of
    /// the channel table in DESIGN.md, which the broker's outbox and the clients' sender both
    /// follow.
    pub fn lane(self) -> Lane {
        match self {
            Channel::Input | Channel::Probe => Lane::First,
            Channel::Chat | Channel::Shell | Channel::Clipboard | Channel::Signal => {
                Lane::Interactive
            }
            Channel::Screen => Lane::Newest,
            Channel::File => Lane::Bulk,
        }
    }

    /// The consent the customer must hold open for this channel's frames to pass.
    pub fn required_consent(self) -> Option<Capability> {
        match self {
            Channel::Screen => Some(Capability::View),
            Channel::Input | Channel::Clipboard => Some(Capability::Control),
            Channel::File => Some(Capability::Files),
            Channel::Shell => Some(Capability::Shell),
            Channel::Chat | Channel::Probe | Channel::Signal => None,
        }
    }

    /// The largest frame (header included) this channel carries. Small channels get small
    /// limits so that a hostile peer cannot park megabytes in a never-dropped queue.
    pub fn max_frame_bytes(self) -> usize {
        match self {
            Channel::Chat => HEADER_LEN + MAX_CHAT_BYTES,
            Channel::Input => HEADER_LEN + crate::MAX_INPUT_EVENT_BYTES,
            Channel::Signal => HEADER_LEN + 64 * 1024,
            Channel::Clipboard => HEADER_LEN + MAX_CLIPBOARD_BYTES,
            Channel::Screen | Channel::File | Channel::Shell | Channel::Probe => MAX_MESSAGE_BYTES,
        }
    }

    /// Whether a peer in `role` may send frames on this channel to its paired peer.
    pub fn may_send(self, role: Role) -> bool {
        match self {
            Channel::Input => role == Role::Console,
            // Screen updates come from the agent, requests for the next from the console
            // (see [`crate::screen_flags`]).
            Channel::Screen
            | Channel::Chat
            | Channel::Clipboard
            | Channel::File
            | Channel::Shell
            | Channel::Signal => true,
            // Probe frames go to the broker, never to the peer.
            Channel::Probe => false,
        }
    }
}

/// The two-byte header of a binary frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    /// The channel the payload belongs to.
    pub channel: Channel,
    /// Channel-specific flags.
    pub flags: u8,
}

/// Why a binary frame was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// Fewer than [`HEADER_LEN`] bytes.
    #[error("binary frame of {0} bytes is shorter than its {HEADER_LEN}-byte header")]
    Truncated(usize),
    /// The channel byte names no channel.
    #[error("unknown channel {0}")]
    UnknownChannel(u8),
    /// Larger than [`MAX_MESSAGE_BYTES`].
    #[error("frame of {0} bytes exceeds the {MAX_MESSAGE_BYTES}-byte limit")]
    TooLarge(usize),
}

impl FrameHeader {
    /// Decodes the header of `bytes`, checking length and channel. The payload is
    /// `&bytes[HEADER_LEN..]`.
    pub fn decode(bytes: &[u8]) -> Result<FrameHeader, FrameError> {
        if bytes.len() > MAX_MESSAGE_BYTES {
            return Err(FrameError::TooLarge(bytes.len()));
        }
        let [channel, flags, ..] = *bytes else {
            return Err(FrameError::Truncated(bytes.len()));
        };
        let channel = Channel::from_u8(channel).ok_or(FrameError::UnknownChannel(channel))?;
        Ok(FrameHeader { channel, flags })
    }
}

/// A decoded binary frame borrowing its payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    /// The header.
    pub header: FrameHeader,
    /// The bytes after the header.
    pub payload: &'a [u8],
}

impl<'a> Frame<'a> {
    /// Decodes a whole binary message.
    pub fn decode(bytes: &'a [u8]) -> Result<Frame<'a>, FrameError> {
        let header = FrameHeader::decode(bytes)?;
        Ok(Frame { header, payload: &bytes[HEADER_LEN..] })
    }

    /// Encodes a frame into one buffer ready to send as a binary websocket message.
    pub fn encode(channel: Channel, flags: u8, payload: &[u8]) -> Result<Bytes, FrameError> {
        let len = HEADER_LEN + payload.len();
        if len > MAX_MESSAGE_BYTES {
            return Err(FrameError::TooLarge(len));
        }
        let mut buf = BytesMut::with_capacity(len);
        buf.put_u8(channel.as_u8());
        buf.put_u8(flags);
        buf.put_slice(payload);
        Ok(buf.freeze())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn round_trips_every_channel() {
        for channel in Channel::ALL {
            let bytes = Frame::encode(channel, 0x5a, b"payload").unwrap();
            let frame = Frame::decode(&bytes).unwrap();
            assert_eq!(frame.header, FrameHeader { channel, flags: 0x5a });
            assert_eq!(frame.payload, b"payload");
        }
    }

    #[test]
    fn empty_payload_is_allowed() {
        let bytes = Frame::encode(Channel::Chat, 0, b"").unwrap();
        assert_eq!(Frame::decode(&bytes).unwrap().payload, b"");
    }

    #[test]
    fn refuses_short_unknown_and_oversized_frames() {
        assert_eq!(Frame::decode(&[]), Err(FrameError::Truncated(0)));
        assert_eq!(Frame::decode(&[1]), Err(FrameError::Truncated(1)));
        assert_eq!(Frame::decode(&[0, 0]), Err(FrameError::UnknownChannel(0)));
        assert_eq!(Frame::decode(&[200, 0, 1]), Err(FrameError::UnknownChannel(200)));
        let big = vec![1u8; MAX_MESSAGE_BYTES + 1];
        assert_eq!(Frame::decode(&big), Err(FrameError::TooLarge(MAX_MESSAGE_BYTES + 1)));
        let payload = vec![0u8; MAX_MESSAGE_BYTES - 1];
        assert!(matches!(Frame::encode(Channel::Chat, 0, &payload), Err(FrameError::TooLarge(_))));
        let payload = vec![0u8; MAX_MESSAGE_BYTES - HEADER_LEN];
        assert!(Frame::encode(Channel::Chat, 0, &payload).is_ok());
    }

    #[test]
    fn direction_and_consent_policy() {
        // Updates one way, requests the other; the broker checks which by the flags.
        assert!(Channel::Screen.may_send(Role::Agent) && Channel::Screen.may_send(Role::Console));
        assert!(Channel::Input.may_send(Role::Console));
        assert!(!Channel::Input.may_send(Role::Agent));
        assert!(Channel::Chat.may_send(Role::Agent) && Channel::Chat.may_send(Role::Console));
        assert_eq!(Channel::Screen.required_consent(), Some(Capability::View));
        assert_eq!(Channel::Input.required_consent(), Some(Capability::Control));
        assert_eq!(Channel::Chat.required_consent(), None);
        assert!(Channel::Input.max_frame_bytes() < Channel::Screen.max_frame_bytes());
        assert_eq!(Channel::Screen.max_frame_bytes(), MAX_MESSAGE_BYTES);
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            if let Ok(frame) = Frame::decode(&bytes) {
                prop_assert_eq!(frame.payload.len() + HEADER_LEN, bytes.len());
            }
        }
    }
}
