//! Faults: a customer whose connection falls silent without closing (suspended, unplugged) is
//! noticed within the keepalive timeout and the technician is told; a customer who comes back
//! within the grace period resumes the session with nothing lost; one who does not ends it
//! cleanly in the records.

use serde_json::Value;
use tether_e2e::broker::Broker;
use tether_e2e::proc::Agent;
use tether_e2e::relay::Relay;
use tether_e2e::wait_until;

/// A two-second timeout, pinged every second, with quality sampled every second, and one
/// second for a lost customer to come back.
const CONFIG: &str = "[limits]\nidle_timeout_secs = 2\nping_interval_secs = 1\nresume_grace_secs = 1\n\n[bandwidth]\nquality_interval_secs = 1\n";

#[test]
fn a_vanished_customer_is_noticed_and_the_session_ends_in_the_records() {
    let broker = Broker::start_with_config(CONFIG);
    let alice = broker.technician("alice");
    let relay = Relay::to(&broker, 0);
    let mut agent = Agent::request_via(&broker, "bob", "view", &relay.url);
    let ticket = agent.wait_event("ticket")["ticket"].as_str().unwrap().to_string();
    let mut console = alice.join(&ticket);
    let session = console.wait_event("paired")["session"].as_str().unwrap().to_string();
    console.wait_for("view", |e| e["event"] == "consent" && e["granted"] == true);

    // A live but idle session outlasts the timeout (three quality reports a second apart):
    // pings keep it answered.
    for _ in 0..3 {
        console.wait_event("quality");
    }
    console.send("chat still there?");
    agent.wait_event("chat");

    relay.freeze();
    // Noticed within the timeout; the session waits a second for the customer, in vain.
    assert_eq!(console.wait_event("peer_away")["grace_secs"], 1);
    let ended = console.wait_event("ended");
    let reason = ended["reason"].as_str().unwrap();
    assert!(reason.contains("did not come back within 1 s"), "{reason}");
    assert!(console.finish().0.success(), "the technician's console ends cleanly");

    let records = broker.sealed_records(&session);
    let lost = records.iter().find(|r| r["event"] == "connection_lost").expect("the loss");
    assert!(lost["data"]["reason"].as_str().unwrap().contains("nothing heard for 2 s"), "{lost}");
    let end = records.iter().find(|r| r["event"] == "session_ended").expect("the end is recorded");
    assert!(end["data"]["reason"].as_str().unwrap().contains("did not come back"), "{end}");
    drop(relay);
    let _ = agent.finish();
}

#[test]
fn a_customer_whose_connection_drops_resumes_the_session_with_nothing_lost() {
    let broker = Broker::start_with_config("[limits]\nresume_grace_secs = 60\n");
    let alice = broker.technician("alice");
    let mut relay = Relay::to(&broker, 0);
    let mut agent = Agent::request_via(&broker, "bob", "view", &relay.url);
    let ticket = agent.wait_event("ticket")["ticket"].as_str().unwrap().to_string();
    let mut console = alice.join(&ticket);
    let session = console.wait_event("paired")["session"].as_str().unwrap().to_string();
    console.wait_for("view", |e| e["event"] == "consent" && e["granted"] == true);
    console.wait_event("screen");

    // The customer's network goes away.
    relay.cut();
    assert_eq!(agent.wait_event("reconnecting")["within_secs"], 60);
    assert_eq!(console.wait_event("peer_away")["grace_secs"], 60);
    // What the technician says meanwhile waits for the customer.
    console.send("chat are you back?");

    // The network comes back: the agent reconnects to the same address.
    relay.restore();
    agent.wait_event("reconnected");
    console.wait_event("peer_back");
    assert_eq!(agent.wait_event("chat")["text"], "are you back?");
    agent.send("yes, the wifi dropped");
    assert_eq!(console.wait_event("chat")["text"], "yes, the wifi dropped");
    // The same session goes on: the customer's screen still arrives, with view still held.
    let picture = broker.scratch().join("after.png");
    console.send(&format!("snapshot {}", picture.display()));
    console.wait_event("snapshot");

    console.send("quit");
    let (status, events) = console.finish();
    assert!(status.success());
    assert_eq!(events.iter().filter(|e| e["event"] == "paired").count(), 1, "one session");
    agent.wait_event("ended");
    assert!(agent.finish().0.success());

    let records = broker.sealed_records(&session);
    let kinds: Vec<&str> = records.iter().map(|r| r["event"].as_str().unwrap()).collect();
    let lost = kinds.iter().position(|k| *k == "connection_lost").expect("the loss is recorded");
    let back = kinds.iter().position(|k| *k == "resumed").expect("the return is recorded");
    assert!(lost < back, "{kinds:?}");
    assert!(records.iter().any(|r| r["event"] == "chat" && r["data"]["text"] == "are you back?"));
}

