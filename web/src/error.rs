//! [`ApiError`]: every refusal the API gives, as JSON `{"error": {"code", "message"}}` with an
//! HTTP status. Codes are the protocol's error codes where one fits (so a script handles the
//! websocket's and the API's refusals alike) and a few of HTTP's own; they are stable.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tether_access::AccessError;
use tether_desk::DeskError;
use tether_protocol::ErrorCode;

/// A refusal: status, stable code, and a sentence for people.
#[derive(Debug)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The stable code.
    pub code: &'static str,
    /// What went wrong, in words.
    pub message: String,
}

impl ApiError {
    /// A refusal with `status` and `code`.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status, code, message: message.into() }
    }

    /// A protocol error code as an HTTP refusal.
    pub fn coded(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError::new(status_of(code), code.name(), message)
    }

    /// No such route, ticket or session.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::coded(ErrorCode::NotFound, message)
    }

    /// The request is not what the route takes.
    pub fn malformed(message: impl Into<String>) -> ApiError {
        ApiError::coded(ErrorCode::Malformed, message)
    }
}

/// The HTTP status a protocol error code comes to.
pub fn status_of(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::Malformed | ErrorCode::UnknownMessage | ErrorCode::UnsupportedVersion => {
            StatusCode::BAD_REQUEST
        }
        ErrorCode::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::Unauthenticated | ErrorCode::BadCredentials => StatusCode::UNAUTHORIZED,
        ErrorCode::Forbidden => StatusCode::FORBIDDEN,
        ErrorCode::NotFound | ErrorCode::CodeInvalid => StatusCode::NOT_FOUND,
        ErrorCode::CodeExpired => StatusCode::GONE,
        ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::Busy | ErrorCode::ShuttingDown => StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::Timeout => StatusCode::GATEWAY_TIMEOUT,
        ErrorCode::Internal | ErrorCode::RecordingFailed => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::CONFLICT,
    }
}

/// A refusal as the API sends it.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// The refusal.
    pub error: ErrorDetail,
}

/// A refusal's stable code and its sentence.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable: `malformed`, `invalid`, `unauthenticated`, `forbidden`, `not_found`,
    /// `rate_limited`, `csrf`, …
    pub code: &'static str,
    /// For people.
    pub message: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody { error: ErrorDetail { code: self.code, message: self.message } };
        (self.status, Json(body)).into_response()
    }
}

impl From<DeskError> for ApiError {
    fn from(err: DeskError) -> ApiError {
        if err.is_ours() {
            tracing::error!(%err, "desk call failed");
            return ApiError::coded(err.code(), "the broker could not do that; see its log");
        }
        tracing::debug!(%err, "desk call refused");
        ApiError::coded(err.code(), err.to_string())
    }
}

impl From<AccessError> for ApiError {
    fn from(err: AccessError) -> ApiError {
        let code = err.code();
        if code.is_ours() {
            tracing::error!(%err, "access check failed");
            return ApiError::coded(code, "the broker could not do that; see its log");
        }
        tracing::debug!(%err, "access refused");
        ApiError::coded(code, err.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_keep_their_codes_and_fitting_statuses() {
        let e = ApiError::from(DeskError::NotFound("no ticket T9".into()));
        assert_eq!(
            (e.status, e.code, e.message.as_str()),
            (StatusCode::NOT_FOUND, "not_found", "no ticket T9")
        );
        let e = ApiError::from(AccessError::BadToken);
        assert_eq!((e.status, e.code), (StatusCode::UNAUTHORIZED, "bad_credentials"));
        let e = ApiError::from(DeskError::Io("disk full at /secret/path".into()));
        assert_eq!(e.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(
            !e.message.contains("/secret/path"),
            "our faults are logged, not told: {}",
            e.message
        );
    }
}
