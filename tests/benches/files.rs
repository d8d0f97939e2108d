//! File transfer and screen sharing on one session through a real broker, each measured against
//! a baseline in the same run, on loopback and on a slow upload (20 Mbit/s, 20 ms, a deep
//! buffer: a customer at home):
//! - screen-frame latency, customer to technician, with the session otherwise idle and while a
//!   file moves the same way (the goal: within 2× of idle);
//! - file throughput (windowed, acknowledged, SHA-256 verified and written to disk by the same
//!   code the agent and console use) against the relay's raw throughput for the same frames
//!   sent without flow control, or against the link's rate.
//!
//! Run with `cargo bench -p tether-e2e --bench files`; prints a table.

use std::path::Path;
use std::time::{Duration, Instant};

use bytes::{BufMut, BytesMut};
use tether_client::transfer::{Incoming, Outgoing, control_frame};
use tether_client::{Connection, Incoming as Received};
use tether_e2e::broker::Broker;
use tether_e2e::raw;
use tether_e2e::relay::Relay;
use tether_protocol::{
    Capability, Channel, ClientMessage, FILE_CHUNK, FileMsg, Frame, HEADER_LEN, ServerMessage,
    decode_data, encode_data_header, file_flags,
};

const MIB: u64 = 1 << 20;
/// The file moved while the screen is measured, on loopback and on the slow link.
const FILE_BYTES: u64 = 256 * MIB;
const SLOW_FILE_BYTES: u64 = 16 * MIB;
/// The slow link: kbit/s and added round trip.
const SLOW_KBIT: u64 = 20_000;
const SLOW_DELAY_MS: u64 = 20;
/// Bytes pushed for the raw relay rate.
const RAW_BYTES: u64 = 512 * MIB;
/// A screen frame: an encoded update of a changing screen region (30 a second: 3.9 Mbit/s).
const SCREEN_BYTES: usize = 16 * 1024;
/// 30 frames a second.
const SCREEN_INTERVAL: Duration = Duration::from_millis(33);
/// How long the idle screen is measured.
const IDLE_FOR: Duration = Duration::from_secs(4);

fn main() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let broker = Broker::start();
    let token = broker.technician("alice").token();
    let dir = tempfile::tempdir().unwrap();
    let (big, small) = (dir.path().join("big.bin"), dir.path().join("small.bin"));
    write_random(&big, FILE_BYTES);
    write_random(&small, SLOW_FILE_BYTES);
    println!("files benchmark (2 cores, release build)\n");

    let raw_rates: Vec<f64> = (0..3).map(|_| rt.block_on(raw_rate(&broker, &token))).collect();
    let raw_rate = median(raw_rates);
    let url = broker.url();
    let idle = rt.block_on(screen_with(&broker, &token, &url, None, dir.path()));
    let busy = rt.block_on(screen_with(&broker, &token, &url, Some(&big), dir.path()));
    let slow = Relay::limited(&broker, SLOW_DELAY_MS, SLOW_KBIT);
    let slow_idle = rt.block_on(screen_with(&broker, &token, &slow.url, None, dir.path()));
    let slow_busy = rt.block_on(screen_with(&broker, &token, &slow.url, Some(&small), dir.path()));
    let link_rate = SLOW_KBIT as f64 / 8e3;

    println!("| measurement | baseline | with | ratio |");
    println!("| --- | ---: | ---: | ---: |");
    for (link, idle, busy, size) in [
        ("loopback", &idle, &busy, FILE_BYTES),
        ("20 Mbit/s upload", &slow_idle, &slow_busy, SLOW_FILE_BYTES),
    ] {
        let mib = size / MIB;
        for (what, base, with) in [
            ("median", idle.median, busy.median),
            ("p95", idle.p95, busy.p95),
            ("max", idle.max, busy.max),
        ] {
            println!(
                "| {link}: screen latency {what}, ms (idle / during a {mib} MiB transfer) | {base:.2} | {with:.2} | {:.2} |",
                with / base
            );
        }
        println!(
            "| {link}: screen frames a second (idle / during the transfer) | {:.1} | {:.1} | {:.2} |",
            idle.fps,
            busy.fps,
            busy.fps / idle.fps
        );
    }
    let transfer = busy.transfer_mbps.expect("the transfer finished");
    println!(
        "| loopback: MB/s (raw 64 KiB file frames / verified file transfer) | {raw_rate:.1} | {transfer:.1} | {:.2} |",
        transfer / raw_rate
    );
    let slow_transfer = slow_busy.transfer_mbps.expect("the slow transfer finished");
    println!(
        "| 20 Mbit/s upload: MB/s (link rate / verified file transfer) | {link_rate:.2} | {slow_transfer:.2} | {:.2} |",
        slow_transfer / link_rate
    );
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn write_random(path: &Path, size: u64) {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let mut block = vec![0u8; MIB as usize];
    for _ in 0..size / MIB {
        for chunk in block.chunks_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            chunk.copy_from_slice(&x.to_le_bytes());
        }
        out.write_all(&block).unwrap();
    }
    out.flush().unwrap();
}

/// A paired session in which the customer has granted view and files.
async fn session(broker: &Broker, token: &str, agent_url: &str) -> (Connection, Connection) {
    let (mut agent, mut console) =
        raw::paired_via(agent_url, &broker.url(), &broker.ca(), token).await;
    for capability in [Capability::View, Capability::Files] {
        agent.send(&ClientMessage::Consent { capability, granted: true }).await.unwrap();
        loop {
            if let ServerMessage::ConsentChanged { capability: c, granted: true } =
                console.recv_control().await.unwrap()
                && c == capability
            {
                break;
            }
        }
    }
    (agent, console)
}

