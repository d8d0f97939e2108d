//! tether-broker: the daemon between customers' agents and technicians' consoles.
//!
//! Layout, one concern per module:
//! - [`server`]: the listener and graceful shutdown; `conn`: one connection's phases;
//!   `http`: the websocket upgrade; [`ws`]: the websocket itself (frames, reader, writer);
//!   `outbox`: per-channel queues and the writer task;
//!   `rendezvous` and `session`: pairing and consent; `state`: what connections share.
//! - [`auth`], `codes`, `limiter`: credentials, one-time codes, failure limits.
//! - [`store`]: accounts, tickets, codes and sessions in SQLite behind one trait.
//! - [`config`], [`datadir`], [`users`], [`logging`]: what the binary sets up.
#![forbid(unsafe_code)]

pub mod admin;
pub mod auth;
mod bookkeeping;
mod codes;
pub mod config;
mod conn;
pub mod datadir;
pub mod desk;
mod helpers;
mod http;
mod limiter;
pub mod logging;
mod outbox;
mod rendezvous;
pub mod server;
mod session;
mod state;
pub mod store;
pub mod transcript;
pub mod users;
pub mod ws;

pub use codes::display as display_code;
pub use config::{Config, ConfigError};
pub use datadir::DataDir;
pub use server::{RunError, run};
