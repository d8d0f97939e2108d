//! Webhook receivers and a proxy for the webhook tests: a one-request-at-a-time HTTP(S) server
//! (TLS with a certificate from a CA the test makes, as an operator's own CA would) that
//! answers with a chosen status and hands back what it received, and an HTTP `CONNECT` proxy
//! that tunnels and remembers where each tunnel went.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use std::time::{Duration, Instant};

use rustls::{ServerConnection, StreamOwned};

use crate::PATIENCE;

/// One request as the receiver saw it.
#[derive(Debug, Clone)]
pub struct Request {
    /// `POST /path HTTP/1.1`.
    pub line: String,
    /// Header names lower-cased (HTTP header names are case-insensitive), values trimmed.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Request {
    /// The value of header `name` (lower-case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// An operator's own CA and a server certificate from it, in a temporary directory.
#[derive(Debug)]
pub struct OperatorCa {
    dir: tempfile::TempDir,
    config: Arc<rustls::ServerConfig>,
}

impl OperatorCa {
    /// A CA and a certificate for `names` (DNS names or IP addresses).
    pub fn new(names: &[&str]) -> OperatorCa {
        tether_certs::install_provider();
        let dir = tempfile::tempdir().expect("temp dir");
        let certs = tether_certs::DataDirCerts::in_dir(dir.path());
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        tether_certs::generate(&certs, &names).expect("making the operator CA");
        let chain = tether_certs::load_certs(&certs.server_cert).expect("server certificate");
        let key = tether_certs::load_key(&certs.server_key).expect("server key");
        let config = tether_certs::server_config(chain, key, tether_certs::TlsVersion::Tls12)
            .expect("server TLS config");
        OperatorCa { dir, config }
    }

    /// The CA certificate, for `ca_file`.
    pub fn ca_file(&self) -> PathBuf {
        tether_certs::DataDirCerts::in_dir(self.dir.path()).ca_cert
    }

    /// The directory holding it all.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

/// A receiver listening on a free port of `host` (`127.0.0.1` or `::1`).
#[derive(Debug)]
pub struct Receiver {
    listener: TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
}

impl Receiver {
    /// A plain HTTP receiver.
    pub fn http(host: &str) -> Receiver {
        Receiver { listener: bind(host), tls: None }
    }

    /// An HTTPS receiver with `ca`'s server certificate.
    pub fn https(host: &str, ca: &OperatorCa) -> Receiver {
        Receiver { listener: bind(host), tls: Some(ca.config.clone()) }
    }

    /// Its port.
    pub fn port(&self) -> u16 {
        self.listener.local_addr().expect("bound").port()
    }

    /// Serves the next request that arrives whole, answering `status`; connections that end
    /// before a whole request (a client that refused our certificate) are skipped. Panics if
    /// none arrives within [`PATIENCE`].
    pub fn serve_once(&self, status: u16) -> Request {
        let deadline = Instant::now() + PATIENCE;
        self.listener.set_nonblocking(true).expect("non-blocking listener");
        loop {
            let tcp = match self.listener.accept() {
                Ok((tcp, _)) => tcp,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    assert!(Instant::now() < deadline, "no webhook request arrived");
                    std::thread::sleep(Duration::from_millis(20));
                    continue;
                }
                Err(e) => panic!("accept: {e}"),
            };
            tcp.set_nonblocking(false).expect("blocking stream");
            tcp.set_read_timeout(Some(PATIENCE)).expect("read timeout");
            let served = match &self.tls {
                None => serve(tcp, status),
                Some(config) => match ServerConnection::new(config.clone()) {
                    Ok(conn) => serve(StreamOwned::new(conn, tcp), status),
                    Err(_) => continue,
                },
            };
            if let Some(request) = served {
                return request;
            }
        }
    }
}

fn bind(host: &str) -> TcpListener {
    let addr = if host.contains(':') { format!("[{host}]:0") } else { format!("{host}:0") };
    TcpListener::bind(addr).expect("binding the receiver")
}

/// Reads one request from `stream` and answers `status`; `None` if it ends first.
fn serve<S: Read + Write>(stream: S, status: u16) -> Option<Request> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        if h.trim().is_empty() {
            break;
        }
        let (name, value) = h.split_once(':')?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
    let len: usize = headers.iter().find(|(n, _)| n == "content-length")?.1.parse().ok()?;
    let mut body = vec![0; len];
    reader.read_exact(&mut body).ok()?;
    let mut stream = reader.into_inner();
    let reply = format!("HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    stream.write_all(reply.as_bytes()).ok()?;
    stream.flush().ok()?;
    Some(Request { line: line.trim().to_string(), headers, body })
}

/// An HTTP `CONNECT` proxy on a free loopback port, tunnelling to wherever it is asked.
#[derive(Debug, Clone)]
pub struct ConnectProxy {
    port: u16,
    tunnels: Arc<Mutex<Vec<String>>>,
}

impl ConnectProxy {
    /// Starts the proxy; it runs until the test ends.
    pub fn start() -> ConnectProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding the proxy");
        let port = listener.local_addr().expect("bound").port();
        let tunnels = Arc::new(Mutex::new(Vec::new()));
        let seen = tunnels.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().map_while(Result::ok) {
                let seen = seen.clone();
                std::thread::spawn(move || tunnel(client, &seen));
            }
        });
        ConnectProxy { port, tunnels }
    }

    /// `http://127.0.0.1:PORT`, for `HTTPS_PROXY`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The `host:port` of every tunnel asked for so far.
    pub fn tunnels(&self) -> Vec<String> {
        self.tunnels.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// Answers one `CONNECT target HTTP/1.1` and pipes bytes both ways.
fn tunnel(client: TcpStream, seen: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(client);
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).is_err() || h.trim().is_empty() {
            break;
        }
    }
    let mut parts = line.split_whitespace();
    let (Some("CONNECT"), Some(target)) = (parts.next(), parts.next()) else { return };
    seen.lock().unwrap_or_else(|p| p.into_inner()).push(target.to_string());
    let mut client = reader.into_inner();
    let Ok(upstream) = TcpStream::connect(target) else {
        let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n");
        return;
    };
    if client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n").is_err() {
        return;
    }
    let (Ok(mut c2), Ok(mut u2)) = (client.try_clone(), upstream.try_clone()) else { return };
    let mut upstream = upstream;
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut u2, &mut c2);
        let _ = c2.shutdown(std::net::Shutdown::Write);
    });
    let _ = std::io::copy(&mut client, &mut upstream);
    let _ = upstream.shutdown(std::net::Shutdown::Write);
}
