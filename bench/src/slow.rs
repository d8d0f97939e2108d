//! Slow consumers: consoles that stop reading while their customers keep sending. Their
//! sessions must cost the broker no more memory than their queue bounds, and the healthy
//! sessions beside them no more than 10 % of their throughput or round-trip time. Measured by
//! running the healthy pairs alone, then again with the stalled pairs stuck behind full queues.

use std::time::Duration;

use futures_util::SinkExt;
use tether_client::WsStream;
use tether_protocol::FILE_CHUNK;
use tokio_tungstenite::tungstenite::Message;

use crate::load;
use crate::pairs::Pair;
use crate::procs::{Relay, rss_kib};

/// What the slow-consumer run is told.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SlowRun {
    /// Consoles that stop reading.
    pub(crate) stalled: usize,
    /// Healthy pairs measured beside them.
    pub(crate) pairs: usize,
    /// MiB the healthy pairs move per throughput run, in all.
    pub(crate) mib: u64,
    /// Round trips timed.
    pub(crate) round_trips: usize,
}

/// The broker's never-dropped queue bound per connection, bytes (its default).
const QUEUE_BOUND: u64 = 8 << 20;

/// Round-trip runs, each over another healthy pair; the median of their percentiles is kept,
/// since one run's microseconds on two shared cores move with whatever else was scheduled.
const RTT_RUNS: usize = 5;

/// Throughput runs; the median is kept.
const THROUGHPUT_RUNS: usize = 5;

/// Healthy pairs' figures: MB/s (median of [`THROUGHPUT_RUNS`]), round trip p50 and p99 in µs
/// (medians of [`RTT_RUNS`] runs).
#[derive(Debug, Clone, Copy)]
struct Healthy {
    throughput: f64,
    p50: f64,
    p99: f64,
}

async fn healthy(pairs: &mut [Pair], run: SlowRun) -> Healthy {
    let share = (run.mib << 20) / pairs.len() as u64;
    let mut runs = Vec::new();
    for _ in 0..THROUGHPUT_RUNS {
        runs.push(load::throughput(pairs, share, false).await);
    }
    let (mut p50s, mut p99s) = (Vec::new(), Vec::new());
    for i in 0..RTT_RUNS {
        let n = pairs.len();
        let (p50, p99) = load::round_trips(&mut pairs[i % n], run.round_trips).await;
        p50s.push(p50);
        p99s.push(p99);
    }
    Healthy { throughput: crate::median(runs), p50: crate::median(p50s), p99: crate::median(p99s) }
}

/// Sends file data frames from the agent side for as long as the broker takes them.
async fn push_forever(mut agent: WsStream) {
    let frame = load::data_frame(FILE_CHUNK);
    while agent.feed(Message::Binary(frame.clone())).await.is_ok() {}
}

/// Waits until the broker's memory stops growing (three samples a second apart within 1 %),
/// at most a minute; returns its RSS in KiB.
async fn settled(pid: u32) -> u64 {
    let mut last = rss_kib(pid);
    let mut steady = 0;
    for _ in 0..60 {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = rss_kib(pid);
        steady = if now.abs_diff(last) * 100 <= last { steady + 1 } else { 0 };
        last = now;
        if steady == 3 {
            break;
        }
    }
    last
}

/// Runs the measurement and prints its table.
pub(crate) async fn run(run: SlowRun) -> anyhow::Result<()> {
    // A console that reads nothing ends its session after the stall timeout (and, answering
    // no keepalive pings, after the idle timeout, which the bench configuration raises); the
    // stall timeout is raised too, so that they stay stuck for the whole measurement.
    let relay = Relay::broker_with("stall_timeout_secs = 600")?;
    let (target, tls) = crate::target(&relay, true).await?;
    let (mut pairs, failed, _) = load::set_up(&target, tls.clone(), 0, run.pairs, run.pairs).await;
    anyhow::ensure!(failed == 0, "{failed} healthy pairings failed");
    eprintln!("slow: {} healthy pairs alone", run.pairs);
    let alone = healthy(&mut pairs, run).await;
    let rss_before = settled(relay.pid()).await;

    eprintln!("slow: {} consoles stop reading while their customers send", run.stalled);
    let (stalled, failed, _) =
        load::set_up(&target, tls, run.pairs, run.stalled, run.stalled).await;
    anyhow::ensure!(failed == 0, "{failed} stalled pairings failed");
    // What the sessions cost before anything waits in their queues.
    let rss_paired = settled(relay.pid()).await;
    let mut consoles = Vec::with_capacity(stalled.len());
    let mut pushers = Vec::with_capacity(stalled.len());
    for (agent, console) in stalled {
        consoles.push(console);
        pushers.push(tokio::spawn(push_forever(agent)));
    }
    let rss_stalled = settled(relay.pid()).await;
    eprintln!("slow: {} healthy pairs beside them", run.pairs);
    let beside = healthy(&mut pairs, run).await;
    let rss_after = rss_kib(relay.pid());
    for p in &pushers {
        p.abort();
    }
    drop(consoles);

    let grown = rss_stalled.saturating_sub(rss_paired) as f64 / run.stalled as f64;
    let bound = QUEUE_BOUND as f64 / 1024.0;
    println!(
        "\nslow consumers: {} stalled consoles beside {} healthy pairs\n",
        run.stalled, run.pairs
    );
    println!("| measurement | healthy alone | beside stalled | ratio | target |");
    println!("| --- | ---: | ---: | ---: | --- |");
    let row = |what: &str, a: f64, b: f64, target: &str| {
        println!("| {what} | {a:.1} | {b:.1} | {:.2} | {target} |", b / a);
    };
    row(
        &format!("throughput, {} pairs, one way, MB/s (median of {THROUGHPUT_RUNS})", run.pairs),
        alone.throughput,
        beside.throughput,
        "≥ 0.9",
    );
    row(
        &format!("64-byte round trip p50, µs (median of {RTT_RUNS})"),
        alone.p50,
        beside.p50,
        "≤ 1.1",
    );
    row(&format!("64-byte round trip p99, µs (median of {RTT_RUNS})"), alone.p99, beside.p99, "");
    println!(
        "\nbroker RSS: {:.1} MiB with the healthy pairs, {:.1} MiB with the {} more paired, {:.1} \
         MiB once their consoles stalled, {:.1} MiB after the healthy runs beside them",
        rss_before as f64 / 1024.0,
        rss_paired as f64 / 1024.0,
        run.stalled,
        rss_stalled as f64 / 1024.0,
        rss_after as f64 / 1024.0
    );
    println!(
        "growth per stalled session once its console stopped reading: {grown:.0} KiB; the queue \
         bound: {bound:.0} KiB (limits.max_queued_bytes) — {}",
        if grown <= bound { "within the bound" } else { "OVER the bound" }
    );
    Ok(())
}
