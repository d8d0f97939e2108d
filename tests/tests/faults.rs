//! Faults: a customer whose connection falls silent without closing (suspended, unplugged) is
//! noticed within the keepalive timeout, the technician is told, and the session ends cleanly
//! in the records.

use serde_json::Value;
use tether_e2e::broker::Broker;
use tether_e2e::proc::Agent;
use tether_e2e::relay::Relay;
use tether_e2e::wait_until;

/// A two-second timeout, pinged every second, with quality sampled every second.
const CONFIG: &str = "[limits]\nidle_timeout_secs = 2\nping_interval_secs = 1\n\n[bandwidth]\nquality_interval_secs = 1\n";

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
    let ended = console.wait_event("ended");
    let reason = ended["reason"].as_str().unwrap();
    assert!(reason.contains("nothing heard for 2 s"), "{reason}");
    assert!(console.finish().0.success(), "the technician's console ends cleanly");

    wait_until("the transcript is sealed", || {
        broker.admin(&["verify", &session]).status.code() == Some(0)
    });
    let path = broker.data_dir().join("transcripts").join(format!("{session}.jsonl"));
    let records: Vec<Value> = std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let end = records.iter().find(|r| r["event"] == "session_ended").expect("the end is recorded");
    assert!(end["data"]["reason"].as_str().unwrap().contains("nothing heard"), "{end}");
    drop(relay);
    let _ = agent.finish();
}
