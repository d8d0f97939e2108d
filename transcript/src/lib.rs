//! tether-transcript: session transcripts. One append-only JSON-lines file per session, each
//! record chained to the one before by SHA-256 and the last signed with the broker's Ed25519
//! key, so that any change, deletion, insertion, reordering or truncation is caught and located.
//!
//! Map:
//! - [`record`]: the record format and the chain's hashing;
//! - [`writer`]: [`Transcript`], the task that writes a session's records off the relay path;
//! - [`recorder`]: [`Recorder`], where new transcripts go and how they are sealed;
//! - [`library`]: [`Library`], reading, verifying and exporting transcripts at rest;
//! - [`verify`]: the check of a chain and its seal;
//! - [`export`]: the ticket documentation (Markdown, JSON, HTML) made from a transcript;
//! - [`asciicast`]: a session's shell as an asciicast recording;
//! - [`channels`]: what file and shell frames become in the transcript;
//! - [`signing`]: the broker's Ed25519 signing and verifying keys.
#![forbid(unsafe_code)]

pub mod asciicast;
pub mod channels;
pub mod export;
pub mod library;
pub mod record;
pub mod recorder;
pub mod signing;
pub mod verify;
pub mod writer;

pub use library::{Library, LibraryError};
pub use record::{Actor, Entry, Record};
pub use recorder::{Opened, Recorder};
pub use signing::{SigningKey, VerifyingKey};
pub use verify::{Expected, Verdict, verify};
pub use writer::{FILES_AT_ONCE, Seal, Transcript};
