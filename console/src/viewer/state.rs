//! What the session and the window share: the picture (see [`crate::screen`]), what the
//! window shows beside it (conversation, consent, connection quality), and the messages the
//! window sends back (commands, "drawn", "closed").

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use eframe::egui;
use tether_client::{Sentence, SessionEvent};
use tether_protocol::Capability;
use tokio::sync::mpsc;

use crate::commands::Command;
use crate::events::Event;
use crate::screen::SharedPicture;

/// Lines of conversation and news kept.
const MAX_LINES: usize = 500;

/// A line beside the picture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// What kind.
    pub kind: LineKind,
    /// In words.
    pub text: String,
}

/// How a line is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    /// From the customer.
    Customer,
    /// From this technician.
    Me,
    /// News.
    Notice,
    /// Something went wrong.
    Error,
}

/// What the window shows besides the picture.
#[derive(Debug, Default)]
pub struct ViewState {
    /// The customer's name.
    pub customer: String,
    /// Conversation and news, oldest first.
    pub lines: VecDeque<Line>,
    /// Held capabilities.
    pub view: bool,
    /// Held capabilities.
    pub control: bool,
    /// Files capability.
    pub files: bool,
    /// The live round trip, ms.
    pub rtt_ms: Option<f64>,
    /// Screen and input go on the direct path (else through the broker).
    pub direct: bool,
    /// kbit/s arriving from the customer.
    pub received_kbps: Option<f64>,
    /// Text the customer copied, for the local clipboard.
    pub clipboard: Option<String>,
    /// Why the session ended, once it has.
    pub ended: Option<String>,
}

impl ViewState {
    /// Adds a line; its control characters show rather than act, as in the terminal.
    fn push(&mut self, kind: LineKind, text: String) {
        if self.lines.len() == MAX_LINES {
            self.lines.pop_front();
        }
        let text = match tether_protocol::visible(&text, true) {
            std::borrow::Cow::Borrowed(_) => text,
            std::borrow::Cow::Owned(shown) => shown,
        };
        self.lines.push_back(Line { kind, text });
    }

    /// Takes in an event the session reported.
    pub fn record(&mut self, event: &Event) {
        match event {
            Event::Paired { customer, .. } => {
                self.customer = customer.clone();
                self.push(LineKind::Notice, event.sentence());
            }
            Event::Session(SessionEvent::Consent { capability, granted }) => {
                match capability {
                    Capability::View => self.view = *granted,
                    Capability::Control => self.control = *granted,
                    Capability::Files => self.files = *granted,
                    _ => {}
                }
                self.push(LineKind::Notice, event.sentence());
            }
            Event::Session(SessionEvent::Chat { .. }) => {
                self.push(LineKind::Customer, event.sentence())
            }
            Event::Quality { rtt_ms, received_kbps, .. } => {
                self.rtt_ms = Some(*rtt_ms);
                self.received_kbps = Some(*received_kbps);
            }
            Event::Clipboard { text } => {
                self.clipboard = Some(text.clone());
                self.push(LineKind::Notice, "The customer's clipboard was copied to yours.".into());
            }
            Event::Session(SessionEvent::Error { .. }) => {
                self.push(LineKind::Error, event.sentence())
            }
            Event::Session(SessionEvent::Path { direct, .. }) => {
                self.direct = *direct;
                self.push(LineKind::Notice, event.sentence());
            }
            Event::Ended { reason, .. } => {
                self.ended = Some(reason.clone());
                self.push(LineKind::Notice, event.sentence());
            }
            // Shell output belongs in the terminal.
            Event::ShellOutput { .. } | Event::Screen { .. } | Event::Updates { .. } => {}
            other => self.push(LineKind::Notice, other.sentence()),
        }
    }

    /// A line this technician sent.
    pub fn said(&mut self, text: &str) {
        self.push(LineKind::Me, format!("[me] {text}"));
    }

    /// A line of news.
    pub fn notice(&mut self, text: String) {
        self.push(LineKind::Notice, text);
    }
}

/// From the window to the session.
#[derive(Debug)]
pub enum ViewerMsg {
    /// Do this, as if typed.
    Command(Command),
    /// The picture with this sequence number is on screen: ask for the next.
    Drawn(u32),
    /// The window was closed.
    Closed,
    /// The window could not open: carry on in the terminal.
    Failed(String),
}

/// What both sides hold.
#[derive(Debug)]
pub struct Shared {
    /// The picture.
    pub picture: SharedPicture,
    state: Mutex<ViewState>,
    /// The window's context, once it exists (to wake it).
    ctx: OnceLock<egui::Context>,
}

impl Shared {
    /// Locks what the window shows.
    pub fn state(&self) -> MutexGuard<'_, ViewState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The window is up.
    pub fn attach(&self, ctx: egui::Context) {
        let _ = self.ctx.set(ctx);
    }

    /// Asks the window to draw again.
    pub fn repaint(&self) {
        if let Some(ctx) = self.ctx.get() {
            ctx.request_repaint();
        }
    }
}

/// The session's end of the link.
#[derive(Debug)]
pub struct ViewerLink {
    /// The shared state.
    pub shared: Arc<Shared>,
    /// Messages from the window.
    pub rx: mpsc::UnboundedReceiver<ViewerMsg>,
}

/// The window's end of the link.
#[derive(Debug, Clone)]
pub struct WindowLink {
    /// The shared state.
    pub shared: Arc<Shared>,
    /// Messages to the session.
    pub tx: mpsc::UnboundedSender<ViewerMsg>,
}

/// A linked pair.
pub fn link() -> (ViewerLink, WindowLink) {
    let shared = Arc::new(Shared {
        picture: Arc::new(Mutex::new(None)),
        state: Mutex::new(ViewState::default()),
        ctx: OnceLock::new(),
    });
    let (tx, rx) = mpsc::unbounded_channel();
    (ViewerLink { shared: shared.clone(), rx }, WindowLink { shared, tx })
}

impl ViewerLink {
    /// Shows an event in the window.
    pub fn record(&self, event: &Event) {
        self.shared.state().record(event);
        self.shared.repaint();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_update_what_the_window_shows() {
        let mut s = ViewState::default();
        s.record(&SessionEvent::Consent { capability: Capability::Control, granted: true }.into());
        assert!(s.control && !s.view);
        s.record(&SessionEvent::Chat { from: "bob".into(), text: "hi".into() }.into());
        s.record(&Event::Quality { rtt_ms: 12.0, received_kbps: 800.0, sent_kbps: 5.0 });
        assert_eq!(s.rtt_ms, Some(12.0));
        assert_eq!(s.lines.back().unwrap().kind, LineKind::Customer);
        let trick = SessionEvent::Chat { from: "eve".into(), text: "\x1b[2J\n[broker] ok".into() };
        s.record(&trick.into());
        assert_eq!(s.lines.back().unwrap().text, "[eve] ␛[2J␊[broker] ok", "shown, not acted on");
        for i in 0..MAX_LINES + 10 {
            s.notice(format!("{i}"));
        }
        assert_eq!(s.lines.len(), MAX_LINES);
        s.record(&Event::Ended { reason: "bye".into(), code: None });
        assert_eq!(s.ended.as_deref(), Some("bye"));
    }
}
