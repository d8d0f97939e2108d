//! tether-agent: the customer's side of a tether session.
//!
//! [`session`] runs a request or a code join from connect to end; [`consent`] holds what the
//! customer allowed and enforces it locally; [`screen`] and [`input`] are the platform seams
//! (screen sources, input sinks), [`display`] and [`inject`] their real implementations
//! (xcap capture, enigo injection); [`streaming`] sends the screen as the console pulls it;
//! [`files`], [`shell`] and [`clipboard`] serve transfers, the remote shell and the shared
//! clipboard; [`output`] prints what
//! happens, for people or scripts.
#![forbid(unsafe_code)]

pub mod clipboard;
pub mod consent;
pub mod display;
pub mod files;
pub mod inject;
pub mod input;
pub mod output;
pub mod screen;
pub mod session;
pub mod shell;
pub mod streaming;
