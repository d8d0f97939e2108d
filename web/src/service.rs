//! [`Web`]: the services the HTTP side calls and the router built over them once, at start.

use std::sync::Arc;

use axum::Router;
use tether_access::Access;
use tether_desk::Desk;
use tokio_util::sync::CancellationToken;

use crate::ctx::Ctx;

/// The broker's HTTP side: built once, then asked to serve each HTTP connection.
#[derive(Debug, Clone)]
pub struct Web {
    pub(crate) router: Router,
}

impl Web {
    /// The HTTP side over `desk` and `access`, winding down when `shutdown` is cancelled.
    pub fn new(desk: Arc<Desk>, access: Arc<Access>, shutdown: CancellationToken) -> Web {
        let ctx = Ctx { desk, access, shutdown };
        Web { router: crate::api::routes::routes(ctx) }
    }
}
