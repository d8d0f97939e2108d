//! The first request on an HTTP/1.1 connection: read its head (bounded in size and time) and
//! decide. A websocket upgrade on the broker's path becomes a websocket here, with tether's
//! own websocket code; any other request goes, with the bytes read so far, to the web side
//! (`tether-web`); a broken upgrade or a head that is not HTTP is answered with an HTTP error
//! and closed.

use base64::Engine;
use tether_protocol::WS_PATH;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// The largest request head read (the web side allows the same).
const MAX_HEAD: usize = 16 * 1024;
/// Headers parsed at most.
const MAX_HEADERS: usize = 32;

/// The GUID RFC 6455 appends to the client's key.
const ACCEPT_GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// `Sec-WebSocket-Accept` for a client's `Sec-WebSocket-Key`: base64 of SHA-1(key + GUID).
fn accept_key(key: &[u8]) -> String {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY);
    ctx.update(key);
    ctx.update(ACCEPT_GUID);
    base64::engine::general_purpose::STANDARD.encode(ctx.finish())
}

/// A connection upgraded to a websocket.
#[derive(Debug)]
pub(crate) struct Upgraded<S> {
    pub(crate) stream: S,
    /// Bytes that arrived after the request head: the client's first frames.
    pub(crate) read: Vec<u8>,
}

/// Where the first request leads.
#[derive(Debug)]
pub(crate) enum Routed<S> {
    /// A websocket, upgraded.
    Websocket(Upgraded<S>),
    /// Any other request, for the web side.
    Web {
        /// The connection.
        stream: S,
        /// What was read of it: the request head and maybe more.
        read: Vec<u8>,
    },
}

/// Why a connection was closed before it was served.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum UpgradeError {
    /// The socket failed or closed before a whole request arrived.
    #[error("connection failed before the upgrade: {0}")]
    Io(#[from] std::io::Error),
    /// The request was answered with an HTTP error and the connection closed.
    #[error("answered HTTP {status}: {reason}")]
    Refused {
        /// The HTTP status sent.
        status: u16,
        /// Why.
        reason: &'static str,
    },
}

/// What the request head asked for.
#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    Upgrade { accept: String, head_len: usize },
    Web,
    Refuse { status: u16, reason: &'static str },
}

fn judge(head: &[u8]) -> Option<Verdict> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    let head_len = match req.parse(head) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return None,
        Err(httparse::Error::TooManyHeaders) => {
            return Some(Verdict::Refuse { status: 431, reason: "too many headers" });
        }
        Err(_) => return Some(Verdict::Refuse { status: 400, reason: "not an HTTP request" }),
    };
    let refuse = |status, reason| Some(Verdict::Refuse { status, reason });
    let path = req.path.unwrap_or("");
    let path = path.split('?').next().unwrap_or("");
    let header = |name: &str| {
        req.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .and_then(|h| std::str::from_utf8(h.value).ok())
    };
    let upgrade_ws = header("upgrade").is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    let connection_upgrade = header("connection")
        .is_some_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case("upgrade")));
    if path != WS_PATH || !upgrade_ws || !connection_upgrade {
        return Some(Verdict::Web);
    }
    if req.method != Some("GET") {
        return refuse(405, "only GET upgrades to a websocket");
    }
    if header("sec-websocket-version") != Some("13") {
        return refuse(426, "websocket version 13 required");
    }
    match header("sec-websocket-key") {
        Some(key) if !key.is_empty() => {
            Some(Verdict::Upgrade { accept: accept_key(key.as_bytes()), head_len })
        }
        _ => refuse(400, "missing Sec-WebSocket-Key"),
    }
}

/// Reads the first request head from `stream`: a websocket upgrade is answered and the
/// websocket returned, other requests are returned for the web side, and broken ones are
/// answered with an HTTP error. The caller bounds the time this takes.
pub(crate) async fn route<S>(mut stream: S) -> Result<Routed<S>, UpgradeError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    let verdict = loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(UpgradeError::Io(std::io::ErrorKind::UnexpectedEof.into()));
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(v) = judge(&buf) {
            break v;
        }
        if buf.len() >= MAX_HEAD {
            break Verdict::Refuse { status: 431, reason: "request head too large" };
        }
    };
    match verdict {
        Verdict::Web => Ok(Routed::Web { stream, read: buf }),
        Verdict::Refuse { status, reason } => {
            let text = match status {
                400 => "Bad Request",
                405 => "Method Not Allowed",
                426 => "Upgrade Required",
                _ => "Request Header Fields Too Large",
            };
            let extra = if status == 426 {
                "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
            } else {
                ""
            };
            let body = format!("{reason}\n");
            let security: String = tether_web::headers::SECURITY_HEADERS
                .iter()
                .map(|(name, value)| format!("{name}: {value}\r\n"))
                .collect();
            let response = format!(
                "HTTP/1.1 {status} {text}\r\n{extra}{security}Content-Type: text/plain; \
                 charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            // The peer may already be gone; the refusal stands either way.
            let _ = stream.write_all(response.as_bytes()).await;
            let _ = stream.shutdown().await;
            Err(UpgradeError::Refused { status, reason })
        }
        Verdict::Upgrade { accept, head_len } => {
            let response = format!(
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                 Sec-WebSocket-Accept: {accept}\r\n\r\n"
            );
            stream.write_all(response.as_bytes()).await?;
            stream.flush().await?;
            // Bytes after the head are the client's first websocket frames.
            let read = buf.split_off(head_len);
            Ok(Routed::Websocket(Upgraded { stream, read }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "GET /v1/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\
                        Connection: keep-alive, Upgrade\r\nSec-WebSocket-Version: 13\r\n\
                        Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";

    #[test]
    fn accepts_a_websocket_upgrade() {
        let v = judge(GOOD.as_bytes()).unwrap();
        assert_eq!(
            v,
            Verdict::Upgrade {
                accept: "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=".into(),
                head_len: GOOD.len()
            }
        );
        assert_eq!(judge(&GOOD.as_bytes()[..20]), None, "partial heads wait for more");
    }

    #[test]
    fn other_requests_go_to_the_web_and_broken_upgrades_are_refused() {
        let verdict = |req: &str| judge(req.as_bytes());
        assert_eq!(verdict("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), Some(Verdict::Web));
        assert_eq!(verdict("GET /v1/ws HTTP/1.1\r\nHost: x\r\n\r\n"), Some(Verdict::Web));
        assert_eq!(verdict(&GOOD.replace("/v1/ws", "/api/v1/me")), Some(Verdict::Web));
        let status = |req: &str| match judge(req.as_bytes()) {
            Some(Verdict::Refuse { status, .. }) => status,
            other => panic!("{req:?} gave {other:?}"),
        };
        assert_eq!(status(&GOOD.replace("GET", "POST")), 405);
        assert_eq!(status(&GOOD.replace("Version: 13", "Version: 8")), 426);
        assert_eq!(status(&GOOD.replace("Sec-WebSocket-Key", "X-Key")), 400);
        assert_eq!(status("\x16\x03\x01garbage\r\n\r\n"), 400);
        let many: String = (0..40).map(|i| format!("X-{i}: y\r\n")).collect();
        assert_eq!(status(&format!("GET /v1/ws HTTP/1.1\r\n{many}\r\n")), 431);
    }
}
