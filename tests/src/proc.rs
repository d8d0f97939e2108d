//! Running agents and consoles: their standard input, and their standard output read as one
//! JSON event a line on a reader thread, so that tests wait on events with a deadline.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::Instant;

use serde_json::Value;

use crate::PATIENCE;
use crate::bins::bin;
use crate::broker::Broker;

/// A running agent or batch console.
#[derive(Debug)]
pub struct Running {
    name: String,
    child: Child,
    stdin: Option<ChildStdin>,
    events: Receiver<Value>,
    /// Every event received so far, in order.
    pub seen: Vec<Value>,
    stderr: PathBuf,
}

impl Running {
    fn spawn(name: &str, mut cmd: Command, stderr: PathBuf) -> Running {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr).expect("stderr file"))
            .spawn()
            .unwrap_or_else(|e| panic!("starting {name}: {e}"));
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let value = serde_json::from_str(&line)
                    .unwrap_or_else(|_| serde_json::json!({ "event": "text", "text": line }));
                if tx.send(value).is_err() {
                    break;
                }
            }
        });
        Running {
            name: name.into(),
            stdin: child.stdin.take(),
            child,
            events: rx,
            seen: Vec::new(),
            stderr,
        }
    }

    /// Writes one line to standard input.
    pub fn send(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().unwrap_or_else(|| panic!("{}: stdin closed", self.name));
        writeln!(stdin, "{line}").and_then(|_| stdin.flush()).unwrap_or_else(|e| {
            panic!("{}: writing {line:?}: {e}; stderr:\n{}", self.name, self.stderr_text())
        });
    }

    /// Closes standard input.
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// Waits for the next event satisfying `pred`, remembering all events passed on the way.
    pub fn wait_for(&mut self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.events.recv_timeout(left) {
                Ok(event) => {
                    self.seen.push(event.clone());
                    if pred(&event) {
                        return event;
                    }
                }
                Err(RecvTimeoutError::Timeout) => panic!(
                    "{}: timed out waiting for {what}; saw {:?}; stderr:\n{}",
                    self.name,
                    self.seen,
                    self.stderr_text()
                ),
                Err(RecvTimeoutError::Disconnected) => panic!(
                    "{}: exited while waiting for {what}; saw {:?}; stderr:\n{}",
                    self.name,
                    self.seen,
                    self.stderr_text()
                ),
            }
        }
    }

    /// Waits for the next event named `event`.
    pub fn wait_event(&mut self, event: &str) -> Value {
        self.wait_for(event, |v| v["event"] == event)
    }

    /// Waits for the process to exit; returns its status and every event it printed.
    pub fn finish(mut self) -> (ExitStatus, Vec<Value>) {
        self.stdin = None;
        let deadline = Instant::now() + PATIENCE;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                break status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!(
                    "{} did not exit; saw {:?}; stderr:\n{}",
                    self.name,
                    self.seen,
                    self.stderr_text()
                );
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        // The reader thread ends at EOF; collect what it has left.
        self.seen.extend(self.events.iter());
        (status, std::mem::take(&mut self.seen))
    }

    /// What the process wrote on standard error.
    pub fn stderr_text(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A customer's agent.
pub type Agent = Running;
/// A console in `join --batch` mode.
pub type BatchConsole = Running;

/// Where an agent's screen and input go.
#[derive(Debug, Clone, Copy)]
enum Desktop<'a> {
    /// The test pattern; input written to [`input_log`].
    Pattern,
    /// This X display, captured and injected into for real.
    Display(&'a str),
}

impl Agent {
    /// `tether-agent request --consent consent --json`, logging input to [`input_log`].
    pub fn request(broker: &Broker, name: &str, consent: &str) -> Agent {
        Agent::request_via(broker, name, consent, &broker.url())
    }

    /// [`Agent::request`], connecting to `url` (a relay in front of the broker).
    pub fn request_via(broker: &Broker, name: &str, consent: &str, url: &str) -> Agent {
        Agent::requesting(broker, None, name, consent, url, Desktop::Pattern)
    }

    /// [`Agent::request`] sharing X display `display` and carrying out input on it.
    pub fn request_on_display(broker: &Broker, name: &str, consent: &str, display: &str) -> Agent {
        Agent::requesting(broker, None, name, consent, &broker.url(), Desktop::Display(display))
    }

    /// [`Agent::request`] run inside network namespace `netns`.
    pub fn request_in_netns(broker: &Broker, name: &str, consent: &str, netns: &str) -> Agent {
        Agent::requesting(broker, Some(netns), name, consent, &broker.url(), Desktop::Pattern)
    }

    /// [`Agent::request`] with `RUST_LOG` set to `rust_log`, or unset (the agent's default).
    pub fn request_with_log(
        broker: &Broker,
        name: &str,
        consent: &str,
        rust_log: Option<&str>,
    ) -> Agent {
        let mut cmd = request_command(broker, None, name, consent, &broker.url(), Desktop::Pattern);
        set_log(&mut cmd, rust_log);
        Running::spawn(
            &format!("agent {name}"),
            cmd,
            broker.scratch().join(format!("agent-{name}.err")),
        )
    }

    fn requesting(
        broker: &Broker,
        netns: Option<&str>,
        name: &str,
        consent: &str,
        url: &str,
        desk: Desktop<'_>,
    ) -> Agent {
        let cmd = request_command(broker, netns, name, consent, url, desk);
        Running::spawn(
            &format!("agent {name}"),
            cmd,
            broker.scratch().join(format!("agent-{name}.err")),
        )
    }

    /// [`Agent::request`] without `--json`: what a customer reads, each sentence read as a
    /// `text` event (a line the agent printed).
    pub fn request_in_words(broker: &Broker, name: &str, consent: &str) -> Agent {
        let mut cmd = crate::bins::command_in(None, "tether-agent");
        cmd.args(["request", "--name", name, "--issue", "in words"]);
        cmd.args(["--broker", &broker.url(), "--consent", consent, "--ca"])
            .arg(broker.ca())
            .args(["--screen", "test-pattern", "--input-log"])
            .arg(input_log(broker, name))
            .env("RUST_LOG", "debug")
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY");
        Running::spawn(
            &format!("agent {name} (words)"),
            cmd,
            broker.scratch().join(format!("agent-{name}-words.err")),
        )
    }

    /// `tether-agent join CODE --consent consent --json`.
    pub fn join(broker: &Broker, name: &str, code: &str, consent: &str) -> Agent {
        let mut cmd = Command::new(bin("tether-agent"));
        cmd.args(["join", code]);
        agent_args(&mut cmd, broker, name, consent, &broker.url(), Desktop::Pattern);
        Running::spawn(
            &format!("agent {name}"),
            cmd,
            broker.scratch().join(format!("agent-{name}.err")),
        )
    }
}

fn request_command(
    broker: &Broker,
    netns: Option<&str>,
    name: &str,
    consent: &str,
    url: &str,
    desk: Desktop<'_>,
) -> Command {
    let mut cmd = crate::bins::command_in(netns, "tether-agent");
    cmd.args(["request", "--name", name, "--contact", "555-0100", "--issue"])
        .arg(format!("{name}'s printer is on fire"));
    agent_args(&mut cmd, broker, name, consent, url, desk);
    cmd
}

/// Sets `RUST_LOG` to `rust_log`, or unsets it.
fn set_log(cmd: &mut Command, rust_log: Option<&str>) {
    match rust_log {
        Some(filter) => cmd.env("RUST_LOG", filter),
        None => cmd.env_remove("RUST_LOG"),
    };
}

/// The technician quits a batch session: both programs end, successfully.
pub fn quit_session(agent: Agent, mut console: BatchConsole) {
    console.send("quit");
    console.wait_event("ended");
    assert!(console.finish().0.success(), "the console exits cleanly");
    assert!(agent.finish().0.success(), "the agent exits cleanly");
}

/// Where the agent named `name` writes input events.
pub fn input_log(broker: &Broker, name: &str) -> PathBuf {
    broker.scratch().join(format!("input-{name}.jsonl"))
}

/// Where the agent named `name` saves the files it receives.
pub fn received_dir(broker: &Broker, name: &str) -> PathBuf {
    broker.scratch().join(format!("received-{name}"))
}

fn agent_args(
    cmd: &mut Command,
    broker: &Broker,
    name: &str,
    consent: &str,
    url: &str,
    desk: Desktop<'_>,
) {
    cmd.args(["--broker", url, "--consent", consent, "--json", "--ca"])
        .arg(broker.ca())
        .env("TETHER_RECEIVE_DIR", received_dir(broker, name))
        .env("RUST_LOG", "debug");
    match desk {
        // Whatever display the tests run under, these agents never touch it.
        Desktop::Pattern => {
            cmd.args(["--screen", "test-pattern", "--input-log"])
                .arg(input_log(broker, name))
                .env_remove("DISPLAY")
                .env_remove("WAYLAND_DISPLAY");
        }
        Desktop::Display(display) => {
            cmd.args(["--screen", "display", "--input", "inject"])
                .env("DISPLAY", display)
                .env_remove("WAYLAND_DISPLAY");
        }
    }
}

/// A console's one-shot commands, with its own config directory.
#[derive(Debug)]
pub struct Console {
    name: String,
    url: String,
    ca: PathBuf,
    config_dir: PathBuf,
    scratch: PathBuf,
    /// The network namespace its commands run in, if not this one.
    netns: Option<String>,
}

impl Console {
    pub(crate) fn new(broker: &Broker, name: &str) -> Console {
        Console {
            name: name.into(),
            url: broker.url(),
            ca: broker.ca(),
            config_dir: broker.scratch().join(format!("console-{name}")),
            scratch: broker.scratch().to_path_buf(),
            netns: None,
        }
    }

    /// The same console, its commands run inside network namespace `netns`.
    pub fn in_netns(mut self, netns: &str) -> Console {
        self.netns = Some(netns.to_string());
        self
    }

    /// Its configuration directory (`TETHER_CONFIG_DIR`), holding the saved login.
    pub fn config_dir(&self) -> &Path {
        &self.config_dir
    }

    fn command(&self) -> Command {
        let mut cmd = crate::bins::command_in(self.netns.as_deref(), "tether-console");
        cmd.env("TETHER_CONFIG_DIR", &self.config_dir).env("RUST_LOG", "debug");
        cmd
    }

    /// `tether-console login` with the password on standard input.
    pub fn login(&self, user: &str, password: &str) -> Output {
        let mut child = self
            .command()
            .args(["login", "--user", user, "--password-stdin", "--broker", &self.url, "--ca"])
            .arg(&self.ca)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting console login");
        let _ = writeln!(child.stdin.take().expect("stdin"), "{password}");
        child.wait_with_output().expect("console login")
    }

    /// Runs a one-shot command and returns its output.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command().args(args).output().expect("running tether-console")
    }

    /// The bearer token saved by `login`.
    pub fn token(&self) -> String {
        let text =
            std::fs::read_to_string(self.config_dir.join("console.json")).expect("logged in");
        let profile: Value = serde_json::from_str(&text).expect("profile JSON");
        profile["token"].as_str().expect("token").to_string()
    }

    /// `queue --json`, parsed.
    pub fn queue(&self) -> Vec<Value> {
        let out = self.run(&["queue", "--json"]);
        assert!(out.status.success(), "queue failed: {}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).expect("queue JSON")
    }

    /// `invite [--ticket T] --json`, parsed.
    pub fn invite(&self, ticket: Option<&str>) -> Value {
        let mut args = vec!["invite", "--json"];
        if let Some(t) = ticket {
            args.extend(["--ticket", t]);
        }
        let out = self.run(&args);
        assert!(out.status.success(), "invite failed: {}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).expect("invite JSON")
    }

    /// Any long-running command (such as `watch --json`), its output read as events.
    pub fn spawn(&self, args: &[&str]) -> Running {
        let mut cmd = self.command();
        cmd.args(args);
        Running::spawn(
            &format!("console {} {}", self.name, args.join(" ")),
            cmd,
            self.scratch.join(format!("console-{}-{}.err", self.name, args.join("-"))),
        )
    }

    /// `join TARGET` (not batch) with the viewer window on X display `display`; its output
    /// is sentences, each read as a `text` event.
    pub fn join_with_window(&self, target: &str, display: &str) -> Running {
        let mut cmd = self.command();
        cmd.args(["join", target]).env("DISPLAY", display).env_remove("WAYLAND_DISPLAY");
        Running::spawn(
            &format!("console {} (window)", self.name),
            cmd,
            self.scratch.join(format!("console-{}-{target}-window.err", self.name)),
        )
    }

    /// [`Console::join`] with `RUST_LOG` set to `rust_log`, or unset (the console's default).
    pub fn join_with_log(&self, target: &str, rust_log: Option<&str>) -> BatchConsole {
        let mut cmd = self.command();
        cmd.args(["join", target, "--batch"]);
        set_log(&mut cmd, rust_log);
        Running::spawn(
            &format!("console {}", self.name),
            cmd,
            self.scratch.join(format!("console-{}-{target}.err", self.name)),
        )
    }

    /// `join TARGET` without `--batch` and without a window: what a technician reads in a
    /// terminal, each sentence read as a `text` event.
    pub fn join_in_words(&self, target: &str) -> Running {
        let mut cmd = self.command();
        cmd.args(["join", target]).env_remove("DISPLAY").env_remove("WAYLAND_DISPLAY");
        Running::spawn(
            &format!("console {} (words)", self.name),
            cmd,
            self.scratch.join(format!("console-{}-{target}-words.err", self.name)),
        )
    }

    /// `join TARGET --batch`.
    pub fn join(&self, target: &str) -> BatchConsole {
        let mut cmd = self.command();
        cmd.args(["join", target, "--batch"]);
        Running::spawn(
            &format!("console {}", self.name),
            cmd,
            self.scratch.join(format!("console-{}-{target}.err", self.name)),
        )
    }
}
