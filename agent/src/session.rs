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
    Approval, Capability, Channel, ClientMessage, Credential, Frame, Role, Secret, ServerMessage,
    SupportRequest, probe_flags,
};

use crate::consent::{ConsentPolicy, LocalConsent};
use crate::input::{InputGate, InputSink};
use crate::output::AgentEvent;
use crate::screen::ScreenSource;
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
        technician: String::from("the technician"),
        prompts: Vec::new(),
        stdin_open: true,
    };
    let screen = tokio::spawn(agent.stream.run(opts.screen, sender));
    let mut lines = stdin_lines();
    let mut signals = Box::pin(stop_signal());

    let result = loop {
        tokio::select! {
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
        }
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
        self.send_consent(cap, granted).await
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
