//! The routes: the desk's page and its files, `/api/v1/…` for scripts and pages, and answers
//! for everything else (the
//! websocket's path asked without an upgrade, unknown paths and methods), all as JSON with the
//! security headers.
//!
//! - [`account`]: signing in and out, and who the caller is;
//! - [`events`]: the desk's events as they happen (server-sent events);
//! - [`tickets`]: the ticket lifecycle and the deadline review;
//! - [`onsite`]: onsite visits, and one's own availability and location;
//! - [`review`]: sessions, their transcripts, verification and exports;
//! - [`staff`]: everyone at the desk, and accounts for admins;
//! - [`portal`]: customers asking for help and following their ticket through its link.

pub mod account;
pub mod events;
pub mod onsite;
pub mod portal;
pub mod review;
pub mod staff;
pub mod tickets;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::middleware::map_response;
use axum::routing::{any, get, post};
use tether_protocol::{DeskReply, DeskRequest, ErrorCode, WS_PATH};

use crate::ApiError;
use crate::auth::Caller;
use crate::service::{Ctx, MAX_BODY};

/// Every route, with the body limit and the security headers.
pub fn routes(ctx: Ctx) -> Router {
    let v1 = Router::new()
        .route("/sign-in", post(account::sign_in))
        .route("/sign-out", post(account::sign_out))
        .route("/me", get(account::me))
        .route("/events", get(events::stream))
        .route("/tickets", get(tickets::list).post(tickets::create))
        .route("/tickets/{id}", get(tickets::show))
        .route("/tickets/{id}/claim", post(tickets::claim))
        .route("/tickets/{id}/ack", post(tickets::ack))
        .route("/tickets/{id}/assign", post(tickets::assign))
        .route("/tickets/{id}/priority", post(tickets::priority))
        .route("/tickets/{id}/escalate", post(tickets::escalate))
        .route("/tickets/{id}/close", post(tickets::close))
        .route("/tickets/{id}/follow-up", post(tickets::follow_up))
        .route("/tickets/{id}/link", post(portal::new_link).delete(portal::revoke_link))
        .route("/tickets/{id}/onsite", post(onsite::schedule))
        .route("/tickets/{id}/dispatch", post(onsite::dispatch))
        .route("/tickets/{id}/eta", post(onsite::eta))
        .route("/tickets/{id}/onsite-log", post(onsite::log))
        .route("/tickets/{id}/sign-off", post(onsite::sign_off))
        .route("/me/availability", post(onsite::availability))
        .route("/me/location", post(onsite::location))
        .route("/portal/requests", post(portal::request))
        .route("/portal/tickets/{link}", get(portal::show))
        .route("/portal/tickets/{link}/answer", post(portal::answer))
        .route("/report", get(tickets::report))
        .route("/sessions", get(review::sessions))
        .route("/sessions/{id}/transcript", get(review::transcript))
        .route("/sessions/{id}/verify", get(review::verify))
        .route("/sessions/{id}/export", get(review::export))
        .route("/verify", get(review::verify_all))
        .route("/staff", get(staff::list))
        .route("/users", post(staff::add))
        .route("/users/{name}/disable", post(staff::disable))
        .route("/users/{name}/enable", post(staff::enable))
        .route("/users/{name}/role", post(staff::role))
        .route("/users/{name}/skills", post(staff::skills));
    Router::new()
        .route("/", get(crate::pages::index))
        .route("/portal", get(crate::pages::index))
        .route("/t/{link}", get(crate::pages::index))
        .route("/assets/{name}", get(crate::pages::asset))
        .nest("/api/v1", v1)
        .route(WS_PATH, any(websocket_only))
        .fallback(unknown)
        .method_not_allowed_fallback(wrong_method)
        .with_state(ctx)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(map_response(crate::headers::secure))
}

/// The websocket's path asked for without an upgrade.
async fn websocket_only() -> ApiError {
    ApiError::new(
        StatusCode::UPGRADE_REQUIRED,
        "upgrade_required",
        "this is a tether broker's websocket: connect with tether-agent or tether-console",
    )
}

async fn unknown() -> ApiError {
    ApiError::not_found("no such page or API route; the API is under /api/v1/")
}

async fn wrong_method() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this route takes another method",
    )
}

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
pub(crate) fn ticket_id(text: &str) -> Result<tether_protocol::TicketId, ApiError> {
    text.parse().map_err(|e: String| ApiError::coded(ErrorCode::NotFound, e))
}
