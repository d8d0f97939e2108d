//! The remote shell over the `shell` channel. Flags say what a frame carries: a JSON
//! [`ShellMsg`] (open, resize, close, input hidden, exited) or raw terminal bytes — keystrokes from the
//! console, output from the customer's machine.

use serde::{Deserialize, Serialize};

/// `shell` frame flags.
pub mod shell_flags {
    /// The payload is a JSON [`super::ShellMsg`].
    pub const CONTROL: u8 = 1;
    /// The payload is terminal input (console to agent) or output (agent to console).
    pub const DATA: u8 = 2;
}

/// A shell control message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ShellMsg {
    /// Console: open a shell of this size.
    Open {
        /// Columns.
        cols: u16,
        /// Rows.
        rows: u16,
    },
    /// Agent: the shell is running.
    Opened {
        /// The program.
        shell: String,
    },
    /// Console: the terminal changed size.
    Resize {
        /// Columns.
        cols: u16,
        /// Rows.
        rows: u16,
    },
    /// Either side: close the shell.
    Close {
        /// Why.
        reason: String,
    },
    /// Agent: the terminal now reads a secret, or no longer does. A program reading a
    /// password turns echo off and keeps reading line by line (a line editor or full-screen
    /// program turns both off and echoes itself); what the technician types meanwhile is
    /// recorded masked.
    InputHidden {
        /// Whether typing is hidden now.
        hidden: bool,
    },
    /// Agent: the shell ended (or could not start).
    Exited {
        /// Its exit code, if it had one.
        code: Option<i32>,
        /// Why, in words.
        reason: String,
    },
}

impl ShellMsg {
    /// Decodes a control payload.
    pub fn decode(payload: &[u8]) -> Result<ShellMsg, String> {
        serde_json::from_slice(payload).map_err(|e| e.to_string())
    }

    /// Encodes as a control payload.
    pub fn encode(&self) -> Vec<u8> {
        // Plain data with string keys: serialisation cannot fail.
        serde_json::to_vec(self).expect("shell messages always serialise")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for m in [
            ShellMsg::Open { cols: 80, rows: 24 },
            ShellMsg::Opened { shell: "/bin/bash".into() },
            ShellMsg::Resize { cols: 100, rows: 30 },
            ShellMsg::Close { reason: "done".into() },
            ShellMsg::InputHidden { hidden: true },
            ShellMsg::Exited { code: Some(0), reason: "exit".into() },
        ] {
            assert_eq!(ShellMsg::decode(&m.encode()).unwrap(), m);
        }
        assert!(ShellMsg::decode(b"{").is_err());
    }
}
