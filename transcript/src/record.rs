//! The transcript's record format: one JSON object a line, each carrying its sequence number,
//! time, actor, event, data and the hex SHA-256 of the previous line's bytes. The hash is over
//! the bytes as written, so verifying never re-serialises anything.

use std::time::SystemTime;

use ring::digest;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tether_protocol::{Role, hex};

/// The `prev` of the first record: 64 zeros.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The event of the final, signed record.
pub const SEAL_EVENT: &str = "sealed";

/// Who did what a record describes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// `broker`, `agent` or `console`.
    pub role: String,
    /// The broker's name, the customer's name or the technician's login.
    pub name: String,
}

impl Actor {
    /// The broker itself.
    pub fn broker() -> Actor {
        Actor { role: "broker".into(), name: "tether-broker".into() }
    }

    /// A session side.
    pub fn of(role: Role, name: &str) -> Actor {
        Actor { role: role.name().into(), name: name.into() }
    }
}

/// One line of a transcript.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// 0, 1, 2... in file order.
    pub seq: u64,
    /// RFC 3339, UTC, milliseconds.
    pub ts: String,
    /// Who.
    pub actor: Actor,
    /// What kind of event (`chat`, `consent_granted`, ...).
    pub event: String,
    /// The event's details.
    pub data: Value,
    /// Hex SHA-256 of the previous line (without its newline); [`GENESIS`] for the first.
    pub prev: String,
}

/// An event waiting to be written: the writer adds `seq` and `prev`.
#[derive(Debug, Clone)]
pub struct Entry {
    /// When it happened.
    pub at: SystemTime,
    /// Who.
    pub actor: Actor,
    /// What kind.
    pub event: &'static str,
    /// Details.
    pub data: Value,
}

impl Entry {
    /// An event happening now.
    pub fn now(actor: Actor, event: &'static str, data: Value) -> Entry {
        Entry { at: SystemTime::now(), actor, event, data }
    }

    /// The record this entry becomes at `seq` after `prev`.
    pub fn into_record(self, seq: u64, prev: String) -> Record {
        Record {
            seq,
            ts: humantime::format_rfc3339_millis(self.at).to_string(),
            actor: self.actor,
            event: self.event.into(),
            data: self.data,
            prev,
        }
    }
}

/// Hex SHA-256 of a line's bytes.
pub fn hash_line(line: &[u8]) -> String {
    hex(digest::digest(&digest::SHA256, line).as_ref())
}

/// What the seal's signature covers: the session, the seal's position and the hash of the
/// record before it, which through the chain covers every record.
pub fn seal_message(session: &str, seq: u64, prev: &str) -> Vec<u8> {
    format!("tether-transcript-v1\n{session}\n{seq}\n{prev}").into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_serialise_in_a_fixed_field_order() {
        let at = std::time::UNIX_EPOCH + std::time::Duration::from_millis(1_700_000_000_123);
        let e = Entry {
            at,
            actor: Actor::broker(),
            event: "chat",
            data: serde_json::json!({"text": "hi"}),
        };
        let line = serde_json::to_string(&e.into_record(3, GENESIS.into())).unwrap();
        assert_eq!(
            line,
            format!(
                r#"{{"seq":3,"ts":"2023-11-14T22:13:20.123Z","actor":{{"role":"broker","name":"tether-broker"}},"event":"chat","data":{{"text":"hi"}},"prev":"{GENESIS}"}}"#
            )
        );
        assert_eq!(
            hash_line(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
