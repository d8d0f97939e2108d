//! Transcripts end to end: a real session's transcript is complete, verifies, and every kind
//! of tampering is caught and located (a crash, which leaves it unsealed, is in `faults.rs`);
//! exports are documentation; only the right people may read it; and a session whose transcript cannot be
//! written ends.

use std::path::PathBuf;

use serde_json::Value;
use tether_e2e::broker::Broker;
use tether_e2e::proc::Running;
use tether_e2e::wait_until;

/// A finished session with chat, consent, input, a note, a resolution and a confirmation.
/// Returns the session id.
fn documented_session(broker: &Broker) -> String {
    let alice = broker.technician("alice");
    let mut agent = broker.request("bob", "control");
    let ticket = agent.wait_event("ticket")["ticket"].as_str().unwrap().to_string();
    let mut console = alice.join(&ticket);
    let session = console.wait_event("paired")["session"].as_str().unwrap().to_string();
    console.wait_for("view", |e| e["event"] == "consent" && e["granted"] == true);
    console.send("chat hello bob, what do you see?");
    agent.wait_event("chat");
    agent.send("it says PC LOAD LETTER");
    console.wait_event("chat");
    console.send("request control");
    console.wait_for("control", |e| {
        e["event"] == "consent" && e["capability"] == "control" && e["granted"] == true
    });
    console.send("mouse 5 5 click");
    console.send("key ctrl+alt+t");
    console.send("note loaded letter paper into tray 2");
    console.wait_for("note recorded", |e| e["event"] == "recorded" && e["what"] == "note");
    console.send("resolve paper loaded; printing works");
    console
        .wait_for("resolution recorded", |e| e["event"] == "recorded" && e["what"] == "resolution");
    agent.wait_event("resolution_proposed");
    agent.send("y");
    agent.wait_event("rating_asked");
    agent.send("5");
    agent.wait_event("comment_asked");
    agent.send("quick and friendly");
    assert_eq!(console.wait_event("confirmed")["solved"], true);
    console.send("quit");
    console.wait_event("ended");
    assert!(console.finish().0.success());
    assert!(agent.finish().0.success());
    session
}

fn transcript_path(broker: &Broker, session: &str) -> PathBuf {
    broker.data_dir().join("transcripts").join(format!("{session}.jsonl"))
}

fn records(path: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn verify(broker: &Broker, session: &str) -> (i32, String) {
    let out = broker.admin(&["verify", session]);
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Waits until the session is sealed (the seal is written just after the session ends).
fn wait_sealed(broker: &Broker, session: &str) {
    wait_until("the transcript is sealed", || verify(broker, session).0 == 0);
}

#[test]
fn a_real_transcript_is_complete_verifies_and_locates_each_tampering() {
    let broker = Broker::start();
    let session = documented_session(&broker);
    wait_sealed(&broker, &session);
    let path = transcript_path(&broker, &session);
    let recs = records(&path);
    let events: Vec<&str> = recs.iter().map(|r| r["event"].as_str().unwrap()).collect();
    for expected in [
        "session_started",
        "consent_requested",
        "consent_granted",
        "chat",
        "note",
        "resolution",
        "customer_confirmation",
        "input_summary",
        "screen_summary",
        "session_ended",
        "sealed",
    ] {
        assert!(events.contains(&expected), "{expected} missing from {events:?}");
    }
    assert_eq!(events.last(), Some(&"sealed"));
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.contains("it says PC LOAD LETTER") && text.contains("hello bob, what do you see?")
    );
    let input = recs.iter().find(|r| r["event"] == "input_summary").unwrap();
    assert_eq!(
        input["data"]["counts"],
        serde_json::json!({"mouse_move": 1, "mouse_button": 1, "key": 1})
    );
    assert!(!text.contains("ctrl+alt+t"), "the keys typed never reach the transcript");
    for (i, r) in recs.iter().enumerate() {
        assert_eq!(r["seq"], i as u64);
    }

    let (code, out) = verify(&broker, &session);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("OK"), "{out}");

    let original = std::fs::read(&path).unwrap();
    let lines: Vec<Vec<u8>> =
        original.split_inclusive(|b| *b == b'\n').map(<[u8]>::to_vec).collect();
    let chat = recs.iter().position(|r| r["data"]["text"] == "it says PC LOAD LETTER").unwrap();
    let tamper = |bytes: Vec<u8>, record: usize, word: &str| {
        std::fs::write(&path, bytes).unwrap();
        let (code, out) = verify(&broker, &session);
        assert_eq!(code, 1, "tampering not caught: {out}");
        assert!(
            out.contains("TAMPERED")
                && out.contains(&format!("record {record}"))
                && out.contains(word),
            "{out}"
        );
    };
    // One byte flipped inside the customer's chat text.
    let mut flipped = lines.clone();
    let at = flipped[chat].windows(4).position(|w| w == b"LOAD").unwrap();
    flipped[chat][at] = b'R';
    tamper(flipped.concat(), chat, "changed");
    // A line deleted.
    let mut deleted = lines.clone();
    deleted.remove(chat);
    tamper(deleted.concat(), chat, "deleted");
    // Two lines swapped.
    let mut swapped = lines.clone();
    swapped.swap(chat, chat + 1);
    tamper(swapped.concat(), chat, "out of order");
    // Truncated in the middle of a record.
    let cut = lines[..chat].concat().into_iter().chain(lines[chat][..20].iter().copied()).collect();
    tamper(cut, chat, "cut off");
    // Restored, it verifies again.
    std::fs::write(&path, &original).unwrap();
    assert_eq!(verify(&broker, &session).0, 0);
    // `show` prints it as stored.
    let shown = broker.admin(&["show", &session]);
    assert_eq!(shown.stdout, original);
}

