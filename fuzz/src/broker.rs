//! The `broker_conn` harness: one real broker per fuzz process (`tether_broker::run` on a
//! loopback port, in a fresh data directory with a few accounts), and playing a
//! [`Script`] against it over real TLS websockets. Set `TETHER_FUZZ_DEBUG` to see each step and
//! what the broker answers (for reading a reproducer; run the binary directly with
//! `ASAN_OPTIONS=detect_odr_violation=0`, as `cargo fuzz run` does, for the bundled SQLite).
//!
//! A script's connections are read only at settle points: after a step that asks for it and
//! at the end, the harness pings and reads up to the pong (twice: see `Peer::settle`), so it
//! never sleeps. What the broker
//! sends must decode, and it must never blame itself (an `internal` or `recording_failed`
//! error); after every script a fresh agent must still be welcomed. A panic in any broker
//! task aborts the process (libfuzzer-sys installs an aborting panic hook), so it is a crash.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use rustls::ClientConfig;
use tether_broker::{Config, DataDir, RunError};
use tether_client::{BrokerAddr, WsStream};
use tether_protocol::{Credential, FrameHeader, Role, Secret, ServerMessage};
use tokio::net::TcpListener;
use tokio::runtime::Runtime;
use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;

use crate::script::{CONNECTIONS, Context, MAX_STEPS, Memory, Script, Send, USERS, password};

/// How long a settle point waits for the broker to answer a ping. A broker that reads
/// nothing this long is not wrong (it may be busy with that peer), so the connection is only
/// given up.
const SETTLE: Duration = Duration::from_secs(5);
/// How long a fresh connection may take to be welcomed after a script.
const SERVING: Duration = Duration::from_secs(20);
/// Pings in the broker's bandwidth check (the fewest it allows).
const BANDWIDTH_PINGS: u32 = 3;
/// Data directories are named this plus the fuzz process's id.
const DIR_PREFIX: &str = "tether-fuzz-broker-";

/// The broker and what clients need to reach it.
#[derive(Debug)]
pub struct Harness {
    rt: Runtime,
    addr: BrokerAddr,
    tls: Arc<ClientConfig>,
    /// A bearer token per account in [`USERS`].
    tokens: Vec<String>,
    server: JoinHandle<Result<(), RunError>>,
    /// `TETHER_FUZZ_DEBUG` is set: print each step and what the broker says.
    debug: bool,
    _sigpipe: Signal,
}

static HARNESS: OnceLock<Harness> = OnceLock::new();

impl Harness {
    /// The process's broker, started on first use.
    pub fn get() -> &'static Harness {
        HARNESS.get_or_init(Harness::start)
    }

    fn start() -> Harness {
        tether_certs::install_provider();
        let dir = DataDir::new(data_dir());
        dir.init(&[]).expect("initialising the broker's data directory");
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime");
        rt.block_on(async {
            let store = tether_store::open(&dir.database()).expect("opening the store");
            for (name, role) in USERS {
                let secret = Secret::new(password(name));
                tether_access::accounts::add(&*store, name, role, &[], &secret)
                    .await
                    .expect("adding an account");
            }
            store.flush().await;
        });
        // libFuzzer's C++ main, unlike a Rust main, leaves SIGPIPE fatal: a write to a socket
        // the other side dropped would kill the fuzzer. Handling it (and never reading the
        // stream) ignores it for the life of the process, without unsafe code.
        let sigpipe = rt.block_on(async { signal(SignalKind::pipe()) }).expect("handling SIGPIPE");
        let listener = rt.block_on(TcpListener::bind("127.0.0.1:0")).expect("binding loopback");
        let port = listener.local_addr().expect("the bound address").port();
        let server =
            rt.spawn({
                let dir = dir.clone();
                async move {
                    tether_broker::run(listener, &dir, config(), CancellationToken::new()).await
                }
            });
        let addr: BrokerAddr = format!("wss://127.0.0.1:{port}").parse().expect("broker address");
        let tls = tether_certs::client_config(&dir.certs().ca_cert).expect("client TLS config");
        let tokens = rt.block_on(async {
            let mut tokens = Vec::new();
            for (name, _) in USERS {
                let credential = Credential::Password {
                    user: name.to_string(),
                    password: Secret::new(password(name)),
                };
                let (_, welcome) =
                    tether_client::connect(&addr, tls.clone(), Role::Console, credential)
                        .await
                        .expect("logging in an account");
                tokens.push(welcome.token.expect("a token after a password login").into_inner());
            }
            tokens
        });
        let debug = std::env::var_os("TETHER_FUZZ_DEBUG").is_some();
        Harness { rt, addr, tls, tokens, server, debug, _sigpipe: sigpipe }
    }

    /// Plays `script`, then checks the broker still welcomes a fresh agent.
    pub fn play(&self, script: &Script) {
        assert!(!self.server.is_finished(), "the broker's run task ended");
        self.rt.block_on(async {
            let mut peers: Vec<Option<Peer>> = (0..CONNECTIONS).map(|_| None).collect();
            let mut memory = Memory::default();
            for step in script.steps.iter().take(MAX_STEPS) {
                let conn = usize::from(step.conn) % CONNECTIONS;
                if self.debug {
                    trace(format_args!("[{conn}] {:?}", step.send));
                }
                let slot = &mut peers[conn];
                if step.send.drops() {
                    *slot = None;
                    continue;
                }
                let cx = Context {
                    memory: &memory,
                    tokens: &self.tokens,
                    now: tether_store::unix_now(),
                    pings: BANDWIDTH_PINGS,
                };
                let messages = step.send.messages(&cx);
                if slot.is_none() {
                    *slot = Some(Peer { ws: self.connect().await, conn, done: false, pings: 0 });
                }
                let Some(peer) = slot.as_mut() else { continue };
                for msg in messages {
                    peer.send(msg).await;
                }
                if step.settle || matches!(step.send, Send::Settle) {
                    peer.settle(&mut memory, self.debug).await;
                }
            }
            for peer in peers.iter_mut().flatten() {
                peer.settle(&mut memory, self.debug).await;
            }
            drop(peers);
            self.assert_serving().await;
        });
    }

    async fn connect(&self) -> WsStream {
        tether_client::connect_tls(&self.addr, self.tls.clone())
            .await
            .unwrap_or_else(|e| panic!("the broker refused a connection: {e}"))
    }

    async fn assert_serving(&self) {
        let hello =
            tether_client::connect(&self.addr, self.tls.clone(), Role::Agent, Credential::None);
        match tokio::time::timeout(SERVING, hello).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => panic!("the broker no longer welcomes agents: {e}"),
            Err(_) => panic!("the broker no longer welcomes agents: nothing within {SERVING:?}"),
        }
    }
}

