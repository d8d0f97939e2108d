//! The direct path with the real agent and console: on loopback it comes up, the screen and
//! input travel on it while the broker relays next to no screen frames, and revoking control
//! stops input on it; where it cannot come up — the customer and the technician on networks
//! that reach the broker but not each other, or a console that declines — the session stays
//! on the relay after the timeout and works.

use serde_json::Value;
use tether_e2e::broker::Broker;
use tether_e2e::netns::{Island, island_or_skip};
use tether_e2e::proc::{Agent, BatchConsole, input_log};
use tether_e2e::wait_until;

fn granted(e: &Value, capability: &str, granted: bool) -> bool {
    e["event"] == "consent" && e["capability"] == capability && e["granted"] == granted
}

/// Screen frames the broker relayed in the session, from the transcript's summary.
fn relayed_screen_frames(records: &[Value]) -> u64 {
    let summary = records.iter().find(|r| r["event"] == "screen_summary").expect("a summary");
    summary["data"]["frames"].as_u64().unwrap()
}

fn snapshots(broker: &Broker, console: &mut BatchConsole, n: usize) {
    for i in 0..n {
        let path = broker.scratch().join(format!("direct-{i}.png"));
        console.send(&format!("snapshot {}", path.display()));
        console.wait_event("snapshot");
    }
}

fn input_lines(broker: &Broker) -> usize {
    std::fs::read_to_string(input_log(broker, "bob")).unwrap_or_default().lines().count()
}

/// The session works with nothing direct: three fresh screens arrive through the broker, and
/// both sides end cleanly. Returns the transcript's records.
fn works_relayed(
    broker: &Broker,
    agent: Agent,
    mut console: BatchConsole,
    session: &str,
) -> Vec<Value> {
    snapshots(broker, &mut console, 3);
    console.send("quit");
    let (status, events) = console.finish();
    assert!(status.success());
    let last = events.iter().rev().find(|e| e["event"] == "updates").unwrap();
    assert_eq!(last["direct"], 0, "{last}");
    assert!(last["relayed"].as_u64().unwrap() >= 3, "{last}");
    assert!(agent.finish().0.success());
    let records = broker.sealed_records(session);
    assert!(relayed_screen_frames(&records) >= 3);
    records
}

#[test]
fn on_loopback_screen_and_input_go_direct_and_revoking_control_stops_input() {
    let broker = Broker::start();
    let alice = broker.technician("alice");
    let mut agent = broker.request("bob", "all");
    let ticket = agent.wait_event("ticket")["ticket"].as_str().unwrap().to_string();
    let mut console = alice.join(&ticket);
    let session = console.wait_event("paired")["session"].as_str().unwrap().to_string();
    console.wait_for("view", |e| granted(e, "view", true));
    console.wait_for("the direct path", |e| e["event"] == "path" && e["direct"] == true);
    let before = console.wait_event("updates")["relayed"].as_u64().unwrap();
    agent.wait_for("the direct path", |e| e["event"] == "path" && e["direct"] == true);

    // The moving test pattern keeps arriving, now on the direct path.
    snapshots(&broker, &mut console, 5);

    // Input goes direct too, while control is held...
    console.send("request control");
    console.wait_for("control", |e| granted(e, "control", true));
    console.send("mouse 10 20 click");
    wait_until("the move and the click are carried out", || input_lines(&broker) == 2);
    // ...and stops when the customer takes control back, though the broker never sees it.
    agent.send("revoke control");
    console.wait_for("control revoked", |e| granted(e, "control", false));
    console.send("mouse 30 40 click");
    wait_until("the agent refused the input", || {
        agent.stderr_text().contains("input without control consent dropped")
    });
    assert_eq!(input_lines(&broker), 2, "input after the revocation was not carried out");

    console.send("quit");
    let (status, events) = console.finish();
    assert!(status.success());
    let last = events.iter().rev().find(|e| e["event"] == "updates").unwrap();
    let direct = last["direct"].as_u64().unwrap();
    assert!(direct >= 5, "{last}");
    assert!(agent.finish().0.success());

    // The broker relayed (next to) no screen frames once the path was up: at most one or two
    // in flight when it switched.
    let records = broker.sealed_records(&session);
    let relayed = relayed_screen_frames(&records);
    assert!(relayed <= before + 2, "{relayed} relayed; {before} before the path was up");
    let paths: Vec<&Value> = records.iter().filter(|r| r["event"] == "path").collect();
    assert!(paths.iter().any(|r| r["data"]["path"] == "direct"), "{paths:?}");
}

