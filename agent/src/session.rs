//! One agent session from connect to end: ask for help (or redeem a code), wait for a
//! technician, then answer consent requests, stream the screen while view is held, carry out
//! input only while control is held, and chat, until either side ends it.

use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use tether_client::check::pong;
use tether_client::check_ui::check_with_progress;
use tether_client::{BrokerAddr, ClientError, Incoming, Printer, Sender, stdin_lines};
use tether_protocol::{
    Approval, Capability, Channel, ClientMessage, Credential, FileMsg, Frame, Role, ScreenRequest,
    Secret, ServerMessage, ShellMsg, SupportRequest, file_flags, probe_flags, screen_flags,
    shell_flags,
};
use tokio::sync::mpsc;

use crate::clipboard::Clipboard;
use crate::consent::{ConsentPolicy, LocalConsent};
use crate::files::{Answer, FileQuestion, FileService};
use crate::input::{InputGate, InputSink};
use crate::output::AgentEvent;
use crate::screen::ScreenSource;
use crate::shell::{self, Shell, ShellOutput};
use crate::streaming::Stream;

/// How the agent reaches the broker and behaves.
pub struct AgentOptions {
    /// The broker.
    pub broker: BrokerAddr,
    /// The CA certificate to trust.
    pub ca: PathBuf,
    /// How consent requests are answered.
    pub policy: ConsentPolicy,
    /// Where input events go; without one, control is refused.
    pub input: Option<Box<dyn InputSink>>,
    /// Where the screen comes from.
    pub screen: Box<dyn ScreenSource>,
    /// Frames per second at most.
    pub fps: u32,
    /// How to print.
    pub output: Printer,
    /// Where received files go.
    pub files_dir: PathBuf,
    /// The largest file accepted, in bytes.
    pub max_file_size: u64,
    /// Share the clipboard (when there is a display).
    pub clipboard: bool,
}

impl std::fmt::Debug for AgentOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentOptions")
            .field("broker", &self.broker)
            .field("policy", &self.policy)
            .finish()
    }
}

/// How the agent gets a ticket.
#[derive(Debug)]
pub enum Start {
    /// Log a new support request.
    Request(SupportRequest),
    /// Join with a code the technician read out.
    Code(Secret<String>),
}

/// Why the agent stopped with an error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AgentError {
    /// Talking to the broker failed.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// Setting up failed.
    #[error("{0}")]
    Setup(String),
}

/// Runs the session to its end. Returns normally when the session ended or the customer quit.
pub async fn run(opts: AgentOptions, start: Start) -> Result<(), AgentError> {
    let tls =
        tether_certs::client_config(&opts.ca).map_err(|e| AgentError::Setup(e.to_string()))?;
    let out = opts.output;
    let credential = match &start {
        Start::Request(_) => Credential::None,
        Start::Code(code) => Credential::Code { code: code.clone() },
    };
    let (mut conn, _welcome) =
        tether_client::connect(&opts.broker, tls, Role::Agent, credential).await?;
    if let Start::Request(req) = start {
        conn.send(&ClientMessage::Request(req)).await?;
        match conn.recv_control().await? {
            ServerMessage::TicketCreated { ticket } => {
                out.emit(&AgentEvent::Ticket { ticket: ticket.id.to_string() })
            }
            other => return Err(ClientError::Unexpected(format!("{other:?}")).into()),
        }
    }
    // Every session starts with a bandwidth check; the broker keeps it with the ticket.
    check_with_progress(&mut conn, out).await?;
    let (sender, mut receiver, writer) = conn.split();
    let mut agent = Agent {
        out,
        sender: sender.clone(),
        policy: opts.policy,
        input: InputGate::new(opts.input),
        consent: LocalConsent::default(),
        stream: Stream::new(opts.fps),
        screen_blocked: false,
        files: FileService::new(opts.output, opts.files_dir, opts.max_file_size),
        shell: None,
        clipboard: None,
        technician: String::from("the technician"),
        prompts: Vec::new(),
        stdin_open: true,
    };
    let screen = tokio::spawn(agent.stream.run(opts.screen, sender));
    let mut lines = stdin_lines();
    let mut signals = Box::pin(stop_signal());
    let mut shell_out: Option<mpsc::Receiver<ShellOutput>> = None;
    let mut copied = None;
    if opts.clipboard {
        if let Some((board, rx)) = Clipboard::open() {
            agent.clipboard = Some(board);
            copied = Some(rx);
        }
    }

    let result = loop {
        if let Some(rx) = agent.take_shell_output() {
            shell_out = Some(rx);
        }
        tokio::select! {
            Some(text) = next_copy(&mut copied), if copied.is_some() => {
                if let Err(e) = agent.copied(text).await {
                    break Err(e.into());
                }
            }
            out = next_output(&mut shell_out), if shell_out.is_some() => {
                if let Err(e) = agent.shell_output(out).await {
                    break Err(e.into());
                }
                if agent.shell.is_none() {
                    shell_out = None;
                }
            }
            incoming = receiver.recv() => match incoming {
                Ok(incoming) => match agent.incoming(incoming).await {
                    Ok(true) => continue,
                    Ok(false) => break Ok(()),
                    Err(e) => break Err(e.into()),
                },
                Err(ClientError::Closed { .. }) => {
                    out.emit(&AgentEvent::Ended { reason: "the broker closed the connection".into() });
                    break Ok(());
                }
                Err(e) => break Err(e.into()),
            },
            line = lines.recv(), if agent.stdin_open => match line {
                Some(line) => {
                    if let Err(e) = agent.typed(line.trim()).await {
                        break Err(e.into());
                    }
                }
                None => agent.stdin_closed().await?,
            },
            _ = &mut signals => {
                agent.leave("the customer stopped the agent").await;
                // Wait (briefly) for the broker to confirm, then go.
                let _ = tokio::time::timeout(Duration::from_secs(2), async {
                    while let Ok(msg) = receiver.recv().await {
                        if let Incoming::Control(ServerMessage::SessionEnded { .. }) = msg { break; }
                    }
                }).await;
                out.emit(&AgentEvent::Ended { reason: "you stopped the agent".into() });
                break Ok(());
            }
        }
    };
    screen.abort();
    drop(agent);
    writer.finish().await;
    result
}

