//! The measurements, the same for any relay: throughput of file-sized frames one way and both
//! ways over 1 and many pairs, 64-byte round trips, and setting pairs up. Only frames of the
//! file channel count, so the broker's own probes and notices are ignored.

use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use tether_client::WsStream;
use tether_protocol::{Channel, FILE_CHUNK, Frame, encode_data_header, file_flags};
use tokio_tungstenite::tungstenite::Message;

use crate::pairs::Pair;

/// A file data frame with `len` bytes of payload.
pub(crate) fn data_frame(len: usize) -> Bytes {
    let mut payload = encode_data_header(1, 0).to_vec();
    payload.resize(payload.len() + len, 0x5a);
    // Within the file channel's limit by construction.
    Frame::encode(Channel::File, file_flags::DATA, &payload).unwrap_or_default()
}

fn is_data(msg: &Message) -> Option<usize> {
    match msg {
        Message::Binary(b) if b.first() == Some(&Channel::File.as_u8()) => Some(b.len()),
        _ => None,
    }
}

/// Pushes `bytes` of frames with `len` bytes of payload from `from` to `to`; returns what
/// arrived.
async fn push(from: &mut WsStream, to: &mut WsStream, bytes: u64, len: usize) -> u64 {
    let (tx, _) = split(from);
    let (_, rx) = split(to);
    push_split(tx, rx, bytes, len).await
}

/// MB/s of frames with `len` bytes of payload, `bytes` in all, agent to console over one pair.
pub(crate) async fn one_way(pair: &mut Pair, bytes: u64, len: usize) -> f64 {
    let start = Instant::now();
    let (agent, console) = pair;
    let moved = push(agent, console, bytes, len).await;
    moved as f64 / 1e6 / start.elapsed().as_secs_f64()
}

/// MB/s over `pairs`, each moving `per_pair` bytes one way (agent to console) or both ways at
/// once; all pairs at the same time.
pub(crate) async fn throughput(pairs: &mut [Pair], per_pair: u64, both: bool) -> f64 {
    let start = Instant::now();
    let moved: u64 = futures_util::future::join_all(pairs.iter_mut().map(|(a, c)| async move {
        if both {
            let (a_tx, a_rx) = split(a);
            let (c_tx, c_rx) = split(c);
            let (x, y) = tokio::join!(
                push_split(a_tx, c_rx, per_pair, FILE_CHUNK),
                push_split(c_tx, a_rx, per_pair, FILE_CHUNK)
            );
            x + y
        } else {
            push(a, c, per_pair, FILE_CHUNK).await
        }
    }))
    .await
    .into_iter()
    .sum();
    moved as f64 / 1e6 / start.elapsed().as_secs_f64()
}

type Tx<'a> = futures_util::stream::SplitSink<&'a mut WsStream, Message>;
type Rx<'a> = futures_util::stream::SplitStream<&'a mut WsStream>;

fn split(ws: &mut WsStream) -> (Tx<'_>, Rx<'_>) {
    StreamExt::split(ws)
}

async fn push_split(mut tx: Tx<'_>, mut rx: Rx<'_>, bytes: u64, len: usize) -> u64 {
    let frame = data_frame(len);
    let frames = bytes.div_ceil(frame.len() as u64);
    let send = async {
        for _ in 0..frames {
            if tx.feed(Message::Binary(frame.clone())).await.is_err() {
                break;
            }
        }
        let _ = tx.flush().await;
    };
    let receive = async {
        let (mut got, mut count) = (0u64, 0u64);
        while count < frames {
            match rx.next().await {
                Some(Ok(msg)) => {
                    if let Some(n) = is_data(&msg) {
                        got += n as u64;
                        count += 1;
                    }
                }
                _ => break,
            }
        }
        got
    };
    let ((), got) = tokio::join!(send, receive);
    got
}

/// Round trips of a 64-byte frame: console to agent and back, `n` times; (p50, p99) in µs.
pub(crate) async fn round_trips(pair: &mut Pair, n: usize) -> (f64, f64) {
    let (agent, console) = pair;
    let frame = data_frame(64 - 14);
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let start = Instant::now();
        if console.send(Message::Binary(frame.clone())).await.is_err() {
            break;
        }
        // The agent echoes what it gets.
        loop {
            match agent.next().await {
                Some(Ok(msg)) if is_data(&msg).is_some() => {
                    let _ = agent.send(msg).await;
                    break;
                }
                Some(Ok(_)) => {}
                _ => return (f64::NAN, f64::NAN),
            }
        }
        loop {
            match console.next().await {
                Some(Ok(msg)) if is_data(&msg).is_some() => break,
                Some(Ok(_)) => {}
                _ => return (f64::NAN, f64::NAN),
            }
        }
        times.push(start.elapsed().as_secs_f64() * 1e6);
    }
    times.sort_by(f64::total_cmp);
    let at = |q: f64| times[((times.len() - 1) as f64 * q) as usize];
    (at(0.5), at(0.99))
}

/// Sets up `n` pairs with at most `parallel` in flight; returns the pairs made, the failures
/// and the pairs per second.
pub(crate) async fn set_up(
    target: &crate::pairs::Target,
    tls: std::sync::Arc<rustls::ClientConfig>,
    first: usize,
    n: usize,
    parallel: usize,
) -> (Vec<Pair>, usize, f64) {
    let gate = std::sync::Arc::new(tokio::sync::Semaphore::new(parallel));
    let start = Instant::now();
    let tasks: Vec<_> = (first..first + n)
        .map(|i| {
            let (target, tls, gate) = (target.clone(), tls.clone(), gate.clone());
            tokio::spawn(async move {
                let _permit = gate.acquire_owned().await;
                tokio::time::timeout(Duration::from_secs(120), crate::pairs::pair(&target, tls, i))
                    .await
                    .map_err(anyhow::Error::from)
                    .and_then(|r| r)
            })
        })
        .collect();
    let mut pairs = Vec::with_capacity(n);
    let mut failed = 0;
    let mut first_error = None;
    for t in tasks {
        match t.await {
            Ok(Ok(p)) => pairs.push(p),
            Ok(Err(e)) => {
                failed += 1;
                first_error.get_or_insert(e.to_string());
            }
            Err(_) => failed += 1,
        }
    }
    if let Some(e) = first_error {
        eprintln!("  {failed} pairings failed; the first: {e}");
    }
    let rate = pairs.len() as f64 / start.elapsed().as_secs_f64();
    (pairs, failed, rate)
}
