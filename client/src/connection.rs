//! One connection to the broker: TCP, TLS (trusting the given CA), the websocket upgrade and
//! the `hello`/`welcome` exchange; then typed receive and send, optionally split into a reader
//! and a writer task so that an agent or console can do both at once.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::stream::SplitStream;
use futures_util::{SinkExt, StreamExt};
use rustls::ClientConfig;
use rustls_pki_types::ServerName;
use tether_protocol::{
    ClientMessage, Credential, Frame, FrameHeader, Hello, MAX_MESSAGE_BYTES, Role, ServerMessage,
    VersionRange, Welcome,
};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::sender::{Sender, Writer};
use crate::{BrokerAddr, ClientError};

/// A TLS websocket to the broker.
pub type WsStream = WebSocketStream<TlsStream<TcpStream>>;

/// How long connect, TLS and upgrade together may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// Something the broker sent.
#[derive(Debug, Clone)]
pub enum Incoming {
    /// A control message.
    Control(ServerMessage),
    /// A binary channel frame: its decoded header and the whole message (header included).
    Frame(FrameHeader, Bytes),
}

/// The websocket limits both ends share, and a read buffer that starts small (it grows for
/// large messages) instead of tungstenite's 128 KiB.
fn ws_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .max_message_size(Some(MAX_MESSAGE_BYTES))
        .max_frame_size(Some(MAX_MESSAGE_BYTES))
        .read_buffer_size(16 * 1024)
}

/// Opens TCP, TLS and the websocket to `addr`, without saying `hello`.
pub async fn connect_tls(
    addr: &BrokerAddr,
    tls: Arc<ClientConfig>,
) -> Result<WsStream, ClientError> {
    let hostport = format!("{}:{}", addr.host, addr.port);
    let attempt = async {
        let tcp = TcpStream::connect((addr.host.as_str(), addr.port))
            .await
            .map_err(|source| ClientError::Connect { addr: hostport.clone(), source })?;
        tcp.set_nodelay(true).ok();
        let name = ServerName::try_from(addr.host.clone())
            .map_err(|_| ClientError::ServerName(addr.host.clone()))?;
        let tls = TlsConnector::from(tls)
            .connect(name, tcp)
            .await
            .map_err(|source| ClientError::Tls { addr: hostport.clone(), source })?;
        let (ws, _response) =
            tokio_tungstenite::client_async_with_config(addr.url(), tls, Some(ws_config())).await?;
        Ok(ws)
    };
    tokio::time::timeout(CONNECT_TIMEOUT, attempt)
        .await
        .map_err(|_| ClientError::Timeout(hostport.clone()))?
}

/// Connects and says `hello` as `role` with `credential`; returns once the broker welcomed us.
pub async fn connect(
    addr: &BrokerAddr,
    tls: Arc<ClientConfig>,
    role: Role,
    credential: Credential,
) -> Result<(Connection, Welcome), ClientError> {
    let ws = connect_tls(addr, tls).await?;
    let mut conn = Connection { ws };
    let software = match role {
        Role::Agent => "tether-agent",
        Role::Console => "tether-console",
    };
    conn.send(&ClientMessage::Hello(Hello {
        versions: VersionRange::CURRENT,
        role,
        credential,
        software: format!("{software} {}", env!("CARGO_PKG_VERSION")),
    }))
    .await?;
    match conn.recv_control().await? {
        ServerMessage::Welcome(welcome) => {
            tracing::debug!(version = welcome.version, "welcomed by broker");
            Ok((conn, welcome))
        }
        other => Err(ClientError::Unexpected(format!("{other:?} before welcome"))),
    }
}

/// An open, welcomed connection.
#[derive(Debug)]
pub struct Connection {
    ws: WsStream,
}

impl Connection {
    /// Wraps an already upgraded websocket (for tests that say their own `hello`).
    pub fn from_ws(ws: WsStream) -> Connection {
        Connection { ws }
    }

    /// The websocket underneath (for load generators that drive frames themselves).
    pub fn into_ws(self) -> WsStream {
        self.ws
    }

    /// Sends a control message.
    pub async fn send(&mut self, msg: &ClientMessage) -> Result<(), ClientError> {
        self.ws.send(Message::text(msg.encode())).await?;
        Ok(())
    }

    /// Sends a binary frame.
    pub async fn send_frame(&mut self, frame: Bytes) -> Result<(), ClientError> {
        self.ws.send(Message::Binary(frame)).await?;
        Ok(())
    }

    /// Receives the next message.
    pub async fn recv(&mut self) -> Result<Incoming, ClientError> {
        recv(&mut self.ws).await
    }

    /// The next message if one is already here, without waiting.
    pub fn recv_now(&mut self) -> Option<Result<Incoming, ClientError>> {
        // Safe to drop when pending: recv consumes a message only when it returns it.
        futures_util::FutureExt::now_or_never(recv(&mut self.ws))
    }

    /// Receives the next message, which must be a control message; a broker `error` becomes
    /// [`ClientError::Refused`].
    pub async fn recv_control(&mut self) -> Result<ServerMessage, ClientError> {
        loop {
            match self.recv().await? {
                Incoming::Control(ServerMessage::Error { code, message, .. }) => {
                    return Err(ClientError::Refused { code, message });
                }
                Incoming::Control(msg) => return Ok(msg),
                Incoming::Frame(header, _) => {
                    tracing::debug!(
                        channel = header.channel.name(),
                        "frame before session; ignored"
                    );
                }
            }
        }
    }

    /// Closes the connection politely.
    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }

    /// Splits into a [`Sender`] (backed by a writer task) and a [`Receiver`].
    /// The local address this side reaches the broker from.
    pub fn local_ip(&self) -> std::net::IpAddr {
        self.ws
            .get_ref()
            .get_ref()
            .0
            .local_addr()
            .map(|a| a.ip())
            .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST))
    }

    pub fn split(self) -> (Sender, Receiver, Writer) {
        let (sink, receiver) = self.into_halves();
        let (sender, writer) = crate::sender::spawn(sink);
        (sender, receiver, writer)
    }

    pub(crate) fn into_halves(
        self,
    ) -> (futures_util::stream::SplitSink<WsStream, Message>, Receiver) {
        let (sink, stream) = self.ws.split();
        (sink, Receiver { stream })
    }
}

async fn recv<S>(stream: &mut S) -> Result<Incoming, ClientError>
where
    S: futures_util::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    loop {
        let Some(msg) = stream.next().await else {
            return Err(ClientError::Closed { code: None, reason: None });
        };
        match msg? {
            Message::Text(text) => return Ok(Incoming::Control(ServerMessage::decode(&text)?)),
            Message::Binary(bytes) => {
                let header = Frame::decode(&bytes)
                    .map_err(|e| ClientError::Unexpected(e.to_string()))?
                    .header;
                return Ok(Incoming::Frame(header, bytes));
            }
            Message::Close(frame) => {
                return Err(ClientError::Closed {
                    code: frame.as_ref().map(|f| u16::from(f.code)),
                    reason: frame.map(|f| f.reason.to_string()).filter(|r| !r.is_empty()),
                });
            }
            Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {}
        }
    }
}

/// The receiving half.
#[derive(Debug)]
pub struct Receiver {
    stream: SplitStream<WsStream>,
}

impl Receiver {
    /// Receives the next message; a close becomes [`ClientError::Closed`].
    pub async fn recv(&mut self) -> Result<Incoming, ClientError> {
        recv(&mut self.stream).await
    }
}
