//! The processes under test: a release `tether-broker` in a temporary data directory (with a
//! technician to log in as, and a bandwidth check cut to its minimum so that thousands of
//! sessions can be set up), the baseline relay (this same program, `baseline-relay`), and
//! what `/proc` says about them: CPU seconds and resident memory.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use anyhow::{Context, bail};

/// A running relay process, killed on drop.
#[derive(Debug)]
pub(crate) struct Relay {
    child: Child,
    /// `wss://127.0.0.1:PORT`.
    pub(crate) url: String,
    /// The CA to trust.
    pub(crate) ca: PathBuf,
    /// The broker's data directory (none for the baseline).
    pub(crate) data: Option<PathBuf>,
    _dir: tempfile::TempDir,
}

/// The broker's configuration for benchmarking: the minimal bandwidth check (3 pings, 64 KiB
/// each way, which every session still runs), limits sized for 10,000 sessions from the one
/// address of the load generator (connections and checks per address too), and the
/// connection limit above them. The load generator holds sessions it is not driving without
/// reading them, so they cannot answer the broker's keepalive pings: the idle timeout is an
/// hour instead of 15 s (the pings are still sent, and cost what they cost).
const BROKER_CONFIG: &str = "\
[bandwidth]
pings = 3
max_secs = 0.1
max_bytes = 65536
max_checks_per_source = 1000000
[desk]
requests_per_source = 1000000
requests_overall = 1000000
[limits]
max_connections = 25000
max_connections_per_source = 30000
idle_timeout_secs = 3600
";

/// Where the broker logs, and how much: at `info` to the file `TETHER_BENCH_BROKER_LOG`
/// names, or nothing.
fn broker_log() -> anyhow::Result<(&'static str, Stdio)> {
    Ok(match std::env::var_os("TETHER_BENCH_BROKER_LOG") {
        Some(path) => ("info", std::fs::File::create(path)?.into()),
        None => ("off", Stdio::null()),
    })
}

/// The benchmark technician's password.
pub(crate) const BENCH_PASSWORD: &str = "bench-password-1";

pub(crate) fn sibling(name: &str) -> anyhow::Result<PathBuf> {
    let me = std::env::current_exe()?;
    let path = me.parent().context("no directory")?.join(name);
    if !path.exists() {
        bail!(
            "{} is missing: build it first (cargo build --release -p tether-broker -p tether-bench)",
            path.display()
        );
    }
    Ok(path)
}

/// Reads `listening on wss://...` (or any line with a URL) from the child's standard output.
fn wait_url(child: &mut Child) -> anyhow::Result<String> {
    let stdout = child.stdout.take().context("no stdout")?;
    let mut reader = BufReader::new(stdout);
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            bail!("the relay exited before saying where it listens");
        }
        if let Some(at) = line.find("wss://") {
            let url = line[at..].split_whitespace().next().unwrap_or_default();
            // Keep reading its output so the pipe never fills.
            std::thread::spawn(move || for _ in reader.lines() {});
            return Ok(url.trim_end_matches("/v1/ws").to_string());
        }
    }
}

impl Relay {
    /// A release broker with a technician `bench` (password [`BENCH_PASSWORD`]).
    pub(crate) fn broker() -> anyhow::Result<Relay> {
        Relay::broker_with("")
    }

    /// The same, with `limits` (lines of `key = value`) added to its `[limits]`.
    pub(crate) fn broker_with(limits: &str) -> anyhow::Result<Relay> {
        Relay::broker_on("127.0.0.1", limits)
    }

    /// The same, listening on `host` (an IP address of this machine, named by its certificate).
    pub(crate) fn broker_on(host: &str, limits: &str) -> anyhow::Result<Relay> {
        Relay::broker_under(&[], host, limits)
    }

