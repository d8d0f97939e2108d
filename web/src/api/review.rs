//! Sessions and their transcripts: the list (filtered), a transcript as stored, its chain and
//! seal checked, and the session's documentation in every export format. The policy decides
//! who may read which (a technician their own sessions, managers all).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;
use tether_protocol::{AdminAnswer, AdminRequest, ExportFormat};

use crate::ApiError;
use crate::auth::Caller;
use crate::body::Params;
use crate::ctx::Ctx;

/// `GET /api/v1/sessions` query.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SessionsQuery {
    since: Option<i64>,
    ticket: Option<String>,
    technician: Option<String>,
}

/// Sessions the caller may read, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/sessions",
    tag = "review",
    params(SessionsQuery),
    responses((status = 200, description = "the sessions the caller may read, newest first (`kind` is `sessions`)", body = tether_protocol::AdminReply), (status = "4XX", description = "refused; see the code", body = crate::error::ErrorBody)),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn sessions(
    State(ctx): State<Ctx>,
    caller: Caller,
    Params(q): Params<SessionsQuery>,
) -> Result<Response, ApiError> {
    let ticket = q.ticket.as_deref().map(super::common::ticket_id).transpose()?;
    admin(
        &ctx,
        &caller,
        AdminRequest::Sessions { since: q.since, ticket, technician: q.technician },
    )
    .await
}

/// One transcript as stored: JSON lines.
#[utoipa::path(
    get,
    path = "/api/v1/sessions/{id}/transcript",
    tag = "review",
    params(("id" = String, Path, description = "the session id")),
    responses((status = 200, description = "the transcript as stored: JSON lines", content_type = "application/x-ndjson", body = String), (status = "4XX", description = "refused; see the code", body = crate::error::ErrorBody)),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn transcript(
    State(ctx): State<Ctx>,
    caller: Caller,
    Path(session): Path<String>,
) -> Result<Response, ApiError> {
    admin(&ctx, &caller, AdminRequest::Show { session }).await
}

/// One transcript's chain and seal, checked.
#[utoipa::path(
    get,
    path = "/api/v1/sessions/{id}/verify",
    tag = "review",
    params(("id" = String, Path, description = "the session id")),
    responses((status = 200, description = "the chain and seal checked (`kind` is `verified`)", body = tether_protocol::AdminReply), (status = "4XX", description = "refused; see the code", body = crate::error::ErrorBody)),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn verify(
    State(ctx): State<Ctx>,
    caller: Caller,
    Path(session): Path<String>,
) -> Result<Response, ApiError> {
    admin(&ctx, &caller, AdminRequest::Verify { session: Some(session) }).await
}

/// Every transcript the caller may read, checked.
#[utoipa::path(
    get,
    path = "/api/v1/verify",
    tag = "review",
    responses((status = 200, description = "every transcript the caller may read, checked", body = tether_protocol::AdminReply), (status = "4XX", description = "refused; see the code", body = crate::error::ErrorBody)),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn verify_all(State(ctx): State<Ctx>, caller: Caller) -> Result<Response, ApiError> {
    admin(&ctx, &caller, AdminRequest::Verify { session: None }).await
}

/// `GET /api/v1/sessions/{id}/export` query.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    format: ExportFormat,
}

/// The session's documentation in `format`, as a download.
#[utoipa::path(
    get,
    path = "/api/v1/sessions/{id}/export",
    tag = "review",
    params(("id" = String, Path, description = "the session id"), ExportQuery),
    responses((status = 200, description = "the session's documentation as a download", body = String), (status = "4XX", description = "refused; see the code", body = crate::error::ErrorBody)),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn export(
    State(ctx): State<Ctx>,
    caller: Caller,
    Path(session): Path<String>,
    Params(q): Params<ExportQuery>,
) -> Result<Response, ApiError> {
    let (mime, ext) = match q.format {
        ExportFormat::Md => ("text/markdown; charset=utf-8", "md"),
        ExportFormat::Json => ("application/json", "json"),
        ExportFormat::Html => ("text/html; charset=utf-8", "html"),
        ExportFormat::Asciicast => ("application/x-asciicast", "cast"),
    };
    let name: String =
        session.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').take(64).collect();
    let mut response =
        admin(&ctx, &caller, AdminRequest::Export { session, format: q.format }).await?;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, mime.parse().expect("a valid header value"));
    let disposition = format!("attachment; filename=\"session-{name}.{ext}\"");
    headers.insert(CONTENT_DISPOSITION, disposition.parse().expect("a valid header value"));
    Ok(response)
}

/// An admin request for `caller`: lists as JSON, documents as they are.
async fn admin(ctx: &Ctx, caller: &Caller, req: AdminRequest) -> Result<Response, ApiError> {
    Ok(match ctx.desk.admin(&caller.actor, req).await? {
        AdminAnswer::Reply(reply) => {
            Json(serde_json::to_value(reply).unwrap_or(Value::Null)).into_response()
        }
        AdminAnswer::Document(text) => {
            ([(CONTENT_TYPE, "application/x-ndjson")], text).into_response()
        }
    })
}
