//! Standard input in a session: command lines, or keystrokes while an interactive shell holds
//! the terminal (Ctrl-] gives it back); and the end of a script's input, after which the
//! console leaves once its transfers and shell are done.

use tether_client::ClientError;

use super::Console;
use crate::commands::Command;
use crate::events::Event;
use crate::shell::{self, ShellState};

/// The longest command line; more without a newline is discarded.
const MAX_LINE: usize = 64 * 1024;

impl Console {
    /// Bytes from standard input: keystrokes for an interactive shell, else command lines.
    pub(super) async fn stdin(&mut self, bytes: &[u8]) -> Result<(), ClientError> {
        if self.raw.is_some() {
            let (keys, detach) = match bytes.iter().position(|&b| b == shell::DETACH) {
                Some(at) => (&bytes[..at], true),
                None => (bytes, false),
            };
            for frame in shell::input(keys) {
                self.sender.frame(frame).await?;
            }
            if detach {
                self.raw = None;
                self.run(Command::ShellClose).await?;
            }
            return Ok(());
        }
        self.line.extend_from_slice(bytes);
        while let Some(end) = self.line.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.line.drain(..=end).collect();
            let text = String::from_utf8_lossy(&line);
            self.typed(text.trim_end_matches(['\r', '\n'])).await?;
        }
        if self.line.len() > MAX_LINE {
            self.line.clear();
            self.emit(Event::error("bad_command", "line too long; discarded"));
        }
        Ok(())
    }

    /// Standard input ended: run a last unterminated line, end an open shell once it has run
    /// what was typed, and leave once everything is done.
    pub(super) async fn end_of_input(&mut self) -> Result<(), ClientError> {
        if !self.line.is_empty() {
            let line = std::mem::take(&mut self.line);
            self.typed(String::from_utf8_lossy(&line).trim_end()).await?;
        }
        self.input_ended = true;
        self.raw = None;
        if self.shell != ShellState::Closed {
            for frame in shell::input(shell::END_OF_INPUT) {
                self.sender.frame(frame).await?;
            }
        }
        self.quit_when_done().await
    }

    /// After the input ended: quits once no transfer is moving and no shell is open.
    pub(super) async fn quit_when_done(&mut self) -> Result<(), ClientError> {
        if self.input_ended
            && !self.quitting
            && !self.transfers.busy()
            && self.shell == ShellState::Closed
        {
            self.run(Command::Quit).await?;
        }
        Ok(())
    }
}
