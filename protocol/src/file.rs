//! File transfer over the `file` channel. A frame's flags say what it carries: a JSON
//! [`FileMsg`] (offers, answers, acknowledgements, results) or a chunk of data, prefixed with
//! its transfer id and offset. Receivers acknowledge what they wrote, senders keep at most a
//! window unacknowledged, and the receiver checks the SHA-256 the sender announced.

use serde::{Deserialize, Serialize};

/// `file` frame flags.
pub mod file_flags {
    /// The payload is a JSON [`super::FileMsg`].
    pub const CONTROL: u8 = 1;
    /// The payload is `id: u32`, `offset: u64` (big-endian), then data.
    pub const DATA: u8 = 2;
}

/// Bytes of file data per frame.
pub const FILE_CHUNK: usize = 64 * 1024;
/// Length of a data frame's prefix.
pub const FILE_DATA_HEADER: usize = 12;

/// Which way a transfer goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Technician to customer.
    ToAgent,
    /// Customer to technician.
    ToConsole,
}

/// A file transfer message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FileMsg {
    /// The sender offers a file: its name, size and SHA-256 (hex).
    Offer {
        /// Transfer id, chosen by the console.
        id: u32,
        /// File name (no directories).
        name: String,
        /// Bytes.
        size: u64,
        /// Hex SHA-256 of the whole file.
        sha256: String,
        /// Which way.
        direction: Direction,
    },
    /// The console asks the agent for a file.
    Request {
        /// Transfer id.
        id: u32,
        /// The path on the customer's machine.
        path: String,
    },
    /// The receiver takes the file, starting at `offset` (more than zero when resuming).
    Accept {
        /// Transfer id.
        id: u32,
        /// Where to start.
        offset: u64,
    },
    /// Not this transfer.
    Refuse {
        /// Transfer id.
        id: u32,
        /// Why.
        reason: String,
    },
    /// The receiver has written this many bytes (of the whole file).
    Ack {
        /// Transfer id.
        id: u32,
        /// Bytes written.
        received: u64,
    },
    /// The receiver's verdict once everything arrived.
    Result {
        /// Transfer id.
        id: u32,
        /// Whether the SHA-256 matched and the file was kept.
        ok: bool,
        /// The SHA-256 the receiver computed.
        sha256: String,
        /// Where it was kept, or why not.
        detail: String,
    },
    /// Either side stops the transfer.
    Cancel {
        /// Transfer id.
        id: u32,
        /// Why.
        reason: String,
    },
}

impl FileMsg {
    /// The transfer id.
    pub fn id(&self) -> u32 {
        match self {
            FileMsg::Offer { id, .. }
            | FileMsg::Request { id, .. }
            | FileMsg::Accept { id, .. }
            | FileMsg::Refuse { id, .. }
            | FileMsg::Ack { id, .. }
            | FileMsg::Result { id, .. }
            | FileMsg::Cancel { id, .. } => *id,
        }
    }

    /// Decodes a control payload.
    pub fn decode(payload: &[u8]) -> Result<FileMsg, String> {
        serde_json::from_slice(payload).map_err(|e| e.to_string())
    }

    /// Encodes as a control payload.
    pub fn encode(&self) -> Vec<u8> {
        // Plain data with string keys: serialisation cannot fail.
        serde_json::to_vec(self).expect("file messages always serialise")
    }
}

/// The prefix of a data frame.
pub fn encode_data_header(id: u32, offset: u64) -> [u8; FILE_DATA_HEADER] {
    let mut h = [0u8; FILE_DATA_HEADER];
    h[..4].copy_from_slice(&id.to_be_bytes());
    h[4..].copy_from_slice(&offset.to_be_bytes());
    h
}

/// Splits a data payload into id, offset and bytes.
pub fn decode_data(payload: &[u8]) -> Option<(u32, u64, &[u8])> {
    if payload.len() < FILE_DATA_HEADER {
        return None;
    }
    let id = u32::from_be_bytes(payload[..4].try_into().ok()?);
    let offset = u64::from_be_bytes(payload[4..12].try_into().ok()?);
    Some((id, offset, &payload[FILE_DATA_HEADER..]))
}

/// A name safe to create in the receiving folder: the last path component, without
/// separators, control characters or leading dots; `None` if nothing usable is left or the
/// name tried to climb out (`..`) or was absolute.
pub fn safe_file_name(name: &str) -> Option<String> {
    // Control characters go first, so that none can hide a `..` from the checks.
    let name: String = name.chars().filter(|c| !c.is_control()).collect();
    if name.starts_with('/') || name.starts_with('\\') || name.contains("..") || name.contains(':')
    {
        return None;
    }
    let last = name.rsplit(['/', '\\']).next()?;
    let cleaned = last.trim().trim_start_matches('.').to_string();
    (!cleaned.is_empty() && cleaned.len() <= 255).then_some(cleaned)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn messages_and_data_round_trip() {
        let m = FileMsg::Offer {
            id: 7,
            name: "report.pdf".into(),
            size: 10,
            sha256: "ab".into(),
            direction: Direction::ToAgent,
        };
        assert_eq!(FileMsg::decode(&m.encode()).unwrap(), m);
        assert_eq!(m.id(), 7);
        let mut payload = encode_data_header(3, 1 << 33).to_vec();
        payload.extend_from_slice(b"hello");
        assert_eq!(decode_data(&payload), Some((3, 1 << 33, &b"hello"[..])));
        assert_eq!(decode_data(&[0; 5]), None);
    }

    #[test]
    fn names_are_sanitised_or_refused() {
        assert_eq!(safe_file_name("report.pdf").as_deref(), Some("report.pdf"));
        assert_eq!(safe_file_name("logs/app.log").as_deref(), Some("app.log"));
        assert_eq!(safe_file_name(".bashrc").as_deref(), Some("bashrc"));
        for bad in [
            "../../etc/passwd",
            "/etc/passwd",
            "\\\\server\\share",
            "C:\\x",
            "..",
            "",
            "   ",
            "a/",
            ".\u{0}./x",
            "a.\u{0}.b",
        ] {
            assert_eq!(safe_file_name(bad), None, "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = FileMsg::decode(&bytes);
            let _ = decode_data(&bytes);
        }

        #[test]
        fn sanitised_names_never_escape(name in ".{0,40}") {
            if let Some(n) = safe_file_name(&name) {
                prop_assert!(!n.contains('/') && !n.contains('\\') && !n.contains("..") && !n.starts_with('.'));
            }
        }
    }
}
