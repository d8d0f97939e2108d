//! One connection's life, from accept to close, in this file: TLS and the first request
//! ([`serve`]: a websocket upgrade, or anything else handed to the web side), then a loop over
//! [`Phase`]s, each a method that does its work and returns the next phase. The phases' work
//! lives beside this file, one file each.
//!
//! ```text
//!            ┌────────── Request ──┐ (support request)
//!  Hello ────┼─ (code) ──────────── Check ── Wait ── Relay ──┐ (handed over: Wait again)
//!            ├─ (resume token) ── Resume ───────────── Relay │
//!            └─ (staff) ── Desk ─┬─ (join) ─ Wait ── Relay   └── Done
//!                                ├─ (join, invited) ─ Help
//!                                └─ (watch) ─ Watch
//! ```
//!
//! Every failure is classified once, here at the boundary, into a [`Refusal`]: an error code
//! the peer is told (with the matching close code) and a log level (the peer's doing at
//! debug/info, ours at error).

mod account;
mod check;
mod control;
mod desk;
mod hello;
mod helper;
mod liveness;
mod quality;
mod relay;
mod request;
mod resume;
mod review;
mod signalling;
mod wait;
mod watch;

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tether_access::AccessError;
use tether_desk::DeskError;
use tether_protocol::{
    ClientMessage, ErrorCode, FrameHeader, HelperMode, MAX_MESSAGE_BYTES, Role, ServerMessage,
    TicketId,
};
use tether_store::{StoreError, UserRecord};
use tether_web::Protocol::{Http1, Http2};
use tokio::io::ReadHalf;
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use tracing::Instrument;

use self::liveness::{Heard, Watched};
use crate::admission::Slot;
use crate::http::Routed;
use crate::outbox::{Outbox, Overflow, write_loop};
use crate::session::Session;
use crate::shared::{Revocation, Shared};
use crate::ws::{Message, WsError, WsReader};

/// The reading half of a connection's websocket.
type Reader = WsReader<ReadHalf<Watched<TlsStream<TcpStream>>>>;

/// The largest message a connection may send before it signs in as staff or pairs: enough
/// for `hello`, a support request and the bandwidth check's probes, so that an anonymous
/// connection cannot make the broker buffer a megabyte.
const BEFORE_TRUST: usize = 64 * 1024;

/// Where a connection is in its life.
#[derive(Debug)]
enum Phase {
    /// The websocket is up; `hello` (version, role, credential) comes next.
    Hello,
    /// A customer without a code: a support request, or only a bandwidth check.
    Request,
    /// A customer at a ticket runs the bandwidth check every session needs.
    Check { ticket: TicketId, client: String },
    /// A side waits at its ticket for the other.
    Wait { role: Role, ticket: TicketId, name: String },
    /// A customer whose connection dropped takes its session back.
    Resume(Arc<Session>),
    /// Relaying a session between the two sides.
    Relay { role: Role, session: Arc<Session> },
    /// Staff at the desk: queue, invite, join, desk and admin requests.
    Desk(UserRecord),
    /// Staff watching desk events as they happen.
    Watch(UserRecord),
    /// A second technician in another technician's session.
    Help { session: Arc<Session>, name: String, mode: HelperMode },
    /// The connection is over.
    Done,
}

/// What a connection becomes after TLS and its first request.
#[expect(
    clippy::large_enum_variant,
    reason = "held only until matched; boxing the websocket would allocate once per connection"
)]
enum Next {
    /// A websocket, and what hears the peer.
    Websocket(crate::http::Upgraded<Watched<TlsStream<TcpStream>>>, Heard),
    /// An HTTP connection, served by the web side.
    Web(Pin<Box<dyn Future<Output = ()> + Send>>),
}

/// The web side's service of an HTTP connection, boxed: its state would otherwise sit in every
/// websocket connection's future, costing each idle session kilobytes.
fn web(
    shared: &Arc<Shared>,
    stream: Watched<TlsStream<TcpStream>>,
    read: Vec<u8>,
    protocol: tether_web::Protocol,
    peer: SocketAddr,
    head_timeout: Duration,
) -> Pin<Box<dyn Future<Output = ()> + Send>> {
    let (web, shutdown) = (shared.web.clone(), shared.shutdown.clone());
    Box::pin(async move { web.serve(stream, read, protocol, peer, head_timeout, shutdown).await })
}

