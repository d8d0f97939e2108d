//! Transcript cost, measured against baselines in the same run:
//! - records appended per second by the transcript writer alone, and while a real broker
//!   relays bulk traffic on the same two cores;
//! - chat messages relayed per second through a real broker with transcripts off and on.
//!
//! Run with `cargo bench -p tether-e2e --bench transcripts`; prints a table.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde_json::json;
use tether_client::{Connection, Incoming};
use tether_e2e::broker::Broker;
use tether_e2e::raw;
use tether_protocol::{Capability, Channel, ClientMessage, Frame, Role};
use tether_transcript::{Actor, Entry, SigningKey, Transcript};

const RECORDS: usize = 200_000;
const CHATS: usize = 20_000;

fn main() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    println!("transcript benchmark (2 cores, loopback; each figure the median of 3 runs)\n");
    let alone = median(|| rt.block_on(writer_rate()));
    let busy = {
        let broker = Broker::start();
        let alice = broker.technician("alice");
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let relay = {
            let (url, ca, token) = (broker.url(), broker.ca(), alice.token());
            std::thread::spawn(move || {
                let rt = tokio::runtime::Runtime::new().unwrap();
                rt.block_on(bulk_relay(url, ca, token, rx))
            })
        };
        let rate = median(|| rt.block_on(writer_rate()));
        drop(tx);
        let relayed = relay.join().unwrap();
        (rate, relayed)
    };
    let chat_off = median(|| rt.block_on(chat_rate("[transcripts]\nenabled = false\n")));
    let chat_on = median(|| rt.block_on(chat_rate("")));

    println!("| measurement | baseline | with | ratio |");
    println!("| --- | ---: | ---: | ---: |");
    println!(
        "| transcript records appended per second (writer alone / while the relay moves {:.0} MB/s) | {:.0} | {:.0} | {:.2} |",
        busy.1,
        alone,
        busy.0,
        busy.0 / alone
    );
    println!(
        "| chat messages relayed per second (transcripts off / on) | {:.0} | {:.0} | {:.2} |",
        chat_off,
        chat_on,
        chat_on / chat_off
    );
}

fn median(mut f: impl FnMut() -> f64) -> f64 {
    let mut v: Vec<f64> = (0..3).map(|_| f()).collect();
    v.sort_by(|a, b| a.total_cmp(b));
    v[1]
}

/// Records per second through the writer into a real file, sealed and fsynced at the end.
async fn writer_rate() -> f64 {
    let dir = tempfile::tempdir().unwrap();
    let key_path = dir.path().join("k");
    std::fs::write(&key_path, SigningKey::generate_pem().unwrap()).unwrap();
    let key = Arc::new(SigningKey::load(&key_path).unwrap());
    let first = Entry::now(Actor::broker(), "session_started", json!({"session": "bench"}));
    let start = Instant::now();
    let (t, _failed) =
        Transcript::open(dir.path().join("t.jsonl"), "bench".into(), key, vec![first]);
    let actor = Actor::of(Role::Agent, "bench customer");
    for i in 0..RECORDS {
        let text = format!("chat message number {i} with a typical length of text");
        t.record(Entry::now(actor.clone(), "chat", json!({ "text": text }))).await;
    }
    t.finish(Vec::new()).unwrap().await.unwrap().unwrap();
    RECORDS as f64 / start.elapsed().as_secs_f64()
}

/// A paired session over library clients: (agent, console).
async fn session(url: &str, ca: &std::path::Path, token: &str) -> (Connection, Connection) {
    raw::paired(url, ca, token).await
}

/// Relays 512 KiB screen frames as fast as the console reads them until `stop` closes;
/// returns MB/s relayed.
async fn bulk_relay(
    url: String,
    ca: std::path::PathBuf,
    token: String,
    stop: std::sync::mpsc::Receiver<()>,
) -> f64 {
    let (mut agent, console) = session(&url, &ca, &token).await;
    agent
        .send(&ClientMessage::Consent { capability: Capability::View, granted: true })
        .await
        .unwrap();
    let (_cs, mut crx, _cw) = console.split();
    let (atx, _arx, _aw) = agent.split();
    let frame = Frame::encode(Channel::Screen, 0, &vec![7u8; 512 * 1024]).unwrap();
    let sender = tokio::spawn(async move {
        loop {
            if atx.frame(frame.clone()).await.is_err() {
                break;
            }
        }
    });
    let start = Instant::now();
    let mut bytes = 0u64;
    while stop.try_recv() == Err(std::sync::mpsc::TryRecvError::Empty) {
        if let Ok(Ok(Incoming::Frame(_, b))) =
            tokio::time::timeout(Duration::from_millis(200), crx.recv()).await
        {
            bytes += b.len() as u64;
        }
    }
    sender.abort();
    bytes as f64 / 1e6 / start.elapsed().as_secs_f64()
}

/// Chat messages per second from agent to console through a broker with `config`.
async fn chat_rate(config: &str) -> f64 {
    let broker = Broker::start_with_config(config);
    let alice = broker.technician("alice");
    let (agent, console) = session(&broker.url(), &broker.ca(), &alice.token()).await;
    let (atx, _arx, _aw) = agent.split();
    let (_ctx, mut crx, _cw) = console.split();
    let message: Bytes = Frame::encode(Channel::Chat, 0, &[b'x'; 100]).unwrap();
    let start = Instant::now();
    let sender = tokio::spawn(async move {
        for _ in 0..CHATS {
            atx.frame(message.clone()).await.unwrap();
        }
        atx
    });
    let mut received = 0;
    while received < CHATS {
        if let Incoming::Frame(h, _) = crx.recv().await.unwrap()
            && h.channel == Channel::Chat
        {
            received += 1;
        }
    }
    let rate = CHATS as f64 / start.elapsed().as_secs_f64();
    drop(sender.await);
    rate
}
