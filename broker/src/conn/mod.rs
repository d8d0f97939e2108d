//! One connection's life: TLS, the websocket upgrade, `hello`, authentication, then the
//! agent's or console's phases, each a function that returns only when the phase is over.
//!
//! Every failure is classified once, here at the boundary, into a [`Refusal`]: an error code
//! the peer is told (with the matching close code) and a log level (the peer's doing at
//! debug/info, ours at error).

mod agent;
mod check;
mod console;
mod credentials;
mod desk;
mod direct;
mod helper;
mod in_session;
mod liveness;
mod paired;
mod quality;
mod resume;
mod review;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tether_protocol::{
    ClientMessage, Credential, ErrorCode, FrameHeader, Hello, MAX_MESSAGE_BYTES, Role,
    ServerMessage, VersionRange, Welcome, negotiate,
};
use tokio::io::ReadHalf;
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use tracing::{Instrument, Span};

use self::liveness::{Heard, Watched};
use crate::outbox::{Outbox, Overflow, write_loop};
use crate::state::Broker;
use crate::store::StoreError;
use crate::ws::{Message, WsError, WsReader};

/// The reading half of a connection's websocket.
type Reader = WsReader<ReadHalf<Watched<TlsStream<TcpStream>>>>;

/// Why a connection ends with an error: what the peer is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub(crate) code: ErrorCode,
    pub(crate) message: String,
}

impl Refusal {
    pub(crate) fn new(code: ErrorCode, message: impl Into<String>) -> Refusal {
        Refusal { code, message: message.into() }
    }
}

impl From<StoreError> for Refusal {
    fn from(err: StoreError) -> Refusal {
        tracing::error!(%err, "store failed");
        Refusal::new(ErrorCode::Internal, "the broker could not reach its database")
    }
}

impl From<Overflow> for Refusal {
    fn from(o: Overflow) -> Refusal {
        Refusal::new(ErrorCode::Overflow, o.to_string())
    }
}

/// A bearer token just issued by a password login.
#[derive(Debug)]
pub(crate) struct IssuedToken {
    pub(crate) token: tether_protocol::Secret<String>,
    pub(crate) expires_at: i64,
}

/// What arrived from the peer.
#[derive(Debug)]
pub(crate) enum Inbound {
    Control(ClientMessage),
    Frame(FrameHeader, Bytes),
    Closed,
}

/// Serves one accepted TCP connection to its end.
pub(crate) async fn serve(
    broker: Arc<Broker>,
    acceptor: TlsAcceptor,
    tcp: TcpStream,
    peer: SocketAddr,
) {
    let id = broker.next_conn_id();
    let span = tracing::info_span!(
        "conn",
        conn.id = id,
        peer.addr = %peer,
        role = tracing::field::Empty,
        user = tracing::field::Empty,
        ticket.id = tracing::field::Empty,
        session.id = tracing::field::Empty,
    );
    async move {
        tcp.set_nodelay(true).ok();
        let deadline = broker.config.handshake_timeout();
        let upgrade = async {
            let tls =
                acceptor.accept(tcp).await.map_err(|e| format!("TLS handshake failed: {e}"))?;
            let (watched, heard) = Watched::new(tls);
            let upgraded =
                crate::http::accept_websocket(watched).await.map_err(|e| e.to_string())?;
            Ok::<_, String>((upgraded, heard))
        };
        let (upgraded, heard) = match tokio::time::timeout(deadline, upgrade).await {
            Ok(Ok(ws)) => ws,
            Ok(Err(reason)) => {
                return tracing::debug!(%reason, "connection refused before websocket");
            }
            Err(_) => return tracing::debug!("handshake timed out"),
        };
        // One constant bounds both frames and messages.
        let (stream, sink) = crate::ws::split(upgraded.stream, &upgraded.read, MAX_MESSAGE_BYTES);
        let outbox = Arc::new(Outbox::new(broker.queue_limits()));
        let ping = Duration::from_secs(broker.config.limits.ping_interval_secs);
        let writer = broker.tracker.spawn({
            let outbox = outbox.clone();
            async move { write_loop(&outbox, sink, ping).await }.in_current_span()
        });
        let mut conn = Conn {
            broker: broker.clone(),
            id,
            peer,
            stream,
            heard,
            outbox: outbox.clone(),
            check: None,
            pending: None,
        };
        let result = conn.run().await;
        match &result {
            Ok(()) => outbox.close(1000, "goodbye"),
            Err(r) if r.code == ErrorCode::PeerGone => outbox.close(1000, "goodbye"),
            Err(r) => {
                if r.code.is_ours() {
                    tracing::error!(code = %r.code, message = %r.message, "connection failed");
                } else {
                    tracing::info!(code = %r.code, message = %r.message, "connection refused");
                }
                outbox.notice(&ServerMessage::error(r.code, r.message.clone(), true));
                outbox.close(r.code.close_code(), &r.message);
            }
        }
        let _ = tokio::time::timeout(Duration::from_secs(5), writer).await;
        // Give the peer a moment to answer our close, so the TCP close is orderly.
        let _ = tokio::time::timeout(Duration::from_secs(1), async {
            while let Some(Ok(msg)) = conn.stream.next().await {
                if matches!(msg, Message::Close(_)) {
                    break;
                }
            }
        })
        .await;
        tracing::debug!("connection closed");
    }
    .instrument(span)
    .await
}