/// Serves one accepted TCP connection to its end.
pub(crate) async fn serve(
    shared: Arc<Shared>,
    acceptor: TlsAcceptor,
    tcp: TcpStream,
    peer: SocketAddr,
    slot: Slot,
) {
    let id = shared.next_conn_id();
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
        let deadline = shared.config.handshake_timeout();
        let upgrade = async {
            let tls =
                acceptor.accept(tcp).await.map_err(|e| format!("TLS handshake failed: {e}"))?;
            // In a block: the TLS stream is borrowed to read its ALPN, and a borrowed local
            // would otherwise keep its kilobyte in this future beside the request's.
            let (first_request, heard) = {
                let tls = tls;
                let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
                let (watched, heard) = Watched::new(tls);
                if h2 {
                    let web = web(&shared, watched, Vec::new(), Http2, peer, deadline);
                    return Ok(Next::Web(web));
                }
                (crate::http::route(watched), heard)
            };
            Ok::<_, String>(match first_request.await.map_err(|e| e.to_string())? {
                Routed::Websocket(ws) => Next::Websocket(ws, heard),
                Routed::Web { stream, read } => {
                    Next::Web(web(&shared, stream, read, Http1, peer, deadline))
                }
            })
        };
        // The HTTP connection is awaited after the match, so that the first request's result
        // is not kept in this future while the connection lasts.
        let (upgraded, heard) = 'websocket: {
            let web = match tokio::time::timeout(deadline, upgrade).await {
                Ok(Ok(Next::Websocket(ws, heard))) => break 'websocket (ws, heard),
                Ok(Ok(Next::Web(web))) => web,
                Ok(Err(reason)) => {
                    return tracing::debug!(%reason, "connection refused before websocket");
                }
                Err(_) => return tracing::debug!("handshake timed out"),
            };
            return web.await;
        };
        // One constant bounds both frames and messages: a small one until the peer is trusted.
        let (stream, sink) = crate::ws::split(upgraded.stream, &upgraded.read, BEFORE_TRUST);
        let outbox = Arc::new(Outbox::new(shared.queue_limits()));
        let ping = Duration::from_secs(shared.config.limits.ping_interval_secs);
        let writer = shared.tracker.spawn({
            let outbox = outbox.clone();
            async move { write_loop(&outbox, sink, ping).await }.in_current_span()
        });
        let idle = Duration::from_secs(shared.config.limits.idle_timeout_secs);
        let mut conn = Conn {
            shared: shared.clone(),
            id,
            peer,
            stream,
            heard,
            idle,
            silence: Box::pin(tokio::time::sleep(idle)),
            slot,
            user: None,
            token_hash: None,
            revocation: Revocation::default(),
            revoked: Box::pin(Revocation::default().revoked()),
            outbox: outbox.clone(),
            check: None,
            pending: None,
        };
        let result = conn.run().await;
        shared.deregister_staff(id);
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
    shared: Arc<Shared>,
    id: u64,
    peer: SocketAddr,
    stream: Reader,
    /// When the peer last sent a byte.
    heard: Heard,
    /// How long the peer may stay silent.
    idle: Duration,
    /// Fires when the peer may have been silent for `idle`: one timer for the connection's
    /// life, moved on only when it fires, not armed anew for every message.
    silence: Pin<Box<tokio::time::Sleep>>,
    /// Its connection slot.
    slot: Slot,
    /// The account this connection signed in as, for staff.
    user: Option<UserRecord>,
    /// The hash of the token it signed in with (or was issued), so that it can sign out.
    token_hash: Option<Vec<u8>>,
    /// A signed-in account's right to stay, revoked when it is disabled or its role changes.
    revocation: Revocation,
    /// Resolves when `revocation` is revoked (never, for a connection that is not staff).
    revoked: Pin<Box<tokio_util::sync::WaitForCancellationFutureOwned>>,
    outbox: Arc<Outbox>,
    /// This connection's bandwidth check, once run.
    check: Option<tether_protocol::CheckResult>,
    /// A message read while waiting for a peer that turned out to belong to the session,
    /// handed to the relay first.
    pending: Option<Inbound>,
}

