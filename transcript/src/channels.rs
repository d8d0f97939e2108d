//! What the transcript keeps of the file, shell and clipboard channels, read off frames as
//! they are relayed: every file's name, size, SHA-256, direction and outcome (file data itself
//! is only counted); the whole shell session — what was typed, what it printed, its size and
//! how it ended — with the time of each, which is what an asciicast replays (except what is
//! typed while the customer's terminal reads a secret: only that something was); and each
//! clipboard copy's size and SHA-256, never its text.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::{Value, json};
use tether_protocol::{Direction, FileMsg, Role, ShellMsg, file_flags, shell_flags};

/// An offer seen on the file channel, kept until its outcome.
#[derive(Debug, Clone)]
struct Offer {
    name: String,
    size: u64,
    sha256: String,
    direction: Direction,
}

/// Offers seen, at most this many at once per session (a hostile console cannot grow the map
/// without bound).
const MAX_OPEN_OFFERS: usize = 1024;

/// One session's view of its file and shell channels.
#[derive(Debug, Default)]
pub struct ChannelLog {
    offers: Mutex<HashMap<u32, Offer>>,
    /// The customer's terminal reads a secret: the technician's typing is not recorded.
    input_hidden: AtomicBool,
}

impl ChannelLog {
    /// The transcript event (name and data) a relayed file frame makes, if any.
    pub fn file(&self, flags: u8, payload: &[u8]) -> Option<(&'static str, Value)> {
        if flags != file_flags::CONTROL {
            return None;
        }
        let msg = FileMsg::decode(payload).ok()?;
        let mut offers = self.offers.lock().unwrap_or_else(|p| p.into_inner());
        let event = match msg {
            FileMsg::Offer { id, name, size, sha256, direction } => {
                if offers.len() >= MAX_OPEN_OFFERS && !offers.contains_key(&id) {
                    return None;
                }
                let data = json!({
                    "id": id, "name": name, "size": size, "sha256": sha256, "direction": direction,
                });
                offers.insert(id, Offer { name, size, sha256, direction });
                ("file_offered", data)
            }
            FileMsg::Request { id, path } => ("file_requested", json!({ "id": id, "path": path })),
            FileMsg::Accept { id, offset } => {
                ("file_accepted", json!({ "id": id, "offset": offset }))
            }
            FileMsg::Ack { .. } => return None,
            FileMsg::Refuse { id, reason } => {
                let name = offers.remove(&id).map(|o| o.name);
                ("file_refused", json!({ "id": id, "name": name, "reason": reason }))
            }
            FileMsg::Cancel { id, reason } => {
                let name = offers.remove(&id).map(|o| o.name);
                ("file_cancelled", json!({ "id": id, "name": name, "reason": reason }))
            }
            FileMsg::Result { id, ok, sha256, detail } => {
                let offer = offers.remove(&id);
                // Verified only when the receiver's digest is the one the sender announced.
                let verified = ok && offer.as_ref().is_some_and(|o| o.sha256 == sha256);
                let data = match offer {
                    Some(o) => json!({
                        "id": id, "name": o.name, "size": o.size, "sha256": sha256,
                        "announced_sha256": o.sha256, "direction": o.direction,
                        "outcome": if verified { "verified" } else { "failed" }, "detail": detail,
                    }),
                    None => json!({
                        "id": id, "sha256": sha256, "outcome": "failed",
                        "detail": format!("no offer seen for this transfer; {detail}"),
                    }),
                };
                ("file_transferred", data)
            }
        };
        Some(event)
    }

    /// The transcript event a relayed shell frame makes, if any.
    pub fn shell(&self, from: Role, flags: u8, payload: &[u8]) -> Option<(&'static str, Value)> {
        if flags == shell_flags::DATA {
            if from == Role::Console && self.input_hidden.load(Ordering::Relaxed) {
                // A password, most likely: that something was typed, never what.
                return Some(("shell_input", json!({ "hidden": true })));
            }
            let data = String::from_utf8_lossy(payload);
            let event = if from == Role::Console { "shell_input" } else { "shell_output" };
            return Some((event, json!({ "data": data })));
        }
        let event = match ShellMsg::decode(payload).ok()? {
            // Only the customer's side sees its terminal's modes.
            ShellMsg::InputHidden { .. } if from != Role::Agent => return None,
            ShellMsg::InputHidden { hidden } => {
                self.input_hidden.store(hidden, Ordering::Relaxed);
                ("shell_input_hidden", json!({ "hidden": hidden }))
            }
            ShellMsg::Open { cols, rows } => {
                ("shell_requested", json!({ "cols": cols, "rows": rows }))
            }
            ShellMsg::Opened { shell } => ("shell_opened", json!({ "shell": shell })),
            ShellMsg::Resize { cols, rows } => {
                ("shell_resized", json!({ "cols": cols, "rows": rows }))
            }
            ShellMsg::Close { reason } => ("shell_close_requested", json!({ "reason": reason })),
            ShellMsg::Exited { code, reason } => {
                self.input_hidden.store(false, Ordering::Relaxed);
                ("shell_closed", json!({ "code": code, "reason": reason }))
            }
        };
        Some(event)
    }
}

