//! The baseline: the least a TLS websocket relay can do. Each connection says a pairing token
//! in its first message; two connections with the same token are paired, and from then on
//! every message one sends is written to the other, as is. Same TLS stack (rustls with ring,
//! TLS 1.3), same websocket library and read buffer as the broker, no protocol, no records.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use futures_util::StreamExt;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio_rustls::TlsAcceptor;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_rustls::server::TlsStream<tokio::net::TcpStream>>;

/// Connections waiting for their partner, by token.
type Waiting = Arc<Mutex<HashMap<String, oneshot::Sender<Ws>>>>;

fn ws_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .max_message_size(Some(tether_protocol::MAX_MESSAGE_BYTES))
        .max_frame_size(Some(tether_protocol::MAX_MESSAGE_BYTES))
        .read_buffer_size(16 * 1024)
}

/// Serves until killed, printing `listening on wss://ADDR` first.
pub(crate) async fn serve(cert: &Path, key: &Path) -> anyhow::Result<()> {
    let chain = tether_certs::load_certs(cert)?;
    let key = tether_certs::load_key(key)?;
    let tls = tether_certs::server_config(chain, key, tether_certs::TlsVersion::Tls13)?;
    let acceptor = TlsAcceptor::from(tls);
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    println!("listening on wss://{}", listener.local_addr()?);
    let waiting: Waiting = Arc::default();
    loop {
        let (tcp, _) = listener.accept().await?;
        tcp.set_nodelay(true).ok();
        let (acceptor, waiting) = (acceptor.clone(), waiting.clone());
        tokio::spawn(async move {
            let Ok(tls) = acceptor.accept(tcp).await else { return };
            let Ok(mut ws) =
                tokio_tungstenite::accept_async_with_config(tls, Some(ws_config())).await
            else {
                return;
            };
            let Some(Ok(Message::Text(token))) = ws.next().await else { return };
            // One atomic lookup-or-insert: the second of a pair finds the first.
            let wait = {
                let mut map = waiting.lock().unwrap_or_else(|p| p.into_inner());
                match map.remove(token.as_str()) {
                    Some(first) => {
                        drop(map);
                        let _ = first.send(ws);
                        return;
                    }
                    None => {
                        let (tx, rx) = oneshot::channel();
                        map.insert(token.to_string(), tx);
                        rx
                    }
                }
            };
            if let Ok(second) = wait.await {
                relay(ws, second).await;
            }
        });
    }
}

/// Copies messages both ways until either side closes.
async fn relay(a: Ws, b: Ws) {
    let (a_tx, a_rx) = a.split();
    let (b_tx, b_rx) = b.split();
    tokio::select! {
        _ = a_rx.forward(b_tx) => {}
        _ = b_rx.forward(a_tx) => {}
    }
}
