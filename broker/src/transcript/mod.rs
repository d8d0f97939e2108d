//! Session transcripts: one append-only JSON-lines file per session, each record chained to
//! the one before by SHA-256 and the last signed with the broker's Ed25519 key, so that any
//! change, deletion, insertion, reordering or truncation is caught and located.
//!
//! [`record`] is the format, [`writer`] the task that writes it off the relay path,
//! [`verify`] the check, [`export`] the ticket documentation made from it, [`signing`] the key;
//! [`channels`] reads file and shell frames into records, which [`asciicast`] replays.

pub mod asciicast;
pub(crate) mod channels;
pub mod export;
pub mod record;
pub mod signing;
pub mod verify;
pub mod writer;

pub use record::{Actor, Entry, Record};
pub use signing::{SigningKey, VerifyingKey};
pub use verify::{Expected, Verdict, verify};
pub use writer::{Seal, Transcript};
