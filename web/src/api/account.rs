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
use serde::Deserialize;
use serde_json::json;
use tether_protocol::Secret;
use tether_store::unix_now;

use crate::ApiError;
use crate::auth::{Caller, Via, cleared_cookie, csrf_token, session_cookie};
use crate::body::Body;
use crate::service::Ctx;

/// `POST /api/v1/sign-in`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    /// Login name.
    pub user: String,
    /// Password.
    pub password: Secret<String>,
}

/// Checks the password and starts a browser session: the cookie, and in the body who signed
/// in, the CSRF token and when the session ends.
pub async fn sign_in(
    State(ctx): State<Ctx>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Body(req): Body<SignIn>,
) -> Result<Response, ApiError> {
    let (user, issued) = ctx.access.login(&req.user, &req.password, peer.ip()).await?;
    let secs = u64::try_from(issued.expires_at - unix_now()).unwrap_or(0);
    let body = json!({
        "user": user.name,
        "role": user.role.name(),
        "csrf": csrf_token(&issued.token),
        "expires_at": issued.expires_at,
        "failed_before": issued.failed_before.map(|f| json!({
            "count": f.count, "last_at": f.last_at, "last_from": f.last_from,
        })),
    });
    Ok(([(SET_COOKIE, session_cookie(&issued.token, secs))], Json(body)).into_response())
}

/// Ends the caller's session: the token is revoked and the cookie cleared.
pub async fn sign_out(State(ctx): State<Ctx>, caller: Caller) -> Result<Response, ApiError> {
    let hash = tether_access::credentials::token_hash(caller.token.expose());
    ctx.access.sign_out(&hash).await?;
    tracing::info!(user = %caller.actor.name(), "signed out");
    Ok(([(SET_COOKIE, cleared_cookie())], StatusCode::NO_CONTENT).into_response())
}

/// Who the caller is (and, for a browser, the session's CSRF token again, for a page loaded
/// after sign-in).
pub async fn me(caller: Caller) -> Result<Json<serde_json::Value>, ApiError> {
    let Some(user) = caller.actor.user() else {
        return Err(ApiError::malformed("only staff sign in"));
    };
    let csrf = (caller.via == Via::Cookie).then(|| csrf_token(&caller.token));
    Ok(Json(json!({
        "user": user.name,
        "role": user.role.name(),
        "skills": user.skills,
        "availability": user.availability.name(),
        "csrf": csrf,
    })))
}