    /// The same, run under `wrapper` (a program and its arguments, such as valgrind's).
    pub(crate) fn broker_under(
        wrapper: &[String],
        host: &str,
        limits: &str,
    ) -> anyhow::Result<Relay> {
        let exe = sibling("tether-broker")?;
        let dir = tempfile::tempdir()?;
        let data = dir.path().join("data");
        let status = Command::new(&exe)
            .args(["init", "--hostname", host, "--data-dir"])
            .arg(&data)
            .stdout(Stdio::null())
            .status()?;
        anyhow::ensure!(status.success(), "tether-broker init failed");
        let mut add = Command::new(&exe)
            .args([
                "user",
                "add",
                "bench",
                "--role",
                "technician",
                "--password-stdin",
                "--data-dir",
            ])
            .arg(&data)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()?;
        writeln!(add.stdin.take().context("stdin")?, "{BENCH_PASSWORD}")?;
        anyhow::ensure!(add.wait()?.success(), "user add failed");
        let config = dir.path().join("broker.toml");
        std::fs::write(&config, format!("{BROKER_CONFIG}{limits}\n"))?;
        let (level, log) = broker_log()?;
        let mut child = wrapped(wrapper, &exe)
            .args(["run", "--listen", &format!("{host}:0"), "--data-dir"])
            .arg(&data)
            .arg("--config")
            .arg(&config)
            .env("RUST_LOG", level)
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()?;
        let url = wait_url(&mut child)?;
        Ok(Relay { child, url, ca: data.join("ca.pem"), data: Some(data), _dir: dir })
    }

    /// The baseline relay, on certificates made for it.
    pub(crate) fn baseline() -> anyhow::Result<Relay> {
        Relay::baseline_under(&[])
    }

    /// The same, run under `wrapper`.
    pub(crate) fn baseline_under(wrapper: &[String]) -> anyhow::Result<Relay> {
        let dir = tempfile::tempdir()?;
        let certs = tether_certs::DataDirCerts::in_dir(dir.path());
        tether_certs::generate(&certs, &["127.0.0.1".to_string()])?;
        let mut child = wrapped(wrapper, &std::env::current_exe()?)
            .args(["baseline-relay", "--cert"])
            .arg(&certs.server_cert)
            .arg("--key")
            .arg(&certs.server_key)
            .stdout(Stdio::piped())
            // A wrapper such as valgrind talks on stderr; the relay itself only on failure.
            .stderr(if wrapper.is_empty() { Stdio::inherit() } else { Stdio::null() })
            .spawn()?;
        let url = wait_url(&mut child)?;
        Ok(Relay { child, url, ca: certs.ca_cert.clone(), data: None, _dir: dir })
    }

    /// The process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Stops the relay with SIGTERM (the broker drains) and waits for it.
    pub(crate) fn stop(&mut self) -> anyhow::Result<std::process::ExitStatus> {
        let pid = self.pid().to_string();
        Command::new("kill").args(["-TERM", &pid]).status()?;
        Ok(self.child.wait()?)
    }

    /// Runs `tether-broker admin --data-dir DATA ARGS` on the broker's data.
    pub(crate) fn admin(&self, args: &[&str]) -> anyhow::Result<std::process::Output> {
        let data = self.data.as_ref().context("the baseline has no data directory")?;
        Ok(Command::new(sibling("tether-broker")?)
            .arg("admin")
            .arg("--data-dir")
            .arg(data)
            .args(args)
            .output()?)
    }

    /// The data directory's CA.
    pub(crate) fn ca(&self) -> &Path {
        &self.ca
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A command running `exe` under `wrapper` (none: `exe` itself).
fn wrapped(wrapper: &[String], exe: &Path) -> Command {
    match wrapper.split_first() {
        Some((program, args)) => {
            let mut cmd = Command::new(program);
            cmd.args(args).arg(exe);
            cmd
        }
        None => Command::new(exe),
    }
}

/// CPU seconds (user and system) the process has used.
pub(crate) fn cpu_secs(pid: u32) -> f64 {
    let (user, system) = cpu_split(pid);
    user + system
}

/// CPU seconds the process has used, in user space and in the kernel.
pub(crate) fn cpu_split(pid: u32) -> (f64, f64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of stat: 12 and 13 after the state field.
    (ticks(11) / clock_ticks(), ticks(12) / clock_ticks())
}

fn clock_ticks() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
            .unwrap_or(100.0)
    })
}

/// Resident memory, KiB.
pub(crate) fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}
