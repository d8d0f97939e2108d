//! One agent session from connect to end: ask for help (or redeem a code), wait for a
//! technician, then answer consent requests, stream the screen while view is held, carry out
//! input only while control is held, and chat, until either side ends it. [`prompts`] holds
//! the customer's questions and answers, [`services`] the file, shell and clipboard services.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use tether_client::check::pong;
use tether_client::check_ui::check_with_progress;
use tether_client::{
    BrokerAddr, ClientError, Incoming, Printer, Receiver, Sender, SessionEvent, Writer, shown,
    stdin_lines,
};
use tether_direct::{Link, News};
use tether_protocol::{
    Capability, Channel, ClientMessage, Credential, Frame, Role, ScreenRequest, Secret,
    ServerMessage, Signal, SupportRequest, probe_flags, screen_flags,
};
use tokio::sync::mpsc;

use crate::clipboard::Clipboard;
use crate::consent::{ConsentPolicy, LocalConsent};
use crate::files::{Answer, FileService};
use crate::input::{InputGate, InputSink};
use crate::output::AgentEvent;
use crate::screen::ScreenSource;
use crate::shell::ShellOutput;
use crate::streaming::Stream;

mod prompts;
mod services;

use crate::shell::Close;
use prompts::Prompt;
use services::{OpenShell, next_copy, next_output};

