//! Why access was refused: each variant says in words what the peer is told, and
//! [`AccessError::code`] the protocol's error code for it, so every entry point answers alike.

use tether_protocol::ErrorCode;
use tether_store::StoreError;

use crate::credentials::AuthError;
use crate::policy::Denied;

/// Why a sign-in, a code or a request was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AccessError {
    /// Too many failures from this address (`what` names them); try again later.
    #[error("too many {what} from this address; try again in {retry_in_secs} s")]
    RateLimited {
        /// What failed too often: `failed logins`, `wrong codes`, `failed attempts`.
        what: &'static str,
        /// Seconds until the block ends.
        retry_in_secs: i64,
    },
    /// The account is locked after repeated failed sign-ins.
    #[error(
        "this account is locked after repeated failed sign-ins; try again in {retry_in_secs} s \
         or ask an admin to unlock it"
    )]
    AccountLocked {
        /// Seconds until the lock ends.
        retry_in_secs: i64,
    },
    /// Every password-hashing slot stayed busy.
    #[error("the broker is busy checking passwords; try again in a moment")]
    Busy,
    /// Wrong name or password.
    #[error("wrong user name or password")]
    BadCredentials,
    /// The token is unknown, expired or revoked.
    #[error("token unknown, expired or revoked; log in again")]
    BadToken,
    /// The code matches no live code.
    #[error("that code is not valid; check the digits with your technician")]
    CodeInvalid,
    /// The code expired.
    #[error("that code has expired; ask your technician for a new one")]
    CodeExpired,
    /// The code's ticket is closed.
    #[error("that ticket is already closed")]
    TicketClosed,
    /// The account changed since this connection signed in (disabled, removed, another role).
    #[error("{0}")]
    Revoked(&'static str),
    /// A token id that names no live token, or more than one.
    #[error("{0}")]
    NoSuchToken(String),
    /// No such account.
    #[error("no user {0:?}")]
    NoSuchUser(String),
    /// An account change that does not make sense (a bad name, a name taken).
    #[error("{0}")]
    Invalid(String),
    /// The policy refused.
    #[error(transparent)]
    Denied(#[from] Denied),
    /// The broker is stopping.
    #[error("the broker is shutting down")]
    ShuttingDown,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Randomness or hashing failed.
    #[error(transparent)]
    Credentials(#[from] AuthError),
}

impl AccessError {
    /// The protocol's code for this refusal.
    pub fn code(&self) -> ErrorCode {
        match self {
            AccessError::RateLimited { .. } | AccessError::AccountLocked { .. } => {
                ErrorCode::RateLimited
            }
            AccessError::Busy => ErrorCode::Busy,
            AccessError::BadCredentials | AccessError::BadToken => ErrorCode::BadCredentials,
            AccessError::Revoked(_) => ErrorCode::Unauthenticated,
            AccessError::CodeInvalid => ErrorCode::CodeInvalid,
            AccessError::CodeExpired => ErrorCode::CodeExpired,
            AccessError::TicketClosed
            | AccessError::NoSuchToken(_)
            | AccessError::NoSuchUser(_) => ErrorCode::NotFound,
            AccessError::Invalid(_) => ErrorCode::Malformed,
            AccessError::Denied(_) => ErrorCode::Forbidden,
            AccessError::ShuttingDown => ErrorCode::ShuttingDown,
            AccessError::Store(_) | AccessError::Credentials(_) => ErrorCode::Internal,
        }
    }
}
