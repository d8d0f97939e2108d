//! Who is calling. Scripts send the bearer token the console already has
//! (`Authorization: Bearer …`). Browsers sign in and hold the token in a session cookie that
//! scripts on the page cannot read (HttpOnly, Secure, SameSite=Strict); every change made with
//! the cookie must also carry the session's CSRF token in `X-CSRF-Token`, which the sign-in
//! answer gives the page and which is derived from the token, so it is never stored.

use axum::extract::FromRequestParts;
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use tether_access::Actor;
use tether_protocol::{ErrorCode, Secret};

use crate::ApiError;
use crate::ctx::Ctx;

/// The session cookie's name.
pub const COOKIE_NAME: &str = "tether_session";
/// The header a cookie-signed change carries its CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// How a caller proved who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// `Authorization: Bearer`.
    Bearer,
    /// The browser's session cookie.
    Cookie,
}

/// A signed-in caller, checked for this request: the token is live, the account enabled, and
/// (with the cookie) a change carries the right CSRF token.
#[derive(Debug)]
pub struct Caller {
    /// Who, as the policy knows them.
    pub actor: Actor,
    /// How they signed in.
    pub via: Via,
    /// Their token (to sign out with, or to derive the CSRF token from).
    pub token: Secret<String>,
}

impl FromRequestParts<Ctx> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, ctx: &Ctx) -> Result<Caller, ApiError> {
        let (token, via) = credential(&parts.headers)?;
        let user = ctx.access.authenticate(&token).await?;
        if via == Via::Cookie && !parts.method.is_safe() {
            let sent = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
            let expected = csrf_token(&token);
            if !same(sent.as_bytes(), expected.as_bytes()) {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "csrf",
                    "a change needs the session's CSRF token in X-CSRF-Token",
                ));
            }
        }
        Ok(Caller { actor: Actor::Staff(user), via, token })
    }
}

/// The token a request carries: a bearer token first, else the session cookie.
fn credential(headers: &HeaderMap) -> Result<(Secret<String>, Via), ApiError> {
    if let Some(value) = headers.get(AUTHORIZATION) {
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                ApiError::coded(ErrorCode::Unauthenticated, "Authorization takes Bearer TOKEN")
            })?;
        return Ok((Secret::new(token.to_string()), Via::Bearer));
    }
    match cookie(headers, COOKIE_NAME) {
        Some(token) => Ok((Secret::new(token), Via::Cookie)),
        None => Err(ApiError::coded(
            ErrorCode::Unauthenticated,
            "sign in first: a bearer token, or the session cookie from POST /api/v1/sign-in",
        )),
    }
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
        .filter(|v| !v.is_empty())
}

/// The CSRF token of the session whose token is `token`: a keyed digest of it, so a page that
/// cannot read the cookie learns it only from the sign-in answer or `GET /api/v1/me`.
pub fn csrf_token(token: &Secret<String>) -> String {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(b"tether csrf\0");
    ctx.update(token.expose().as_bytes());
    tether_protocol::hex(ctx.finish().as_ref())
}

/// Whether `a` and `b` are equal, looking at every byte whatever the first difference.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `Set-Cookie` for a session with `token`, living `secs`.
pub fn session_cookie(token: &Secret<String>, secs: u64) -> String {
    format!(
        "{COOKIE_NAME}={}; Path=/; Max-Age={secs}; HttpOnly; Secure; SameSite=Strict",
        token.expose()
    )
}

/// `Set-Cookie` that ends the session cookie.
pub fn cleared_cookie() -> String {
    format!("{COOKIE_NAME}=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict")
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn the_cookie_is_found_among_others_and_the_bearer_wins() {
        let mut h = HeaderMap::new();
        h.append(COOKIE, HeaderValue::from_static("a=1; tether_session=abc; b=2"));
        assert_eq!(cookie(&h, COOKIE_NAME).as_deref(), Some("abc"));
        let (token, via) = credential(&h).unwrap();
        assert_eq!((token.expose().as_str(), via), ("abc", Via::Cookie));
        h.insert(AUTHORIZATION, HeaderValue::from_static("Bearer xyz"));
        let (token, via) = credential(&h).unwrap();
        assert_eq!((token.expose().as_str(), via), ("xyz", Via::Bearer));
        h.insert(AUTHORIZATION, HeaderValue::from_static("Basic xyz"));
        assert_eq!(credential(&h).unwrap_err().status, StatusCode::UNAUTHORIZED);
    }

    #[test]
    fn csrf_tokens_differ_per_session_and_are_not_the_token() {
        let a = csrf_token(&Secret::new("token-a".into()));
        let b = csrf_token(&Secret::new("token-b".into()));
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert!(!a.contains("token-a"));
    }
}
