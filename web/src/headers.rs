//! The security headers on every response, whatever route or refusal produced it: HSTS, a
//! Content-Security-Policy that allows no inline script and no framing, no MIME sniffing, no
//! referrer, and no caching of what is not marked cacheable. The broker sends the same ones
//! with the refusals it answers before a connection reaches this crate.

use axum::http::header::CACHE_CONTROL;
use axum::http::{HeaderName, HeaderValue};
use axum::response::Response;

/// Scripts, styles and connections from this origin only; nothing inline, no plugins, no
/// framing by anyone, forms post here only.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; \
     object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The headers every response carries, names in lower case.
pub const SECURITY_HEADERS: [(&str, &str); 5] = [
    ("strict-transport-security", "max-age=31536000"),
    ("content-security-policy", CONTENT_SECURITY_POLICY),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("x-frame-options", "DENY"),
];

/// Adds the security headers to `response` (a cache policy only where none was set).
pub async fn secure(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        headers.insert(HeaderName::from_static(name), HeaderValue::from_static(value));
    }
    if !headers.contains_key(CACHE_CONTROL) {
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}
