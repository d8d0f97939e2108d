//! Control messages: JSON text frames, each a tagged enum (`{"type": "...", ...}`).
//!
//! [`ClientMessage`] ([`client`]) flows from agents and consoles to the broker;
//! [`ServerMessage`] ([`server`]) from the broker to them. Decoding checks the size before
//! parsing and tells an unknown message type apart from a malformed one, so the broker can
//! answer each with the right error.

use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::{ErrorCode, MAX_MESSAGE_BYTES};

mod client;
mod server;
#[cfg(test)]
mod tests;

pub use client::{ClientMessage, Credential, Hello, JoinTarget, SupportRequest};
pub use server::{Approval, FailedSignIns, HelperMode, ServerMessage, Welcome};

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

pub(crate) fn decode<T: DeserializeOwned>(text: &str, known: &[&str]) -> Result<T, DecodeError> {
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
