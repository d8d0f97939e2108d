//! Outbound webhooks: every desk event a hook subscribes to is POSTed to it as JSON, signed
//! with HMAC-SHA256 of the body under the hook's secret (`X-Tether-Signature: sha256=<hex>`),
//! retried with doubling backoff (1 s, 2 s, 4 s...) up to the hook's attempts, failures logged.
//! A minimal HTTP/1.1 client over tokio (and rustls with the web PKI roots for https), so
//! that the broker needs no HTTP stack for one POST.

use std::sync::Arc;
use std::time::Duration;

use ring::hmac;
use tether_protocol::DeskEvent;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_util::task::TaskTracker;

use crate::config::WebhookSettings;
use crate::transcript::record::hex;

/// How long one delivery attempt may take.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// Delivers events from `events` to `hooks` until the channel closes.
pub(crate) async fn deliver(
    hooks: Vec<WebhookSettings>,
    mut events: mpsc::UnboundedReceiver<DeskEvent>,
    tracker: TaskTracker,
) {
    let hooks: Vec<Arc<WebhookSettings>> = hooks.into_iter().map(Arc::new).collect();
    let mut delivery: u64 = 0;
    while let Some(event) = events.recv().await {
        // Plain data: serialisation cannot fail.
        let body = Arc::new(serde_json::to_vec(&event).unwrap_or_default());
        for hook in hooks.iter().filter(|h| h.events.is_empty() || h.events.contains(&event.kind)) {
            delivery += 1;
            let (hook, body, kind) = (hook.clone(), body.clone(), event.kind.clone());
            tracker.spawn(async move { post_with_retries(&hook, &body, &kind, delivery).await });
        }
    }
}

async fn post_with_retries(hook: &WebhookSettings, body: &[u8], kind: &str, delivery: u64) {
    let key = hmac::Key::new(hmac::HMAC_SHA256, hook.secret.as_bytes());
    let signature = hex(hmac::sign(&key, body).as_ref());
    let mut backoff = Duration::from_secs(1);
    for attempt in 1..=hook.attempts {
        let result = tokio::time::timeout(
            ATTEMPT_TIMEOUT,
            post(&hook.url, body, kind, &signature, delivery),
        )
        .await;
        match result {
            Ok(Ok(status)) if (200..300).contains(&status) => {
                tracing::info!(url = %hook.url, kind, delivery, attempt, "webhook delivered");
                return;
            }
            Ok(Ok(status)) => {
                tracing::warn!(url = %hook.url, kind, delivery, attempt, status, "webhook refused")
            }
            Ok(Err(err)) => {
                tracing::warn!(url = %hook.url, kind, delivery, attempt, %err, "webhook failed")
            }
            Err(_) => tracing::warn!(url = %hook.url, kind, delivery, attempt, "webhook timed out"),
        }
        if attempt < hook.attempts {
            tokio::time::sleep(backoff).await;
            backoff *= 2;
        }
    }
    tracing::error!(url = %hook.url, kind, delivery, attempts = hook.attempts, "webhook given up");
}

/// Where a URL points.
#[derive(Debug, PartialEq, Eq)]
struct Target {
    tls: bool,
    host: String,
    port: u16,
    path: String,
}

fn parse_url(url: &str) -> Result<Target, String> {
    let (tls, rest) = if let Some(r) = url.strip_prefix("https://") {
        (true, r)
    } else if let Some(r) = url.strip_prefix("http://") {
        (false, r)
    } else {
        return Err(format!("{url:?} is not http(s)"));
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.contains(']') || h.ends_with(']') => (
            h.trim_matches(['[', ']']).to_string(),
            p.parse().map_err(|_| format!("bad port in {url:?}"))?,
        ),
        _ => (authority.trim_matches(['[', ']']).to_string(), if tls { 443 } else { 80 }),
    };
    if host.is_empty() {
        return Err(format!("no host in {url:?}"));
    }
    Ok(Target { tls, host, port, path: if path.is_empty() { "/".into() } else { path.into() } })
}

/// POSTs `body` and returns the response status.
async fn post(
    url: &str,
    body: &[u8],
    kind: &str,
    signature: &str,
    delivery: u64,
) -> Result<u16, String> {
    let t = parse_url(url)?;
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: tether-broker/{}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nX-Tether-Event: {kind}\r\nX-Tether-Delivery: {delivery}\r\n\
         X-Tether-Signature: sha256={signature}\r\nConnection: close\r\n\r\n",
        t.path,
        t.host,
        env!("CARGO_PKG_VERSION"),
        body.len()
    );
    let tcp = TcpStream::connect((t.host.as_str(), t.port)).await.map_err(|e| e.to_string())?;
    let response = if t.tls {
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
        let name =
            rustls_pki_types::ServerName::try_from(t.host.clone()).map_err(|e| e.to_string())?;
        let stream = tokio_rustls::TlsConnector::from(Arc::new(config))
            .connect(name, tcp)
            .await
            .map_err(|e| e.to_string())?;
        exchange(stream, head.as_bytes(), body).await?
    } else {
        exchange(tcp, head.as_bytes(), body).await?
    };
    parse_status(&response)
}

async fn exchange<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(
    mut s: S,
    head: &[u8],
    body: &[u8],
) -> Result<Vec<u8>, String> {
    s.write_all(head).await.map_err(|e| e.to_string())?;
    s.write_all(body).await.map_err(|e| e.to_string())?;
    s.flush().await.map_err(|e| e.to_string())?;
    // The status line is all we need; read a little, not the whole reply.
    let mut buf = vec![0u8; 512];
    let mut n = 0;
    while n < buf.len() && !buf[..n].contains(&b'\n') {
        match s.read(&mut buf[n..]).await.map_err(|e| e.to_string())? {
            0 => break,
            k => n += k,
        }
    }
    buf.truncate(n);
    Ok(buf)
}

fn parse_status(response: &[u8]) -> Result<u16, String> {
    let line = response.split(|b| *b == b'\n').next().unwrap_or_default();
    let text = String::from_utf8_lossy(line);
    let mut parts = text.split_whitespace();
    match (parts.next(), parts.next().and_then(|c| c.parse().ok())) {
        (Some(v), Some(code)) if v.starts_with("HTTP/1.") => Ok(code),
        _ => Err(format!("not an HTTP response: {:?}", text.chars().take(60).collect::<String>())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse() {
        assert_eq!(
            parse_url("http://127.0.0.1:8080/hook?x=1").unwrap(),
            Target { tls: false, host: "127.0.0.1".into(), port: 8080, path: "/hook?x=1".into() }
        );
        assert_eq!(parse_url("https://desk.example.com").unwrap().port, 443);
        assert_eq!(parse_url("https://desk.example.com").unwrap().path, "/");
        assert_eq!(parse_url("http://[::1]:81/").unwrap().host, "::1");
        assert!(parse_url("ftp://x").is_err());
        assert!(parse_url("http://:80/").is_err());
    }

    #[test]
    fn statuses_parse() {
        assert_eq!(parse_status(b"HTTP/1.1 204 No Content\r\n"), Ok(204));
        assert_eq!(parse_status(b"HTTP/1.0 500 Oops\r\n"), Ok(500));
        assert!(parse_status(b"SSH-2.0-OpenSSH\r\n").is_err());
    }
}