/// A connection after the websocket upgrade.
pub(crate) struct Conn {
    broker: Arc<Broker>,
    id: u64,
    peer: SocketAddr,
    stream: Reader,
    /// When the peer last sent a byte.
    heard: Heard,
    outbox: Arc<Outbox>,
    /// This connection's bandwidth check, once run.
    check: Option<tether_protocol::CheckResult>,
    /// A message read while waiting for a peer that turned out to belong to the session,
    /// handed to the relay first.
    pending: Option<Inbound>,
}

impl Conn {
    async fn run(&mut self) -> Result<(), Refusal> {
        let hello = self.hello().await?;
        let version = negotiate(hello.versions, VersionRange::CURRENT)
            .map_err(|e| Refusal::new(ErrorCode::UnsupportedVersion, e.to_string()))?;
        Span::current().record("role", hello.role.name());
        tracing::debug!(version, software = %hello.software.chars().take(64).collect::<String>(), "hello");
        match (hello.role, hello.credential) {
            (Role::Agent, Credential::None) => {
                self.welcome(version, None, None)?;
                agent::request_or_check(self).await
            }
            (Role::Agent, Credential::Code { code }) => {
                let ticket = self.redeem_code(&code).await?;
                Span::current().record("ticket.id", tracing::field::display(ticket.id));
                self.welcome(version, None, None)?;
                agent::check_and_wait(self, ticket).await
            }
            (Role::Agent, Credential::Resume { token }) => {
                let session = self.resume(&token)?;
                self.welcome(version, None, None)?;
                agent::resumed(self, session).await
            }
            (Role::Console, Credential::Password { user, password }) => {
                let (user, token) = self.login(&user, &password).await?;
                self.welcome(version, Some(&user), Some(token))?;
                console::serve(self, user).await
            }
            (Role::Console, Credential::Token { token }) => {
                let user = self.authenticate_token(&token).await?;
                self.welcome(version, Some(&user), None)?;
                console::serve(self, user).await
            }
            (Role::Agent, _) => Err(Refusal::new(
                ErrorCode::Unauthenticated,
                "an agent connects with a one-time code or with a support request",
            )),
            (Role::Console, _) => Err(Refusal::new(
                ErrorCode::Unauthenticated,
                "a console must log in with a password or a token",
            )),
        }
    }

