//! Customers without an account: asking for help from the portal, and following their own
//! ticket through its link (`/t/TOKEN`): what they see, and their answer to the resolution.
//! No cookie or token is involved, so there is nothing for another site to ride on; the link
//! is the credential, and wrong links are limited per address by the desk. Staff who work a
//! ticket make its customer a new link or revoke it.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use tether_desk::{CustomerAnswer, CustomerRequest};
use tether_protocol::{CustomerTicket, Priority, Secret};

use super::common::ticket_id;
use crate::ApiError;
use crate::auth::Caller;
use crate::body::Body;
use crate::ctx::Ctx;

/// The page a customer follows their ticket on, before the link's token.
pub const LINK_PATH: &str = "/t/";

/// `POST /api/v1/portal/requests`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PortalRequest {
    /// Their name.
    name: String,
    /// How to reach them.
    #[serde(default)]
    contact: String,
    /// The problem.
    issue: String,
    /// How urgent they say it is: a claim the desk may change.
    urgency: Priority,
}

/// Logs a customer's request for help with the agent's checks and budgets, and answers with
/// their ticket and the link to follow it (shown once; only its hash is kept).
#[utoipa::path(
    post,
    path = "/api/v1/portal/requests",
    tag = "customers",
    request_body = PortalRequest,
    responses((status = 201, description = "the ticket, and the link to follow it (shown once)", body = PortalCreated), (status = "4XX", description = "refused; see the code", body = crate::error::ErrorBody))
)]
pub async fn request(
    State(ctx): State<Ctx>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Body(req): Body<PortalRequest>,
) -> Result<Response, ApiError> {
    let req = CustomerRequest {
        name: req.name,
        contact: req.contact,
        issue: req.issue,
        priority: req.urgency,
    };
    let (_, link) = ctx.desk.portal_request(req, peer.ip()).await?;
    let ticket = ctx.desk.customer_ticket(link.expose(), peer.ip()).await?;
    Ok((StatusCode::CREATED, Json(PortalCreated { ticket, link: path(&link) })).into_response())
}

/// A customer's request, logged.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PortalCreated {
    /// What the customer sees of their new ticket.
    pub ticket: CustomerTicket,
    /// The path of their link, `/t/TOKEN`: shown once, kept only as a hash.
    pub link: String,
}

/// A new link for a ticket's customer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NewLink {
    /// The path of the link, `/t/TOKEN`.
    pub link: String,
}

/// Links revoked.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Revoked {
    /// How many were live.
    pub revoked: usize,
}

/// What the link's holder sees of their ticket.
#[utoipa::path(
    get,
    path = "/api/v1/portal/tickets/{link}",
    tag = "customers",
    params(("link" = String, Path, description = "the token of the customer's link")),
    responses((status = 200, description = "what the link's holder sees of their ticket", body = tether_protocol::CustomerTicket), (status = "4XX", description = "refused; see the code", body = crate::error::ErrorBody))
)]
pub async fn show(
    State(ctx): State<Ctx>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(link): Path<String>,
) -> Result<Json<CustomerTicket>, ApiError> {
    Ok(Json(ctx.desk.customer_ticket(&link, peer.ip()).await?))
}

/// `POST /api/v1/portal/tickets/{link}/answer`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Answer {
    /// Whether the problem is solved.
    solved: bool,
    /// 1 to 5.
    rating: Option<u8>,
    /// In their words.
    comment: Option<String>,
}

/// The link's holder says whether the problem is solved.
#[utoipa::path(
    post,
    path = "/api/v1/portal/tickets/{link}/answer",
    tag = "customers",
    params(("link" = String, Path, description = "the token of the customer's link")),
    request_body = Answer,
    responses((status = 200, description = "answered; the ticket as it is now", body = tether_protocol::CustomerTicket), (status = "4XX", description = "refused; see the code", body = crate::error::ErrorBody))
)]
pub async fn answer(
    State(ctx): State<Ctx>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(link): Path<String>,
    Body(a): Body<Answer>,
) -> Result<Json<CustomerTicket>, ApiError> {
    let answer = CustomerAnswer { solved: a.solved, rating: a.rating, comment: a.comment };
    Ok(Json(ctx.desk.customer_answer(&link, peer.ip(), answer).await?))
}

/// `POST /api/v1/tickets/{id}/link`: a new link for the ticket's customer (their old one stops
/// working).
#[utoipa::path(
    post,
    path = "/api/v1/tickets/{id}/link",
    tag = "customers",
    params(("id" = String, Path, description = "the ticket: T42 or 42")),
    responses((status = 200, description = "a new link; the old one stops working", body = NewLink), (status = "4XX", description = "refused; see the code", body = crate::error::ErrorBody)),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn new_link(
    State(ctx): State<Ctx>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<NewLink>, ApiError> {
    let link = ctx.desk.new_link(&caller.actor, ticket_id(&id)?).await?;
    Ok(Json(NewLink { link: path(&link) }))
}

/// `DELETE /api/v1/tickets/{id}/link`: the customer's link stops working.
#[utoipa::path(
    delete,
    path = "/api/v1/tickets/{id}/link",
    tag = "customers",
    params(("id" = String, Path, description = "the ticket: T42 or 42")),
    responses((status = 200, description = "how many live links were revoked", body = Revoked), (status = "4XX", description = "refused; see the code", body = crate::error::ErrorBody)),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn revoke_link(
    State(ctx): State<Ctx>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Revoked>, ApiError> {
    let revoked = ctx.desk.revoke_links(&caller.actor, ticket_id(&id)?).await?;
    Ok(Json(Revoked { revoked }))
}

/// The link's path on this broker.
fn path(link: &Secret<String>) -> String {
    format!("{LINK_PATH}{}", link.expose())
}
