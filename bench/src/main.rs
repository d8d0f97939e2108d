//! `tether-bench`: how much tether's broker relays per core, how little latency it adds and
//! how many sessions fit in its memory, each figure beside the same figure for a minimal TLS
//! websocket relay ([`baseline`]) measured in the same run, printed as one table.
//!
//! [`procs`] starts the relays and reads their CPU and memory from `/proc`; [`pairs`] makes
//! paired sessions through either; [`load`] drives them. More runs stand apart: [`slow`]
//! (consoles that stop reading), [`soak`] (endurance), [`direct`] (the direct path against
//! the relay), [`instructions`] (both relays' CPU counted in instructions) and [`web`] (the
//! web desk's first load and ticket list).

mod baseline;
mod direct;
mod instructions;
mod load;
mod pairs;
mod procs;
mod slow;
mod soak;
mod web;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use clap::{Parser, Subcommand};
use tether_client::BrokerAddr;

use crate::pairs::{Pair, Target};
use crate::procs::{Relay, cpu_secs, rss_kib};

/// Relay benchmark: tether against a minimal TLS websocket relay, in the same run.
#[derive(Debug, Parser)]
#[command(name = "tether-bench", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Cmd>,
    /// Bytes each throughput run moves, in MiB.
    #[arg(long, default_value_t = 1024)]
    mib: u64,
    /// Round trips to time.
    #[arg(long, default_value_t = 20_000)]
    round_trips: usize,
    /// Idle paired sessions to hold for the memory figures (each count in turn).
    #[arg(long, value_delimiter = ',', default_value = "1000,10000")]
    idle: Vec<usize>,
    /// Pairs for the many-pairs throughput.
    #[arg(long, default_value_t = 32)]
    pairs: usize,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Consoles that stop reading: broker memory against their queue bounds, and what they
    /// cost healthy sessions beside them.
    Slow {
        /// Consoles that stop reading.
        #[arg(long, default_value_t = 100)]
        stalled: usize,
        /// Healthy pairs measured beside them.
        #[arg(long, default_value_t = 8)]
        pairs: usize,
        /// MiB the healthy pairs move per throughput run, in all.
        #[arg(long, default_value_t = 512)]
        mib: u64,
        /// Round trips timed.
        #[arg(long, default_value_t = 5000)]
        round_trips: usize,
    },
    /// The direct path against the relay: round trips and one-way throughput; then in whole
    /// sessions of the real agent and console, the share of screen updates that went direct
    /// and how soon the path is back after a cut link returns (network namespaces: root).
    Direct {
        /// Round trips to time.
        #[arg(long, default_value_t = 5000)]
        round_trips: usize,
        /// MiB to move one way.
        #[arg(long, default_value_t = 256)]
        mib: u64,
        /// Seconds of the loopback session whose screen updates are counted (0: none).
        #[arg(long, default_value_t = 300)]
        session_secs: u64,
        /// Cuts of the link between customer and technician (0: none).
        #[arg(long, default_value_t = 10)]
        cuts: usize,
        /// Seconds each cut lasts.
        #[arg(long, default_value_t = 10)]
        cut_secs: u64,
        /// Seconds the path is held before each cut.
        #[arg(long, default_value_t = 35)]
        between_secs: u64,
    },
    /// Endurance: sessions exchanging chat and screen updates for a bounded time.
    Soak {
        /// Seconds the load runs.
        #[arg(long, default_value_t = 600)]
        secs: u64,
        /// Sessions.
        #[arg(long, default_value_t = 1000)]
        sessions: usize,
        /// Seconds between memory samples.
        #[arg(long, default_value_t = 30)]
        every: u64,
    },
    /// Both relays' instructions (callgrind) for the same one-pair push: a CPU comparison that
    /// repeats to the instruction.
    Instructions {
        /// MiB pushed through each relay.
        #[arg(long, default_value_t = 64)]
        mib: u64,
    },
    /// The web desk: a browser's first load of the desk, and the ticket list's latency with
    /// many open tickets.
    Web {
        /// Open tickets logged before the list is timed.
        #[arg(long, default_value_t = 10_000)]
        tickets: usize,
        /// Requests timed per query.
        #[arg(long, default_value_t = 500)]
        requests: usize,
    },
    /// Run the baseline relay (the benchmark starts it itself).
    #[command(hide = true)]
    BaselineRelay {
        #[arg(long)]
        cert: PathBuf,
        #[arg(long)]
        key: PathBuf,
    },
}

