//! The broker's side of the websocket protocol (RFC 6455, server role), written for the relay:
//! a connection that is idle holds no read or write buffer at all, a frame read is a slice of
//! a buffer sized to it (passed on to the peer without a copy), and a frame written goes
//! straight into TLS with its header, without a buffer of its own between.
//!
//! [`frame`] owns the wire format, [`reader`] turns bytes into messages (unmasking,
//! reassembling fragments, enforcing limits), [`writer`] sends them.

pub mod frame;
mod reader;
mod writer;

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncWrite, ReadHalf, WriteHalf};

pub use self::reader::WsReader;
pub use self::writer::WsWriter;

/// A whole websocket message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// UTF-8 text (validated on arrival).
    Text(String),
    /// Bytes: a tether frame.
    Binary(Bytes),
    /// Asks for a pong with the same payload.
    Ping(Bytes),
    /// Answers a ping.
    Pong(Bytes),
    /// The peer is closing, with a code and reason if it gave one.
    Close(Option<CloseFrame>),
}

impl Message {
    /// Payload bytes.
    pub fn len(&self) -> usize {
        match self {
            Message::Text(t) => t.len(),
            Message::Binary(b) | Message::Ping(b) | Message::Pong(b) => b.len(),
            Message::Close(_) => 0,
        }
    }

    /// Whether the payload is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The payload.
    pub fn into_data(self) -> Bytes {
        match self {
            Message::Text(t) => Bytes::from(t),
            Message::Binary(b) | Message::Ping(b) | Message::Pong(b) => b,
            Message::Close(f) => {
                f.map(|f| Bytes::from(frame::close_payload(&f))).unwrap_or_default()
            }
        }
    }
}

/// A close frame's code and reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseFrame {
    /// The close code (RFC 6455 §7.4).
    pub code: u16,
    /// Why, in a few words.
    pub reason: String,
}

/// Why reading a websocket failed. Each ends the connection.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WsError {
    /// The peer broke a rule of the protocol.
    #[error("websocket protocol: {0}")]
    Protocol(&'static str),
    /// A frame or message larger than the limit.
    #[error("a websocket message of {size} bytes")]
    TooLarge {
        /// The size announced or reached.
        size: u64,
    },
    /// A text message or close reason that is not UTF-8.
    #[error("text frame is not UTF-8")]
    Utf8,
    /// The connection ended or failed without a closing handshake.
    #[error("connection lost")]
    Lost,
}

/// Splits an upgraded stream into its reading and writing halves. `read` holds bytes that
/// arrived with the upgrade request; `max_message` bounds frames and reassembled messages.
pub fn split<S>(
    stream: S,
    read: &[u8],
    max_message: usize,
) -> (WsReader<ReadHalf<S>>, WsWriter<WriteHalf<S>>)
where
    S: AsyncRead + AsyncWrite,
{
    let (r, w) = tokio::io::split(stream);
    (WsReader::new(r, read, max_message), WsWriter::new(w))
}
