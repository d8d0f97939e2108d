//! tether-client: the client end of a connection to a tether broker, shared by agent and
//! console (and the end-to-end tests).
//!
//! It owns the URL, the TLS websocket connect, the `hello` exchange and typed receiving and
//! sending, plus the terminal plumbing both programs share (logs, standard input, printing
//! events). It knows nothing of what an agent or console does with a session.
#![forbid(unsafe_code)]

mod addr;
pub mod check;
pub mod check_ui;
mod connection;
mod error;
mod event;
pub mod progress;
pub mod report;
mod sender;
mod terminal;
pub mod transfer;
pub mod window;

pub use addr::{BrokerAddr, DEFAULT_PORT};
pub use connection::{Connection, Incoming, Receiver, WsStream, connect, connect_tls};
pub use error::ClientError;
pub use event::{SessionEvent, shown};
pub use sender::{Sender, Writer};
pub use terminal::{
    DEFAULT_LOG_FILTER, Printer, Sentence, init_logging, stdin_chunks, stdin_lines,
};