/// A question waiting for the customer's y/n.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Prompt {
    /// May the technician have this capability?
    Consent(Capability),
    /// Is the problem solved, as the technician says?
    Resolution(String),
    /// How would you rate the help (after answering the resolution)?
    Rating { solved: bool },
    /// Any comment?
    Comment { solved: bool, rating: Option<u8> },
    /// May a second technician join, or the session be handed over?
    Approval { id: u32, what: Approval },
    /// May this file come in, or go out?
    File(FileQuestion),
}

/// A shell the technician opened, and its output until the session loop picks it up.
struct OpenShell {
    shell: Shell,
    output: Option<mpsc::Receiver<ShellOutput>>,
}

/// How a shell comes to close.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Close {
    /// It exited by itself.
    Exited,
    /// The technician or the customer closed it.
    Asked,
    /// The customer took `shell` back.
    Withdrawn,
}

async fn next_copy(rx: &mut Option<mpsc::Receiver<String>>) -> Option<String> {
    match rx {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

async fn next_output(rx: &mut Option<mpsc::Receiver<ShellOutput>>) -> ShellOutput {
    match rx {
        Some(rx) => rx.recv().await.unwrap_or(ShellOutput::Eof),
        None => std::future::pending().await,
    }
}

/// The agent's state during a connection.
struct Agent {
    out: Printer,
    sender: Sender,
    policy: ConsentPolicy,
    input: InputGate,
    consent: LocalConsent,
    stream: Stream,
    /// Screen sharing is held back because a bandwidth check failed.
    screen_blocked: bool,
    files: FileService,
    shell: Option<OpenShell>,
    clipboard: Option<Clipboard>,
    technician: String,
    /// Requests waiting for the customer's y/n, oldest first.
    prompts: Vec<Prompt>,
    stdin_open: bool,
}

impl Agent {
    /// Handles one message; returns false when the session is over.
    async fn incoming(&mut self, incoming: Incoming) -> Result<bool, ClientError> {
        match incoming {
            Incoming::Control(msg) => self.control(msg).await,
            Incoming::Frame(header, bytes) => {
                self.frame(header.channel, header.flags, &bytes).await?;
                Ok(true)
            }
        }
    }

    async fn control(&mut self, msg: ServerMessage) -> Result<bool, ClientError> {
        match msg {
            ServerMessage::TicketCreated { ticket } => {
                self.out.emit(&AgentEvent::Ticket { ticket: ticket.id.to_string() })
            }
            ServerMessage::Waiting { ticket } => {
                self.out.emit(&AgentEvent::Waiting { ticket: ticket.to_string() })
            }
            ServerMessage::Paired(info) => {
                self.technician = info.peer.name.clone();
                self.out.emit(&AgentEvent::Paired { session: info.id, technician: info.peer.name });
            }
            ServerMessage::ConsentRequested { capability } => self.asked(capability).await?,
            ServerMessage::ConsentChanged { capability, granted } => {
                let before = self.consent;
                self.consent.heard(capability, granted);
                if before != self.consent {
                    self.consent_changed(capability, false);
                    self.withdrawn().await?;
                }
            }
            ServerMessage::Error { code, message, fatal } => {
                self.out.emit(&AgentEvent::broker_error(code, message.clone()));
                if fatal {
                    return Err(ClientError::Refused { code, message });
                }
            }
            ServerMessage::SessionEnded { reason, .. } => {
                self.out.emit(&AgentEvent::Ended { reason });
                return Ok(false);
            }
            ServerMessage::ResolutionProposed { text } if self.stdin_open => {
                self.prompt(Prompt::Resolution(text))
            }
            ServerMessage::ResolutionProposed { text } => self.out.emit(&AgentEvent::Notice {
                message: format!("The technician resolved the ticket: {text}"),
            }),
            ServerMessage::ApprovalRequested { id, what } => match self.policy.approve(&what) {
                Some(answer) => self.approve(id, answer).await?,
                None if !self.stdin_open => self.approve(id, false).await?,
                None => self.prompt(Prompt::Approval { id, what }),
            },
            ServerMessage::Helper { name, mode, joined } => {
                self.out.emit(&AgentEvent::Helper { name, mode, joined })
            }
            ServerMessage::HandedOver { to } => {
                // A new session begins with nothing allowed: the customer decides afresh.
                self.consent = LocalConsent::default();
                self.prompts.clear();
                self.update_stream();
                self.withdrawn().await?;
                self.out.emit(&AgentEvent::HandedOver { to });
            }
            ServerMessage::BandwidthGate { screen_blocked, reason, .. } => {
                self.screen_blocked = screen_blocked;
                self.update_stream();
                self.out.emit(&AgentEvent::Bandwidth { screen_blocked, reason });
            }
            ServerMessage::Quality { rtt_ms, .. } => self.stream.adapt(rtt_ms),
            ServerMessage::QualityWarning { message } => {
                self.out.emit(&AgentEvent::Notice { message })
            }
            ServerMessage::ShuttingDown { grace_secs } => self.out.emit(&AgentEvent::Notice {
                message: format!(
                    "The support server is restarting; the session ends in {grace_secs} s."
                ),
            }),
            other => tracing::debug!(?other, "ignored"),
        }
        Ok(true)
    }

    async fn frame(
        &mut self,
        channel: Channel,
        flags: u8,
        bytes: &Bytes,
    ) -> Result<(), ClientError> {
        let payload = &bytes[tether_protocol::HEADER_LEN..];
        match channel {
            Channel::Probe if flags == probe_flags::PING => self.sender.frame(pong(bytes)).await?,
            Channel::Chat => {
                let text = String::from_utf8_lossy(payload).into_owned();
                self.out.emit(&AgentEvent::Chat { from: self.technician.clone(), text });
            }
            // The agent is authoritative: whatever the broker let through, no control, no input.
            Channel::Input => self.input.handle(self.consent, payload),
            // The console has drawn an update and asks for the next.
            Channel::Screen if flags == screen_flags::REQUEST => {
                match ScreenRequest::decode(payload) {
                    Some(request) => self.stream.requested(request),
                    None => tracing::debug!("malformed screen request ignored"),
                }
            }
            Channel::File => self.file_frame(flags, payload).await?,
            // Only while control is held, whatever the broker let through.
            Channel::Clipboard if self.consent.holds(Capability::Control) => {
                if let (Some(board), Ok(text)) = (&self.clipboard, std::str::from_utf8(payload)) {
                    board.set(text.to_string());
                    self.out.emit(&AgentEvent::Notice {
                        message: format!("{} put text on your clipboard.", self.technician),
                    });
                }
            }
            Channel::Shell => self.shell_frame(flags, payload).await?,
            other => {
                tracing::debug!(channel = other.name(), "frame on an unsupported channel ignored")
            }
        }
        Ok(())
    }

    async fn asked(&mut self, cap: Capability) -> Result<(), ClientError> {
        if self.consent.holds(cap) {
            return self.send_consent(cap, true).await;
        }
        if cap == Capability::Control && !self.input.can_inject() {
            self.out.emit(&AgentEvent::Notice {
                message: "Remote control is not available on this computer; refused.".into(),
            });
            return self.send_consent(cap, false).await;
        }
        match self.policy.preset(cap) {
            Some(answer) => self.decide(cap, answer).await,
            None if !self.stdin_open => self.decide(cap, false).await,
            None => {
                self.prompt(Prompt::Consent(cap));
                Ok(())
            }
        }
    }

    /// Queues a question for the customer; asks it now if it is the only one.
    fn prompt(&mut self, prompt: Prompt) {
        if !self.prompts.contains(&prompt) {
            self.prompts.push(prompt);
            if self.prompts.len() == 1 {
                self.ask_next();
            }
        }
    }

    fn ask_next(&self) {
        match self.prompts.first() {
            Some(Prompt::Consent(cap)) => self.out.emit(&AgentEvent::ConsentAsked {
                capability: *cap,
                technician: self.technician.clone(),
            }),
            Some(Prompt::Resolution(text)) => self.out.emit(&AgentEvent::ResolutionProposed {
                technician: self.technician.clone(),
                text: text.clone(),
            }),
            Some(Prompt::Rating { .. }) => self.out.emit(&AgentEvent::RatingAsked),
            Some(Prompt::Approval { what, .. }) => self.out.emit(&AgentEvent::ApprovalAsked {
                technician: self.technician.clone(),
                what: what.clone(),
            }),
            Some(Prompt::File(q)) => self.out.emit(&AgentEvent::FileAsked {
                technician: self.technician.clone(),
                question: q.clone(),
            }),
            Some(Prompt::Comment { .. }) => self.out.emit(&AgentEvent::CommentAsked),
            None => {}
        }
    }

    /// Answers the oldest question with the line the customer typed.
    async fn answer(&mut self, prompt: Prompt, line: &str) -> Result<(), ClientError> {
        let yes = matches!(line.to_ascii_lowercase().as_str(), "y" | "yes");
        match prompt {
            Prompt::Consent(cap) => self.decide(cap, yes).await,
            // The answer is followed by a rating and a comment, both optional.
            Prompt::Resolution(_) => {
                self.prompts.insert(0, Prompt::Rating { solved: yes });
                Ok(())
            }
            Prompt::Rating { solved } => {
                let rating = line.trim().parse::<u8>().ok().filter(|r| (1..=5).contains(r));
                self.prompts.insert(0, Prompt::Comment { solved, rating });
                Ok(())
            }
            Prompt::Comment { solved, rating } => {
                let comment = Some(line.trim().to_string()).filter(|c| !c.is_empty());
                self.confirm(solved, rating, comment).await
            }
            Prompt::Approval { id, .. } => self.approve(id, yes).await,
            Prompt::File(q) => {
                let step = self.files.answer(&q, Answer::parse(line)).await;
                self.apply(step).await
            }
        }
    }

    /// Sends a file step's frames and tells the customer its news.
    async fn apply(&mut self, step: crate::files::Step) -> Result<(), ClientError> {
        for frame in step.frames {
            self.sender.frame(frame).await?;
        }
        for message in step.notices {
            self.out.emit(&AgentEvent::Notice { message });
        }
        if let Some(q) = step.ask {
            self.prompt(Prompt::File(q));
        }
        Ok(())
    }

    /// A file frame from the technician.
    async fn file_frame(&mut self, flags: u8, payload: &[u8]) -> Result<(), ClientError> {
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
    async fn shell_frame(&mut self, flags: u8, payload: &[u8]) -> Result<(), ClientError> {
        if flags == shell_flags::DATA {
            if let (Some(open), true) = (self.shell.as_mut(), self.consent.holds(Capability::Shell))
            {
                if let Err(err) = open.shell.input(payload) {
                    tracing::debug!(%err, "shell input failed");
                }
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
                        self.shell = Some(OpenShell { shell, output: Some(rx) });
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
    async fn copied(&mut self, text: String) -> Result<(), ClientError> {
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
    fn take_shell_output(&mut self) -> Option<mpsc::Receiver<ShellOutput>> {
        self.shell.as_mut().and_then(|s| s.output.take())
    }

    /// Output from the shell, for the technician.
    async fn shell_output(&mut self, out: ShellOutput) -> Result<(), ClientError> {
        match out {
            ShellOutput::Data(bytes) => {
                for frame in shell::output(&bytes) {
                    self.sender.frame(frame).await?;
                }
                Ok(())
            }
            ShellOutput::Eof => self.close_shell("the shell exited", Close::Exited).await,
        }
    }

    /// Closes the shell, if one is open, and says so to the customer and (unless the shell
    /// channel is closed to it now) the technician.
    async fn close_shell(&mut self, reason: &str, how: Close) -> Result<(), ClientError> {
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

    async fn approve(&self, id: u32, allowed: bool) -> Result<(), ClientError> {
        self.sender.control(&ClientMessage::Approve { id, allowed }).await
    }

    async fn confirm(
        &self,
        solved: bool,
        rating: Option<u8>,
        comment: Option<String>,
    ) -> Result<(), ClientError> {
        self.out.emit(&AgentEvent::Confirmed { solved });
        self.sender.control(&ClientMessage::Confirm { solved, rating, comment }).await
    }

    async fn decide(&mut self, cap: Capability, granted: bool) -> Result<(), ClientError> {
        self.consent.decide(cap, granted);
        self.consent_changed(cap, true);
        self.send_consent(cap, granted).await?;
        self.withdrawn().await
    }

    /// What stops when the customer takes a capability back: transfers, the shell.
    async fn withdrawn(&mut self) -> Result<(), ClientError> {
        // The broker closes both channels at once and tells the technician; here only the
        // local side stops (a cancel frame would be refused).
        if !self.consent.holds(Capability::Files) {
            let step = self.files.cancel_all("the customer withdrew permission for file transfers");
            for message in step.notices {
                self.out.emit(&AgentEvent::Notice { message });
            }
        }
        if !self.consent.holds(Capability::Shell) {
            self.close_shell("the customer withdrew permission for the shell", Close::Withdrawn)
                .await?;
        }
        Ok(())
    }

    async fn send_consent(&self, capability: Capability, granted: bool) -> Result<(), ClientError> {
        self.sender.control(&ClientMessage::Consent { capability, granted }).await
    }

    /// Streams while view is held and the bandwidth gate is open.
    fn update_stream(&self) {
        self.stream.allow(self.consent.holds(Capability::View) && !self.screen_blocked);
    }

    fn consent_changed(&mut self, cap: Capability, announce: bool) {
        self.update_stream();
        if announce || !self.consent.holds(cap) {
            self.out
                .emit(&AgentEvent::Consent { capability: cap, granted: self.consent.holds(cap) });
        }
    }

    /// Handles a line the customer typed.
    async fn typed(&mut self, line: &str) -> Result<(), ClientError> {
        if !self.prompts.is_empty() {
            let prompt = self.prompts.remove(0);
            self.answer(prompt, line).await?;
            self.ask_next();
            return Ok(());
        }
        let (word, rest) = line.split_once(' ').unwrap_or((line, ""));
        match word {
            "" => {}
            "revoke" => {
                let cap = if rest.is_empty() {
                    self.consent.default_revoke()
                } else {
                    match rest.trim().parse::<Capability>() {
                        Ok(cap) => Some(cap),
                        Err(e) => {
                            self.out.emit(&AgentEvent::Error { code: "agent".into(), message: e });
                            return Ok(());
                        }
                    }
                };
                match cap {
                    // Revoking view takes control too, here and at the broker.
                    Some(cap) => self.decide(cap, false).await?,
                    None => {
                        self.out.emit(&AgentEvent::Notice { message: "Nothing to revoke.".into() })
                    }
                }
            }
            "quit" | "exit" => self.leave("the customer ended the session").await,
            "close" if rest.trim() == "shell" => {
                self.close_shell("the customer closed the shell", Close::Asked).await?
            }
            _ => {
                let frame = Frame::encode(Channel::Chat, 0, line.as_bytes());
                match frame {
                    Ok(frame) => self.sender.frame(frame).await?,
                    Err(e) => self
                        .out
                        .emit(&AgentEvent::Error { code: "agent".into(), message: e.to_string() }),
                }
            }
        }
        Ok(())
    }

    /// Standard input closed: nobody can answer questions any more. Consent is refused; a
    /// resolution stays unconfirmed (silence is not a confirmation).
    async fn stdin_closed(&mut self) -> Result<(), ClientError> {
        self.stdin_open = false;
        for prompt in std::mem::take(&mut self.prompts) {
            match prompt {
                Prompt::Consent(cap) => self.decide(cap, false).await?,
                // The customer answered the question itself; only the extras go unanswered.
                Prompt::Rating { solved } => self.confirm(solved, None, None).await?,
                Prompt::Comment { solved, rating } => self.confirm(solved, rating, None).await?,
                Prompt::Approval { id, .. } => self.approve(id, false).await?,
                Prompt::File(q) => {
                    let step = self.files.answer(&q, Answer::No).await;
                    self.apply(step).await?;
                }
                Prompt::Resolution(_) => {}
            }
        }
        Ok(())
    }

    async fn leave(&self, reason: &str) {
        let _ = self.sender.control(&ClientMessage::Leave { reason: Some(reason.into()) }).await;
    }
}

/// Resolves on SIGINT or SIGTERM.
async fn stop_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term => {}
    }
}
