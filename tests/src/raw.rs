//! Hand-driven connections for hostile-input tests and benchmarks: raw TCP, raw TLS and a
//! websocket that says whatever the test wants, readers that collect what the broker answers
//! until it closes, and a session paired between two library clients.

use std::path::Path;
use std::sync::Arc;

use futures_util::{SinkExt, StreamExt};
use rustls::ClientConfig;
use tether_client::{BrokerAddr, Connection, WsStream};
use tether_protocol::{
    ClientMessage, Credential, JoinTarget, Priority, Role, Secret, ServerMessage, SupportRequest,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

use crate::PATIENCE;

/// A client TLS configuration trusting `ca`.
pub fn tls(ca: &Path) -> Arc<ClientConfig> {
    tether_certs::install_provider();
    tether_certs::client_config(ca).expect("client TLS config")
}

/// A websocket to the broker on `port`, upgraded but silent.
pub async fn websocket(port: u16, ca: &Path) -> WsStream {
    let addr: BrokerAddr = format!("wss://127.0.0.1:{port}").parse().expect("addr");
    tether_client::connect_tls(&addr, tls(ca)).await.expect("websocket connect")
}

/// A websocket to the broker at 127.0.0.1:`port` from the loopback address `source` (say
/// 127.0.0.2: another client address as the broker sees it), upgraded but silent.
pub async fn websocket_from(source: std::net::Ipv4Addr, port: u16, ca: &Path) -> WsStream {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.bind((source, 0).into()).expect("binding the source address");
    let tcp = socket.connect(([127, 0, 0, 1], port).into()).await.expect("connect");
    tcp.set_nodelay(true).ok();
    let name = rustls_pki_types::ServerName::try_from("127.0.0.1").expect("name");
    let tls = tokio_rustls::TlsConnector::from(tls(ca)).connect(name, tcp).await.expect("TLS");
    let url = format!("wss://127.0.0.1:{port}/v1/ws");
    let (ws, _) = tokio_tungstenite::client_async(url, tls).await.expect("websocket upgrade");
    ws
}

/// A `hello` as a message.
pub fn hello(role: tether_protocol::Role, credential: Credential) -> Message {
    Message::text(
        ClientMessage::Hello(tether_protocol::Hello {
            versions: tether_protocol::VersionRange::CURRENT,
            role,
            credential,
            software: "attacker".into(),
        })
        .encode(),
    )
}

/// What the broker said before closing.
#[derive(Debug, Default)]
pub struct Answer {
    /// Control messages received.
    pub messages: Vec<ServerMessage>,
    /// The close code, if the broker sent a close frame.
    pub close_code: Option<u16>,
}

impl Answer {
    /// The first error message's code name.
    pub fn error_code(&self) -> Option<String> {
        self.messages.iter().find_map(|m| match m {
            ServerMessage::Error { code, .. } => Some(code.name().to_string()),
            _ => None,
        })
    }
}

/// Sends `messages` on `ws`, then reads until the broker closes (or [`PATIENCE`] runs out).
pub async fn say(mut ws: WsStream, messages: Vec<Message>) -> Answer {
    for m in messages {
        if ws.send(m).await.is_err() {
            break;
        }
    }
    read_to_close(ws).await
}

/// Sends `messages` on `ws`, then reads until the broker welcomes, refuses or closes.
pub async fn say_until_answered(mut ws: WsStream, messages: Vec<Message>) -> Answer {
    for m in messages {
        if ws.send(m).await.is_err() {
            break;
        }
    }
    let mut answer = Answer::default();
    let _ = tokio::time::timeout(PATIENCE, async {
        while let Some(Ok(msg)) = ws.next().await {
            match msg {
                Message::Text(t) => {
                    if let Ok(m) = ServerMessage::decode(&t) {
                        let done =
                            matches!(m, ServerMessage::Welcome(_) | ServerMessage::Error { .. });
                        answer.messages.push(m);
                        if done {
                            break;
                        }
                    }
                }
                Message::Close(frame) => {
                    answer.close_code = frame.map(|f| u16::from(f.code));
                    break;
                }
                _ => {}
            }
        }
    })
    .await;
    answer
}

/// Reads until the broker closes.
pub async fn read_to_close(mut ws: WsStream) -> Answer {
    let mut answer = Answer::default();
    let result = tokio::time::timeout(PATIENCE, async {
        while let Some(msg) = ws.next().await {
            match msg {
                Ok(Message::Text(t)) => {
                    if let Ok(m) = ServerMessage::decode(&t) {
                        answer.messages.push(m);
                    }
                }
                Ok(Message::Close(frame)) => {
                    answer.close_code = frame.map(|f| u16::from(f.code));
                    break;
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
    })
    .await;
    assert!(result.is_ok(), "the broker did not close the connection; said {:?}", answer.messages);
    answer
}

/// Sends raw `bytes` over TLS to the broker and returns everything it answers before closing.
pub async fn tls_exchange(port: u16, ca: &Path, bytes: &[u8]) -> Vec<u8> {
    let tcp = TcpStream::connect(("127.0.0.1", port)).await.expect("tcp connect");
    let name = rustls_pki_types::ServerName::try_from("127.0.0.1").expect("name").to_owned();
    let mut tls = tokio_rustls::TlsConnector::from(tls(ca)).connect(name, tcp).await.expect("tls");
    tls.write_all(bytes).await.expect("write");
    let mut out = Vec::new();
    let read = tokio::time::timeout(PATIENCE, tls.read_to_end(&mut out)).await;
    assert!(read.is_ok(), "the broker did not close after {:?}", String::from_utf8_lossy(bytes));
    out
}

/// Sends raw `bytes` over plain TCP and waits until the broker closes the connection.
pub async fn tcp_garbage(port: u16, bytes: &[u8]) -> Vec<u8> {
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).await.expect("tcp connect");
    tcp.write_all(bytes).await.expect("write");
    let mut out = Vec::new();
    let read = tokio::time::timeout(PATIENCE, async {
        let mut buf = [0u8; 4096];
        loop {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(read.is_ok(), "the broker did not close a garbage connection");
    out
}

/// A session paired between a library agent and a library console logged in with `token`,
/// both through their bandwidth checks: (agent, console).
pub async fn paired(url: &str, ca: &Path, token: &str) -> (Connection, Connection) {
    paired_via(url, url, ca, token).await
}

/// [`paired`], the agent connecting at `agent_url` (a relay in front of the broker at `url`).
pub async fn paired_via(
    agent_url: &str,
    url: &str,
    ca: &Path,
    token: &str,
) -> (Connection, Connection) {
    let addr: BrokerAddr = url.parse().expect("broker URL");
    let agent_addr: BrokerAddr = agent_url.parse().expect("agent URL");
    let tls = tls(ca);
    let (mut agent, _) =
        tether_client::connect(&agent_addr, tls.clone(), Role::Agent, Credential::None)
            .await
            .expect("agent connect");
    let request = SupportRequest {
        name: "bench".into(),
        contact: String::new(),
        issue: "bench".into(),
        priority: Priority::Low,
    };
    agent.send(&ClientMessage::Request(request)).await.expect("request");
    let ServerMessage::TicketCreated { ticket } = agent.recv_control().await.expect("ticket")
    else {
        panic!("no ticket")
    };
    tether_client::check::run_check(&mut agent, |_| {}).await.expect("agent check");
    let credential = Credential::Token { token: Secret::new(token.to_string()) };
    let (mut console, _) =
        tether_client::connect(&addr, tls, Role::Console, credential).await.expect("console");
    tether_client::check::run_check(&mut console, |_| {}).await.expect("console check");
    let join = ClientMessage::Join { target: JoinTarget::Ticket(ticket.id) };
    console.send(&join).await.expect("join");
    while !matches!(console.recv_control().await.expect("paired"), ServerMessage::Paired(_)) {}
    while !matches!(agent.recv_control().await.expect("paired"), ServerMessage::Paired(_)) {}
    (agent, console)
}
