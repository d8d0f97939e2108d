//! The remote shell on the technician's side: the shell's state, the terminal in raw mode
//! while an interactive shell is open (restored however the shell ends), and the frames that
//! carry keystrokes and control messages.

use bytes::Bytes;
use tether_protocol::{Channel, Frame, ShellMsg, shell_flags};

/// Ctrl-]: leaves (closes) an interactive shell, as in telnet.
pub const DETACH: u8 = 0x1d;
/// Typed into a shell still open when a script's input ends. A line, not Ctrl-D: typed ahead
/// while a command runs, a line waits for the shell to read it, while an end-of-file mark
/// typed then can be lost when the shell switches its terminal to line editing.
pub const END_OF_INPUT: &[u8] = b"exit\n";
/// Keystrokes sent in one frame at most.
const INPUT_CHUNK: usize = 16 * 1024;

/// Where the shell is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShellState {
    /// None open.
    Closed,
    /// Asked for; not yet running.
    Opening,
    /// Running.
    Open,
}

/// The local terminal in raw mode; dropping it restores the terminal.
#[derive(Debug)]
pub struct RawMode(());

impl RawMode {
    /// Puts the terminal into raw mode (keys pass straight through, Ctrl-C included).
    pub fn enable() -> Option<RawMode> {
        match crossterm::terminal::enable_raw_mode() {
            Ok(()) => Some(RawMode(())),
            Err(err) => {
                tracing::warn!(%err, "cannot put the terminal into raw mode");
                None
            }
        }
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ = crossterm::terminal::disable_raw_mode();
    }
}

/// The local terminal's size, columns by rows (80×24 when there is no terminal, or it does
/// not know its size).
pub fn terminal_size() -> (u16, u16) {
    crossterm::terminal::size().ok().filter(|&(c, r)| c > 0 && r > 0).unwrap_or((80, 24))
}

/// A shell control frame.
pub fn control(msg: &ShellMsg) -> Bytes {
    // A few dozen bytes: within any frame limit.
    Frame::encode(Channel::Shell, shell_flags::CONTROL, &msg.encode()).unwrap_or_default()
}

/// Keystrokes as data frames.
pub fn input(bytes: &[u8]) -> Vec<Bytes> {
    bytes
        .chunks(INPUT_CHUNK)
        .filter_map(|c| Frame::encode(Channel::Shell, shell_flags::DATA, c).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use tether_protocol::FrameHeader;

    use super::*;

    #[test]
    fn keystrokes_are_split_into_data_frames() {
        let frames = input(&vec![b'a'; INPUT_CHUNK + 1]);
        assert_eq!(frames.len(), 2);
        let header = FrameHeader::decode(&frames[1]).unwrap();
        assert_eq!((header.channel, header.flags), (Channel::Shell, shell_flags::DATA));
        assert!(input(b"").is_empty());
    }
}
