//! Why a desk call was refused, grouped by cause; [`DeskError::code`] is the protocol's error
//! code for it, so every entry point answers alike.

use tether_access::Denied;
use tether_protocol::ErrorCode;
use tether_store::StoreError;
use tether_transcript::LibraryError;

/// Why a desk call was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeskError {
    /// No such ticket, user or session.
    #[error("{0}")]
    NotFound(String),
    /// The policy refused.
    #[error(transparent)]
    Denied(#[from] Denied),
    /// The request does not make sense as it stands.
    #[error("{0}")]
    Invalid(String),
    /// A transcript could not be read or exported.
    #[error(transparent)]
    Transcript(#[from] LibraryError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A file beside the store (an attachment) could not be kept.
    #[error("{0}")]
    Io(String),
}

impl DeskError {
    /// The protocol's code for this refusal.
    pub fn code(&self) -> ErrorCode {
        match self {
            DeskError::NotFound(_) => ErrorCode::NotFound,
            DeskError::Denied(_) => ErrorCode::Forbidden,
            DeskError::Invalid(_) => ErrorCode::Malformed,
            DeskError::Transcript(LibraryError::Unrecorded(_)) => ErrorCode::NotFound,
            DeskError::Transcript(LibraryError::NoShell(_)) => ErrorCode::NotFound,
            DeskError::Transcript(_) | DeskError::Store(_) | DeskError::Io(_) => {
                ErrorCode::Internal
            }
        }
    }

    /// Whether the fault is ours (logged as an error) rather than the request's.
    pub fn is_ours(&self) -> bool {
        self.code().is_ours()
    }
}

/// A trimmed, required text of at most `max` characters without control characters (a
/// newline aside).
pub(crate) fn required(text: &str, what: &str, max: usize) -> Result<String, DeskError> {
    let t = text.trim();
    if t.is_empty() || t.chars().count() > max || t.chars().any(|c| c.is_control() && c != '\n') {
        return Err(DeskError::Invalid(format!("{what} must be 1 to {max} characters of text")));
    }
    Ok(t.to_string())
}