/// One run of one pair through one relay.
#[derive(Debug, Default, Clone, Copy)]
struct Run {
    /// MB/s.
    mbps: f64,
    /// Relay CPU seconds per GiB, user space.
    user: f64,
    /// Relay CPU seconds per GiB, kernel.
    system: f64,
}

impl Run {
    fn cpu(&self) -> f64 {
        self.user + self.system
    }
}

/// One relay's figures.
#[derive(Debug, Default, Clone)]
struct Figures {
    one_pair: f64,
    many_pairs: f64,
    both_ways: f64,
    cpu_per_gib: f64,
    rtt_p50: f64,
    rtt_p99: f64,
    /// (sessions, KiB per session, lost pairings, relay RSS in MiB)
    idle: Vec<(usize, f64, usize, f64)>,
    setup_rate: f64,
    /// Relay CPU milliseconds per session set up.
    setup_cpu_ms: f64,
}

fn main() -> anyhow::Result<()> {
    tether_certs::install_provider();
    let cli = Cli::parse();
    let runtime = tokio::runtime::Runtime::new()?;
    match cli.command {
        Some(Cmd::BaselineRelay { cert, key }) => {
            return runtime.block_on(baseline::serve(&cert, &key));
        }
        Some(Cmd::Slow { stalled, pairs, mib, round_trips }) => {
            raise_file_limit();
            return runtime.block_on(slow::run(slow::SlowRun { stalled, pairs, mib, round_trips }));
        }
        Some(Cmd::Direct { round_trips, mib, session_secs, cuts, cut_secs, between_secs }) => {
            let run =
                direct::DirectRun { round_trips, mib, session_secs, cuts, cut_secs, between_secs };
            return runtime.block_on(direct::run(run));
        }
        Some(Cmd::Instructions { mib }) => {
            return runtime.block_on(instructions::run(instructions::InstructionsRun { mib }));
        }
        Some(Cmd::Web { tickets, requests }) => {
            return runtime.block_on(web::run(web::WebRun { tickets, requests }));
        }
        Some(Cmd::Soak { secs, sessions, every }) => {
            raise_file_limit();
            return runtime.block_on(soak::run(soak::SoakRun { secs, sessions, every }));
        }
        None => {}
    }
    raise_file_limit();
    println!(
        "tether-bench: {} MiB a throughput run (median of {RUNS}), {} round trips, idle {:?}\n",
        cli.mib, cli.round_trips, cli.idle
    );
    let (base_relay, tether_relay) = (Relay::baseline()?, Relay::broker()?);
    let runs = runtime.block_on(one_pair_runs(&cli, &base_relay, &tether_relay))?;
    let mut base_figures = runtime.block_on(measure(&cli, &base_relay, false))?;
    let mut tether_figures = runtime.block_on(measure(&cli, &tether_relay, true))?;
    drop((base_relay, tether_relay));
    let median_of = |f: &dyn Fn(&(Run, Run)) -> f64| median(runs.iter().map(f).collect());
    base_figures.one_pair = median_of(&|r| r.0.mbps);
    tether_figures.one_pair = median_of(&|r| r.1.mbps);
    base_figures.cpu_per_gib = median_of(&|r| r.0.cpu());
    tether_figures.cpu_per_gib = median_of(&|r| r.1.cpu());
    print_runs(&runs);
    // Memory is measured in fresh processes, so that earlier runs' heaps do not blur it.
    runtime.block_on(idle(&cli, &Relay::baseline()?, false, &mut base_figures))?;
    runtime.block_on(idle(&cli, &Relay::broker()?, true, &mut tether_figures))?;
    print_table(&cli, &base_figures, &tether_figures);
    Ok(())
}

/// How many paired sessions the open-file limit allows: the relay and this process each hold
/// two sockets per session (the broker opens a transcript only while writing to it), and the
/// broker keeps 128 descriptors for its own files (it serves no more connections than that
/// leaves room for), with a few dozen more to spare.
fn sessions_that_fit() -> usize {
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap_or_default();
    let soft = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(1024);
    soft.saturating_sub(192) / 2
}

