//! Staff and accounts: everyone at the desk with their skills, availability and load; and,
//! for admins, adding accounts, disabling and enabling them, changing their roles and skills (the
//! policy decides, as for the host's `tether-broker user` commands).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use tether_access::AccountChange;
use tether_desk::StaffMember;
use tether_protocol::{Secret, UserRole};

use super::doc::Message;
use crate::ApiError;
use crate::auth::Caller;
use crate::body::Body;
use crate::ctx::Ctx;

/// Everyone at the desk, by name.
#[utoipa::path(
    get,
    path = "/api/v1/staff",
    tag = "staff",
    responses((status = 200, description = "everyone at the desk, by name", body = Vec<tether_desk::StaffMember>), (status = "4XX", description = "refused; see the code", body = crate::error::ErrorBody)),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn list(
    State(ctx): State<Ctx>,
    caller: Caller,
) -> Result<Json<Vec<StaffMember>>, ApiError> {
    Ok(Json(ctx.desk.members(&caller.actor).await?))
}

/// `POST /api/v1/users`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    name: String,
    role: UserRole,
    #[serde(default)]
    skills: Vec<String>,
    #[schema(value_type = String)]
    password: Secret<String>,
}

/// Adds an account; 201.
#[utoipa::path(
    post,
    path = "/api/v1/users",
    tag = "staff",
    request_body = NewUser,
    responses((status = 201, description = "the account is added (admins)", body = crate::api::doc::Message), (status = "4XX", description = "refused; see the code", body = crate::error::ErrorBody)),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn add(
    State(ctx): State<Ctx>,
    caller: Caller,
    Body(u): Body<NewUser>,
) -> Result<(StatusCode, Json<Message>), ApiError> {
    let name = u.name.clone();
    let change =
        AccountChange::Add { name: u.name, role: u.role, skills: u.skills, password: u.password };
    manage(&ctx, &caller, change).await?;
    Ok((StatusCode::CREATED, Json(Message { message: format!("{name} added") })))
}

/// Disables an account (its tokens are revoked and its connections cut at once).
#[utoipa::path(
    post,
    path = "/api/v1/users/{name}/disable",
    tag = "staff",
    params(("name" = String, Path, description = "the login name")),
    responses((status = 200, description = "disabled: its tokens stop working, its connections are cut (admins)", body = crate::api::doc::Message), (status = "4XX", description = "refused; see the code", body = crate::error::ErrorBody)),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn disable(
    State(ctx): State<Ctx>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Json<Message>, ApiError> {
    manage(&ctx, &caller, AccountChange::Disabled { name: name.clone(), disabled: true }).await?;
    Ok(Json(Message { message: format!("{name} disabled") }))
}

/// Enables a disabled account.
#[utoipa::path(
    post,
    path = "/api/v1/users/{name}/enable",
    tag = "staff",
    params(("name" = String, Path, description = "the login name")),
    responses((status = 200, description = "enabled (admins)", body = crate::api::doc::Message), (status = "4XX", description = "refused; see the code", body = crate::error::ErrorBody)),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn enable(
    State(ctx): State<Ctx>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Json<Message>, ApiError> {
    manage(&ctx, &caller, AccountChange::Disabled { name: name.clone(), disabled: false }).await?;
    Ok(Json(Message { message: format!("{name} enabled") }))
}

/// `POST /api/v1/users/{name}/role`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRole {
    role: UserRole,
}

/// Gives an account another role.
#[utoipa::path(
    post,
    path = "/api/v1/users/{name}/role",
    tag = "staff",
    params(("name" = String, Path, description = "the login name")),
    request_body = NewRole,
    responses((status = 200, description = "the role is changed (admins)", body = crate::api::doc::Message), (status = "4XX", description = "refused; see the code", body = crate::error::ErrorBody)),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn role(
    State(ctx): State<Ctx>,
    caller: Caller,
    Path(name): Path<String>,
    Body(r): Body<NewRole>,
) -> Result<Json<Message>, ApiError> {
    manage(&ctx, &caller, AccountChange::Role { name: name.clone(), role: r.role }).await?;
    Ok(Json(Message { message: format!("{name} is now {}", r.role.name()) }))
}

/// `POST /api/v1/users/{name}/skills`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSkills {
    skills: Vec<String>,
}

/// Replaces an account's skill tags.
#[utoipa::path(
    post,
    path = "/api/v1/users/{name}/skills",
    tag = "staff",
    params(("name" = String, Path, description = "the login name")),
    request_body = NewSkills,
    responses((status = 200, description = "the skills are replaced (admins)", body = crate::api::doc::Message), (status = "4XX", description = "refused; see the code", body = crate::error::ErrorBody)),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn skills(
    State(ctx): State<Ctx>,
    caller: Caller,
    Path(name): Path<String>,
    Body(b): Body<NewSkills>,
) -> Result<Json<Message>, ApiError> {
    manage(&ctx, &caller, AccountChange::Skills { name: name.clone(), skills: b.skills }).await?;
    Ok(Json(Message { message: format!("{name}'s skills changed") }))
}

async fn manage(ctx: &Ctx, caller: &Caller, change: AccountChange) -> Result<(), ApiError> {
    Ok(ctx.access.manage_account(&caller.actor, change).await?)
}