/// MB/s of 64 KiB file frames pushed from agent to console as fast as they go.
async fn raw_rate(broker: &Broker, token: &str) -> f64 {
    let (agent, console) = session(broker, token, &broker.url()).await;
    let (atx, _arx, _aw) = agent.split();
    let (_ctx, mut crx, _cw) = console.split();
    let mut payload = encode_data_header(1, 0).to_vec();
    payload.resize(payload.len() + FILE_CHUNK, 7);
    let frame = Frame::encode(Channel::File, file_flags::DATA, &payload).unwrap();
    let frames = RAW_BYTES / FILE_CHUNK as u64;
    let start = Instant::now();
    let sender = tokio::spawn(async move {
        for _ in 0..frames {
            atx.frame(frame.clone()).await.unwrap();
        }
        atx
    });
    let mut bytes = 0u64;
    let mut received = 0;
    while received < frames {
        if let Received::Frame(h, b) = crx.recv().await.unwrap()
            && h.channel == Channel::File
        {
            received += 1;
            bytes += b.len() as u64;
        }
    }
    let rate = bytes as f64 / 1e6 / start.elapsed().as_secs_f64();
    drop(sender.await);
    rate
}

#[derive(Debug)]
struct ScreenStats {
    median: f64,
    p95: f64,
    max: f64,
    fps: f64,
    transfer_mbps: Option<f64>,
}

/// Screen frames at 30 a second from agent to console, each stamped with its send time; with
/// `file`, that file moves from agent to console at the same time (as `get-file` does), and
/// the measurement lasts as long as the transfer.
async fn screen_with(
    broker: &Broker,
    token: &str,
    agent_url: &str,
    file: Option<&Path>,
    dir: &Path,
) -> ScreenStats {
    let (agent, console) = session(broker, token, agent_url).await;
    let (atx, mut arx, _aw) = agent.split();
    let (ctx, mut crx, _cw) = console.split();
    let screen_tx = atx.clone();
    // The customer's side of the transfer: send within the window the acks open.
    let mut incoming = None;
    let size = match file {
        Some(path) => std::fs::metadata(path).unwrap().len(),
        None => 0,
    };
    let sending = match file {
        Some(path) => {
            let mut out = Outgoing::open(1, path).await.unwrap();
            let (name, size, sha256) = (&out.name, out.size, &out.sha256);
            incoming = Some(Incoming::begin(1, name, size, sha256, dir).await.unwrap().0);
            out.start(0).await.unwrap();
            Some(tokio::spawn(async move {
                loop {
                    while let Some(frame) = out.next_frame().await.unwrap() {
                        atx.frame(frame).await.unwrap();
                    }
                    if out.all_sent() {
                        break;
                    }
                    // Wait for the technician's side to acknowledge.
                    while let Ok(Received::Frame(h, b)) = arx.recv().await {
                        if h.channel == Channel::File
                            && let Ok(FileMsg::Ack { received, .. }) =
                                FileMsg::decode(&b[HEADER_LEN..])
                        {
                            out.acked(received);
                            break;
                        }
                    }
                }
            }))
        }
        None => None,
    };

    let epoch = Instant::now();

    // The customer's screen.
    let screen = tokio::spawn(async move {
        let mut tick = tokio::time::interval(SCREEN_INTERVAL);
        loop {
            tick.tick().await;
            let mut frame = BytesMut::with_capacity(HEADER_LEN + SCREEN_BYTES);
            frame.put_u8(Channel::Screen.as_u8());
            frame.put_u8(0);
            frame.put_u64(epoch.elapsed().as_nanos() as u64);
            frame.resize(HEADER_LEN + SCREEN_BYTES, 0x55);
            if !screen_tx.frame_if_room(frame.freeze()) {
                break;
            }
        }
    });

    // The technician's side: latency of every screen frame; the file written and verified.
    let start = Instant::now();
    let mut latencies = Vec::new();
    let mut transfer_secs = None;
    loop {
        let left = match file {
            Some(_) if transfer_secs.is_some() => break,
            Some(_) => Duration::from_secs(600),
            None => IDLE_FOR.saturating_sub(start.elapsed()),
        };
        let (h, b) = match tokio::time::timeout(left, crx.recv()).await {
            Ok(Ok(Received::Frame(h, b))) => (h, b),
            Ok(Ok(Received::Control(_))) => continue,
            _ => break,
        };
        match h.channel {
            Channel::Screen => {
                let sent = u64::from_be_bytes(b[HEADER_LEN..HEADER_LEN + 8].try_into().unwrap());
                let now = epoch.elapsed().as_nanos() as u64;
                latencies.push(now.saturating_sub(sent) as f64 / 1e6);
            }
            Channel::File => {
                let Some(file_in) = incoming.as_mut() else { continue };
                let (_, offset, data) = decode_data(&b[HEADER_LEN..]).unwrap();
                let received = file_in.write(offset, data).await.unwrap();
                ctx.frame(control_frame(&FileMsg::Ack { id: 1, received })).await.unwrap();
                if file_in.complete() {
                    let done = incoming.take().unwrap();
                    done.finish().await.expect("the file verifies");
                    transfer_secs = Some(start.elapsed().as_secs_f64());
                }
            }
            _ => {}
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    screen.abort();
    if let Some(sending) = sending {
        sending.await.unwrap();
    }
    latencies.sort_by(f64::total_cmp);
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize];
    ScreenStats {
        median: at(0.5),
        p95: at(0.95),
        max: at(1.0),
        fps: latencies.len() as f64 / elapsed,
        transfer_mbps: transfer_secs.map(|s| size as f64 / 1e6 / s),
    }
}
