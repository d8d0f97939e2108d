//! A real `tether-broker` in a temporary data directory, on a free loopback port.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;

use crate::PATIENCE;
use crate::bins::bin;
use crate::proc::{Agent, BatchConsole, Console};

/// A running broker. Killed on drop if still running.
#[derive(Debug)]
pub struct Broker {
    child: Child,
    dir: tempfile::TempDir,
    /// The port it listens on.
    pub port: u16,
    /// Where it listens (an IP address).
    pub host: String,
    netns: Option<String>,
    /// Environment variables the broker runs with beside the test's own.
    env: Vec<(String, String)>,
}

impl Broker {
    /// Starts a broker with the default configuration.
    pub fn start() -> Broker {
        Broker::start_with_config("")
    }

    /// Starts a broker with `config` (TOML) as its configuration file.
    pub fn start_with_config(config: &str) -> Broker {
        Broker::start_at(config, None, "127.0.0.1")
    }

    /// Starts a broker inside network namespace `netns` (if given), listening on `host` with a
    /// certificate for it.
    pub fn start_at(config: &str, netns: Option<&str>, host: &str) -> Broker {
        Broker::start_at_names(config, netns, host, &[])
    }

    /// Starts a broker with `config` and the environment variables `env` (a proxy, say).
    pub fn start_with_env(config: &str, env: &[(&str, &str)]) -> Broker {
        let env: Vec<_> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Broker::start_full(config, None, "127.0.0.1", &[], env)
    }

    /// As [`Broker::start_at`], with more names on the certificate (for clients that reach
    /// the broker through a relay at another address).
    pub fn start_at_names(config: &str, netns: Option<&str>, host: &str, more: &[&str]) -> Broker {
        Broker::start_full(config, netns, host, more, Vec::new())
    }

    fn start_full(
        config: &str,
        netns: Option<&str>,
        host: &str,
        more: &[&str],
        env: Vec<(String, String)>,
    ) -> Broker {
        tether_certs::install_provider();
        let dir = tempfile::tempdir().expect("temp dir");
        let data = dir.path().join("data");
        let mut init = Command::new(bin("tether-broker"));
        init.args(["init", "--hostname", host]);
        for name in more {
            init.args(["--hostname", name]);
        }
        let status = init
            .arg("--data-dir")
            .arg(&data)
            .stdout(Stdio::null())
            .status()
            .expect("running tether-broker init");
        assert!(status.success(), "tether-broker init failed");
        std::fs::write(dir.path().join("broker.toml"), config).expect("writing config");
        let (child, port) = spawn(dir.path(), netns, host, 0, &env);
        Broker { child, dir, port, host: host.into(), netns: netns.map(str::to_string), env }
    }

    /// The URL agents and consoles use.
    pub fn url(&self) -> String {
        format!("wss://{}:{}", self.host, self.port)
    }

    /// The broker's data directory.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The CA certificate to trust.
    pub fn ca(&self) -> PathBuf {
        self.data_dir().join("ca.pem")
    }

    /// A scratch directory that lives as long as the broker.
    pub fn scratch(&self) -> &Path {
        self.dir.path()
    }

