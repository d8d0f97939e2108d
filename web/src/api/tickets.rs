//! Tickets: list (filtered, paged), show with history, log one that came by phone, e-mail or
//! the portal, and the changes (claim, acknowledge, assign, priority, escalate, close,
//! follow-up); and the deadline review. Each is one desk request, so the websocket and the
//! API are one code path and one policy.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tether_protocol::{
    DeskReply, DeskRequest, Priority, TicketFilter, TicketStatus, TicketSummary,
};

use super::common::{desk, ticket_id};
use super::doc::Message;
use crate::ApiError;
use crate::auth::Caller;
use crate::body::{Body, Params};
use crate::ctx::Ctx;

/// Tickets a list answers at most.
const MAX_PAGE: usize = 1000;
/// Tickets a list answers when not told.
const DEFAULT_PAGE: usize = 100;

/// `GET /api/v1/tickets` query.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    status: Option<TicketStatus>,
    priority: Option<Priority>,
    assigned_to: Option<String>,
    #[serde(default)]
    breached: bool,
    #[serde(default)]
    include_closed: bool,
    #[serde(default)]
    offset: usize,
    limit: Option<usize>,
}

/// Tickets matching the filter, most urgent first, one page of them.
#[utoipa::path(
    get,
    path = "/api/v1/tickets",
    tag = "tickets",
    params(ListQuery),
    responses((status = 200, description = "a page of matching tickets, most urgent first", body = TicketPage), (status = "4XX", description = "refused; see the code", body = crate::error::ErrorBody)),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn list(
    State(ctx): State<Ctx>,
    caller: Caller,
    Params(q): Params<ListQuery>,
) -> Result<Json<TicketPage>, ApiError> {
    let limit = q.limit.unwrap_or(DEFAULT_PAGE);
    if limit == 0 || limit > MAX_PAGE {
        return Err(ApiError::malformed(format!("limit is 1 to {MAX_PAGE}")));
    }
    let filter = TicketFilter {
        status: q.status,
        priority: q.priority,
        assigned_to: q.assigned_to,
        breached: q.breached,
        include_closed: q.include_closed,
    };
    let (tickets, total) = ctx.desk.page(&caller.actor, &filter, q.offset, limit).await?;
    Ok(Json(TicketPage { tickets, total, offset: q.offset, limit }))
}

/// One page of a ticket list.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TicketPage {
    /// This page's tickets, most urgent first.
    pub tickets: Vec<TicketSummary>,
    /// How many match in all.
    pub total: usize,
    /// Where this page starts.
    pub offset: usize,
    /// The page's size.
    pub limit: usize,
}

/// `POST /api/v1/tickets`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTicket {
    channel: String,
    client: String,
    contact: String,
    issue: String,
    priority: Priority,
    #[serde(default)]
    skills: Vec<String>,
}

/// Logs a ticket for a request that came by phone, e-mail or the portal; 201 with the ticket.
#[utoipa::path(
    post,
    path = "/api/v1/tickets",
    tag = "tickets",
    request_body = NewTicket,
    responses((status = 201, description = "logged and routed", body = tether_protocol::TicketDetail), (status = "4XX", description = "refused; see the code", body = crate::error::ErrorBody)),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn create(
    State(ctx): State<Ctx>,
    caller: Caller,
    Body(t): Body<NewTicket>,
) -> Result<Response, ApiError> {
    let req = DeskRequest::TicketNew {
        channel: t.channel,
        client: t.client,
        contact: t.contact,
        issue: t.issue,
        priority: t.priority,
        skills: t.skills,
    };
    let reply = answer(desk(&ctx, &caller, req).await?);
    Ok((StatusCode::CREATED, reply).into_response())
}

