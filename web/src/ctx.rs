//! [`Ctx`]: what every handler is given (the services it calls), and the body limit.

use std::sync::Arc;

use tether_access::Access;
use tether_desk::Desk;
use tokio_util::sync::CancellationToken;

/// The largest request body the API reads; larger ones are refused with 413 unread.
pub const MAX_BODY: usize = 256 * 1024;

/// What every handler is given: the services it calls.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// The help desk.
    pub desk: Arc<Desk>,
    /// Signing in and the authorization policy.
    pub access: Arc<Access>,
    /// Cancelled when the broker shuts down: long answers (event streams) end.
    pub shutdown: CancellationToken,
}
