//! Onsite visits and one's own availability: scheduling a visit, dispatching a technician, the
//! arrival time, the visit's log (actions, parts, equipment, attachments) and the client's
//! sign-off; a signed-in account setting its availability and location. Each is one desk
//! request, decided by the same policy as the console's.

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::Value;
use tether_protocol::{Attachment, Availability, DeskRequest, OnsiteEntryKind};

use super::common::{desk, ticket_id};
use super::tickets::answer;
use crate::ApiError;
use crate::auth::Caller;
use crate::body::Body;
use crate::ctx::Ctx;

/// `POST /api/v1/tickets/{id}/onsite`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Visit {
    window_start: i64,
    window_end: i64,
    address: String,
    lat: f64,
    lon: f64,
    #[serde(default)]
    access: String,
    #[serde(default)]
    contact_confirmed: bool,
}

/// Turns a ticket into an onsite visit in a window.
#[utoipa::path(
    post,
    path = "/api/v1/tickets/{id}/onsite",
    tag = "onsite",
    params(("id" = String, Path, description = "the ticket: T42 or 42")),
    request_body = Visit,
    responses((status = 200, description = "the visit is scheduled", body = crate::api::doc::Message), (status = "4XX", description = "refused; see the code", body = crate::error::ErrorBody)),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn schedule(
    State(ctx): State<Ctx>,
    caller: Caller,
    Path(id): Path<String>,
    Body(v): Body<Visit>,
) -> Result<Json<Value>, ApiError> {
    let req = DeskRequest::Onsite {
        ticket: ticket_id(&id)?,
        window_start: v.window_start,
        window_end: v.window_end,
        address: v.address,
        lat: v.lat,
        lon: v.lon,
        access: v.access,
        contact_confirmed: v.contact_confirmed,
    };
    Ok(answer(desk(&ctx, &caller, req).await?))
}

/// `POST /api/v1/tickets/{id}/dispatch`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Dispatch {
    #[serde(default)]
    to: Option<String>,
}

/// Sends a technician on the visit: the one named, or the best by skill, availability and
/// distance.
#[utoipa::path(
    post,
    path = "/api/v1/tickets/{id}/dispatch",
    tag = "onsite",
    params(("id" = String, Path, description = "the ticket: T42 or 42")),
    request_body = Dispatch,
    responses((status = 200, description = "a technician is sent", body = crate::api::doc::Message), (status = "4XX", description = "refused; see the code", body = crate::error::ErrorBody)),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn dispatch(
    State(ctx): State<Ctx>,
    caller: Caller,
    Path(id): Path<String>,
    Body(d): Body<Dispatch>,
) -> Result<Json<Value>, ApiError> {
    let req = DeskRequest::Dispatch { ticket: ticket_id(&id)?, to: d.to };
    Ok(answer(desk(&ctx, &caller, req).await?))
}

/// `POST /api/v1/tickets/{id}/eta`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Eta {
    eta: i64,
    #[serde(default)]
    delay_reason: Option<String>,
}

/// The technician's expected arrival (a change is a delay the client is told about).
#[utoipa::path(
    post,
    path = "/api/v1/tickets/{id}/eta",
    tag = "onsite",
    params(("id" = String, Path, description = "the ticket: T42 or 42")),
    request_body = Eta,
    responses((status = 200, description = "the arrival time is set", body = crate::api::doc::Message), (status = "4XX", description = "refused; see the code", body = crate::error::ErrorBody)),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn eta(
    State(ctx): State<Ctx>,
    caller: Caller,
    Path(id): Path<String>,
    Body(e): Body<Eta>,
) -> Result<Json<Value>, ApiError> {
    let req =
        DeskRequest::Eta { ticket: ticket_id(&id)?, eta: e.eta, delay_reason: e.delay_reason };
    Ok(answer(desk(&ctx, &caller, req).await?))
}

/// `POST /api/v1/tickets/{id}/onsite-log`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LogEntry {
    kind: OnsiteEntryKind,
    text: String,
    #[serde(default)]
    attachment: Option<Attachment>,
}

/// Records an action, part, equipment or attachment of the visit.
#[utoipa::path(
    post,
    path = "/api/v1/tickets/{id}/onsite-log",
    tag = "onsite",
    params(("id" = String, Path, description = "the ticket: T42 or 42")),
    request_body = LogEntry,
    responses((status = 200, description = "recorded", body = crate::api::doc::Message), (status = "4XX", description = "refused; see the code", body = crate::error::ErrorBody)),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn log(
    State(ctx): State<Ctx>,
    caller: Caller,
    Path(id): Path<String>,
    Body(e): Body<LogEntry>,
) -> Result<Json<Value>, ApiError> {
    let req = DeskRequest::OnsiteLog {
        ticket: ticket_id(&id)?,
        kind: e.kind,
        text: e.text,
        attachment: e.attachment,
    };
    Ok(answer(desk(&ctx, &caller, req).await?))
}

/// `POST /api/v1/tickets/{id}/sign-off`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignOff {
    name: String,
    solved: bool,
}

/// The client's sign-off at the end of the visit: solved closes the ticket, not solved
/// reopens it.
#[utoipa::path(
    post,
    path = "/api/v1/tickets/{id}/sign-off",
    tag = "onsite",
    params(("id" = String, Path, description = "the ticket: T42 or 42")),
    request_body = SignOff,
    responses((status = 200, description = "signed off: solved closes the ticket, not solved reopens it", body = crate::api::doc::Message), (status = "4XX", description = "refused; see the code", body = crate::error::ErrorBody)),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn sign_off(
    State(ctx): State<Ctx>,
    caller: Caller,
    Path(id): Path<String>,
    Body(s): Body<SignOff>,
) -> Result<Json<Value>, ApiError> {
    let req = DeskRequest::SignOff { ticket: ticket_id(&id)?, name: s.name, solved: s.solved };
    Ok(answer(desk(&ctx, &caller, req).await?))
}

/// `POST /api/v1/me/availability`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetAvailability {
    availability: Availability,
}

/// Sets the caller's availability (routing offers new work to the available).
#[utoipa::path(
    post,
    path = "/api/v1/me/availability",
    tag = "account",
    request_body = SetAvailability,
    responses((status = 200, description = "availability set", body = crate::api::doc::Message), (status = "4XX", description = "refused; see the code", body = crate::error::ErrorBody)),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn availability(
    State(ctx): State<Ctx>,
    caller: Caller,
    Body(a): Body<SetAvailability>,
) -> Result<Json<Value>, ApiError> {
    let req = DeskRequest::SetAvailability { availability: a.availability };
    Ok(answer(desk(&ctx, &caller, req).await?))
}

/// `POST /api/v1/me/location`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetLocation {
    lat: f64,
    lon: f64,
}

/// Sets the caller's location (dispatch sends the nearest).
#[utoipa::path(
    post,
    path = "/api/v1/me/location",
    tag = "account",
    request_body = SetLocation,
    responses((status = 200, description = "location set", body = crate::api::doc::Message), (status = "4XX", description = "refused; see the code", body = crate::error::ErrorBody)),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn location(
    State(ctx): State<Ctx>,
    caller: Caller,
    Body(l): Body<SetLocation>,
) -> Result<Json<Value>, ApiError> {
    let req = DeskRequest::SetLocation { lat: l.lat, lon: l.lon };
    Ok(answer(desk(&ctx, &caller, req).await?))
}