/// `tether-console ARGS --json` as `console`, parsed.
fn json(console: &tether_e2e::proc::Console, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.push("--json");
    let out = console.run(&all);
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn after_sigkill_and_restart_accounts_tickets_and_transcripts_are_intact() {
    let mut broker = Broker::start();
    let alice = broker.technician("alice");
    broker.add_user("dora", "dispatcher", "dora-password");
    let phoned = json(
        &alice,
        &["ticket", "new", "--channel", "phone", "--client", "Carla", "--issue", "VPN drops"],
    );
    let phoned = format!("T{}", phoned["summary"]["id"]);
    json(&alice, &["ticket", "priority", &phoned, "high", "--reason", "she cannot work"]);
    let mut agent = broker.request("bob", "view");
    let ticket = agent.wait_event("ticket")["ticket"].as_str().unwrap().to_string();
    let mut console = alice.join(&ticket);
    let session = console.wait_event("paired")["session"].as_str().unwrap().to_string();
    console.send("chat before the crash");
    agent.wait_event("chat");
    let path = broker.data_dir().join("transcripts").join(format!("{session}.jsonl"));
    wait_until("the chat is on disk", || {
        std::fs::read_to_string(&path).unwrap_or_default().contains("before the crash")
    });
    let before = json(&alice, &["ticket", "show", &phoned]);

    broker.kill();
    drop((agent, console));
    // Before any restart, the transcript tells a crash from tampering.
    let verified = broker.admin(&["verify", &session]);
    let out = String::from_utf8_lossy(&verified.stdout);
    assert_eq!(verified.status.code(), Some(2), "{out}");
    assert!(out.contains("UNSEALED") && !out.contains("TAMPERED"), "{out}");
    broker.restart();

    // Accounts: the saved login still works, and so does a password.
    let after = json(&alice, &["ticket", "show", &phoned]);
    assert_eq!(after["history"], before["history"], "the ticket's history survived");
    assert_eq!(after["summary"]["priority"], "high");
    let dora = broker.console("dora");
    assert!(dora.login("dora", "dora-password").status.success());
    // The ticket whose session was cut: still there, with its session recorded as interrupted.
    let cut = json(&dora, &["ticket", "show", &ticket]);
    let kinds: Vec<&str> =
        cut["history"].as_array().unwrap().iter().map(|h| h["kind"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"created") && kinds.contains(&"session_started"), "{kinds:?}");
    // The transcript verifies up to its last write: unsealed, not tampered, the chat in it.
    let verified = broker.admin(&["verify", &session]);
    let out = String::from_utf8_lossy(&verified.stdout);
    assert_eq!(verified.status.code(), Some(2), "{out}");
    assert!(out.contains("UNSEALED") && !out.contains("TAMPERED"), "{out}");
    assert!(std::fs::read_to_string(&path).unwrap().contains("before the crash"));
    let listed = broker.admin(&["sessions", "--json"]);
    let sessions: Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(sessions[0]["end_reason"], "the broker stopped before the session ended");

    // And the restarted broker serves a new session at once.
    let mut agent = broker.request("bob", "view");
    let ticket = agent.wait_event("ticket")["ticket"].as_str().unwrap().to_string();
    let mut console = alice.join(&ticket);
    console.wait_event("paired");
    console.send("chat after the crash");
    assert_eq!(agent.wait_event("chat")["text"], "after the crash");
    console.send("quit");
    assert!(console.finish().0.success());
}
