//! The clipboard, shared both ways while the customer holds `control` open: text the technician
//! sends is put on this machine's clipboard, and text copied here goes to the technician. The
//! clipboard lives on its own thread (arboard; on X11 someone must serve the selection), which
//! looks for local copies twice a second and is told what to set.

use std::sync::mpsc as std_mpsc;
use std::time::Duration;

use tether_protocol::MAX_CLIPBOARD_BYTES;
use tokio::sync::mpsc;

/// How often the clipboard is looked at.
const POLL: Duration = Duration::from_millis(500);

/// This machine's clipboard.
#[derive(Debug)]
pub struct Clipboard {
    set: std_mpsc::Sender<String>,
}

impl Clipboard {
    /// Opens the clipboard; copies made here arrive on the returned receiver. `None` when
    /// there is no clipboard to open (no display).
    pub fn open() -> Option<(Clipboard, mpsc::Receiver<String>)> {
        let mut board = match arboard::Clipboard::new() {
            Ok(board) => board,
            Err(err) => {
                tracing::info!(%err, "no clipboard here");
                return None;
            }
        };
        let (set_tx, set_rx) = std_mpsc::channel::<String>();
        let (copied_tx, copied_rx) = mpsc::channel(8);
        std::thread::spawn(move || {
            // What the clipboard held when last looked at (or last set from afar): only a
            // change made here is news.
            let mut known = board.get_text().ok();
            loop {
                match set_rx.recv_timeout(POLL) {
                    Ok(text) => {
                        if let Err(err) = board.set_text(text.clone()) {
                            tracing::warn!(%err, "cannot set the clipboard");
                        }
                        known = Some(text);
                    }
                    Err(std_mpsc::RecvTimeoutError::Timeout) => {
                        let now = board.get_text().ok();
                        if now.is_some() && now != known {
                            known = now.clone();
                            let text = now.unwrap_or_default();
                            if text.len() <= MAX_CLIPBOARD_BYTES
                                && copied_tx.blocking_send(text).is_err()
                            {
                                return;
                            }
                        }
                    }
                    Err(std_mpsc::RecvTimeoutError::Disconnected) => return,
                }
            }
        });
        Some((Clipboard { set: set_tx }, copied_rx))
    }

    /// Puts `text` on the clipboard.
    pub fn set(&self, text: String) {
        let _ = self.set.send(text);
    }
}
