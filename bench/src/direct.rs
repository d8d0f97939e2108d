//! The direct path against the relay, in the same run: 64-byte round trips (an input event
//! and its echo) and one-way throughput of 32 KiB frames (screen-update sized), through a
//! release broker between a real agent and console pair, and over a WebRTC direct path on
//! loopback made with `tether-direct` as agent and console make it. Then [`session`]: whole
//! sessions of the real agent and console, for how much of the screen goes direct and how
//! soon the path is back after a cut.

mod session;

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tether_direct::{DirectEvent, DirectPath, Setup};
use tether_protocol::{Channel, Frame, screen_flags};
use tokio::sync::mpsc;

use crate::load;
use crate::procs::Relay;

/// What the direct-path run is told.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DirectRun {
    /// Round trips to time.
    pub(crate) round_trips: usize,
    /// MiB to move one way.
    pub(crate) mib: u64,
    /// Seconds of the loopback session whose screen updates are counted (0: none).
    pub(crate) session_secs: u64,
    /// Cuts of the private link (0: none), each `cut_secs` long, `between_secs` apart.
    pub(crate) cuts: usize,
    pub(crate) cut_secs: u64,
    pub(crate) between_secs: u64,
}

const FRAME: usize = 32 * 1024;

type Events = mpsc::UnboundedReceiver<DirectEvent>;

/// Two ends of a direct path on loopback, signalled through channels.
async fn direct_pair() -> anyhow::Result<(Arc<dyn DirectPath>, Events, Arc<dyn DirectPath>, Events)>
{
    let (a_sig, mut a_sig_rx) = mpsc::unbounded_channel();
    let (b_sig, mut b_sig_rx) = mpsc::unbounded_channel();
    let (a_ev, mut a_events) = mpsc::unbounded_channel();
    let (b_ev, mut b_events) = mpsc::unbounded_channel();
    let reach = tether_direct::Reach::new(&["127.0.0.0/8".into()]);
    let setup = |offerer| Setup {
        offerer,
        ice_servers: Vec::new(),
        bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
        reach: reach.clone(),
    };
    let b = tether_direct::open(setup(false), b_sig, b_ev).await?;
    let a = tether_direct::open(setup(true), a_sig, a_ev).await?;
    let (to_b, to_a) = (b.clone(), a.clone());
    tokio::spawn(async move {
        while let Some(s) = a_sig_rx.recv().await {
            let _ = to_b.signal(s).await;
        }
    });
    tokio::spawn(async move {
        while let Some(s) = b_sig_rx.recv().await {
            let _ = to_a.signal(s).await;
        }
    });
    for events in [&mut a_events, &mut b_events] {
        let up = async {
            while let Some(e) = events.recv().await {
                if e == DirectEvent::Up {
                    return true;
                }
            }
            false
        };
        anyhow::ensure!(
            tokio::time::timeout(Duration::from_secs(20), up).await.unwrap_or(false),
            "the direct path did not come up"
        );
    }
    Ok((a, a_events, b, b_events))
}

async fn next_frame(events: &mut Events) -> Option<Bytes> {
    while let Some(e) = events.recv().await {
        if let DirectEvent::Frame(f) = e {
            return Some(f);
        }
    }
    None
}

fn input_frame(len: usize) -> Bytes {
    Frame::encode(Channel::Input, 1, &vec![0x42; len]).unwrap_or_default()
}

/// Round trips over the direct path's reliable channel: (p50, p99) µs.
async fn direct_round_trips(
    a: &Arc<dyn DirectPath>,
    a_events: &mut Events,
    b: &Arc<dyn DirectPath>,
    b_events: &mut Events,
    n: usize,
) -> (f64, f64) {
    let frame = input_frame(64 - 2);
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let start = Instant::now();
        if !b.send(frame.clone()).await {
            break;
        }
        let Some(got) = next_frame(a_events).await else { break };
        a.send(got).await;
        if next_frame(b_events).await.is_none() {
            break;
        }
        times.push(start.elapsed().as_secs_f64() * 1e6);
    }
    times.sort_by(f64::total_cmp);
    let at = |q: f64| times.get(((times.len().max(1) - 1) as f64 * q) as usize).copied();
    (at(0.5).unwrap_or(f64::NAN), at(0.99).unwrap_or(f64::NAN))
}

