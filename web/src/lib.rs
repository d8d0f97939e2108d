//! tether-web: the broker's HTTP side, served on the same port as the websockets. The broker
//! hands it every TLS connection that is not a websocket upgrade; it knows nothing about
//! websockets or sessions, and calls the desk and access services as every entry point does.
//!
//! Map:
//! - [`service`]: [`Web`], what the HTTP side is made of, built once at start;
//! - [`ctx`]: what every handler is given, and the body limit;
//! - [`serve`]: one connection, HTTP/1.1 or HTTP/2 as TLS's ALPN chose, starting with the
//!   bytes the broker already read;
//! - [`headers`]: the security headers on every response;
//! - [`auth`]: who is calling: a bearer token, or a browser's session cookie with its CSRF
//!   token on every change;
//! - [`body`]: JSON bodies and query strings, refused with a 4xx when malformed, mistyped,
//!   unknown or too large;
//! - [`error`]: [`ApiError`], every refusal as JSON with a stable code;
//! - [`pages`]: the browser interface's page, script and stylesheet, embedded;
//! - [`api`]: the `/api/v1` routes: signing in and out, live desk events, tickets, the
//!   deadline review, sessions and their transcripts.
#![forbid(unsafe_code)]

pub mod api;
pub mod auth;
pub mod body;
pub mod ctx;
pub mod error;
pub mod headers;
pub mod pages;
pub mod serve;
pub mod service;

pub use error::ApiError;
pub use serve::Protocol;
pub use service::Web;