/// How often an open shell's terminal modes are looked at: well within the time a person
/// takes to start typing at a password prompt.
const TERMINAL_MODES_EVERY: Duration = Duration::from_millis(100);

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
    /// Try a direct path for screen and input when the broker invites one.
    pub p2p: bool,
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
        tether_client::connect(&opts.broker, tls.clone(), Role::Agent, credential).await?;
    let requested = matches!(start, Start::Request(_));
    if let Start::Request(req) = start {
        conn.send(&ClientMessage::Request(req)).await?;
    }
    // Every session starts with a bandwidth check; the broker keeps it with the ticket, and
    // makes a request a ticket only once it has run.
    check_with_progress(&mut conn, out).await?;
    if requested {
        match conn.recv_control().await? {
            ServerMessage::TicketCreated { ticket } => {
                out.emit(&AgentEvent::Ticket { ticket: ticket.id.to_string() })
            }
            other => return Err(ClientError::Unexpected(format!("{other:?}")).into()),
        }
    }
    // The direct path binds where this side reaches the broker from.
    let mut link = Link::new(true, opts.p2p, conn.local_ip());
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
        helpers: BTreeSet::new(),
        prompts: Vec::new(),
        stdin_open: true,
        resume: None,
    };
    let screen = tokio::spawn(agent.stream.run(opts.screen, sender, link.route()));
    let mut lines = stdin_lines();
    let mut signals = Box::pin(stop_signal());
    let mut shell_out: Option<mpsc::Receiver<ShellOutput>> = None;
    // A program may turn echo off without printing anything first.
    let mut terminal_modes = tokio::time::interval(TERMINAL_MODES_EVERY);
    terminal_modes.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut copied = None;
    if opts.clipboard
        && let Some((board, rx)) = Clipboard::open()
    {
        agent.clipboard = Some(board);
        copied = Some(rx);
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
            _ = terminal_modes.tick(), if agent.shell.is_some() => {
                if let Err(e) = agent.watch_hidden().await {
                    break Err(e.into());
                }
            }
            news = link.next() => {
                if let Err(e) = agent.direct(news).await {
                    break Err(e.into());
                }
            }
            incoming = receiver.recv() => match incoming {
                Ok(Incoming::Control(ServerMessage::DirectPath { ice_servers, timeout_secs, peer_networks })) => {
                    if let Some(why) = link.invited(ice_servers, timeout_secs, &peer_networks)
                        && let Err(e) = agent.path(false, why).await {
                            break Err(e.into());
                        }
                }
                Ok(Incoming::Control(ServerMessage::Signal { signal })) => link.signal(signal).await,
                Ok(Incoming::Control(ServerMessage::HandedOver { to })) => {
                    // That session is over, and its direct path with it.
                    link.finish().await;
                    if let Err(e) = agent.control(ServerMessage::HandedOver { to }).await {
                        break Err(e.into());
                    }
                }
                Ok(incoming) => match agent.incoming(incoming).await {
                    Ok(true) => continue,
                    Ok(false) => break Ok(()),
                    Err(e) => break Err(e.into()),
                },
                Err(e) if e.is_connection_lost() && agent.resume.is_some() => {
                    let (token, grace) = agent.resume.take().expect("checked");
                    let again = resume(&opts.broker, tls.clone(), token, grace, &writer, out, &e);
                    tokio::select! {
                        resumed = again => match resumed {
                            Ok(r) => {
                                receiver = r;
                                out.emit(&AgentEvent::Reconnected);
                            }
                            Err(e) => break Err(e.into()),
                        },
                        _ = &mut signals => {
                            out.emit(&AgentEvent::Ended { reason: "you stopped the agent".into() });
                            break Ok(());
                        }
                    }
                }
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
    link.finish().await;
    screen.abort();
    drop(agent);
    writer.finish().await;
    result
}

/// Reconnects with the resume token until the broker takes the session back, the grace
/// period runs out, or the broker refuses; the writer carries on over the new connection.
async fn resume(
    broker: &BrokerAddr,
    tls: std::sync::Arc<rustls::ClientConfig>,
    token: Secret<String>,
    grace: Duration,
    writer: &Writer,
    out: Printer,
    why: &ClientError,
) -> Result<Receiver, ClientError> {
    let reason = why.to_string();
    out.emit(&AgentEvent::Reconnecting { within_secs: grace.as_secs(), reason });
    let deadline = tokio::time::Instant::now() + grace;
    let mut pause = Duration::from_millis(250);
    loop {
        let credential = Credential::Resume { token: token.clone() };
        match tether_client::connect(broker, tls.clone(), Role::Agent, credential).await {
            Ok((conn, _welcome)) => return writer.reattach(conn).await,
            Err(e @ ClientError::Refused { .. }) => return Err(e),
            Err(e) => {
                tracing::debug!(err = %e, "reconnecting failed; trying again");
                if tokio::time::Instant::now() + pause >= deadline {
                    return Err(e);
                }
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(2));
            }
        }
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
    /// Other technicians in the session, who see the screen through the broker.
    helpers: BTreeSet<String>,
    /// Requests waiting for the customer's y/n, oldest first.
    prompts: Vec<Prompt>,
    stdin_open: bool,
    /// The token that takes the session back if the connection drops, and for how long.
    resume: Option<(Secret<String>, Duration)>,
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
            ServerMessage::Waiting { ticket } => self
                .out
                .emit(&AgentEvent::from(SessionEvent::Waiting { ticket: ticket.to_string() })),
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
                self.out.emit(&AgentEvent::from(SessionEvent::broker_error(code, message.clone())));
                if fatal {
                    return Err(ClientError::Refused { code, message });
                }
            }
            ServerMessage::Resumable { token, grace_secs } => {
                self.resume = Some((token, Duration::from_secs(grace_secs)));
            }
            ServerMessage::SessionEnded { reason, .. } => {
                self.resume = None;
                self.out.emit(&AgentEvent::Ended { reason });
                return Ok(false);
            }
            ServerMessage::ResolutionProposed { text } if self.stdin_open => {
                self.prompt(Prompt::Resolution(text))
            }
            ServerMessage::ResolutionProposed { text } => self.out.emit(&AgentEvent::notice(
                format!("The technician resolved the ticket: {}", shown(&text)),
            )),
            ServerMessage::ApprovalRequested { id, what } => match self.policy.approve(&what) {
                Some(answer) => self.approve(id, answer).await?,
                None if !self.stdin_open => self.approve(id, false).await?,
                None => self.prompt(Prompt::Approval { id, what }),
            },
            ServerMessage::Helper { name, mode, joined } => {
                if joined {
                    self.helpers.insert(name.clone());
                } else {
                    self.helpers.remove(&name);
                }
                // They see the screen as it passes through the broker.
                self.stream.through_broker(!self.helpers.is_empty());
                self.out.emit(&AgentEvent::from(SessionEvent::Helper { name, mode, joined }))
            }
            ServerMessage::HandedOver { to } => {
                // That session is over: nothing to resume until the next one.
                self.resume = None;
                // A new session begins with nothing allowed: the customer decides afresh.
                self.consent = LocalConsent::default();
                self.helpers.clear();
                self.stream.through_broker(false);
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
                self.out.emit(&AgentEvent::notice(message))
            }
            ServerMessage::ShuttingDown { grace_secs } => self.out.emit(&AgentEvent::notice(
                format!("The support server is restarting; the session ends in {grace_secs} s."),
            )),
            other => tracing::debug!(?other, "ignored"),
        }
        Ok(true)
    }

    /// News from the direct path.
    async fn direct(&mut self, news: News) -> Result<(), ClientError> {
        match news {
            News::Signal(signal) => self.sender.control(&ClientMessage::Signal { signal }).await,
            News::Up(why) => self.path(true, why).await,
            News::Down(why) => self.path(false, why).await,
            // The technician's requests for the screen and input: nothing else comes this way.
            News::Frame(bytes) => match tether_protocol::FrameHeader::decode(&bytes) {
                Ok(h) if matches!(h.channel, Channel::Screen | Channel::Input) => {
                    self.frame(h.channel, h.flags, &bytes).await
                }
                _ => Ok(()),
            },
        }
    }

    /// Tells the customer and the technician which path screen and input take.
    async fn path(&mut self, direct: bool, reason: String) -> Result<(), ClientError> {
        self.out.emit(&AgentEvent::from(SessionEvent::Path { direct, reason: reason.clone() }));
        self.sender
            .control(&ClientMessage::Signal { signal: Signal::Path { direct, reason } })
            .await
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
                self.out.emit(&AgentEvent::from(SessionEvent::Chat {
                    from: self.technician.clone(),
                    text,
                }));
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
                    self.out.emit(&AgentEvent::notice(format!(
                        "{} put text on your clipboard.",
                        shown(&self.technician)
                    )));
                }
            }
            Channel::Shell => self.shell_frame(flags, payload).await?,
            other => {
                tracing::debug!(channel = other.name(), "frame on an unsupported channel ignored")
            }
        }
        Ok(())
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
                            self.out.emit(&AgentEvent::error("agent", e));
                            return Ok(());
                        }
                    }
                };
                match cap {
                    // Revoking view takes control too, here and at the broker.
                    Some(cap) => self.decide(cap, false).await?,
                    None => self.out.emit(&AgentEvent::notice("Nothing to revoke.")),
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
                    Err(e) => self.out.emit(&AgentEvent::error("agent", e.to_string())),
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