impl Conn {
    /// Runs the phases from `hello` to the end.
    async fn run(&mut self) -> Result<(), Refusal> {
        let mut phase = Phase::Hello;
        loop {
            tracing::trace!(?phase, "phase");
            phase = match phase {
                Phase::Hello => self.hello().await?,
                Phase::Request => self.request().await?,
                Phase::Check { ticket, client } => {
                    self.check_before_session(ticket, client).await?
                }
                Phase::Wait { role, ticket, name } => self.wait(role, ticket, name).await?,
                Phase::Resume(session) => self.resume(session).await?,
                Phase::Relay { role, session } => self.relay(role, session).await?,
                Phase::Desk(user) => self.desk(user).await?,
                Phase::Watch(user) => self.watch(&user).await?,
                Phase::Help { session, name, mode } => self.help(&session, &name, mode).await?,
                Phase::Done => return Ok(()),
            };
        }
    }

    /// Receives the next message, answering nothing itself. Silence (not one byte) longer than
    /// the idle timeout is a refusal: the peer is gone. A large message still arriving over a
    /// slow link is not silence.
    async fn recv(&mut self) -> Result<Inbound, Refusal> {
        if let Some(inbound) = self.pending.take() {
            return Ok(inbound);
        }
        loop {
            let next = tokio::select! {
                biased;
                () = &mut self.revoked => {
                    let reason = self.revocation.reason();
                    return Err(Refusal::new(ErrorCode::Unauthenticated, reason));
                }
                next = self.stream.next() => next,
                () = &mut self.silence => {
                    let silent = self.heard.silent_for();
                    if silent >= self.idle {
                        return Err(Refusal::new(
                            ErrorCode::Timeout,
                            format!("nothing heard for {} s", self.idle.as_secs()),
                        ));
                    }
                    // Heard from meanwhile: wait out what is left since the last byte.
                    let at = tokio::time::Instant::now() + (self.idle - silent);
                    self.silence.as_mut().reset(at);
                    continue;
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

    /// The next control message, within the handshake timeout (`expected` names it).
    async fn next_control(&mut self, expected: &str) -> Result<ClientMessage, Refusal> {
        let limit = self.shared.config.handshake_timeout();
        match tokio::time::timeout(limit, self.recv()).await {
            Err(_) => {
                Err(Refusal::new(ErrorCode::Timeout, format!("waited in vain for {expected}")))
            }
            Ok(Ok(Inbound::Control(msg))) => Ok(msg),
            Ok(Ok(Inbound::Closed)) => Err(Refusal::new(ErrorCode::PeerGone, "left early")),
            Ok(Ok(Inbound::Frame(..))) => Err(Refusal::new(
                ErrorCode::Malformed,
                format!("expected {expected}, got a binary frame"),
            )),
            Ok(Err(r)) => Err(r),
        }
    }

    /// This connection is signed in as `user`: it ends when the account is disabled or its
    /// role changes.
    fn signed_in(&mut self, user: &UserRecord) {
        self.slot.staff();
        self.trusted();
        self.user = Some(user.clone());
        self.revocation = self.shared.register_staff(self.id, user);
        self.revoked = Box::pin(self.revocation.revoked());
    }

    /// The peer signed in as staff or paired: it may send messages of the full size.
    fn trusted(&mut self) {
        self.stream.set_max_message(MAX_MESSAGE_BYTES);
    }

    /// Tells the peer about a mistake that does not end the connection.
    fn complain(&self, code: ErrorCode, message: impl Into<String>) {
        self.outbox.notice(&ServerMessage::error(code, message, false));
    }
}

/// What arrived from the peer.
#[derive(Debug)]
pub(crate) enum Inbound {
    Control(ClientMessage),
    Frame(FrameHeader, Bytes),
    Closed,
}

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

impl From<DeskError> for Refusal {
    fn from(err: DeskError) -> Refusal {
        match err {
            DeskError::Store(e) => e.into(),
            other => Refusal::new(other.code(), other.to_string()),
        }
    }
}

impl From<AccessError> for Refusal {
    fn from(err: AccessError) -> Refusal {
        match err {
            AccessError::Store(e) => e.into(),
            other => Refusal::new(other.code(), other.to_string()),
        }
    }
}

impl From<Overflow> for Refusal {
    fn from(o: Overflow) -> Refusal {
        Refusal::new(ErrorCode::Overflow, o.to_string())
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