/// One ticket with its history, onsite visit and sessions.
#[utoipa::path(
    get,
    path = "/api/v1/tickets/{id}",
    tag = "tickets",
    params(("id" = String, Path, description = "the ticket: T42 or 42")),
    responses((status = 200, description = "the ticket with its history and visit", body = tether_protocol::TicketDetail), (status = "4XX", description = "refused; see the code", body = crate::error::ErrorBody)),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn show(
    State(ctx): State<Ctx>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let ticket = ticket_id(&id)?;
    Ok(answer(desk(&ctx, &caller, DeskRequest::TicketShow { ticket }).await?))
}

/// Takes a ticket.
#[utoipa::path(
    post,
    path = "/api/v1/tickets/{id}/claim",
    tag = "tickets",
    params(("id" = String, Path, description = "the ticket: T42 or 42")),
    responses((status = 200, description = "claimed", body = crate::api::doc::Message), (status = "4XX", description = "refused; see the code", body = crate::error::ErrorBody)),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn claim(
    State(ctx): State<Ctx>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let ticket = ticket_id(&id)?;
    Ok(answer(desk(&ctx, &caller, DeskRequest::Claim { ticket }).await?))
}

/// Acknowledges a ticket (counts as the response).
#[utoipa::path(
    post,
    path = "/api/v1/tickets/{id}/ack",
    tag = "tickets",
    params(("id" = String, Path, description = "the ticket: T42 or 42")),
    responses((status = 200, description = "acknowledged", body = crate::api::doc::Message), (status = "4XX", description = "refused; see the code", body = crate::error::ErrorBody)),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn ack(
    State(ctx): State<Ctx>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let ticket = ticket_id(&id)?;
    Ok(answer(desk(&ctx, &caller, DeskRequest::Ack { ticket }).await?))
}

/// `POST /api/v1/tickets/{id}/assign`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Assign {
    to: String,
}

/// Gives a ticket to a technician.
#[utoipa::path(
    post,
    path = "/api/v1/tickets/{id}/assign",
    tag = "tickets",
    params(("id" = String, Path, description = "the ticket: T42 or 42")),
    request_body = Assign,
    responses((status = 200, description = "assigned", body = crate::api::doc::Message), (status = "4XX", description = "refused; see the code", body = crate::error::ErrorBody)),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn assign(
    State(ctx): State<Ctx>,
    caller: Caller,
    Path(id): Path<String>,
    Body(b): Body<Assign>,
) -> Result<Json<Value>, ApiError> {
    let ticket = ticket_id(&id)?;
    Ok(answer(desk(&ctx, &caller, DeskRequest::Assign { ticket, to: b.to }).await?))
}

/// `POST /api/v1/tickets/{id}/priority`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetPriority {
    priority: Priority,
    reason: String,
}

/// Changes a ticket's priority; its deadline is recomputed.
#[utoipa::path(
    post,
    path = "/api/v1/tickets/{id}/priority",
    tag = "tickets",
    params(("id" = String, Path, description = "the ticket: T42 or 42")),
    request_body = SetPriority,
    responses((status = 200, description = "priority changed, deadline recomputed", body = crate::api::doc::Message), (status = "4XX", description = "refused; see the code", body = crate::error::ErrorBody)),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn priority(
    State(ctx): State<Ctx>,
    caller: Caller,
    Path(id): Path<String>,
    Body(b): Body<SetPriority>,
) -> Result<Json<Value>, ApiError> {
    let ticket = ticket_id(&id)?;
    let req = DeskRequest::SetPriority { ticket, priority: b.priority, reason: b.reason };
    Ok(answer(desk(&ctx, &caller, req).await?))
}

/// `POST /api/v1/tickets/{id}/escalate`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Escalate {
    #[serde(default)]
    to: Option<String>,
    reason: String,
}

