//! What agent and console share at the terminal: log setup, standard input as a stream of
//! lines, and events printed as sentences for people or as JSON lines for scripts.

use serde::Serialize;
use tokio::sync::mpsc;

/// What is logged without `RUST_LOG`: tether's own warnings, and only errors from the crates
/// underneath. webrtc-rs warns about ordinary moments of setting up a connection
/// (`WARN rtc_ice::agent: pingAllCandidates called with no candidate pairs…`), which a person
/// at the terminal cannot act on; `RUST_LOG` still opens any of them.
pub const DEFAULT_LOG_FILTER: &str = "error,tether_agent=warn,tether_console=warn,\
    tether_client=warn,tether_direct=warn,tether_protocol=warn,tether_certs=warn";

/// Logs to standard error, filtered by `RUST_LOG` (default: [`DEFAULT_LOG_FILTER`]), coloured
/// on a terminal.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(DEFAULT_LOG_FILTER));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}

/// Lines from standard input, read on a plain thread: a blocking read cannot be cancelled, and
/// a detached thread does not hold up the process's exit the way a runtime task would. The
/// channel closes at end of input.
pub fn stdin_lines() -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel(64);
    std::thread::spawn(move || {
        for line in std::io::stdin().lines() {
            let Ok(line) = line else { break };
            if tx.blocking_send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Standard input as it arrives, in chunks (a line at a time on a normal terminal, a key at a
/// time in raw mode), read on a plain thread; the channel closes at end of input.
pub fn stdin_chunks() -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel(64);
    std::thread::spawn(move || {
        let mut stdin = std::io::stdin().lock();
        let mut buf = vec![0u8; 4096];
        loop {
            match std::io::Read::read(&mut stdin, &mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if tx.blocking_send(buf[..n].to_vec()).is_err() {
                        break;
                    }
                }
            }
        }
    });
    rx
}

/// An event that can be told to a person in one line.
pub trait Sentence: Serialize {
    /// The event in words.
    fn sentence(&self) -> String;
}

/// Prints events on standard output: sentences, or one JSON object a line.
#[derive(Debug, Clone, Copy)]
pub struct Printer {
    json: bool,
}

impl Printer {
    /// JSON lines when `json`, else sentences.
    pub fn new(json: bool) -> Printer {
        Printer { json }
    }

    /// Whether events print as JSON.
    pub fn is_json(self) -> bool {
        self.json
    }

    /// Prints one event. A sentence's control characters are shown, never sent to the
    /// terminal as they are (each event also keeps its peer's text on one line: see
    /// [`crate::shown`]); JSON escapes them itself.
    pub fn emit(&self, event: &impl Sentence) {
        if self.json {
            // Events are plain data with string keys: serialisation cannot fail.
            println!("{}", serde_json::to_string(event).unwrap_or_default());
        } else {
            println!("{}", tether_protocol::visible(&event.sentence(), true));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// Log lines written under the default filter.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn by_default_tether_warns_and_libraries_only_report_errors() {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(DEFAULT_LOG_FILTER))
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            tracing::warn!(target: "tether_direct::link", "ours-warn");
            tracing::info!(target: "tether_console::session", "ours-info");
            tracing::warn!(target: "rtc_ice::agent", "ice-warn");
            tracing::warn!(target: "rtc_dtls::config", "dtls-warn");
            tracing::error!(target: "webrtc::peer_connection::driver", "driver-error");
        });
        let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        assert!(text.contains("ours-warn") && text.contains("driver-error"), "{text}");
        for hidden in ["ours-info", "ice-warn", "dtls-warn"] {
            assert!(!text.contains(hidden), "{hidden} shown: {text}");
        }
    }
}