/// One of a script's connections.
struct Peer {
    ws: WsStream,
    conn: usize,
    /// Given up: closed, failed, or silent past [`SETTLE`].
    done: bool,
    pings: u32,
}

impl Peer {
    async fn send(&mut self, msg: Message) {
        if !self.done && self.ws.send(msg).await.is_err() {
            self.done = true;
        }
    }

    /// Reads everything the broker has to say about what was sent so far, checking it.
    ///
    /// One ping is not enough: the broker answers a ping as it reads it, while its other
    /// messages wait in the connection's outbox for the writer task, which may not have run
    /// yet if the reader found everything it needed already buffered. By the second pong the
    /// reader has been idle, so the writer has had its turn.
    async fn settle(&mut self, memory: &mut Memory, debug: bool) {
        for _ in 0..2 {
            if self.done {
                return;
            }
            let answered = tokio::time::timeout(SETTLE, self.round_trip(memory, debug)).await;
            if debug {
                trace(format_args!("[{}] settled: {answered:?}", self.conn));
            }
            self.done = !matches!(answered, Ok(true));
        }
    }

    /// Pings and reads up to the pong; false if the connection closed first.
    async fn round_trip(&mut self, memory: &mut Memory, debug: bool) -> bool {
        self.pings += 1;
        let nonce = Bytes::from(format!("tether-fuzz-settle-{}", self.pings));
        if self.ws.send(Message::Ping(nonce.clone())).await.is_err() {
            return false;
        }
        while let Some(msg) = self.ws.next().await {
            match msg {
                Ok(Message::Text(text)) => {
                    if debug {
                        let shown: String = text.chars().take(300).collect();
                        trace(format_args!("[{}] <- {shown}", self.conn));
                    }
                    let msg = ServerMessage::decode(&text)
                        .unwrap_or_else(|e| panic!("the broker sent {text:?}: {e}"));
                    if let ServerMessage::Error { code, message, .. } = &msg {
                        assert!(!code.is_ours(), "the broker failed: {code}: {message}");
                    }
                    memory.note(&msg);
                }
                Ok(Message::Binary(bytes)) => {
                    if let Err(e) = FrameHeader::decode(&bytes) {
                        panic!("the broker sent a bad frame: {e}");
                    }
                }
                Ok(Message::Pong(p)) if p == nonce => return true,
                Ok(Message::Close(_)) | Err(_) => return false,
                Ok(_) => {}
            }
        }
        false
    }
}

/// Limits a fuzzer needs: every connection comes from 127.0.0.1, so the per-source failure
/// limits would soon block it; timeouts are short so abandoned connections go quickly.
fn config() -> Config {
    let mut config = Config::default();
    config.auth.max_failures_per_source = u32::MAX;
    config.auth.failure_window_secs = 1;
    config.codes.max_failures_per_source = u32::MAX;
    config.codes.failure_window_secs = 1;
    config.codes.max_failures_per_code = Some(u32::MAX);
    config.limits.handshake_timeout_secs = 5;
    config.limits.idle_timeout_secs = 3;
    config.limits.ping_interval_secs = 1;
    config.limits.stall_timeout_secs = 2;
    config.limits.shutdown_grace_secs = 1;
    config.bandwidth.pings = BANDWIDTH_PINGS;
    config.bandwidth.max_secs = 0.1;
    config.bandwidth.max_bytes = 64 * 1024;
    config.bandwidth.quality_interval_secs = 1;
    config
}

/// A fresh data directory for this process. The harness lives as long as the process, so
/// nothing removes it on exit; directories of processes that have ended are removed here.
fn data_dir() -> PathBuf {
    let tmp = std::env::temp_dir();
    for entry in std::fs::read_dir(&tmp).into_iter().flatten().flatten() {
        let name = entry.file_name();
        if let Some(pid) = name.to_string_lossy().strip_prefix(DIR_PREFIX)
            && !Path::new("/proc").join(pid).exists()
        {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
    let dir = tmp.join(format!("{DIR_PREFIX}{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Prints a debugging line. Not `eprintln!`, which panics when standard error is a closed pipe
/// (`... | head`), and a panic here would be taken for a crash.
fn trace(line: std::fmt::Arguments<'_>) {
    let _ = writeln!(std::io::stderr(), "{line}");
}