    /// What the broker has logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("broker.log")).unwrap_or_default()
    }

    /// Adds an account with `tether-broker user add`.
    pub fn add_user(&self, name: &str, role: &str, password: &str) {
        let mut child = Command::new(bin("tether-broker"))
            .args(["user", "add", name, "--role", role, "--password-stdin", "--data-dir"])
            .arg(self.data_dir())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("running user add");
        writeln!(child.stdin.take().expect("stdin"), "{password}").expect("writing password");
        assert!(child.wait().expect("user add").success(), "user add {name} failed");
    }

    /// A console with its own config directory, not yet logged in.
    pub fn console(&self, name: &str) -> Console {
        Console::new(self, name)
    }

    /// A technician account `name` (password `name-password`) and a console logged in as it.
    pub fn technician(&self, name: &str) -> Console {
        let password = format!("{name}-password");
        self.add_user(name, "technician", &password);
        let console = self.console(name);
        let out = console.login(name, &password);
        assert!(out.status.success(), "login failed: {}", String::from_utf8_lossy(&out.stderr));
        console
    }

    /// Starts `tether-agent request` as `name` with `--consent consent` and `--json`.
    pub fn request(&self, name: &str, consent: &str) -> Agent {
        Agent::request(self, name, consent)
    }

    /// The broker's resident memory now and at its peak so far, in KiB (`/proc/PID/status`).
    pub fn memory_kib(&self) -> (u64, u64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("the broker's /proc status");
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("no {name} in /proc status"))
        };
        (field("VmRSS:"), field("VmHWM:"))
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Sends SIGTERM and waits for the exit.
    pub fn terminate(mut self) -> ExitStatus {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        self.child.wait().expect("waiting for the broker")
    }

    /// Runs `tether-broker admin --data-dir DIR ARGS...`.
    pub fn admin(&self, args: &[&str]) -> std::process::Output {
        Command::new(bin("tether-broker"))
            .arg("admin")
            .arg("--data-dir")
            .arg(self.data_dir())
            .args(args)
            .output()
            .expect("running tether-broker admin")
    }

    /// The records of session `session`'s transcript, once it is sealed.
    pub fn sealed_records(&self, session: &str) -> Vec<serde_json::Value> {
        crate::wait_until("the transcript is sealed", || {
            self.admin(&["verify", session]).status.code() == Some(0)
        });
        let path = self.data_dir().join("transcripts").join(format!("{session}.jsonl"));
        std::fs::read_to_string(path)
            .expect("the transcript")
            .lines()
            .map(|l| serde_json::from_str(l).expect("a JSON record"))
            .collect()
    }

    /// Sends SIGKILL and waits: a crash, as far as the data directory can tell.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts a new broker process on the same data directory, configuration and port (so
    /// that saved logins still point at it).
    pub fn restart(&mut self) {
        if self.is_running() {
            self.kill();
        }
        let (child, port) =
            spawn(self.dir.path(), self.netns.as_deref(), &self.host, self.port, &self.env);
        self.child = child;
        self.port = port;
    }

    /// Joins `target` with a batch console logged in as `console`.
    pub fn join(&self, console: &Console, target: &str) -> BatchConsole {
        console.join(target)
    }
}

/// Starts `tether-broker run` on the data directory and config in `scratch`, on `port` (0 for
/// any), with `env` added to its environment, appending to its log; returns the process and
/// the port it announced.
fn spawn(
    scratch: &Path,
    netns: Option<&str>,
    host: &str,
    port: u16,
    env: &[(String, String)],
) -> (Child, u16) {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(scratch.join("broker.log"))
        .expect("log file");
    let mut child = crate::bins::command_in(netns, "tether-broker")
        .args(["run", "--listen", &format!("{host}:{port}"), "--data-dir"])
        .arg(scratch.join("data"))
        .arg("--config")
        .arg(scratch.join("broker.toml"))
        .env("RUST_LOG", "info,tether_broker=debug")
        // Hermetic: the machine's proxies are not the test's, unless the test names them.
        .env_remove("HTTPS_PROXY")
        .env_remove("https_proxy")
        .env_remove("HTTP_PROXY")
        .env_remove("http_proxy")
        .env_remove("ALL_PROXY")
        .env_remove("all_proxy")
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .expect("starting tether-broker");
    let stdout = child.stdout.take().expect("broker stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        // Read to the end: a broker whose stdout is closed would fail its next write.
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let port = loop {
        let line = rx.recv_timeout(PATIENCE).expect("broker did not say where it listens");
        if let Some(rest) = line.strip_prefix(&format!("tether-broker listening on wss://{host}:"))
        {
            break rest.split('/').next().and_then(|p| p.parse().ok()).expect("port");
        }
    };
    (child, port)
}

impl Drop for Broker {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        if std::thread::panicking() {
            eprintln!("--- broker log ---\n{}", self.log());
        }
    }
}
