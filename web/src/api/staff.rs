//! Staff and accounts: everyone at the desk with their skills, availability and load; and,
//! for admins, adding accounts, disabling and enabling them, changing their roles and skills (the
//! policy decides, as for the host's `tether-broker user` commands).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use tether_access::AccountChange;
use tether_desk::StaffMember;
use tether_protocol::{Secret, UserRole};

use crate::ApiError;
use crate::auth::Caller;
use crate::body::Body;
use crate::service::Ctx;

/// Everyone at the desk, by name.
pub async fn list(
    State(ctx): State<Ctx>,
    caller: Caller,
) -> Result<Json<Vec<StaffMember>>, ApiError> {
    Ok(Json(ctx.desk.members(&caller.actor).await?))
}

/// `POST /api/v1/users`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    name: String,
    role: UserRole,
    #[serde(default)]
    skills: Vec<String>,
    password: Secret<String>,
}

/// Adds an account; 201.
pub async fn add(
    State(ctx): State<Ctx>,
    caller: Caller,
    Body(u): Body<NewUser>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let name = u.name.clone();
    let change =
        AccountChange::Add { name: u.name, role: u.role, skills: u.skills, password: u.password };
    manage(&ctx, &caller, change).await?;
    Ok((StatusCode::CREATED, Json(json!({ "message": format!("{name} added") }))))
}

/// Disables an account (its tokens are revoked and its connections cut at once).
pub async fn disable(
    State(ctx): State<Ctx>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    manage(&ctx, &caller, AccountChange::Disabled { name: name.clone(), disabled: true }).await?;
    Ok(Json(json!({ "message": format!("{name} disabled") })))
}

/// Enables a disabled account.
pub async fn enable(
    State(ctx): State<Ctx>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    manage(&ctx, &caller, AccountChange::Disabled { name: name.clone(), disabled: false }).await?;
    Ok(Json(json!({ "message": format!("{name} enabled") })))
}

/// `POST /api/v1/users/{name}/role`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewRole {
    role: UserRole,
}

/// Gives an account another role.
pub async fn role(
    State(ctx): State<Ctx>,
    caller: Caller,
    Path(name): Path<String>,
    Body(r): Body<NewRole>,
) -> Result<Json<Value>, ApiError> {
    manage(&ctx, &caller, AccountChange::Role { name: name.clone(), role: r.role }).await?;
    Ok(Json(json!({ "message": format!("{name} is now {}", r.role.name()) })))
}

/// `POST /api/v1/users/{name}/skills`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewSkills {
    skills: Vec<String>,
}

/// Replaces an account's skill tags.
pub async fn skills(
    State(ctx): State<Ctx>,
    caller: Caller,
    Path(name): Path<String>,
    Body(b): Body<NewSkills>,
) -> Result<Json<Value>, ApiError> {
    manage(&ctx, &caller, AccountChange::Skills { name: name.clone(), skills: b.skills }).await?;
    Ok(Json(json!({ "message": format!("{name}'s skills changed") })))
}

async fn manage(ctx: &Ctx, caller: &Caller, change: AccountChange) -> Result<(), ApiError> {
    Ok(ctx.access.manage_account(&caller.actor, change).await?)
}
