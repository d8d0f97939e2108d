//! The HTTP routes: the desk's page and its files, `/api/v1/…` for scripts and pages.
//!
//! - [`routes`]: the router over all of them;
//! - [`common`]: what the handlers share;
//! - [`doc`]: the OpenAPI document, from the handlers below;
//! - [`account`]: signing in and out, and who the caller is;
//! - [`events`]: the desk's events as they happen (server-sent events);
//! - [`tickets`]: the ticket lifecycle and the deadline review;
//! - [`onsite`]: onsite visits, and one's own availability and location;
//! - [`review`]: sessions, their transcripts, verification and exports;
//! - [`staff`]: everyone at the desk, and accounts for admins;
//! - [`portal`]: customers asking for help and following their ticket through its link.

pub mod account;
pub mod common;
pub mod doc;
pub mod events;
pub mod onsite;
pub mod portal;
pub mod review;
pub mod routes;
pub mod staff;
pub mod tickets;