/// The transcript event of a clipboard copy: its size and digest.
pub fn clipboard(payload: &[u8]) -> (&'static str, Value) {
    let digest = ring::digest::digest(&ring::digest::SHA256, payload);
    let sha256 = tether_protocol::hex(digest.as_ref());
    ("clipboard", json!({ "bytes": payload.len(), "sha256": sha256 }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn control(msg: FileMsg) -> Vec<u8> {
        msg.encode()
    }

    #[test]
    fn a_transfer_is_documented_from_offer_to_outcome() {
        let log = ChannelLog::default();
        let sha = "ab".repeat(32);
        let offer = FileMsg::Offer {
            id: 7,
            name: "app.log".into(),
            size: 10,
            sha256: sha.clone(),
            direction: Direction::ToConsole,
        };
        let (event, _) = log.file(file_flags::CONTROL, &control(offer)).unwrap();
        assert_eq!(event, "file_offered");
        assert!(
            log.file(file_flags::CONTROL, &control(FileMsg::Ack { id: 7, received: 5 })).is_none()
        );
        assert!(log.file(file_flags::DATA, b"anything").is_none());
        let result =
            FileMsg::Result { id: 7, ok: true, sha256: sha.clone(), detail: "saved".into() };
        let (event, data) = log.file(file_flags::CONTROL, &control(result)).unwrap();
        assert_eq!(event, "file_transferred");
        assert_eq!(data["name"], "app.log");
        assert_eq!(data["size"], 10);
        assert_eq!(data["sha256"], sha);
        assert_eq!(data["direction"], "to_console");
        assert_eq!(data["outcome"], "verified");
    }

    #[test]
    fn a_digest_mismatch_is_a_failure_and_garbage_is_ignored() {
        let log = ChannelLog::default();
        let offer = FileMsg::Offer {
            id: 1,
            name: "a".into(),
            size: 1,
            sha256: "00".repeat(32),
            direction: Direction::ToAgent,
        };
        log.file(file_flags::CONTROL, &control(offer));
        let result =
            FileMsg::Result { id: 1, ok: true, sha256: "11".repeat(32), detail: String::new() };
        let (_, data) = log.file(file_flags::CONTROL, &control(result)).unwrap();
        assert_eq!(data["outcome"], "failed");
        assert!(log.file(file_flags::CONTROL, b"{not json").is_none());
        assert!(log.shell(Role::Console, shell_flags::CONTROL, b"[]").is_none());
    }

    #[test]
    fn the_clipboard_is_kept_by_size_and_digest_only() {
        let (event, data) = clipboard(b"secret");
        assert_eq!(event, "clipboard");
        assert_eq!(data["bytes"], 6);
        assert_eq!(
            data["sha256"],
            "2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b"
        );
        assert!(!data.to_string().contains("secret"));
    }

    #[test]
    fn shell_traffic_is_kept_with_its_direction() {
        let log = ChannelLog::default();
        assert_eq!(log.shell(Role::Console, shell_flags::DATA, b"ls\n").unwrap().0, "shell_input");
        let (event, data) = log.shell(Role::Agent, shell_flags::DATA, b"a.txt\r\n").unwrap();
        assert_eq!((event, data["data"].as_str()), ("shell_output", Some("a.txt\r\n")));
        let open = ShellMsg::Open { cols: 100, rows: 30 }.encode();
        let (event, data) = log.shell(Role::Console, shell_flags::CONTROL, &open).unwrap();
        assert_eq!((event, data["cols"].as_u64()), ("shell_requested", Some(100)));
    }

    #[test]
    fn typing_at_a_secret_prompt_is_recorded_masked_on_the_customers_word_only() {
        let log = ChannelLog::default();
        let hidden = |h: bool| ShellMsg::InputHidden { hidden: h }.encode();
        // The technician cannot switch recording off, nor back on.
        assert!(log.shell(Role::Console, shell_flags::CONTROL, &hidden(true)).is_none());
        let (_, data) = log.shell(Role::Console, shell_flags::DATA, b"ls\n").unwrap();
        assert_eq!(data["data"], "ls\n");
        let (event, _) = log.shell(Role::Agent, shell_flags::CONTROL, &hidden(true)).unwrap();
        assert_eq!(event, "shell_input_hidden");
        assert!(log.shell(Role::Console, shell_flags::CONTROL, &hidden(false)).is_none());
        let (event, data) = log.shell(Role::Console, shell_flags::DATA, b"hunter2\n").unwrap();
        assert_eq!(event, "shell_input");
        assert_eq!(data, json!({ "hidden": true }), "nothing of the secret, not even its length");
        // Output is still recorded in full; the terminal does not echo the secret anyway.
        let (_, data) = log.shell(Role::Agent, shell_flags::DATA, b"\r\n").unwrap();
        assert_eq!(data["data"], "\r\n");
        log.shell(Role::Agent, shell_flags::CONTROL, &hidden(false)).unwrap();
        let (_, data) = log.shell(Role::Console, shell_flags::DATA, b"id\n").unwrap();
        assert_eq!(data["data"], "id\n");
        // A shell that ends while hidden leaves the next one recorded in full.
        log.shell(Role::Agent, shell_flags::CONTROL, &hidden(true)).unwrap();
        let exited = ShellMsg::Exited { code: Some(0), reason: "exit".into() }.encode();
        log.shell(Role::Agent, shell_flags::CONTROL, &exited).unwrap();
        let (_, data) = log.shell(Role::Console, shell_flags::DATA, b"w\n").unwrap();
        assert_eq!(data["data"], "w\n");
    }
}
