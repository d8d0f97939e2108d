//! tether-access: who may come in and what they may do.
//!
//! Map:
//! - [`policy`]: the one authorization policy every entry point asks ([`Policy`], [`Actor`],
//!   [`Action`]);
//! - [`service`]: [`Access`], signing staff in (passwords, tokens) and letting customers in
//!   (one-time codes, resume attempts), rate-limited per source;
//! - [`accounts`]: adding, disabling and enabling accounts, changing roles ([`AccountChange`],
//!   made by admins through [`Access::manage_account`]);
//! - [`credentials`]: argon2id password hashes, random tokens and their stored hashes;
//! - [`codes`]: one-time customer codes, stored as keyed hashes;
//! - [`limiter`]: failure counting per source address;
//! - [`settings`]: the `[auth]` and `[codes]` configuration;
//! - [`error`]: [`AccessError`], each refusal with its protocol error code.
#![forbid(unsafe_code)]

pub mod accounts;
pub mod codes;
pub mod credentials;
pub mod error;
pub mod limiter;
pub mod policy;
pub mod service;
pub mod settings;

pub use accounts::AccountChange;
pub use codes::CodeKey;
pub use error::AccessError;
pub use policy::{Action, Actor, Denied, Policy, SessionScope};
pub use service::{Access, IssuedCode, IssuedToken};
pub use settings::{AuthSettings, CodeSettings};
