//! The remote shell on the customer's machine: a PTY running the user's login shell
//! (portable-pty), opened only while the customer grants `shell`, closed when they revoke it,
//! when the technician closes it, or when it exits. Output is read on a plain thread and comes
//! back to the session loop through a channel. The session watches the terminal's modes, so
//! that what is typed at a password prompt is recorded masked.

use std::io::{Read, Write};

use bytes::Bytes;
use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, native_pty_system};
use tether_protocol::{Channel, Frame, ShellMsg, shell_flags};
use tokio::sync::mpsc;

/// Output read at once at most.
const READ_CHUNK: usize = 16 * 1024;

/// How a shell comes to close.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Close {
    /// It exited by itself.
    Exited,
    /// The technician or the customer closed it.
    Asked,
    /// The customer took `shell` back.
    Withdrawn,
}

/// A running shell.
pub struct Shell {
    master: Box<dyn MasterPty + Send>,
    writer: Box<dyn Write + Send>,
    child: Box<dyn Child + Send + Sync>,
    program: String,
}

impl std::fmt::Debug for Shell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shell").field("program", &self.program).finish()
    }
}

/// Something the shell's reader saw.
#[derive(Debug)]
pub enum ShellOutput {
    /// Bytes the shell wrote.
    Data(Vec<u8>),
    /// The shell's terminal closed (it exited).
    Eof,
}

impl Shell {
    /// Starts the user's login shell in a PTY of `cols`×`rows`; its output arrives on the
    /// returned receiver.
    pub fn open(cols: u16, rows: u16) -> Result<(Shell, mpsc::Receiver<ShellOutput>), String> {
        let size = PtySize {
            rows: rows.clamp(2, 500),
            cols: cols.clamp(10, 1000),
            pixel_width: 0,
            pixel_height: 0,
        };
        let pair = native_pty_system().openpty(size).map_err(|e| format!("no terminal: {e}"))?;
        let cmd = CommandBuilder::new_default_prog();
        let program = std::env::var("SHELL").unwrap_or_else(|_| "the login shell".into());
        let child =
            pair.slave.spawn_command(cmd).map_err(|e| format!("cannot start a shell: {e}"))?;
        drop(pair.slave);
        let mut reader = pair.master.try_clone_reader().map_err(|e| e.to_string())?;
        let writer = pair.master.take_writer().map_err(|e| e.to_string())?;
        let (tx, rx) = mpsc::channel(64);
        std::thread::spawn(move || {
            let mut buf = vec![0u8; READ_CHUNK];
            loop {
                match reader.read(&mut buf) {
                    Ok(0) | Err(_) => {
                        let _ = tx.blocking_send(ShellOutput::Eof);
                        return;
                    }
                    Ok(n) => {
                        if tx.blocking_send(ShellOutput::Data(buf[..n].to_vec())).is_err() {
                            return;
                        }
                    }
                }
            }
        });
        Ok((Shell { master: pair.master, writer, child, program }, rx))
    }

    /// The program running.
    pub fn program(&self) -> &str {
        &self.program
    }

    /// Whether the terminal reads a secret now: echo off while reading line by line, as
    /// `read -s`, `sudo` and `passwd` do. A line editor such as bash's readline also turns
    /// echo off, but reads key by key and echoes itself, so it does not count.
    pub fn input_hidden(&self) -> bool {
        use nix::sys::termios::LocalFlags;
        self.master.get_termios().is_some_and(|t| {
            !t.local_flags.contains(LocalFlags::ECHO) && t.local_flags.contains(LocalFlags::ICANON)
        })
    }

    /// Types `bytes` into the shell.
    pub fn input(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.writer.write_all(bytes)?;
        self.writer.flush()
    }

    /// Resizes the terminal.
    pub fn resize(&self, cols: u16, rows: u16) {
        let size = PtySize {
            rows: rows.clamp(2, 500),
            cols: cols.clamp(10, 1000),
            pixel_width: 0,
            pixel_height: 0,
        };
        if let Err(err) = self.master.resize(size) {
            tracing::debug!(%err, "resize failed");
        }
    }

    /// Ends the shell (killing it unless its terminal already closed, i.e. it `exited`);
    /// returns its exit code when it exited by itself.
    pub fn close(mut self, exited: bool) -> Option<i32> {
        if exited {
            return self.child.wait().ok().map(|s| s.exit_code() as i32);
        }
        match self.child.try_wait() {
            Ok(Some(status)) => Some(status.exit_code() as i32),
            _ => {
                let _ = self.child.kill();
                let _ = self.child.wait();
                None
            }
        }
    }
}

/// A shell control frame.
pub fn control(msg: &ShellMsg) -> Bytes {
    // A few dozen bytes: within any frame limit.
    Frame::encode(Channel::Shell, shell_flags::CONTROL, &msg.encode()).unwrap_or_default()
}

/// Shell output frames, split to fit.
pub fn output(data: &[u8]) -> Vec<Bytes> {
    data.chunks(READ_CHUNK)
        .filter_map(|c| Frame::encode(Channel::Shell, shell_flags::DATA, c).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_shell_runs_commands_and_exits() {
        let (mut shell, mut out) = Shell::open(80, 24).expect("a pty shell");
        shell.input(b"echo $((6*7))\nexit 3\n").unwrap();
        let mut seen = Vec::new();
        while let Some(chunk) = out.recv().await {
            match chunk {
                ShellOutput::Data(d) => seen.extend(d),
                ShellOutput::Eof => break,
            }
        }
        let text = String::from_utf8_lossy(&seen);
        assert!(text.contains("42"), "{text}");
        assert_eq!(shell.close(true), Some(3));
    }
}
