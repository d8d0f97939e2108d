//! [`Web`]: the services the HTTP side calls and the router built over them once, at start.

use std::sync::Arc;

use axum::Router;
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

/// The broker's HTTP side: built once, then asked to serve each HTTP connection.
#[derive(Debug, Clone)]
pub struct Web {
    pub(crate) router: Router,
}

impl Web {
    /// The HTTP side over `desk` and `access`, winding down when `shutdown` is cancelled.
    pub fn new(desk: Arc<Desk>, access: Arc<Access>, shutdown: CancellationToken) -> Web {
        let ctx = Ctx { desk, access, shutdown };
        Web { router: crate::api::routes(ctx) }
    }
}
