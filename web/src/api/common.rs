//! What the handlers share: a desk request made for the caller, and a path's ticket number.

use tether_protocol::{DeskReply, DeskRequest, ErrorCode, TicketId};

use crate::ApiError;
use crate::auth::Caller;
use crate::ctx::Ctx;

/// A desk request made for `caller`, whose token was checked against the store for this
/// request (so a disabled account or a changed role counts at once).
pub(crate) async fn desk(
    ctx: &Ctx,
    caller: &Caller,
    req: DeskRequest,
) -> Result<DeskReply, ApiError> {
    Ok(ctx.desk.request(&caller.actor, req).await?)
}

/// A path's ticket number (`T42`, `42`).
pub(crate) fn ticket_id(text: &str) -> Result<TicketId, ApiError> {
    text.parse().map_err(|e: String| ApiError::coded(ErrorCode::NotFound, e))
}
