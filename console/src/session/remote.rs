//! What comes from the customer's side besides control messages: screen updates (drawn, then
//! the next pulled), file and shell frames, and what ends when a capability is taken back; and
//! the half-second tick that expires snapshots and re-asks for a lost update.

use std::io::Write;
use std::time::Instant;

use tether_client::{ClientError, SessionEvent};
use tether_protocol::{Capability, FileMsg, ShellMsg, file_flags, shell_flags};

use super::Console;
use crate::events::Event;
use crate::files;
use crate::screen::{SNAPSHOT_WAIT, Snapshot};
use crate::shell::{RawMode, ShellState};

impl Console {
    /// A file frame from the customer's side.
    pub(super) async fn file_frame(
        &mut self,
        flags: u8,
        payload: &[u8],
    ) -> Result<(), ClientError> {
        let step = match flags {
            file_flags::CONTROL => match FileMsg::decode(payload) {
                Ok(msg) => self.transfers.control(msg).await,
                Err(e) => {
                    tracing::debug!(%e, "bad file message");
                    return Ok(());
                }
            },
            file_flags::DATA => self.transfers.data(payload).await,
            _ => return Ok(()),
        };
        self.apply(step).await
    }

    /// Sends a transfer step's frames and reports its events.
    pub(super) async fn apply(&mut self, step: files::Step) -> Result<(), ClientError> {
        for event in &step.events {
            self.emit_file(event);
        }
        for frame in step.frames {
            self.sender.frame(frame).await?;
        }
        Ok(())
    }

    /// A shell frame from the customer's side: its output, or news of it opening or closing.
    pub(super) fn shell_frame(&mut self, flags: u8, payload: &[u8]) {
        if flags == shell_flags::DATA {
            if self.printer.is_json() {
                let data = String::from_utf8_lossy(payload).into_owned();
                self.emit(Event::ShellOutput { data });
            } else {
                // A terminal (or a person's pipe) gets the bytes as the shell wrote them.
                let mut out = std::io::stdout().lock();
                let _ = out.write_all(payload).and_then(|()| out.flush());
            }
            return;
        }
        match ShellMsg::decode(payload) {
            Ok(ShellMsg::Opened { shell }) => {
                self.shell = ShellState::Open;
                self.emit(Event::ShellOpened { shell });
                if self.interactive && !self.input_ended {
                    self.emit(SessionEvent::Notice {
                        message: "You are typing into the customer's shell; Ctrl-] closes it."
                            .into(),
                    });
                    self.raw = RawMode::enable();
                }
            }
            Ok(ShellMsg::Exited { code, reason }) => {
                self.shell = ShellState::Closed;
                self.raw = None;
                self.emit(Event::ShellClosed { code, reason });
            }
            // A terminal already shows it (nothing echoes); scripts are told.
            Ok(ShellMsg::InputHidden { hidden }) if self.printer.is_json() => {
                self.emit(Event::ShellInputHidden { hidden });
            }
            Ok(other) => tracing::debug!(?other, "ignored shell message"),
            Err(e) => tracing::debug!(%e, "bad shell message"),
        }
    }

    /// The customer no longer allows `capability`: what depended on it is over (the broker
    /// has closed the channel; the customer's side has stopped its end).
    pub(super) fn lost(&mut self, capability: Capability) {
        match capability {
            Capability::Files => {
                for event in self.transfers.drop_all("the customer has not allowed file transfers")
                {
                    self.emit_file(&event);
                }
            }
            Capability::Shell if self.shell != ShellState::Closed => {
                self.shell = ShellState::Closed;
                self.raw = None;
                self.emit(Event::ShellClosed {
                    code: None,
                    reason: "the customer has not allowed the shell".into(),
                });
            }
            _ => {}
        }
    }

    /// An update from the customer's screen: drawn, then the next one asked for (after the
    /// viewer has shown it, when there is one). An update that cannot be drawn is answered
    /// with a request for a keyframe.
    pub(super) async fn screen_update(&mut self, message: &[u8]) -> Result<(), ClientError> {
        match self.screen.draw(message) {
            Ok(resized) => {
                if let Some((width, height)) = resized {
                    self.emit(Event::Screen { width, height });
                }
                for written in self.screen.drawn() {
                    self.snapshot_written(written);
                }
                match &self.viewer {
                    // The window asks for the next once it has shown this one.
                    Some(viewer) => {
                        self.awaiting_draw = self.screen.seq();
                        viewer.repaint();
                        Ok(())
                    }
                    None => self.ask_screen(false).await,
                }
            }
            Err(err) => {
                tracing::debug!(%err, "screen update not drawn; asking for a keyframe");
                self.ask_screen(true).await
            }
        }
    }

    /// Every half second: snapshots that waited too long, and a repeated request if the
    /// screen should be moving but no update came (one may have been lost).
    pub(super) async fn tick(&mut self) -> Result<(), ClientError> {
        let now = Instant::now();
        for path in self.screen.expired(now) {
            self.emit(Event::error(
                "console",
                format!(
                    "no new screen frame for {} within {} s (has the customer allowed view?)",
                    path.display(),
                    SNAPSHOT_WAIT.as_secs()
                ),
            ));
        }
        let expecting = self.held.contains(&Capability::View)
            && !self.screen_blocked
            && self.awaiting_draw.is_none();
        if expecting && self.screen.stalled(now) {
            self.ask_screen(false).await?;
        }
        Ok(())
    }

    pub(super) fn snapshot_written(&self, written: Result<Snapshot, String>) {
        match written {
            Ok(s) => self.emit(Event::Snapshot {
                path: s.path.display().to_string(),
                width: s.width,
                height: s.height,
                seq: s.seq,
            }),
            Err(message) => self.emit(Event::error("console", message)),
        }
    }
}
