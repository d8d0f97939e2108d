//! Input sinks: the [`InputSink`] seam and the JSON-lines sink that writes each event it is
//! given to a file (for tests and for auditing what a technician would have done). Real
//! injection arrives with its own implementation of the trait.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::Path;

use tether_protocol::{Capability, InputEvent};

use crate::consent::LocalConsent;

/// Something that carries out input events on this machine.
pub trait InputSink: Send {
    /// Carries out one event.
    fn inject(&mut self, event: &InputEvent) -> std::io::Result<()>;
}

/// The agent's own enforcement: input reaches the sink only while the customer holds control
/// open, whatever the broker let through.
pub struct InputGate {
    sink: Option<Box<dyn InputSink>>,
    /// Events dropped because control was not held.
    pub refused: u64,
}

impl std::fmt::Debug for InputGate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InputGate").field("has_sink", &self.sink.is_some()).finish()
    }
}

impl InputGate {
    /// A gate in front of `sink`; without a sink nothing is ever carried out.
    pub fn new(sink: Option<Box<dyn InputSink>>) -> InputGate {
        InputGate { sink, refused: 0 }
    }

    /// Whether this agent can carry out input at all.
    pub fn can_inject(&self) -> bool {
        self.sink.is_some()
    }

    /// Carries out one `input` frame payload if `consent` holds control.
    pub fn handle(&mut self, consent: LocalConsent, payload: &[u8]) {
        if !consent.holds(Capability::Control) {
            self.refused += 1;
            tracing::debug!(refused = self.refused, "input without control consent dropped");
            return;
        }
        let Some(sink) = self.sink.as_mut() else { return };
        match InputEvent::decode(payload) {
            Ok(event) => {
                if let Err(err) = sink.inject(&event) {
                    tracing::warn!(%err, "input injection failed");
                }
            }
            Err(err) => tracing::debug!(%err, "malformed input event dropped"),
        }
    }
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
    fn the_gate_passes_input_only_while_control_is_held() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("input.jsonl");
        let mut gate = InputGate::new(Some(Box::new(JsonLinesSink::open(&path).unwrap())));
        let event = InputEvent::MouseMove { x: 1, y: 2 }.encode();
        let mut consent = LocalConsent::default();
        gate.handle(consent, &event);
        consent.decide(Capability::View, true);
        gate.handle(consent, &event);
        assert_eq!(gate.refused, 2, "view alone is not control");
        consent.decide(Capability::Control, true);
        gate.handle(consent, &event);
        gate.handle(consent, b"not an event");
        consent.decide(Capability::Control, false);
        gate.handle(consent, &event);
        assert_eq!(gate.refused, 3);
        let lines = std::fs::read_to_string(&path).unwrap();
        assert_eq!(lines.lines().count(), 1, "only the event sent while control was held");
    }

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
