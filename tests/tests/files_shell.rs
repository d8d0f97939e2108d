//! Files and the remote shell through a real broker: a 200 MiB file verified end to end with
//! the broker's memory bounded, files both ways, a transfer cut mid-way that resumes, unsafe
//! names and missing consent refused with nothing written, and a batch shell that runs a
//! command and is documented in the transcript and its asciicast, except a password typed at a
//! prompt that hides it.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use tether_e2e::broker::Broker;
use tether_e2e::proc::{Agent, BatchConsole, quit_session, received_dir};
use tether_e2e::raw;
use tether_e2e::relay::Relay;
use tether_e2e::wait_until;

const MIB: u64 = 1 << 20;

/// A file of `size` pseudo-random (incompressible) bytes.
fn random_file(path: &Path, size: u64) {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15 ^ size;
    let mut block = vec![0u8; MIB as usize];
    let mut left = size;
    while left > 0 {
        for chunk in block.chunks_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            chunk.copy_from_slice(&x.to_le_bytes()[..chunk.len()]);
        }
        let n = left.min(MIB) as usize;
        out.write_all(&block[..n]).unwrap();
        left -= n as u64;
    }
    out.flush().unwrap();
}

/// SHA-256 by coreutils, independent of tether's own hashing.
fn sha256sum(path: &Path) -> String {
    let out = Command::new("sha256sum").arg(path).output().expect("sha256sum");
    assert!(out.status.success(), "sha256sum {}", path.display());
    String::from_utf8_lossy(&out.stdout).split_whitespace().next().unwrap().to_string()
}

/// Files in `dir` (none if it does not exist).
fn files_in(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    entries.map(|e| e.unwrap().path()).collect()
}

/// A paired session: the agent with `consent`, the console holding `capability` if given.
fn session(
    broker: &Broker,
    agent: Agent,
    capability: Option<&str>,
) -> (Agent, BatchConsole, String) {
    let mut agent = agent;
    let ticket = agent.wait_event("ticket")["ticket"].as_str().unwrap().to_string();
    let alice = broker.console("alice");
    let mut console = alice.join(&ticket);
    let session = console.wait_event("paired")["session"].as_str().unwrap().to_string();
    agent.wait_event("paired");
    if let Some(cap) = capability {
        console.send(&format!("request {cap}"));
        console.wait_for(cap, |e| {
            e["event"] == "consent" && e["capability"] == cap && e["granted"] == true
        });
    }
    (agent, console, session)
}

