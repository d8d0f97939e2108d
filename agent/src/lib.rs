//! tether-agent: the customer's side of a tether session.
//!
//! [`session`] runs a request or a code join from connect to end; [`consent`] holds what the
//! customer allowed and enforces it locally; [`screen`] and [`input`] are the platform seams
//! (screen sources, input sinks); [`streaming`] paces the screen; [`output`] prints what
//! happens, for people or scripts.
#![forbid(unsafe_code)]

pub mod consent;
pub mod files;
pub mod input;
pub mod output;
pub mod screen;
pub mod session;
pub mod shell;
pub mod streaming;
