//! An HTTPS client for the broker's web side, over real TLS trusting the broker's CA: HTTP/1.1
//! or HTTP/2 as ALPN negotiates, one connection per request, answering status, version,
//! headers and body; and [`Connection`], one HTTP/1.1 connection kept for many requests.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::HeaderMap;
use hyper::{Request, Version};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpStream;

use crate::broker::Broker;

/// One answer.
#[derive(Debug)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// The HTTP version it came in.
    pub version: Version,
    /// The response headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Vec<u8>,
}

impl Reply {
    /// The body as JSON (panics, showing the body, if it is not).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{e}: {:?} (status {})", self.text(), self.status))
    }

    /// The error code of a JSON refusal.
    pub fn error_code(&self) -> String {
        self.json()["error"]["code"].as_str().unwrap_or_default().to_string()
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// A header's value, if present and text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// A client of one broker's web side.
#[derive(Debug, Clone)]
pub struct Web {
    port: u16,
    ca: PathBuf,
    h2: bool,
}

impl Web {
    /// Speaking HTTP/1.1 (ALPN `http/1.1`).
    pub fn http1(broker: &Broker) -> Web {
        Web { port: broker.port, ca: broker.ca(), h2: false }
    }

    /// Speaking HTTP/2 (ALPN `h2`).
    pub fn http2(broker: &Broker) -> Web {
        Web { port: broker.port, ca: broker.ca(), h2: true }
    }

    /// Trusting `ca` instead of the broker's own CA (for an operator's certificate).
    pub fn trusting(mut self, ca: &Path) -> Web {
        self.ca = ca.into();
        self
    }

    /// Whether a TLS handshake trusting this client's CA succeeds, and if not why.
    pub fn handshake(&self) -> Result<(), String> {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("rt");
        rt.block_on(async {
            let config = tether_certs::client_config(&self.ca).map_err(|e| e.to_string())?;
            let tcp =
                TcpStream::connect(("127.0.0.1", self.port)).await.map_err(|e| e.to_string())?;
            let name =
                rustls_pki_types::ServerName::try_from("127.0.0.1").expect("name").to_owned();
            tokio_rustls::TlsConnector::from(config)
                .connect(name, tcp)
                .await
                .map(drop)
                .map_err(|e| e.to_string())
        })
    }

    /// `GET path` with `headers`.
    pub fn get(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        self.send("GET", path, headers, None)
    }

    /// `POST path` with a JSON body.
    pub fn post(&self, path: &str, headers: &[(&str, &str)], body: &serde_json::Value) -> Reply {
        let mut all = vec![("content-type", "application/json")];
        all.extend_from_slice(headers);
        self.send("POST", path, &all, Some(body.to_string().into_bytes()))
    }

    /// Any request, body as given.
    pub fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> Reply {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("rt");
        rt.block_on(send(self.port, &self.ca, self.h2, method, path, headers, body))
    }
}

async fn send(
    port: u16,
    ca: &Path,
    h2: bool,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<Vec<u8>>,
) -> Reply {
    let mut config = (*tether_certs::client_config(ca).expect("client config")).clone();
    config.alpn_protocols = vec![if h2 { b"h2".to_vec() } else { b"http/1.1".to_vec() }];
    let tcp = TcpStream::connect(("127.0.0.1", port)).await.expect("tcp connect");
    let name = rustls_pki_types::ServerName::try_from("127.0.0.1").expect("name").to_owned();
    let tls =
        tokio_rustls::TlsConnector::from(Arc::new(config)).connect(name, tcp).await.expect("tls");
    let io = TokioIo::new(tls);
    let uri = if h2 { format!("https://127.0.0.1:{port}{path}") } else { path.to_string() };
    let mut req = Request::builder().method(method).uri(uri);
    if !h2 {
        req = req.header("host", format!("127.0.0.1:{port}"));
    }
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let req = req.body(Full::new(Bytes::from(body.unwrap_or_default()))).expect("request");
    let response = if h2 {
        let (mut sender, conn) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), io).await.expect("h2");
        tokio::spawn(conn);
        sender.send_request(req).await.expect("h2 request")
    } else {
        let (mut sender, conn) = hyper::client::conn::http1::handshake(io).await.expect("h1");
        tokio::spawn(conn);
        sender.send_request(req).await.expect("h1 request")
    };
    let (parts, body) = response.into_parts();
    let body = body.collect().await.expect("body").to_bytes().to_vec();
    Reply { status: parts.status.as_u16(), version: parts.version, headers: parts.headers, body }
}

/// One HTTP/1.1 connection kept open for many requests: what a browser does, and what times
/// requests rather than handshakes.
#[derive(Debug)]
pub struct Connection {
    sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    port: u16,
}

impl Connection {
    /// Connects to the broker on `port`, trusting `ca`.
    pub async fn open(port: u16, ca: &Path) -> Connection {
        let mut config = (*tether_certs::client_config(ca).expect("client config")).clone();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let tcp = TcpStream::connect(("127.0.0.1", port)).await.expect("tcp connect");
        tcp.set_nodelay(true).expect("nodelay");
        let name = rustls_pki_types::ServerName::try_from("127.0.0.1").expect("name").to_owned();
        let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
            .connect(name, tcp)
            .await
            .expect("tls");
        let (sender, conn) =
            hyper::client::conn::http1::handshake(TokioIo::new(tls)).await.expect("h1");
        tokio::spawn(conn);
        Connection { sender, port }
    }

    /// Sends one request on the connection and reads the whole answer.
    pub async fn send(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> Reply {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header("host", format!("127.0.0.1:{}", self.port));
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        let req = req.body(Full::new(Bytes::from(body.unwrap_or_default()))).expect("request");
        self.sender.ready().await.expect("connection ready");
        let response = self.sender.send_request(req).await.expect("request");
        let (parts, body) = response.into_parts();
        let body = body.collect().await.expect("body").to_bytes().to_vec();
        Reply {
            status: parts.status.as_u16(),
            version: parts.version,
            headers: parts.headers,
            body,
        }
    }
}