/// Hands an unresolved ticket to a manager (the least loaded one when `to` is absent).
#[utoipa::path(
    post,
    path = "/api/v1/tickets/{id}/escalate",
    tag = "tickets",
    params(("id" = String, Path, description = "the ticket: T42 or 42")),
    request_body = Escalate,
    responses((status = 200, description = "escalated", body = crate::api::doc::Message), (status = "4XX", description = "refused; see the code", body = crate::error::ErrorBody)),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn escalate(
    State(ctx): State<Ctx>,
    caller: Caller,
    Path(id): Path<String>,
    Body(b): Body<Escalate>,
) -> Result<Json<Value>, ApiError> {
    let ticket = ticket_id(&id)?;
    let req = DeskRequest::Escalate { ticket, to: b.to, reason: b.reason };
    Ok(answer(desk(&ctx, &caller, req).await?))
}

/// `POST /api/v1/tickets/{id}/close`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Close {
    reason: String,
}

/// Closes a ticket without the customer's confirmation, with the reason recorded.
#[utoipa::path(
    post,
    path = "/api/v1/tickets/{id}/close",
    tag = "tickets",
    params(("id" = String, Path, description = "the ticket: T42 or 42")),
    request_body = Close,
    responses((status = 200, description = "closed without confirmation", body = crate::api::doc::Message), (status = "4XX", description = "refused; see the code", body = crate::error::ErrorBody)),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn close(
    State(ctx): State<Ctx>,
    caller: Caller,
    Path(id): Path<String>,
    Body(b): Body<Close>,
) -> Result<Json<Value>, ApiError> {
    let ticket = ticket_id(&id)?;
    Ok(answer(desk(&ctx, &caller, DeskRequest::Close { ticket, reason: b.reason }).await?))
}

/// `POST /api/v1/tickets/{id}/follow-up`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FollowUp {
    due: i64,
    note: String,
}

/// Marks a ticket for follow-up by `due` (Unix seconds).
#[utoipa::path(
    post,
    path = "/api/v1/tickets/{id}/follow-up",
    tag = "tickets",
    params(("id" = String, Path, description = "the ticket: T42 or 42")),
    request_body = FollowUp,
    responses((status = 200, description = "marked for follow-up", body = crate::api::doc::Message), (status = "4XX", description = "refused; see the code", body = crate::error::ErrorBody)),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn follow_up(
    State(ctx): State<Ctx>,
    caller: Caller,
    Path(id): Path<String>,
    Body(b): Body<FollowUp>,
) -> Result<Json<Value>, ApiError> {
    let ticket = ticket_id(&id)?;
    let req = DeskRequest::FollowUp { ticket, due: b.due, note: b.note };
    Ok(answer(desk(&ctx, &caller, req).await?))
}

/// `GET /api/v1/report` query: the period, Unix seconds.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct Period {
    from: i64,
    to: i64,
}

/// The deadline review of tickets created in the period.
#[utoipa::path(
    get,
    path = "/api/v1/report",
    tag = "review",
    params(Period),
    responses((status = 200, description = "the deadline review of tickets logged in the period", body = tether_protocol::SlaReport), (status = "4XX", description = "refused; see the code", body = crate::error::ErrorBody)),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn report(
    State(ctx): State<Ctx>,
    caller: Caller,
    Params(p): Params<Period>,
) -> Result<Json<Value>, ApiError> {
    Ok(answer(desk(&ctx, &caller, DeskRequest::Report { from: p.from, to: p.to }).await?))
}

/// A desk reply as the API's JSON: the ticket, list or report itself, or `{"message"}`.
pub(crate) fn answer(reply: DeskReply) -> Json<Value> {
    let value = match reply {
        DeskReply::Ticket(t) => serde_json::to_value(t),
        DeskReply::Tickets { tickets } => Ok(json!({ "tickets": tickets })),
        DeskReply::Report(r) => serde_json::to_value(r),
        DeskReply::Done { message } => serde_json::to_value(Message { message }),
        DeskReply::Watching => serde_json::to_value(Message { message: "watching".into() }),
    };
    Json(value.unwrap_or_else(|e| json!({ "message": e.to_string() })))
}
