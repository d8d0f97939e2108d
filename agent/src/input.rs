//! Input sinks: the [`InputSink`] seam and the JSON-lines sink that writes each event it is
//! given to a file (for tests and for auditing what a technician would have done). Real
//! injection arrives with its own implementation of the trait.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::Path;

use tether_protocol::InputEvent;

/// Something that carries out input events on this machine.
pub trait InputSink: Send {
    /// Carries out one event.
    fn inject(&mut self, event: &InputEvent) -> std::io::Result<()>;
}

/// Appends each event as one JSON line, flushed at once.
#[derive(Debug)]
pub struct JsonLinesSink {
    out: BufWriter<File>,
}

impl JsonLinesSink {
    /// Opens (creating or appending to) `path`.
    pub fn open(path: &Path) -> std::io::Result<JsonLinesSink> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(JsonLinesSink { out: BufWriter::new(file) })
    }
}

impl InputSink for JsonLinesSink {
    fn inject(&mut self, event: &InputEvent) -> std::io::Result<()> {
        self.out.write_all(&event.encode())?;
        self.out.write_all(b"\n")?;
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use tether_protocol::{Action, MouseButton};

    use super::*;

    #[test]
    fn writes_one_line_per_event_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("input.jsonl");
        let mut sink = JsonLinesSink::open(&path).unwrap();
        let events = [
            InputEvent::MouseMove { x: 1, y: 2 },
            InputEvent::MouseButton { button: MouseButton::Left, action: Action::Click },
        ];
        for e in &events {
            sink.inject(e).unwrap();
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let read: Vec<InputEvent> =
            text.lines().map(|l| InputEvent::decode(l.as_bytes()).unwrap()).collect();
        assert_eq!(read, events);
    }
}
