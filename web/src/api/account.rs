//! Signing in and out, and who the caller is. A browser signs in with its password and gets
//! the session cookie and its CSRF token; scripts use the bearer token from
//! `tether-console login`. Failed sign-ins count toward the same limits as the console's, per
//! source address and per account.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::http::header::SET_COOKIE;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use tether_protocol::{Availability, Secret, UserRole};
use tether_store::unix_now;

use crate::ApiError;
use crate::auth::{Caller, Via, cleared_cookie, csrf_token, session_cookie};
use crate::body::Body;
use crate::ctx::Ctx;

/// `POST /api/v1/sign-in`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    /// Login name.
    pub user: String,
    /// Password.
    #[schema(value_type = String)]
    pub password: Secret<String>,
}

/// Checks the password and starts a browser session: the cookie, and in the body who signed
/// in, the CSRF token and when the session ends.
#[utoipa::path(
    post,
    path = "/api/v1/sign-in",
    tag = "account",
    request_body = SignIn,
    responses((status = 200, description = "signed in: the session cookie is set; the body has the CSRF token", body = SignedIn), (status = "4XX", description = "refused; see the code", body = crate::error::ErrorBody))
)]
pub async fn sign_in(
    State(ctx): State<Ctx>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Body(req): Body<SignIn>,
) -> Result<Response, ApiError> {
    let (user, issued) = ctx.access.login(&req.user, &req.password, peer.ip()).await?;
    let secs = u64::try_from(issued.expires_at - unix_now()).unwrap_or(0);
    let body = SignedIn {
        user: user.name,
        role: user.role,
        csrf: csrf_token(&issued.token),
        expires_at: issued.expires_at,
        failed_before: issued.failed_before.map(|f| FailedBefore {
            count: f.count,
            last_at: f.last_at,
            last_from: f.last_from,
        }),
    };
    Ok(([(SET_COOKIE, session_cookie(&issued.token, secs))], Json(body)).into_response())
}

/// The answer to a sign-in.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SignedIn {
    /// Who signed in.
    pub user: String,
    /// Their role.
    pub role: UserRole,
    /// The session's CSRF token, for `X-CSRF-Token` on every change.
    pub csrf: String,
    /// When the session ends, Unix seconds.
    pub expires_at: i64,
    /// Failed sign-ins to this account since its last sign-in, if any.
    pub failed_before: Option<FailedBefore>,
}

/// Failed sign-ins since the last sign-in.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FailedBefore {
    /// How many.
    pub count: u32,
    /// The last one, Unix seconds.
    pub last_at: Option<i64>,
    /// Where the last one came from.
    pub last_from: Option<String>,
}

/// Ends the caller's session: the token is revoked and the cookie cleared.
#[utoipa::path(
    post,
    path = "/api/v1/sign-out",
    tag = "account",
    responses((status = 204, description = "signed out: the token is revoked and the cookie cleared"), (status = "4XX", description = "refused; see the code", body = crate::error::ErrorBody)),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn sign_out(State(ctx): State<Ctx>, caller: Caller) -> Result<Response, ApiError> {
    let hash = tether_access::credentials::token_hash(caller.token.expose());
    ctx.access.sign_out(&hash).await?;
    tracing::info!(user = %caller.actor.name(), "signed out");
    Ok(([(SET_COOKIE, cleared_cookie())], StatusCode::NO_CONTENT).into_response())
}

/// Who the caller is (and, for a browser, the session's CSRF token again, for a page loaded
/// after sign-in).
#[utoipa::path(
    get,
    path = "/api/v1/me",
    tag = "account",
    responses((status = 200, description = "who the caller is", body = Me), (status = "4XX", description = "refused; see the code", body = crate::error::ErrorBody)),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn me(caller: Caller) -> Result<Json<Me>, ApiError> {
    let Some(user) = caller.actor.user() else {
        return Err(ApiError::malformed("only staff sign in"));
    };
    let csrf = (caller.via == Via::Cookie).then(|| csrf_token(&caller.token));
    Ok(Json(Me {
        user: user.name.clone(),
        role: user.role,
        skills: user.skills.clone(),
        availability: user.availability,
        csrf,
    }))
}

/// Who the caller is.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Me {
    /// Login name.
    pub user: String,
    /// Role.
    pub role: UserRole,
    /// Skill tags.
    pub skills: Vec<String>,
    /// Whether they take new work.
    pub availability: Availability,
    /// With the browser's cookie: the session's CSRF token.
    pub csrf: Option<String>,
}