/// MB/s of 32 KiB screen updates one way over the direct path's screen channel (unordered,
/// no retransmits, as the agent sends them), waiting for room rather than dropping; with the
/// share of frames delivered.
async fn direct_throughput(
    a: &Arc<dyn DirectPath>,
    b_events: &mut Events,
    bytes: u64,
) -> (f64, f64) {
    let payload = vec![0x3c; FRAME - 2];
    let frame = Frame::encode(Channel::Screen, screen_flags::UPDATE, &payload).unwrap_or_default();
    let frames = bytes.div_ceil(frame.len() as u64);
    let start = Instant::now();
    let send = async {
        'frames: for _ in 0..frames {
            let since = Instant::now();
            while !a.send(frame.clone()).await {
                if since.elapsed() > Duration::from_secs(2) {
                    eprintln!("direct: the screen channel took nothing for 2 s; stopping");
                    break 'frames;
                }
                tokio::time::sleep(Duration::from_micros(200)).await;
            }
        }
    };
    let receive = async {
        let (mut got, mut count, mut last) = (0u64, 0u64, start);
        while count < frames {
            match tokio::time::timeout(Duration::from_secs(2), next_frame(b_events)).await {
                Ok(Some(f)) => {
                    got += f.len() as u64;
                    count += 1;
                    last = Instant::now();
                }
                _ => break,
            }
        }
        (got, count, last)
    };
    let ((), (got, count, last)) = tokio::join!(send, receive);
    let secs = last.duration_since(start).as_secs_f64().max(1e-9);
    (got as f64 / 1e6 / secs, count as f64 / frames as f64)
}

/// Runs both and prints the table.
pub(crate) async fn run(run: DirectRun) -> anyhow::Result<()> {
    let bytes = run.mib << 20;
    let relay = Relay::broker()?;
    let (target, tls) = crate::target(&relay, true).await?;
    let mut pair = crate::pairs::pair(&target, tls, 0).await?;
    eprintln!("direct: relay, {} round trips and {} MiB", run.round_trips, run.mib);
    let (relay_p50, relay_p99) = load::round_trips(&mut pair, run.round_trips).await;
    let relay_mbs = load::one_way(&mut pair, bytes, FRAME - 14).await;

    eprintln!("direct: setting up a direct path on loopback");
    let setup = Instant::now();
    let (a, mut a_events, b, mut b_events) = direct_pair().await?;
    let setup_ms = setup.elapsed().as_secs_f64() * 1000.0;
    eprintln!("direct: direct path, {} round trips and {} MiB", run.round_trips, run.mib);
    let (direct_p50, direct_p99) =
        direct_round_trips(&a, &mut a_events, &b, &mut b_events, run.round_trips).await;
    let (direct_mbs, delivered) = direct_throughput(&a, &mut b_events, bytes).await;
    a.close().await;
    b.close().await;

    println!("\ndirect path against the relay (loopback, same run)\n");
    println!("| measurement | relay | direct | direct / relay |");
    println!("| --- | ---: | ---: | ---: |");
    let row = |what: &str, r: f64, d: f64| {
        println!("| {what} | {r:.1} | {d:.1} | {:.2} |", d / r);
    };
    row("64-byte round trip p50, µs", relay_p50, direct_p50);
    row("64-byte round trip p99, µs", relay_p99, direct_p99);
    row("32 KiB frames one way, MB/s", relay_mbs, direct_mbs);
    println!(
        "| 32 KiB screen frames delivered (unreliable channel) | 100 % | {:.1} % | |",
        delivered * 100.0
    );
    println!(
        "\ndirect path set-up on loopback: {setup_ms:.0} ms (the session runs on the relay meanwhile)"
    );
    sessions(run).await
}

/// The whole-session figures, each when asked for.
async fn sessions(run: DirectRun) -> anyhow::Result<()> {
    if run.session_secs > 0 {
        eprintln!("direct: a {} s loopback session", run.session_secs);
        let secs = run.session_secs;
        let s = tokio::task::spawn_blocking(move || session::share(secs)).await??;
        let all = (s.relayed + s.direct).max(1);
        println!(
            "\nscreen updates in a {} s loopback session (agent and console, release)\n",
            s.secs
        );
        println!(
            "| updates | direct | through the broker | of those, before the path was up | \
             direct share | path changes after it was up |"
        );
        println!("| ---: | ---: | ---: | ---: | ---: | ---: |");
        println!(
            "| {all} | {} | {} | {} | {:.2} % | {} |",
            s.direct,
            s.relayed,
            s.relayed_before_up,
            s.direct as f64 * 100.0 / all as f64,
            s.changes
        );
    }
    if run.cuts > 0 {
        eprintln!("direct: {} cuts of {} s across network namespaces", run.cuts, run.cut_secs);
        let (n, cut, between) = (run.cuts, run.cut_secs, run.between_secs);
        let c = tokio::task::spawn_blocking(move || session::cuts(n, cut, between)).await??;
        println!(
            "\n{n} cuts of {cut} s of the link between customer and technician, the path held \
             {between} s before each (seconds)\n"
        );
        println!("| from | to | p50 | max |");
        println!("| --- | --- | ---: | ---: |");
        let row = |from: &str, to: &str, v: &[f64]| {
            let mut v = v.to_vec();
            v.sort_by(f64::total_cmp);
            let p50 = v.get(v.len().saturating_sub(1) / 2).copied().unwrap_or(f64::NAN);
            let max = v.last().copied().unwrap_or(f64::NAN);
            println!("| {from} | {to} | {p50:.2} | {max:.2} |");
        };
        row("the cut", "the console on the relay", &c.fallback);
        row("the link back", "the console direct again", &c.back);
        println!(
            "\nscreen updates through the broker during the cuts: {}; path changes while held: {}",
            c.relayed_in_cuts, c.changes_between
        );
    }
    Ok(())
}
