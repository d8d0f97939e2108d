//! Error codes carried in `Error` messages, and the websocket close code each one ends with.

use std::fmt;

use serde::{Deserialize, Serialize};

/// What went wrong, as both ends name it. Grouped by cause: the peer's input, its credentials,
/// what it asked for, the session, and the broker itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorCode {
    /// No protocol version in common.
    UnsupportedVersion,
    /// A message that does not parse, or arrives in the wrong phase.
    Malformed,
    /// A control message of a type this broker does not know.
    UnknownMessage,
    /// A message over the size limit.
    TooLarge,
    /// The first message was not a `hello`, or no credential was given where one is needed.
    Unauthenticated,
    /// Wrong user name or password, an unknown or expired token, or a disabled account.
    BadCredentials,
    /// Authenticated, but not allowed to do this.
    Forbidden,
    /// The code is wrong, used or burned.
    CodeInvalid,
    /// The code has expired.
    CodeExpired,
    /// Too many failed attempts from this address; try again later.
    RateLimited,
    /// No such ticket or session.
    NotFound,
    /// The ticket already has someone on that side.
    Busy,
    /// A frame needed a consent the customer does not hold.
    ConsentRequired,
    /// A frame on a channel this end may not send on.
    WrongDirection,
    /// The peer fell too far behind; the session ended rather than buffer without bound.
    Overflow,
    /// The peer left or vanished.
    PeerGone,
    /// The peer said nothing for too long.
    Timeout,
    /// The broker is shutting down.
    ShuttingDown,
    /// The session's transcript could not be written; sessions are not run unrecorded.
    RecordingFailed,
    /// A fault inside the broker.
    Internal,
}

impl ErrorCode {
    /// The websocket close code a connection ends with when this error is fatal.
    pub fn close_code(self) -> u16 {
        match self {
            ErrorCode::UnsupportedVersion => 4000,
            ErrorCode::Malformed => 1002,
            ErrorCode::UnknownMessage => 1003,
            ErrorCode::TooLarge => 1009,
            ErrorCode::Unauthenticated => 4001,
            ErrorCode::BadCredentials => 4003,
            ErrorCode::Forbidden => 4004,
            ErrorCode::CodeInvalid => 4005,
            ErrorCode::CodeExpired => 4006,
            ErrorCode::RateLimited => 4008,
            ErrorCode::NotFound => 4010,
            ErrorCode::Busy => 4011,
            ErrorCode::ConsentRequired => 4020,
            ErrorCode::WrongDirection => 4021,
            ErrorCode::Overflow => 4022,
            ErrorCode::PeerGone => 4023,
            ErrorCode::Timeout => 4024,
            ErrorCode::ShuttingDown => 1001,
            ErrorCode::RecordingFailed => 4030,
            ErrorCode::Internal => 1011,
        }
    }

    /// The wire name.
    pub fn name(self) -> &'static str {
        match self {
            ErrorCode::UnsupportedVersion => "unsupported_version",
            ErrorCode::Malformed => "malformed",
            ErrorCode::UnknownMessage => "unknown_message",
            ErrorCode::TooLarge => "too_large",
            ErrorCode::Unauthenticated => "unauthenticated",
            ErrorCode::BadCredentials => "bad_credentials",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::CodeInvalid => "code_invalid",
            ErrorCode::CodeExpired => "code_expired",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::NotFound => "not_found",
            ErrorCode::Busy => "busy",
            ErrorCode::ConsentRequired => "consent_required",
            ErrorCode::WrongDirection => "wrong_direction",
            ErrorCode::Overflow => "overflow",
            ErrorCode::PeerGone => "peer_gone",
            ErrorCode::Timeout => "timeout",
            ErrorCode::ShuttingDown => "shutting_down",
            ErrorCode::RecordingFailed => "recording_failed",
            ErrorCode::Internal => "internal",
        }
    }

    /// Whether the fault lies with the broker rather than the peer (logged as an error).
    pub fn is_ours(self) -> bool {
        matches!(self, ErrorCode::Internal | ErrorCode::RecordingFailed)
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_match_serde() {
        for code in [ErrorCode::UnsupportedVersion, ErrorCode::RateLimited, ErrorCode::Internal] {
            assert_eq!(serde_json::to_string(&code).unwrap(), format!("\"{}\"", code.name()));
        }
    }

    #[test]
    fn close_codes_are_valid_websocket_codes() {
        for code in [ErrorCode::Malformed, ErrorCode::TooLarge, ErrorCode::CodeExpired] {
            let c = code.close_code();
            assert!((1000..=1011).contains(&c) || (4000..=4999).contains(&c));
        }
    }
}
