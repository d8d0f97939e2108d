//! The direct path in whole sessions, with the real release agent and console: the share of
//! screen updates that travel direct over a long loopback session, and how soon the path is
//! back after the private link between the customer's and the technician's networks returns
//! (network namespaces, as the end-to-end tests make them; needs root). Each side's events are
//! read from its `--json`/`--batch` output; nothing here waits on a fixed time except the
//! session's length and the cuts' length, which are what is measured.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::Value;
use tether_e2e::netns::Island;

use crate::procs::{BENCH_PASSWORD, Relay, sibling};

/// How long any one event may take to come.
const PATIENCE: Duration = Duration::from_secs(60);

/// An agent or a batch console, its standard output read as JSON events.
struct Side {
    name: &'static str,
    child: Child,
    stdin: Option<ChildStdin>,
    events: Receiver<Value>,
}

impl Side {
    fn spawn(name: &'static str, mut cmd: Command, stderr: &Path) -> anyhow::Result<Side> {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(stderr)?)
            .spawn()
            .with_context(|| format!("starting the {name}"))?;
        let stdout = child.stdout.take().context("stdout")?;
        let (tx, events) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Ok(value) = serde_json::from_str(&line)
                    && tx.send(value).is_err()
                {
                    break;
                }
            }
        });
        Ok(Side { name, stdin: child.stdin.take(), child, events })
    }

    fn send(&mut self, line: &str) -> anyhow::Result<()> {
        let stdin = self.stdin.as_mut().context("stdin closed")?;
        writeln!(stdin, "{line}")?;
        Ok(stdin.flush()?)
    }

    /// The next event satisfying `pred`, within `within`.
    fn wait(
        &mut self,
        what: &str,
        within: Duration,
        pred: impl Fn(&Value) -> bool,
    ) -> anyhow::Result<Value> {
        let deadline = Instant::now() + within;
        loop {
            match self.events.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(event) if pred(&event) => return Ok(event),
                Ok(_) => {}
                Err(RecvTimeoutError::Timeout) => {
                    bail!("{}: no {what} within {within:?}", self.name)
                }
                Err(RecvTimeoutError::Disconnected) => bail!("{}: exited before {what}", self.name),
            }
        }
    }

    fn wait_event(&mut self, event: &str) -> anyhow::Result<Value> {
        self.wait(event, PATIENCE, |v| v["event"] == event)
    }

    /// Path changes that came meanwhile, taking every event waiting now.
    fn path_changes(&mut self) -> usize {
        self.events.try_iter().filter(|e| e["event"] == "path").count()
    }
}

