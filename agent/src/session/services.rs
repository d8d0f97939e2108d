//! What runs on the customer's machine for the technician, each behind its consent: file
//! transfers (see [`crate::files`]), the remote shell (see [`crate::shell`]) and the shared
//! clipboard (see [`crate::clipboard`]).

use tether_client::ClientError;
use tether_protocol::{Capability, Channel, FileMsg, Frame, ShellMsg, file_flags, shell_flags};
use tokio::sync::mpsc;

use super::Agent;
use super::prompts::Prompt;
use crate::consent::ConsentPolicy;
use crate::output::AgentEvent;
use crate::shell::{self, Close, Shell, ShellOutput};

/// A shell the technician opened, and its output until the session loop picks it up.
pub(super) struct OpenShell {
    pub(super) shell: Shell,
    pub(super) output: Option<mpsc::Receiver<ShellOutput>>,
    /// Whether the technician was last told that typing is hidden.
    pub(super) hidden: bool,
}

pub(super) async fn next_copy(rx: &mut Option<mpsc::Receiver<String>>) -> Option<String> {
    match rx {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

pub(super) async fn next_output(rx: &mut Option<mpsc::Receiver<ShellOutput>>) -> ShellOutput {
    match rx {
        Some(rx) => rx.recv().await.unwrap_or(ShellOutput::Eof),
        None => std::future::pending().await,
    }
}

impl Agent {
    /// Sends a file step's frames and tells the customer its news.
    pub(super) async fn apply(&mut self, step: crate::files::Step) -> Result<(), ClientError> {
        for frame in step.frames {
            self.sender.frame(frame).await?;
        }
        for message in step.notices {
            self.out.emit(&AgentEvent::notice(message));
        }
        if let Some(q) = step.ask {
            self.prompt(Prompt::File(q));
        }
        Ok(())
    }

    /// A file frame from the technician.
    pub(super) async fn file_frame(
        &mut self,
        flags: u8,
        payload: &[u8],
    ) -> Result<(), ClientError> {
        let allowed = self.consent.holds(Capability::Files);
        let step = match flags {
            file_flags::CONTROL => match FileMsg::decode(payload) {
                Ok(msg) => {
                    let preset = match self.policy {
                        ConsentPolicy::Ask if self.stdin_open => None,
                        ConsentPolicy::Ask => Some(false),
                        policy => policy.preset(Capability::Files),
                    };
                    self.files.control(msg, allowed, preset).await
                }
                Err(e) => {
                    tracing::debug!(%e, "bad file message");
                    return Ok(());
                }
            },
            file_flags::DATA => self.files.data(payload, allowed).await,
            _ => return Ok(()),
        };
        self.apply(step).await?;
        let more = self.files.pump().await;
        self.apply(more).await
    }

    /// A shell frame from the technician: open, resize, close, or keystrokes. Nothing runs
    /// without `shell` consent.
    pub(super) async fn shell_frame(
        &mut self,
        flags: u8,
        payload: &[u8],
    ) -> Result<(), ClientError> {
        if flags == shell_flags::DATA {
            if let (Some(open), true) = (self.shell.as_mut(), self.consent.holds(Capability::Shell))
                && let Err(err) = open.shell.input(payload)
            {
                tracing::debug!(%err, "shell input failed");
            }
            return Ok(());
        }
        match ShellMsg::decode(payload) {
            Ok(ShellMsg::Open { cols, rows }) => {
                if !self.consent.holds(Capability::Shell) {
                    let refused = ShellMsg::Exited {
                        code: None,
                        reason: "the customer has not allowed a shell".into(),
                    };
                    return self.sender.frame(shell::control(&refused)).await;
                }
                if self.shell.is_some() {
                    return Ok(());
                }
                match Shell::open(cols, rows) {
                    Ok((shell, rx)) => {
                        let program = shell.program().to_string();
                        self.shell = Some(OpenShell { shell, output: Some(rx), hidden: false });
                        self.out.emit(&AgentEvent::Shell {
                            technician: self.technician.clone(),
                            open: true,
                        });
                        self.sender
                            .frame(shell::control(&ShellMsg::Opened { shell: program }))
                            .await?;
                    }
                    Err(reason) => {
                        self.sender
                            .frame(shell::control(&ShellMsg::Exited { code: None, reason }))
                            .await?;
                    }
                }
            }
            Ok(ShellMsg::Resize { cols, rows }) => {
                if let Some(open) = &self.shell {
                    open.shell.resize(cols, rows);
                }
            }
            Ok(ShellMsg::Close { reason }) => self.close_shell(&reason, Close::Asked).await?,
            Ok(other) => tracing::debug!(?other, "ignored shell message"),
            Err(e) => tracing::debug!(%e, "bad shell message"),
        }
        Ok(())
    }

    /// Text copied on this machine: the technician gets it while control is held.
    pub(super) async fn copied(&mut self, text: String) -> Result<(), ClientError> {
        if !self.consent.holds(Capability::Control) {
            return Ok(());
        }
        match Frame::encode(Channel::Clipboard, 0, text.as_bytes()) {
            Ok(frame) if frame.len() <= Channel::Clipboard.max_frame_bytes() => {
                self.sender.frame(frame).await
            }
            _ => Ok(()),
        }
    }

    /// Hands the new shell's output receiver to the session loop.
    pub(super) fn take_shell_output(&mut self) -> Option<mpsc::Receiver<ShellOutput>> {
        self.shell.as_mut().and_then(|s| s.output.take())
    }

    /// Output from the shell, for the technician.
    pub(super) async fn shell_output(&mut self, out: ShellOutput) -> Result<(), ClientError> {
        match out {
            ShellOutput::Data(bytes) => {
                for frame in shell::output(&bytes) {
                    self.sender.frame(frame).await?;
                }
                // A prompt is often the first sign that a program reads a secret.
                self.watch_hidden().await
            }
            ShellOutput::Eof => self.close_shell("the shell exited", Close::Exited).await,
        }
    }

    /// Tells the technician's side (and so the broker's record) when the terminal starts or
    /// stops reading a secret.
    pub(super) async fn watch_hidden(&mut self) -> Result<(), ClientError> {
        let Some(open) = self.shell.as_mut() else { return Ok(()) };
        let hidden = open.shell.input_hidden();
        if hidden == open.hidden {
            return Ok(());
        }
        open.hidden = hidden;
        self.sender.frame(shell::control(&ShellMsg::InputHidden { hidden })).await
    }

    /// Closes the shell, if one is open, and says so to the customer and (unless the shell
    /// channel is closed to it now) the technician.
    pub(super) async fn close_shell(
        &mut self,
        reason: &str,
        how: Close,
    ) -> Result<(), ClientError> {
        let Some(open) = self.shell.take() else { return Ok(()) };
        let code = open.shell.close(how == Close::Exited);
        self.out.emit(&AgentEvent::Shell { technician: self.technician.clone(), open: false });
        if how == Close::Withdrawn {
            // The broker has already told the technician the capability is gone.
            return Ok(());
        }
        let exited = ShellMsg::Exited { code, reason: reason.into() };
        self.sender.frame(shell::control(&exited)).await
    }
}