#[test]
fn without_a_direct_path_the_session_stays_on_the_relay_after_the_timeout() {
    let broker = Broker::start_with_config("[p2p]\nconnect_timeout_secs = 1\n");
    let alice = broker.technician("alice");
    let mut agent = broker.request("bob", "view");
    let ticket = agent.wait_event("ticket")["ticket"].as_str().unwrap().to_string();
    // The technician's console will not take part: the customer's offer goes unanswered.
    let mut console = alice.spawn(&["join", &ticket, "--batch", "--no-p2p"]);
    let session = console.wait_event("paired")["session"].as_str().unwrap().to_string();
    let declined = console.wait_event("path");
    assert_eq!(declined["direct"], false);
    let gave_up = agent.wait_event("path");
    assert_eq!(gave_up["direct"], false);
    assert!(gave_up["reason"].as_str().unwrap().contains("within 1 s"), "{gave_up}");

    // The session works on the relay.
    console.wait_for("view", |e| granted(e, "view", true));
    let records = works_relayed(&broker, agent, console, &session);
    assert!(records.iter().any(|r| r["event"] == "path" && r["data"]["path"] == "relay"));
}

/// A broker here, the customer's agent on `customer_net` and the technician's console on
/// `technician_net`, paired with view granted: (broker, agent, console, session).
fn across_islands(
    customer_net: &Island,
    technician_net: &Island,
    config: &str,
) -> (Broker, Agent, BatchConsole, String) {
    let broker = Broker::start_at(config, None, &customer_net.here_ip);
    broker.add_user("alice", "technician", "alice-password");
    let alice = broker.console("alice").in_netns(&technician_net.ns);
    let login = alice.login("alice", "alice-password");
    assert!(login.status.success(), "{}", String::from_utf8_lossy(&login.stderr));
    let mut agent = Agent::request_in_netns(&broker, "bob", "view", &customer_net.ns);
    let ticket = agent.wait_event("ticket")["ticket"].as_str().unwrap().to_string();
    let mut console = alice.join(&ticket);
    let session = console.wait_event("paired")["session"].as_str().unwrap().to_string();
    console.wait_for("view", |e| granted(e, "view", true));
    (broker, agent, console, session)
}

#[test]
fn customer_and_technician_who_cannot_reach_each_other_stay_on_the_relay() {
    let Some(customer_net) = island_or_skip(1) else { return };
    let Some(technician_net) = island_or_skip(2) else { return };
    // The broker listens in this namespace, which both islands reach; they do not reach each
    // other (this namespace does not forward).
    let (broker, mut agent, mut console, session) =
        across_islands(&customer_net, &technician_net, "[p2p]\nconnect_timeout_secs = 2\n");
    // Both try; neither gets through; both stay on the relay once the timeout passes.
    let agent_path = agent.wait_event("path");
    let console_path = console.wait_event("path");
    assert_eq!(
        (agent_path["direct"].as_bool(), console_path["direct"].as_bool()),
        (Some(false), Some(false))
    );
    assert!(agent_path["reason"].as_str().unwrap().contains("no direct path"), "{agent_path}");
    works_relayed(&broker, agent, console, &session);
}

#[test]
fn a_direct_path_that_fails_mid_session_falls_back_to_the_relay_on_its_own() {
    let Some(customer_net) = island_or_skip(3) else { return };
    let Some(technician_net) = island_or_skip(4) else { return };
    // A private link between the two networks: the direct path can come up over it.
    let bridge = customer_net.bridge(&technician_net, 5).expect("a link between the islands");
    let (broker, agent, mut console, session) = across_islands(&customer_net, &technician_net, "");
    console.wait_for("the direct path", |e| e["event"] == "path" && e["direct"] == true);
    // (A snapshot may be of the picture already shown; four take at least three new frames.)
    snapshots(&broker, &mut console, 4);

    // The link between them goes; the broker still reaches both.
    bridge.cut();
    let down = console.wait_for("the fallback", |e| e["event"] == "path" && e["direct"] == false);
    assert!(down["reason"].as_str().unwrap().contains("went down"), "{down}");
    let relayed_at_fallback = console.wait_event("updates")["relayed"].as_u64().unwrap();
    // Nobody did anything, and the screen keeps coming, through the broker now.
    snapshots(&broker, &mut console, 3);
    console.send("quit");
    let (status, events) = console.finish();
    assert!(status.success());
    let last = events.iter().rev().find(|e| e["event"] == "updates").unwrap();
    assert!(last["relayed"].as_u64().unwrap() >= relayed_at_fallback + 3, "{last}");
    assert!(last["direct"].as_u64().unwrap() >= 2, "{last} {events:?}");
    assert!(agent.finish().0.success());
    let records = broker.sealed_records(&session);
    let paths: Vec<&str> = records
        .iter()
        .filter(|r| r["event"] == "path" && r["actor"]["role"] == "console")
        .map(|r| r["data"]["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["direct", "relay"], "the console's paths, in order");
}
