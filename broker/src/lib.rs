//! tether-broker: the daemon between customers' agents and technicians' consoles — the relay
//! core, composing the services it relays for.
//!
//! Map, from the socket inwards:
//! - [`server`]: the listener, composing the services, and graceful shutdown; `admission`:
//!   connection slots per address and the staff reserve;
//! - `http`: the websocket upgrade; [`ws`]: the websocket itself (frames, reader, writer);
//! - `conn`: one connection's life as a machine of phases (hello, request, check, wait,
//!   relay, resume, desk, watch, help), each phase's work in its own file;
//! - `outbox`: per-channel queues and the writer task; `ice`: the STUN and TURN servers (with
//!   credentials for the session) handed to both sides for the direct path;
//! - `rendezvous`: who waits for whom, under one lock; `session`: a paired session, its
//!   consent, counters, helpers, and its start and end;
//! - `shared`: what every connection shares; `sync`: the mutex lock they are held with;
//! - [`config`], [`datadir`], [`logging`], [`cli`]: what the binary sets up, and the host's
//!   commands.
//!
//! The services it composes live in their own crates: `tether-access` (sign-in, codes, the
//! authorization policy), `tether-desk` (tickets and everything around them),
//! `tether-store` (the database), `tether-transcript` (recording and review).
#![forbid(unsafe_code)]

mod admission;
pub mod cli;
pub mod config;
mod conn;
pub mod datadir;
mod http;
mod ice;
pub mod logging;
mod outbox;
mod rendezvous;
pub mod server;
mod session;
mod shared;
mod sync;
pub mod ws;

pub use config::{Config, ConfigError};
pub use datadir::DataDir;
pub use server::{RunError, run};