impl Drop for Side {
    fn drop(&mut self) {
        self.stdin = None;
        let deadline = Instant::now() + Duration::from_secs(5);
        while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn counts(e: &Value) -> (u64, u64) {
    (e["relayed"].as_u64().unwrap_or(0), e["direct"].as_u64().unwrap_or(0))
}

fn is_path(e: &Value, direct: bool) -> bool {
    e["event"] == "path" && e["direct"] == direct
}

/// A release binary, run in network namespace `netns` if given.
fn command(netns: Option<&str>, name: &str) -> anyhow::Result<Command> {
    let exe = sibling(name)?;
    Ok(match netns {
        Some(ns) => {
            let mut cmd = Command::new("ip");
            cmd.args(["netns", "exec", ns]).arg(exe);
            cmd
        }
        None => Command::new(exe),
    })
}

/// A paired session through `relay`: the customer's agent in `customer` (a namespace, or
/// here), the technician's batch console in `technician`, both with their default logging.
struct Session {
    agent: Side,
    console: Side,
    /// The console's screen updates when its path first came up: (through the broker, direct).
    at_up: (u64, u64),
    _dir: tempfile::TempDir,
}

impl Session {
    fn start(
        relay: &Relay,
        customer: Option<&str>,
        technician: Option<&str>,
    ) -> anyhow::Result<Session> {
        let dir = tempfile::tempdir()?;
        let config: PathBuf = dir.path().join("console");
        let console_cmd = |args: &[&str]| -> anyhow::Result<Command> {
            let mut cmd = command(technician, "tether-console")?;
            cmd.args(args).env("TETHER_CONFIG_DIR", &config).env_remove("RUST_LOG");
            Ok(cmd)
        };
        let mut login = console_cmd(&["login", "--user", "bench", "--password-stdin"])?
            .args(["--broker", &relay.url, "--ca"])
            .arg(relay.ca())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()?;
        writeln!(login.stdin.take().context("stdin")?, "{BENCH_PASSWORD}")?;
        anyhow::ensure!(login.wait()?.success(), "the console could not log in");

        let mut agent_cmd = command(customer, "tether-agent")?;
        agent_cmd
            .args(["request", "--name", "Bench", "--issue", "the direct path, measured"])
            .args(["--consent", "view", "--screen", "test-pattern", "--input", "none", "--json"])
            .args(["--broker", &relay.url, "--ca"])
            .arg(relay.ca())
            .env_remove("RUST_LOG")
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY");
        let mut agent = Side::spawn("agent", agent_cmd, &dir.path().join("agent.err"))?;
        let ticket = agent.wait_event("ticket")?["ticket"].as_str().unwrap_or_default().to_string();
        let join = console_cmd(&["join", &ticket, "--batch"])?;
        let console = Side::spawn("console", join, &dir.path().join("console.err"))?;
        let mut session = Session { agent, console, at_up: (0, 0), _dir: dir };
        session.at_up = session.path_change("the direct path", true)?;
        session.agent.wait("the direct path", PATIENCE, |e| is_path(e, true))?;
        Ok(session)
    }

    /// Waits for the console's path to become `direct` (or not); returns the screen updates
    /// it counted then, which it prints beside the change: (through the broker, direct).
    fn path_change(&mut self, what: &str, direct: bool) -> anyhow::Result<(u64, u64)> {
        self.console.wait(what, PATIENCE, |e| is_path(e, direct))?;
        Ok(counts(&self.console.wait_event("updates")?))
    }

    /// The console's screen updates so far: (through the broker, direct). Every `updates` it
    /// printed before has been taken ([`Session::path_change`]).
    fn updates(&mut self) -> anyhow::Result<(u64, u64)> {
        self.console.send("path")?;
        Ok(counts(&self.console.wait_event("updates")?))
    }

    fn quit(mut self) -> anyhow::Result<()> {
        self.console.send("quit")?;
        self.console.wait_event("ended")?;
        Ok(())
    }
}

/// What a long loopback session showed.
#[derive(Debug)]
pub(crate) struct Share {
    pub(crate) secs: u64,
    pub(crate) relayed: u64,
    pub(crate) direct: u64,
    /// Relayed before the path first came up.
    pub(crate) relayed_before_up: u64,
    /// Path changes after it first came up, on either side.
    pub(crate) changes: usize,
}

/// Agent and console on this machine: the operator names loopback as reachable (by default
/// each side contacts only the other's public addresses).
pub(crate) const LOOPBACK_PEERS: &str = "[p2p]\npeer_networks = [\"127.0.0.0/8\"]";
/// The islands' networks and the private link between them, named as reachable.
const ISLAND_PEERS: &str = "[p2p]\npeer_networks = [\"10.78.0.0/16\", \"10.79.0.0/16\"]";

/// One loopback session of `secs`, the console pulling the test pattern as fast as it is
/// drawn (at most 30 updates a second).
pub(crate) fn share(secs: u64) -> anyhow::Result<Share> {
    let relay = Relay::broker_with(LOOPBACK_PEERS)?;
    let mut session = Session::start(&relay, None, None)?;
    let (relayed_before_up, _) = session.at_up;
    std::thread::sleep(Duration::from_secs(secs));
    let changes = session.agent.path_changes() + session.console.path_changes();
    let (relayed, direct) = session.updates()?;
    session.quit()?;
    Ok(Share { secs, relayed, direct, relayed_before_up, changes })
}

/// What the cuts showed, in seconds: from each cut to the console's fallback, and from each
/// restored link to the console's path being direct again.
#[derive(Debug)]
pub(crate) struct Cuts {
    pub(crate) fallback: Vec<f64>,
    pub(crate) back: Vec<f64>,
    /// Screen updates through the broker during the cuts (the screen kept coming).
    pub(crate) relayed_in_cuts: u64,
    /// Path changes on either side while the path was held between cuts.
    pub(crate) changes_between: usize,
}

/// `n` cuts of `cut_secs` each of the private link between the customer's and the
/// technician's networks, in one session, the path held for `between_secs` after each comes
/// back (a path that held 30 s is healthy: the pauses between attempts start short again).
pub(crate) fn cuts(n: usize, cut_secs: u64, between_secs: u64) -> anyhow::Result<Cuts> {
    let customer = Island::create(41).map_err(anyhow::Error::msg)?;
    let technician = Island::create(42).map_err(anyhow::Error::msg)?;
    let bridge = customer.bridge(&technician, 43).map_err(anyhow::Error::msg)?;
    let relay = Relay::broker_on(&customer.here_ip, ISLAND_PEERS)?;
    let mut session = Session::start(&relay, Some(&customer.ns), Some(&technician.ns))?;
    let mut found =
        Cuts { fallback: Vec::new(), back: Vec::new(), relayed_in_cuts: 0, changes_between: 0 };
    for i in 0..n {
        std::thread::sleep(Duration::from_secs(between_secs));
        found.changes_between += session.agent.path_changes() + session.console.path_changes();
        eprintln!("direct: cut {} of {n}", i + 1);
        bridge.cut();
        let cut = Instant::now();
        let (relayed, _) = session.path_change("the fallback", false)?;
        found.fallback.push(cut.elapsed().as_secs_f64());
        std::thread::sleep(Duration::from_secs(cut_secs).saturating_sub(cut.elapsed()));
        let (relayed_now, _) = session.updates()?;
        found.relayed_in_cuts += relayed_now - relayed;
        bridge.restore().map_err(anyhow::Error::msg)?;
        let restored = Instant::now();
        session.path_change("the direct path again", true)?;
        found.back.push(restored.elapsed().as_secs_f64());
        session.agent.wait("the direct path again", PATIENCE, |e| is_path(e, true))?;
    }
    session.quit()?;
    Ok(found)
}
