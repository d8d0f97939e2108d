//! A session's shell as an asciicast v2 recording (`asciinema play`): the header carries the
//! terminal's size and start time, then one event per line — output (`o`), what the technician
//! typed (`i`) and resizes (`r`) — timed from the shell's opening, all read from the transcript.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::record::Record;

/// Whether the records hold a shell session to play back.
pub fn has_shell(records: &[Record]) -> bool {
    records.iter().any(|r| r.event == "shell_requested" || r.event == "shell_opened")
}

fn when(r: &Record) -> Option<SystemTime> {
    humantime::parse_rfc3339_weak(&r.ts).ok()
}

/// The recording; every shell of the session, one after another.
pub fn asciicast(records: &[Record]) -> String {
    let first = records.iter().find(|r| r.event == "shell_requested" || r.event == "shell_opened");
    let start = first.and_then(when).unwrap_or(UNIX_EPOCH);
    let size = records.iter().find(|r| r.event == "shell_requested").map(|r| &r.data);
    let dim = |k: &str, default: u64| size.and_then(|d| d[k].as_u64()).unwrap_or(default);
    let shell = records
        .iter()
        .find(|r| r.event == "shell_opened")
        .and_then(|r| r.data["shell"].as_str())
        .unwrap_or("sh");
    let header = json!({
        "version": 2,
        "width": dim("cols", 80),
        "height": dim("rows", 24),
        "timestamp": tether_protocol::unix_seconds(start),
        "env": { "SHELL": shell, "TERM": "xterm-256color" },
    });
    let mut out = header.to_string();
    out.push('\n');
    for r in records {
        let (code, data) = match r.event.as_str() {
            "shell_output" => ("o", r.data["data"].clone()),
            // Typing at a secret prompt was never recorded: there is nothing to replay.
            "shell_input" if r.data["hidden"] == true => continue,
            "shell_input" => ("i", r.data["data"].clone()),
            "shell_resized" => {
                ("r", Value::String(format!("{}x{}", r.data["cols"], r.data["rows"])))
            }
            _ => continue,
        };
        let t = when(r)
            .and_then(|at| at.duration_since(start).ok())
            .map(|d| (d.as_secs_f64() * 1e6).round() / 1e6)
            .unwrap_or(0.0);
        out.push_str(&json!([t, code, data]).to_string());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Actor;

    fn record(seq: u64, ts: &str, event: &str, data: Value) -> Record {
        Record {
            seq,
            ts: ts.into(),
            actor: Actor::broker(),
            event: event.into(),
            data,
            prev: String::new(),
        }
    }

    #[test]
    fn a_shell_session_becomes_a_timed_recording() {
        let records = vec![
            record(0, "2026-11-22T10:00:00.000Z", "chat", json!({"text": "hi"})),
            record(
                1,
                "2026-11-22T10:00:01.000Z",
                "shell_requested",
                json!({"cols": 100, "rows": 30}),
            ),
            record(2, "2026-11-22T10:00:01.100Z", "shell_opened", json!({"shell": "/bin/bash"})),
            record(3, "2026-11-22T10:00:02.500Z", "shell_input", json!({"data": "echo hi\n"})),
            record(4, "2026-11-22T10:00:02.600Z", "shell_output", json!({"data": "hi\r\n"})),
            record(
                5,
                "2026-11-22T10:00:03.000Z",
                "shell_resized",
                json!({"cols": 120, "rows": 40}),
            ),
        ];
        assert!(has_shell(&records));
        let cast = asciicast(&records);
        let lines: Vec<Value> = cast.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines[0]["version"], 2);
        assert_eq!(
            (lines[0]["width"].as_u64(), lines[0]["height"].as_u64()),
            (Some(100), Some(30))
        );
        assert_eq!(lines[0]["env"]["SHELL"], "/bin/bash");
        assert_eq!(lines[1], json!([1.5, "i", "echo hi\n"]));
        assert_eq!(lines[2], json!([1.6, "o", "hi\r\n"]));
        assert_eq!(lines[3], json!([2.0, "r", "120x40"]));
        assert_eq!(lines.len(), 4);
        assert!(!has_shell(&records[..1]));
    }
}
