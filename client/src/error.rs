//! Errors a client meets talking to a broker.

use tether_protocol::{DecodeError, ErrorCode};

/// Why a connection to the broker failed or ended.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// TCP connect failed.
    #[error("cannot reach the broker at {addr}: {source}")]
    Connect {
        /// host:port.
        addr: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The TLS handshake failed (an untrusted certificate, a version the broker refuses...).
    #[error("TLS handshake with {addr} failed: {source}")]
    Tls {
        /// host:port.
        addr: String,
        /// The cause.
        source: std::io::Error,
    },
    /// Connecting took too long.
    #[error("timed out connecting to {0}")]
    Timeout(String),
    /// The broker's host name is not a valid TLS server name.
    #[error("{0:?} is not a valid server name")]
    ServerName(String),
    /// The websocket layer failed.
    #[error("websocket: {0}")]
    WebSocket(#[from] tokio_tungstenite::tungstenite::Error),
    /// The broker refused with an error message.
    #[error("broker refused ({code}): {message}")]
    Refused {
        /// The error code.
        code: ErrorCode,
        /// The broker's words.
        message: String,
    },
    /// The broker sent something this client cannot read.
    #[error("unreadable message from the broker: {0}")]
    Decode(#[from] DecodeError),
    /// The broker sent a valid message at a point where it makes no sense.
    #[error("unexpected message from the broker: {0}")]
    Unexpected(String),
    /// The connection closed.
    #[error("connection closed by the broker{}", .reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default())]
    Closed {
        /// The close code, if any.
        code: Option<u16>,
        /// The close reason, if any.
        reason: Option<String>,
    },
}

impl ClientError {
    /// Whether the connection was lost (the network failed or the stream ended without a
    /// close), rather than closed or refused by the broker: worth reconnecting.
    pub fn is_connection_lost(&self) -> bool {
        use tokio_tungstenite::tungstenite::Error as Ws;
        use tokio_tungstenite::tungstenite::error::ProtocolError;
        matches!(
            self,
            ClientError::WebSocket(
                Ws::Io(_)
                    | Ws::ConnectionClosed
                    | Ws::AlreadyClosed
                    | Ws::Protocol(ProtocolError::ResetWithoutClosingHandshake)
            ) | ClientError::Closed { code: None, .. }
        )
    }

    /// The broker's error code, when the broker refused.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            ClientError::Refused { code, .. } => Some(*code),
            _ => None,
        }
    }
}