/// Lets this process and the relays it starts hold tens of thousands of sockets.
fn raise_file_limit() {
    let pid = std::process::id().to_string();
    let ok = std::process::Command::new("prlimit")
        .args(["--pid", &pid, "--nofile=200000:200000"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("warning: could not raise the open-file limit (run as root for 10,000 sessions)");
    }
}

/// Throughput runs, each repeated and the median kept.
const RUNS: usize = 5;

/// One pair through each relay, the two taking turns ([`RUNS`] each), so that the machine's
/// drift between runs falls on both alike: throughput and the relay's CPU per GiB of each.
async fn one_pair_runs(cli: &Cli, base: &Relay, tether: &Relay) -> anyhow::Result<Vec<(Run, Run)>> {
    let bytes = cli.mib << 20;
    let gib = bytes as f64 / f64::from(1u32 << 30);
    let (base_target, base_tls) = target(base, false).await?;
    let (tether_target, tether_tls) = target(tether, true).await?;
    let (mut base_pair, failed_b, _) = load::set_up(&base_target, base_tls, 0, 1, 1).await;
    let (mut tether_pair, failed_t, _) = load::set_up(&tether_target, tether_tls, 0, 1, 1).await;
    anyhow::ensure!(failed_b + failed_t == 0, "pairing failed");
    let mut runs = Vec::new();
    for n in 1..=RUNS {
        eprintln!("one pair, {} MiB one way, run {n} of {RUNS}: baseline, then tether", cli.mib);
        let one = async |relay: &Relay, pair: &mut [Pair]| {
            let (user, system) = procs::cpu_split(relay.pid());
            let mbps = load::throughput(pair, bytes, false).await;
            let (user2, system2) = procs::cpu_split(relay.pid());
            Run { mbps, user: (user2 - user) / gib, system: (system2 - system) / gib }
        };
        let b = one(base, &mut base_pair).await;
        let t = one(tether, &mut tether_pair).await;
        runs.push((b, t));
    }
    Ok(runs)
}

/// Every one-pair run, as a table: none is left out.
fn print_runs(runs: &[(Run, Run)]) {
    println!("One pair, one way, every run (baseline and tether taking turns):\n");
    println!(
        "| run | baseline MB/s | tether MB/s | ratio | baseline CPU s/GiB (user + sys) | \
         tether CPU s/GiB (user + sys) | ratio |"
    );
    println!("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (i, (b, t)) in runs.iter().enumerate() {
        println!(
            "| {} | {:.1} | {:.1} | {:.2} | {:.3} ({:.3} + {:.3}) | {:.3} ({:.3} + {:.3}) | {:.2} |",
            i + 1,
            b.mbps,
            t.mbps,
            t.mbps / b.mbps,
            b.cpu(),
            b.user,
            b.system,
            t.cpu(),
            t.user,
            t.system,
            t.cpu() / b.cpu()
        );
    }
    println!();
}

pub(crate) fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

pub(crate) async fn target(
    relay: &Relay,
    tether: bool,
) -> anyhow::Result<(Target, Arc<rustls::ClientConfig>)> {
    let addr: BrokerAddr = relay.url.parse().map_err(anyhow::Error::msg)?;
    let tls = tether_certs::client_config(relay.ca())?;
    let target = if tether {
        let token = pairs::login(&addr, tls.clone(), procs::BENCH_PASSWORD).await?;
        Target::Tether { addr, token }
    } else {
        Target::Baseline { addr }
    };
    Ok((target, tls))
}

/// Throughput over many pairs and round trips (one pair's throughput and CPU come from
/// [`one_pair_runs`]).
async fn measure(cli: &Cli, relay: &Relay, tether: bool) -> anyhow::Result<Figures> {
    let name = if tether { "tether" } else { "baseline" };
    let (target, tls) = target(relay, tether).await?;
    let mut f = Figures::default();
    let bytes = cli.mib << 20;
    eprintln!("{name}: pairing {} sessions", cli.pairs);
    let (mut many, failed, _) = load::set_up(&target, tls.clone(), 0, cli.pairs, cli.pairs).await;
    anyhow::ensure!(failed == 0, "{name}: {failed} of {} pairings failed", cli.pairs);

    eprintln!("{name}: {} pairs, {} MiB in all, one way and both ways", cli.pairs, cli.mib);
    let share = bytes / cli.pairs as u64;
    let (mut one, mut both) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        one.push(load::throughput(&mut many, share, false).await);
        both.push(load::throughput(&mut many, share / 2, true).await);
    }
    f.many_pairs = median(one);
    f.both_ways = median(both);
    eprintln!("{name}: {} round trips", cli.round_trips);
    (f.rtt_p50, f.rtt_p99) = load::round_trips(&mut many[0], cli.round_trips).await;
    Ok(f)
}