#[test]
fn exports_are_the_tickets_documentation() {
    let broker = Broker::start();
    let session = documented_session(&broker);
    wait_sealed(&broker, &session);
    let out = broker.admin(&["export", &session, "--format", "md"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let md = String::from_utf8(out.stdout).unwrap();
    assert!(md.starts_with("# Ticket T1"), "{md}");
    for needle in [
        "it says PC LOAD LETTER",
        "bob allowed view",
        "bob allowed control",
        "alice asked for control",
        "loaded letter paper into tray 2",
        "paper loaded; printing works",
        "confirmed the problem is solved",
        "**Bandwidth:** bandwidth check for bob: pass",
        "bandwidth check for alice: pass",
        "chain intact, seal valid",
    ] {
        assert!(md.contains(needle), "{needle:?} missing from:\n{md}");
    }
    let out = broker.admin(&["export", &session, "--format", "json"]);
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["ticket"]["id"], "T1");
    assert_eq!(json["ticket"]["status"], "closed", "the customer's confirmation closed the ticket");

    // The HTML page renders in a real browser, with the ticket and the chat in its text.
    let html = broker.scratch().join("doc.html");
    let out =
        broker.admin(&["export", &session, "--format", "html", "--output", html.to_str().unwrap()]);
    assert!(out.status.success());
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(!page.contains("http://") && !page.contains("https://"), "self-contained");
    let dom = chromium_dump_dom(&html);
    assert!(dom.contains("Ticket T1"), "{dom}");
    assert!(dom.contains("it says PC LOAD LETTER") && dom.contains("hello bob, what do you see?"));
}

fn chromium_dump_dom(page: &std::path::Path) -> String {
    let profile = tempfile::tempdir().unwrap();
    tether_e2e::require::programs(&[("chromium", "chromium")]);
    let out = std::process::Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium must be installed (Debian package chromium; .ci/run installs it)");
    assert!(out.status.success(), "chromium failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn technicians_read_only_their_own_transcripts_and_admins_read_all() {
    let broker = Broker::start();
    let session = documented_session(&broker);
    wait_sealed(&broker, &session);
    let carol = broker.technician("carol");
    broker.add_user("root", "admin", "root-password");
    let root = broker.console("root");
    assert!(root.login("root", "root-password").status.success());
    let alice = broker.console("alice");

    let refused = carol.run(&["admin", "show", &session]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("forbidden"));
    let listed = carol.run(&["admin", "sessions", "--json"]);
    assert_eq!(serde_json::from_slice::<Value>(&listed.stdout).unwrap(), serde_json::json!([]));

    let own = alice.run(&["admin", "show", &session]);
    assert!(own.status.success(), "{}", String::from_utf8_lossy(&own.stderr));
    let shown = root.run(&["admin", "show", &session]);
    assert!(shown.status.success());
    assert_eq!(shown.stdout, std::fs::read(transcript_path(&broker, &session)).unwrap());
    let verified = root.run(&["admin", "verify", "--all"]);
    assert!(verified.status.success() && String::from_utf8_lossy(&verified.stdout).contains("OK"));
    let html = root.run(&["admin", "export", &session, "--format", "html"]);
    assert!(String::from_utf8_lossy(&html.stdout).contains("PC LOAD LETTER"));
}

/// A small tmpfs, unmounted on drop.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(path: PathBuf, size: &str) -> Tmpfs {
        tether_e2e::require::root("to mount a small tmpfs and fill it");
        std::fs::create_dir_all(&path).unwrap();
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&path)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(ok, "this test mounts a tmpfs to fill it; it needs root (CI runs as root)");
        Tmpfs(path)
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

#[test]
fn a_session_whose_transcript_cannot_be_written_ends_with_a_clear_error() {
    let scratch = tempfile::tempdir().unwrap();
    let disk = Tmpfs::mount(scratch.path().join("transcripts"), "256k");
    let broker =
        Broker::start_with_config(&format!("[transcripts]\ndir = \"{}\"\n", disk.0.display()));
    let alice = broker.technician("alice");
    let mut agent = broker.request("bob", "view");
    let ticket = agent.wait_event("ticket")["ticket"].as_str().unwrap().to_string();
    let mut console: Running = alice.join(&ticket);
    console.wait_event("paired");
    console.send("chat recorded while there is room");
    agent.wait_event("chat");

    // The disk fills up mid-session.
    let _ = std::process::Command::new("dd")
        .args(["if=/dev/zero", "bs=4k", "count=1000"])
        .arg(format!("of={}", disk.0.join("filler").display()))
        .output();
    console.send(&format!("chat {}", "this will not fit ".repeat(400)));
    let ended = console.wait_event("ended");
    assert_eq!(ended["code"], "recording_failed", "{ended}");
    assert!(ended["reason"].as_str().unwrap().contains("could not be recorded"), "{ended}");
    let ended = agent.wait_event("ended");
    assert!(ended["reason"].as_str().unwrap().contains("could not be recorded"));
    assert!(console.finish().0.success());
    agent.finish();

    // The failure is on the ticket's record.
    let db = rusqlite::Connection::open(broker.data_dir().join("tether.db")).unwrap();
    wait_until("the failure is recorded on the ticket", || {
        db.query_row(
            "SELECT count(*) FROM ticket_events WHERE kind = 'recording_failed'",
            [],
            |r| r.get::<_, i64>(0),
        )
        .unwrap()
            > 0
    });
    assert!(broker.log().contains("transcript failed"));
    drop(broker);
}