fn records(broker: &Broker, session: &str) -> Vec<Value> {
    let path = broker.data_dir().join("transcripts").join(format!("{session}.jsonl"));
    wait_until("the transcript is sealed", || {
        broker.admin(&["verify", session]).status.code() == Some(0)
    });
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn a_200_mib_file_crosses_the_broker_verified_while_its_memory_stays_bounded() {
    let broker = Broker::start();
    broker.technician("alice");
    let (agent, mut console, session) =
        session(&broker, broker.request("bob", "all"), Some("files"));
    let big = broker.scratch().join("big.bin");
    random_file(&big, 200 * MIB);
    let expected = sha256sum(&big);
    let (rss_before, _) = broker.memory_kib();

    console.send(&format!("send-file {}", big.display()));
    let accepted = console.wait_event("file_accepted");
    assert_eq!(
        (accepted["offset"].as_u64(), accepted["size"].as_u64()),
        (Some(0), Some(200 * MIB))
    );
    let mut peak_rss = 0;
    for quarter in 1..=3 {
        let progress = console.wait_event("file_progress");
        assert!(progress["bytes"].as_u64().unwrap() >= quarter * 50 * MIB);
        peak_rss = peak_rss.max(broker.memory_kib().0);
    }
    let done = console.wait_event("file_done");
    assert_eq!(done["ok"], true, "{done}");
    assert_eq!(done["sha256"], expected);

    // The customer's copy, by its own hash.
    let received = files_in(&received_dir(&broker, "bob"));
    assert_eq!(received.len(), 1, "one file and no partial left: {received:?}");
    assert_eq!(received[0].file_name().unwrap(), "big.bin");
    assert_eq!(sha256sum(&received[0]), expected);

    // The broker relayed 200 MiB through bounded queues: its peak resident memory grew by far
    // less than the file.
    let (_, hwm) = broker.memory_kib();
    let growth_mib = hwm.saturating_sub(rss_before) / 1024;
    eprintln!("broker RSS before {rss_before} KiB, sampled {peak_rss} KiB, peak {hwm} KiB");
    assert!(growth_mib < 48, "broker memory grew by {growth_mib} MiB relaying 200 MiB");

    // And the other way: a file from the customer's machine, fetched by path.
    let log = broker.scratch().join("app.log");
    std::fs::write(&log, "line one\nline two\n".repeat(10_000)).unwrap();
    let fetched = broker.scratch().join("fetched");
    console.send(&format!("get-file {} {}", log.display(), fetched.display()));
    let done = console.wait_event("file_done");
    assert_eq!(done["ok"], true, "{done}");
    assert_eq!(sha256sum(&fetched.join("app.log")), sha256sum(&log));
    quit_session(agent, console);

    let records = records(&broker, &session);
    let transferred: Vec<&Value> =
        records.iter().filter(|r| r["event"] == "file_transferred").collect();
    assert_eq!(transferred.len(), 2, "both transfers are documented");
    let d = &transferred[0]["data"];
    assert_eq!(
        (d["name"].as_str(), d["size"].as_u64(), d["sha256"].as_str()),
        (Some("big.bin"), Some(200 * MIB), Some(expected.as_str()))
    );
    assert_eq!(
        (d["direction"].as_str(), d["outcome"].as_str()),
        (Some("to_agent"), Some("verified"))
    );
    let d = &transferred[1]["data"];
    assert_eq!(
        (d["name"].as_str(), d["direction"].as_str()),
        (Some("app.log"), Some("to_console"))
    );
    assert_eq!(transferred[1]["actor"]["role"], "console", "the technician's side verified it");
}

#[test]
fn a_transfer_cut_with_the_agents_connection_resumes_where_it_stopped() {
    // The session itself is not resumed (the faults tests cover that): the customer asks
    // again, and only the file resumes.
    let broker = Broker::start_with_config("[limits]\nresume_grace_secs = 0\n");
    broker.technician("alice");
    let file = broker.scratch().join("disk-image.bin");
    random_file(&file, 32 * MIB);
    let expected = sha256sum(&file);
    let inbox = received_dir(&broker, "carol");

    // The customer's upload is 100 Mbit/s: the transfer takes seconds, and the cut comes
    // mid-way.
    let mut relay = Relay::limited(&broker, 5, 100_000);
    let agent = Agent::request_via(&broker, "carol", "all", &relay.url);
    let (agent, mut console, _) = session(&broker, agent, Some("files"));
    console.send(&format!("send-file {}", file.display()));
    console.wait_event("file_accepted");
    console.wait_event("file_progress");
    relay.cut();
    // Both ends see the session end; the console says the transfer stopped.
    console.wait_for("the transfer stopped", |e| e["event"] == "file_failed");
    console.wait_event("ended");
    console.finish();
    assert!(!agent.finish().0.success(), "the agent lost its broker");
    let partial = files_in(&inbox);
    assert_eq!(partial.len(), 1, "{partial:?}");
    let kept = std::fs::metadata(&partial[0]).unwrap().len();
    assert!(partial[0].file_name().unwrap().to_string_lossy().starts_with(".tether-partial-"));
    assert!(kept > 0 && kept < 32 * MIB, "a partial copy of {kept} bytes");

    // The customer asks again; the technician sends the same file; it resumes.
    let (agent, mut console, _) = session(&broker, broker.request("carol", "all"), Some("files"));
    console.send(&format!("send-file {}", file.display()));
    let accepted = console.wait_event("file_accepted");
    let offset = accepted["offset"].as_u64().unwrap();
    assert!(offset > 0 && offset <= kept, "resumed at {offset} of the {kept} kept");
    let done = console.wait_event("file_done");
    assert_eq!(
        (done["ok"].as_bool(), done["sha256"].as_str()),
        (Some(true), Some(expected.as_str()))
    );
    let received = files_in(&inbox);
    assert_eq!(received.len(), 1, "the partial became the file: {received:?}");
    assert_eq!(received[0].file_name().unwrap(), "disk-image.bin");
    assert_eq!(sha256sum(&received[0]), expected);
    quit_session(agent, console);
}

#[test]
fn without_files_consent_nothing_is_written() {
    let broker = Broker::start();
    broker.technician("alice");
    let (agent, mut console, _) = session(&broker, broker.request("dave", "control"), None);
    let file = broker.scratch().join("payload.sh");
    std::fs::write(&file, "#!/bin/sh\necho pwned\n").unwrap();
    console.send(&format!("send-file {}", file.display()));
    let refused = console.wait_event("error");
    assert_eq!(refused["code"], "consent_required", "{refused}");
    console.wait_event("file_failed");
    // Asking is refused by the customer's policy, and still nothing arrives.
    console.send("request files");
    console.wait_for("files refused", |e| {
        e["event"] == "consent" && e["capability"] == "files" && e["granted"] == false
    });
    console.send(&format!("send-file {}", file.display()));
    assert_eq!(console.wait_event("error")["code"], "consent_required");
    quit_session(agent, console);
    assert!(files_in(&received_dir(&broker, "dave")).is_empty(), "no byte was written");
}

#[test]
fn unsafe_names_are_refused_and_their_data_is_never_written() {
    use tether_client::Incoming;
    use tether_protocol::{
        Capability, Channel, ClientMessage, Credential, Direction, FileMsg, Frame, JoinTarget,
        Role, Secret, ServerMessage, TicketId, encode_data_header, file_flags,
    };

    let broker = Broker::start();
    let alice = broker.technician("alice");
    let mut agent = broker.request("erin", "all");
    let ticket: TicketId = agent.wait_event("ticket")["ticket"].as_str().unwrap().parse().unwrap();
    let token = Secret::new(alice.token());
    let addr: tether_client::BrokerAddr = broker.url().parse().unwrap();
    let tls = raw::tls(&broker.ca());
    let rt = tokio::runtime::Runtime::new().unwrap();
    // A hand-driven console: the real one never offers such names.
    let refusals = rt.block_on(async {
        let (mut console, _) =
            tether_client::connect(&addr, tls, Role::Console, Credential::Token { token })
                .await
                .unwrap();
        tether_client::check::run_check(&mut console, |_| {}).await.unwrap();
        console.send(&ClientMessage::Join { target: JoinTarget::Ticket(ticket) }).await.unwrap();
        let ask = ClientMessage::ConsentRequest { capability: Capability::Files };
        let mut asked = false;
        loop {
            match console.recv_control().await.unwrap() {
                ServerMessage::Paired(_) if !asked => {
                    asked = true;
                    console.send(&ask).await.unwrap();
                }
                ServerMessage::ConsentChanged { capability: Capability::Files, granted: true } => {
                    break;
                }
                _ => {}
            }
        }
        let names = ["../../etc/passwd", "/etc/passwd", "..", "C:\\Windows\\evil.dll"];
        for (id, name) in (1u32..).zip(names) {
            let offer = FileMsg::Offer {
                id,
                name: name.into(),
                size: 5,
                sha256: "ab".repeat(32),
                direction: Direction::ToAgent,
            };
            let frame = Frame::encode(Channel::File, file_flags::CONTROL, &offer.encode()).unwrap();
            console.send_frame(frame).await.unwrap();
            // Data sent regardless of any answer.
            let mut data = encode_data_header(id, 0).to_vec();
            data.extend_from_slice(b"owned");
            console
                .send_frame(Frame::encode(Channel::File, file_flags::DATA, &data).unwrap())
                .await
                .unwrap();
        }
        let mut refusals = Vec::new();
        while refusals.len() < names.len() {
            if let Incoming::Frame(header, bytes) = console.recv().await.unwrap()
                && header.channel == Channel::File
                && header.flags == file_flags::CONTROL
            {
                match FileMsg::decode(&bytes[tether_protocol::HEADER_LEN..]).unwrap() {
                    FileMsg::Refuse { id, reason } => refusals.push((id, reason)),
                    other => panic!("expected refusals, got {other:?}"),
                }
            }
        }
        console.send(&ClientMessage::Leave { reason: None }).await.unwrap();
        refusals
    });
    for (id, reason) in &refusals {
        assert!(reason.contains("unsafe file name"), "offer {id}: {reason}");
    }
    agent.wait_event("ended");
    agent.finish();
    assert!(files_in(&received_dir(&broker, "erin")).is_empty(), "nothing was written");
    assert!(!std::fs::read_to_string("/etc/passwd").unwrap().contains("owned"));
}

/// Shell output until `needle` appears in it.
fn shell_output_until(console: &mut BatchConsole, needle: &str) -> String {
    let mut seen = String::new();
    while !seen.contains(needle) {
        let out = console.wait_for(needle, |e| e["event"] == "shell_output");
        seen.push_str(out["data"].as_str().unwrap());
    }
    seen
}

#[test]
fn a_batch_shell_runs_a_command_the_customer_can_close_and_the_transcript_replays() {
    let broker = Broker::start();
    broker.technician("alice");
    let (mut agent, mut console, session) =
        session(&broker, broker.request("frank", "all"), Some("shell"));

    console.send("shell");
    console.wait_event("shell_opened");
    assert_eq!(agent.wait_event("shell")["open"], true, "the customer sees the shell");
    console.send("shell send echo $((6*7))");
    let out = shell_output_until(&mut console, "42\r\n");
    assert!(out.contains("echo $((6*7))"), "the terminal echoes the command: {out:?}");

    // The customer closes it.
    agent.send("close shell");
    let closed = console.wait_event("shell_closed");
    assert_eq!(closed["reason"], "the customer closed the shell");
    assert_eq!(agent.wait_event("shell")["open"], false);

    // A second shell, and the script ends while a command still runs: the shell finishes it,
    // exits, and then the console leaves by itself.
    console.send("shell");
    console.wait_event("shell_opened");
    console.send("shell send sleep 0.5; echo second-$((2+3))");
    console.close_stdin();
    shell_output_until(&mut console, "second-5\r\n");
    let closed = console.wait_event("shell_closed");
    assert_eq!(closed["reason"], "the shell exited");
    console.wait_event("ended");
    assert!(console.finish().0.success());
    assert!(agent.finish().0.success());

    let records = records(&broker, &session);
    let typed: Vec<&str> = records
        .iter()
        .filter(|r| r["event"] == "shell_input")
        .filter_map(|r| r["data"]["data"].as_str())
        .collect();
    assert!(typed.contains(&"echo $((6*7))\n"), "the command is recorded: {typed:?}");
    let printed: String = records
        .iter()
        .filter(|r| r["event"] == "shell_output")
        .filter_map(|r| r["data"]["data"].as_str())
        .collect();
    assert!(printed.contains("42\r\n"), "its output is recorded");
    assert!(records.iter().any(|r| r["event"] == "shell_opened"));
    assert!(
        records.iter().any(|r| r["event"] == "shell_closed"
            && r["data"]["reason"] == "the customer closed the shell")
    );

    // The asciicast replays it.
    let cast = broker.admin(&["export", &session, "--format", "asciicast"]);
    assert!(cast.status.success(), "{}", String::from_utf8_lossy(&cast.stderr));
    let lines: Vec<Value> = String::from_utf8_lossy(&cast.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("asciicast lines are JSON"))
        .collect();
    assert_eq!(lines[0]["version"], 2);
    assert!(lines[0]["width"].as_u64().unwrap() > 0);
    let mut last = 0.0;
    for event in &lines[1..] {
        let t = event[0].as_f64().unwrap();
        assert!(t >= last, "times only grow");
        last = t;
    }
    let output: String =
        lines[1..].iter().filter(|e| e[1] == "o").filter_map(|e| e[2].as_str()).collect();
    assert!(output.contains("42\r\n") && output.contains("second-5\r\n"));
}

#[test]
fn a_password_typed_at_read_s_is_recorded_masked() {
    let broker = Broker::start();
    broker.technician("alice");
    let (agent, mut console, session) =
        session(&broker, broker.request("gina", "all"), Some("shell"));
    console.send("shell");
    console.wait_event("shell_opened");
    console.send(
        r#"shell send bash -c 'read -s -p "Password: " secret; echo "got ${#secret} characters"'"#,
    );
    // As a person would, the technician waits for the prompt; the customer's terminal has
    // said by then that it reads a secret.
    let hidden =
        |on: bool| move |e: &Value| e["event"] == "shell_input_hidden" && e["hidden"] == on;
    console.wait_for("typing hidden", hidden(true));
    console.send("shell send hunter2-secret");
    shell_output_until(&mut console, "got 14 characters");
    console.wait_for("typing shown again", hidden(false));
    console.send("shell send echo visible-again");
    shell_output_until(&mut console, "visible-again\r\n");
    quit_session(agent, console);

    let records = records(&broker, &session);
    let all = serde_json::to_string(&records).unwrap();
    assert!(!all.contains("hunter2"), "the secret is nowhere in the transcript");
    let inputs: Vec<&Value> = records.iter().filter(|r| r["event"] == "shell_input").collect();
    assert!(
        inputs.iter().any(|r| r["data"] == serde_json::json!({ "hidden": true })),
        "that something was typed is recorded: {inputs:?}"
    );
    assert!(
        inputs.iter().any(|r| r["data"]["data"] == "echo visible-again\n"),
        "typing is recorded in full again afterwards: {inputs:?}"
    );
    let flips: Vec<&Value> = records
        .iter()
        .filter(|r| r["event"] == "shell_input_hidden")
        .map(|r| &r["data"]["hidden"])
        .collect();
    assert_eq!(flips, [true, false], "the prompt's start and end are documented");
    for format in ["markdown", "asciicast"] {
        let out = broker.admin(&["export", &session, "--format", format]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(!text.contains("hunter2"), "{format}: {text}");
        if format == "markdown" {
            assert!(text.contains("typed at a hidden prompt (not recorded)"), "{text}");
        }
    }
}

#[test]
fn without_shell_consent_the_shell_is_refused() {
    let broker = Broker::start();
    broker.technician("alice");
    let (agent, mut console, session) = session(&broker, broker.request("gina", "control"), None);
    console.send("shell");
    let refused = console.wait_event("error");
    assert_eq!(refused["code"], "consent_required", "{refused}");
    console.wait_event("shell_closed");
    console.send("shell send touch /tmp/should-not-exist");
    assert_eq!(console.wait_event("error")["code"], "bad_command");
    console.send("request shell");
    console.wait_for("shell refused", |e| {
        e["event"] == "consent" && e["capability"] == "shell" && e["granted"] == false
    });
    console.send("quit");
    console.wait_event("ended");
    assert!(console.finish().0.success());
    let (status, events) = agent.finish();
    assert!(status.success());
    assert!(
        !events.iter().any(|e| e["event"] == "shell"),
        "no shell ran on the customer's machine"
    );
    let records = records(&broker, &session);
    assert!(!records.iter().any(|r| r["event"] == "shell_opened"), "no shell is documented");
}

/// A console at a real terminal (a pseudo-terminal): what it printed, read on a thread.
struct Terminal {
    master: Box<dyn portable_pty::MasterPty + Send>,
    writer: Box<dyn std::io::Write + Send>,
    child: Box<dyn portable_pty::Child + Send + Sync>,
    screen: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Terminal {
    fn join(console: &tether_e2e::proc::Console, ticket: &str) -> Terminal {
        use portable_pty::{CommandBuilder, PtySize, native_pty_system};
        let size = PtySize { rows: 24, cols: 80, pixel_width: 0, pixel_height: 0 };
        let pair = native_pty_system().openpty(size).expect("a pseudo-terminal");
        let mut cmd = CommandBuilder::new(tether_e2e::bins::bin("tether-console"));
        cmd.args(["join", ticket]);
        cmd.env("TETHER_CONFIG_DIR", console.config_dir());
        // A terminal session, whatever display the tests run under.
        cmd.env_remove("DISPLAY");
        cmd.env_remove("WAYLAND_DISPLAY");
        let child = pair.slave.spawn_command(cmd).expect("starting the console");
        drop(pair.slave);
        let mut reader = pair.master.try_clone_reader().unwrap();
        let writer = pair.master.take_writer().unwrap();
        let screen = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let shared = screen.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = std::io::Read::read(&mut reader, &mut buf) {
                if n == 0 {
                    break;
                }
                shared.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        Terminal { master: pair.master, writer, child, screen }
    }

    fn type_in(&mut self, keys: &[u8]) {
        self.writer.write_all(keys).unwrap();
        self.writer.flush().unwrap();
    }

    /// Waits until the terminal shows `text` after position `from`; returns the position
    /// just past it.
    fn expect(&self, from: usize, text: &str) -> usize {
        let mut at = 0;
        wait_until(&format!("the terminal shows {text:?}"), || {
            let screen = self.screen.lock().unwrap();
            match screen.get(from..).and_then(|s| s.find(text)) {
                Some(i) => {
                    at = from + i + text.len();
                    true
                }
                None => false,
            }
        });
        at
    }

    fn shown(&self) -> usize {
        self.screen.lock().unwrap().len()
    }
}

#[test]
fn an_interactive_shell_takes_the_terminal_follows_its_size_and_gives_it_back() {
    let broker = Broker::start();
    let alice = broker.technician("alice");
    let mut agent = broker.request("hana", "all");
    let ticket = agent.wait_event("ticket")["ticket"].as_str().unwrap().to_string();
    let mut term = Terminal::join(&alice, &ticket);
    let at = term.expect(0, "hana is connected");
    term.type_in(b"request shell\n");
    let at = term.expect(at, "Customer allowed shell.");
    term.type_in(b"shell\n");
    let at = term.expect(at, "Ctrl-] closes it");
    // Raw mode: the keys go to the remote shell as typed, Enter as a carriage return.
    term.type_in(b"echo typed-$((20+22)); stty size\r");
    let at = term.expect(at, "typed-42");
    let at = term.expect(at, "24 80");
    // The technician's window grows; the remote terminal follows.
    term.master
        .resize(portable_pty::PtySize { rows: 40, cols: 120, pixel_width: 0, pixel_height: 0 })
        .unwrap();
    wait_until("the new size reaches the remote shell", || {
        let at = term.shown();
        term.type_in(b"stty size\r");
        std::thread::sleep(std::time::Duration::from_millis(200));
        term.screen.lock().unwrap()[at..].contains("40 120")
    });
    // Ctrl-C goes to the remote command, not the console.
    term.type_in(b"sleep 30\r");
    term.type_in(&[0x03]);
    term.type_in(b"echo after-interrupt\r");
    let at = term.expect(at, "after-interrupt\r\n");
    // Ctrl-] closes the shell and gives the terminal back to commands.
    term.type_in(&[0x1d]);
    let at = term.expect(at, "Shell closed: the technician closed the shell.");
    assert_eq!(
        agent.wait_for("shell closed", |e| e["event"] == "shell" && e["open"] == false)["open"],
        false
    );
    term.type_in(b"chat back at the prompt\n");
    assert_eq!(agent.wait_event("chat")["text"], "back at the prompt");
    term.type_in(b"quit\n");
    term.expect(at, "Session ended");
    wait_until("the console exits", || matches!(term.child.try_wait(), Ok(Some(_))));
    assert!(term.child.wait().unwrap().success());
    assert!(agent.finish().0.success());
}

#[test]
fn the_customer_refuses_one_file_then_allows_all_for_the_session() {
    let broker = Broker::start();
    let alice = broker.technician("alice");
    let mut agent = broker.request("ivan", "ask");
    let ticket = agent.wait_event("ticket")["ticket"].as_str().unwrap().to_string();
    let mut console = alice.join(&ticket);
    agent.wait_event("consent_asked");
    agent.send("y"); // view
    console.send("request files");
    let asked = agent.wait_event("consent_asked");
    assert_eq!(asked["capability"], "files");
    agent.send("y");
    console.wait_for("files", |e| e["event"] == "consent" && e["capability"] == "files");
    let file = broker.scratch().join("driver.zip");
    std::fs::write(&file, b"PK not really a zip").unwrap();

    console.send(&format!("send-file {}", file.display()));
    let asked = agent.wait_event("file_asked");
    assert_eq!(asked["question"]["name"], "driver.zip");
    agent.send("n");
    assert_eq!(console.wait_event("file_failed")["reason"], "the customer refused this file");
    assert!(files_in(&received_dir(&broker, "ivan")).is_empty());

    console.send(&format!("send-file {}", file.display()));
    agent.wait_event("file_asked");
    agent.send("a");
    assert_eq!(console.wait_event("file_done")["ok"], true);
    // Allowed for the rest of the session: the next one is not asked about, and lands beside
    // the first under a new name.
    console.send(&format!("send-file {}", file.display()));
    assert_eq!(console.wait_event("file_done")["ok"], true);
    let mut names: Vec<String> = files_in(&received_dir(&broker, "ivan"))
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["driver (1).zip", "driver.zip"]);
    console.send("quit");
    console.wait_event("ended");
    console.finish();
    let (_, events) = agent.finish();
    let asked = events.iter().filter(|e| e["event"] == "file_asked").count();
    assert_eq!(asked, 2, "asked about the first two files, not the third");
}