/// Set-up rate and memory per idle session, in a fresh relay.
async fn idle(cli: &Cli, relay: &Relay, tether: bool, f: &mut Figures) -> anyhow::Result<()> {
    let name = if tether { "tether" } else { "baseline" };
    let (target, tls) = target(relay, tether).await?;
    let mut held: Vec<Pair> = Vec::new();
    let mut next = 0;
    let rss_before = rss_kib(relay.pid());
    let fits = sessions_that_fit();
    for (k, &asked) in cli.idle.iter().enumerate() {
        let count = asked.min(fits);
        if count < asked {
            eprintln!(
                "{name}: {asked} sessions need {} sockets in each process; the open-file limit \
                 allows {fits} sessions, so {count} it is",
                asked * 2
            );
        }
        if count <= held.len() {
            continue;
        }
        let more = count.saturating_sub(held.len());
        // The first batch at a steady 100 in flight gives the set-up rate; later batches arrive
        // all at once, which is where lost pairings would show.
        let parallel = if k == 0 { 100 } else { more.max(1) };
        eprintln!("{name}: pairing {more} more idle sessions, {parallel} at once");
        let start = Instant::now();
        let cpu = cpu_secs(relay.pid());
        let (made, failed, rate) = load::set_up(&target, tls.clone(), next, more, parallel).await;
        next += more;
        if k == 0 {
            f.setup_rate = rate;
            f.setup_cpu_ms = (cpu_secs(relay.pid()) - cpu) * 1000.0 / made.len().max(1) as f64;
        }
        held.extend(made);
        // Let the relay settle (allocators return what set-up used).
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
        let rss = rss_kib(relay.pid());
        let per = (rss.saturating_sub(rss_before)) as f64 / held.len().max(1) as f64;
        eprintln!(
            "  {} sessions in {:.1} s, {per:.1} KiB each",
            held.len(),
            start.elapsed().as_secs_f64()
        );
        f.idle.push((held.len(), per, failed, rss as f64 / 1024.0));
    }
    drop(held);
    Ok(())
}

fn print_table(cli: &Cli, base: &Figures, tether: &Figures) {
    let kb = |v: f64| if v < 10.0 { format!("{v:.3}") } else { format!("{v:.1}") };
    let mut rows: Vec<(String, f64, f64, &str)> = vec![
        ("throughput, 1 pair, one way, MB/s".into(), base.one_pair, tether.one_pair, "≥ 1.0"),
        (
            format!("throughput, {} pairs, one way, MB/s", cli.pairs),
            base.many_pairs,
            tether.many_pairs,
            "≥ 0.9",
        ),
        (
            format!("throughput, {} pairs, both ways, MB/s", cli.pairs),
            base.both_ways,
            tether.both_ways,
            "≥ 0.9",
        ),
        (
            "relay CPU seconds per GiB (1 pair)".into(),
            base.cpu_per_gib,
            tether.cpu_per_gib,
            "≤ 1.0",
        ),
        ("64-byte round trip p50, µs".into(), base.rtt_p50, tether.rtt_p50, "≤ 1.2"),
        ("64-byte round trip p99, µs".into(), base.rtt_p99, tether.rtt_p99, ""),
        ("session set-up, pairs a second".into(), base.setup_rate, tether.setup_rate, ""),
        ("relay CPU ms per session set up".into(), base.setup_cpu_ms, tether.setup_cpu_ms, ""),
    ];
    if cli.idle.iter().any(|&n| n > sessions_that_fit()) {
        println!(
            "(idle sessions measured at {} at most: the open-file limit)\n",
            sessions_that_fit()
        );
    }
    for ((n, b, lost_b, rss_b), (_, t, lost_t, rss_t)) in base.idle.iter().zip(&tether.idle) {
        rows.push((format!("RSS per idle paired session at {n}, KiB"), *b, *t, "tether ≤ 64 KiB"));
        rows.push((format!("relay RSS with {n} idle sessions, MiB"), *rss_b, *rss_t, ""));
        // What 10,000 would take at the same cost per session.
        let at_10k =
            |rss: f64, per: f64| rss + (10_000usize.saturating_sub(*n)) as f64 * per / 1024.0;
        if *n < 10_000 && *n > 1000 {
            rows.push((
                format!("relay RSS at 10000 idle sessions (from {n}), MiB"),
                at_10k(*rss_b, *b),
                at_10k(*rss_t, *t),
                "tether < 1024",
            ));
        }
        rows.push((format!("lost pairings of {n}"), *lost_b as f64, *lost_t as f64, "0"));
    }
    println!("| measurement | baseline | tether | tether / baseline | target |");
    println!("| --- | ---: | ---: | ---: | --- |");
    for (what, b, t, target) in rows {
        let ratio = if b > 0.0 { format!("{:.2}", t / b) } else { "-".into() };
        println!("| {what} | {} | {} | {ratio} | {target} |", kb(b), kb(t));
    }
}