    /// Reads the first message, which must be `hello`, within the handshake timeout.
    async fn hello(&mut self) -> Result<Hello, Refusal> {
        let limit = self.broker.config.handshake_timeout();
        match tokio::time::timeout(limit, self.recv()).await {
            Err(_) => {
                Err(Refusal::new(ErrorCode::Timeout, "no hello within the handshake timeout"))
            }
            Ok(Ok(Inbound::Control(ClientMessage::Hello(hello)))) => Ok(hello),
            Ok(Ok(Inbound::Control(other))) => Err(Refusal::new(
                ErrorCode::Unauthenticated,
                format!("the first message must be hello, not {}", other.kind()),
            )),
            Ok(Ok(Inbound::Frame(..))) => Err(Refusal::new(
                ErrorCode::Unauthenticated,
                "the first message must be hello, not a binary frame",
            )),
            Ok(Ok(Inbound::Closed)) => {
                Err(Refusal::new(ErrorCode::PeerGone, "closed before hello"))
            }
            Ok(Err(r)) => Err(r),
        }
    }

    fn welcome(
        &self,
        version: u16,
        user: Option<&crate::store::UserRecord>,
        token: Option<IssuedToken>,
    ) -> Result<(), Refusal> {
        if let Some(u) = user {
            Span::current().record("user", u.name.as_str());
        }
        let (token, token_expires_at) = match token {
            Some(t) => (Some(t.token), Some(t.expires_at)),
            None => (None, None),
        };
        self.outbox.control(&ServerMessage::Welcome(Welcome {
            version,
            user: user.map(|u| tether_protocol::UserInfo { name: u.name.clone(), role: u.role }),
            token,
            token_expires_at,
            max_message_bytes: MAX_MESSAGE_BYTES,
        }))?;
        Ok(())
    }

    /// Receives the next message, answering nothing itself. Silence (not one byte) longer than
    /// the idle timeout is a refusal: the peer is gone. A large message still arriving over a
    /// slow link is not silence.
    async fn recv(&mut self) -> Result<Inbound, Refusal> {
        if let Some(inbound) = self.pending.take() {
            return Ok(inbound);
        }
        let idle = Duration::from_secs(self.broker.config.limits.idle_timeout_secs);
        loop {
            // Wait out what is left of the timeout since the last byte heard.
            let left = idle.saturating_sub(self.heard.silent_for());
            let next = match tokio::time::timeout(left, self.stream.next()).await {
                Ok(next) => next,
                Err(_) if self.heard.silent_for() < idle => continue,
                Err(_) => {
                    return Err(Refusal::new(
                        ErrorCode::Timeout,
                        format!("nothing heard for {} s", idle.as_secs()),
                    ));
                }
            };
            let msg = match next {
                None => return Ok(Inbound::Closed),
                Some(Err(err)) => return Err(classify(err)),
                Some(Ok(msg)) => msg,
            };
            match msg {
                Message::Text(text) => {
                    let msg = ClientMessage::decode(&text)
                        .map_err(|e| Refusal::new(e.code(), e.to_string()))?;
                    tracing::debug!(kind = msg.kind(), "control message");
                    return Ok(Inbound::Control(msg));
                }
                Message::Binary(bytes) => {
                    let header = FrameHeader::decode(&bytes)
                        .map_err(|e| Refusal::new(ErrorCode::Malformed, e.to_string()))?;
                    tracing::trace!(channel = header.channel.name(), len = bytes.len(), "frame");
                    return Ok(Inbound::Frame(header, bytes));
                }
                Message::Close(_) => return Ok(Inbound::Closed),
                Message::Ping(payload) => self.outbox.pong(payload)?,
                Message::Pong(_) => {}
            }
        }
    }

    /// Tells the peer about a mistake that does not end the connection.
    fn complain(&self, code: ErrorCode, message: impl Into<String>) {
        self.outbox.notice(&ServerMessage::error(code, message, false));
    }
}

/// What a websocket error means for the peer.
fn classify(err: WsError) -> Refusal {
    match err {
        e @ WsError::TooLarge { .. } => Refusal::new(
            ErrorCode::TooLarge,
            format!("{e}; the limit is {MAX_MESSAGE_BYTES} bytes"),
        ),
        // The peer's connection ended without a close: lost, not malformed.
        WsError::Lost => Refusal::new(ErrorCode::PeerGone, "connection lost"),
        e @ (WsError::Protocol(_) | WsError::Utf8) => {
            Refusal::new(ErrorCode::Malformed, e.to_string())
        }
    }
}
