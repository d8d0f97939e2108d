//! The direct path with the real agent and console: on loopback it comes up, the screen and
//! input travel on it while the broker relays next to no screen frames, and revoking control
//! stops input on it; on a healthy link, on loopback and across a private link between the
//! customer's and the technician's networks, it carries a minute of continuous screen pulls
//! and input with the broker relaying no screen frame; when the private link is cut the
//! session goes on over the relay, and when the link is back so is the path; where it cannot
//! come up — the customer and the technician on networks that reach the broker but not each
//! other, or a console that declines — the session stays on the relay after the timeout and
//! works. While a second technician watches, the screen goes through the broker, which shows
//! it to them, and direct again once they leave. And `join` shows tether's own words, not
//! webrtc-rs's warnings.

use std::time::{Duration, Instant};

use serde_json::Value;
use tether_e2e::broker::Broker;
use tether_e2e::netns::{Island, island_or_skip};
use tether_e2e::proc::{Agent, BatchConsole, input_log};
use tether_e2e::wait_until;

/// How long a healthy path must carry the session without a break (issue 22).
const HOLD: Duration = Duration::from_secs(60);
/// How long the private link is cut, and by when after it is back the path must be too.
const CUT: Duration = Duration::from_secs(10);
const BACK_WITHIN: Duration = Duration::from_secs(15);

/// Agent and console both on this machine: the operator names loopback as a network where
/// the two sides may reach each other (by default only public addresses are contacted).
const LOOPBACK_PEERS: &str = "[p2p]\npeer_networks = [\"127.0.0.0/8\"]\n";

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

fn is_direct(e: &Value) -> bool {
    e["event"] == "path" && e["direct"] == true
}

fn is_relay(e: &Value) -> bool {
    e["event"] == "path" && e["direct"] == false
}

fn counts(e: &Value) -> (u64, u64) {
    (e["relayed"].as_u64().unwrap(), e["direct"].as_u64().unwrap())
}

/// The console's screen updates so far, (through the broker, direct), asked for with `path`.
/// (Every `updates` the console printed before has been taken: see [`path_change`].)
fn updates(console: &mut BatchConsole) -> (u64, u64) {
    console.send("path");
    counts(&console.wait_event("updates"))
}

/// Waits for the console's path to change as `pred` says; returns the change and the counts
/// the console prints with it.
fn path_change(
    console: &mut BatchConsole,
    what: &str,
    pred: impl Fn(&Value) -> bool,
) -> (Value, (u64, u64)) {
    let change = console.wait_for(what, pred);
    (change, counts(&console.wait_event("updates")))
}

/// Each side's path records in the transcript, in order: (agent's, console's).
fn paths(records: &[Value]) -> (Vec<String>, Vec<String>) {
    let of = |role: &str| {
        records
            .iter()
            .filter(|r| r["event"] == "path" && r["actor"]["role"] == role)
            .map(|r| format!("{}: {}", r["data"]["path"].as_str().unwrap(), r["data"]["reason"]))
            .collect()
    };
    (of("agent"), of("console"))
}

/// Pulls the screen and moves the pointer without a pause for `span`: each round waits for a
/// fresh screen (a snapshot) and for the agent to carry out one more move (control must be
/// held). Returns the rounds.
fn pull_and_point(broker: &Broker, console: &mut BatchConsole, span: Duration) -> usize {
    let shot = broker.scratch().join("pulled.png");
    let moves = input_lines(broker);
    let started = Instant::now();
    let mut rounds = 0;
    while started.elapsed() < span {
        console.send(&format!("snapshot {}", shot.display()));
        console.wait_event("snapshot");
        rounds += 1;
        console.send(&format!("mouse {} {}", rounds % 640, rounds % 400));
        wait_until("the move is carried out", || input_lines(broker) == moves + rounds);
    }
    rounds
}

/// With control granted and the path up on both sides: a minute of screen pulls and input all
/// go direct — the broker relays no screen frame and no input meanwhile — and neither side's
/// path changes until the end.
fn holds_for_a_minute(broker: Broker, mut agent: Agent, mut console: BatchConsole, session: &str) {
    path_change(&mut console, "the direct path", is_direct);
    agent.wait_for("the direct path", is_direct);
    console.send("request control");
    console.wait_for("control", |e| granted(e, "control", true));
    // A frame relayed just before the switch may still be on its way: count from here.
    snapshots(&broker, &mut console, 2);
    let (relayed, direct) = updates(&mut console);

    let rounds = pull_and_point(&broker, &mut console, HOLD);

    let (relayed_after, direct_after) = updates(&mut console);
    assert_eq!(relayed_after, relayed, "no screen update came through the broker");
    assert!(direct_after >= direct + rounds as u64, "{rounds} rounds, {direct_after} direct");
    console.send("quit");
    let (status, events) = console.finish();
    assert!(status.success());
    let (agent_status, agent_events) = agent.finish();
    assert!(agent_status.success());
    for (side, events) in [("console", events), ("agent", agent_events)] {
        let changes: Vec<Value> = events.into_iter().filter(|e| e["event"] == "path").collect();
        assert_eq!(changes.len(), 1, "the {side}'s path never changed, not even at the end");
    }

    let records = broker.sealed_records(session);
    assert_eq!(relayed_screen_frames(&records), relayed, "the broker's count agrees");
    let input = records.iter().find(|r| r["event"] == "input_summary").expect("input summary");
    assert_eq!(input["data"]["counts"], serde_json::json!({}), "no input through the broker");
    let direct_only = vec!["direct: \"the direct path is up\"".to_string()];
    assert_eq!(paths(&records), (direct_only.clone(), direct_only), "one direct each, no more");
    eprintln!(
        "{rounds} rounds in {HOLD:?}: {} screen updates direct, {relayed} through the broker \
         (all before the path was up)",
        direct_after - direct
    );
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
    let broker = Broker::start_with_config(LOOPBACK_PEERS);
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
fn on_loopback_the_direct_path_carries_screen_and_input_for_a_whole_minute() {
    let broker = Broker::start_with_config(LOOPBACK_PEERS);
    let alice = broker.technician("alice");
    let mut agent = broker.request("bob", "control");
    let ticket = agent.wait_event("ticket")["ticket"].as_str().unwrap().to_string();
    let mut console = alice.join(&ticket);
    let session = console.wait_event("paired")["session"].as_str().unwrap().to_string();
    console.wait_for("view", |e| granted(e, "view", true));
    holds_for_a_minute(broker, agent, console, &session);
}

#[test]
fn while_a_second_technician_watches_the_screen_goes_through_the_broker_then_direct_again() {
    let broker = Broker::start_with_config(LOOPBACK_PEERS);
    let alice = broker.technician("alice");
    let dan = broker.technician("dan");
    // View allowed in advance: a watcher is approved without asking.
    let mut agent = broker.request("bob", "view");
    let ticket = agent.wait_event("ticket")["ticket"].as_str().unwrap().to_string();
    let mut console = alice.join(&ticket);
    console.wait_for("view", |e| granted(e, "view", true));
    path_change(&mut console, "the direct path", is_direct);
    agent.wait_for("the direct path", is_direct);
    snapshots(&broker, &mut console, 2);
    let (relayed, _) = updates(&mut console);

    // A watcher sees the screen as it passes through the broker: now it does.
    console.send("invite-tech dan watch");
    console.wait_for("dan allowed", |e| e["event"] == "approval" && e["allowed"] == true);
    let mut watcher = dan.join(&ticket);
    watcher.wait_event("paired");
    agent.wait_for("dan joined", |e| e["event"] == "helper" && e["joined"] == true);
    let shot = broker.scratch().join("watcher.png");
    for _ in 0..2 {
        watcher.send(&format!("snapshot {}", shot.display()));
        watcher.wait_event("snapshot");
    }
    snapshots(&broker, &mut console, 2);
    let (relayed_watched, _) = updates(&mut console);
    assert!(relayed_watched > relayed, "{relayed} -> {relayed_watched}");

    // Once the watcher has gone, the screen takes the direct path again.
    watcher.send("quit");
    assert!(watcher.finish().0.success());
    agent.wait_for("dan left", |e| e["event"] == "helper" && e["joined"] == false);
    snapshots(&broker, &mut console, 1);
    let (relayed_after, direct_after) = updates(&mut console);
    snapshots(&broker, &mut console, 3);
    let (relayed_end, direct_end) = updates(&mut console);
    assert_eq!(relayed_end, relayed_after, "no update through the broker");
    assert!(direct_end >= direct_after + 2, "{direct_after} -> {direct_end}");
    // The path itself never changed.
    console.send("quit");
    let (status, events) = console.finish();
    assert!(status.success());
    assert_eq!(events.iter().filter(|e| e["event"] == "path").count(), 1, "{events:?}");
    assert!(agent.finish().0.success());
}

/// Lines a person would see from the crates underneath: webrtc-rs's warnings.
fn library_warnings(stderr: &str) -> Vec<&str> {
    stderr.lines().filter(|l| l.contains("WARN rtc") || l.contains("WARN webrtc")).collect()
}

#[test]
fn join_shows_no_library_warnings_unless_rust_log_asks_for_them() {
    let broker = Broker::start_with_config(LOOPBACK_PEERS);
    let alice = broker.technician("alice");
    let session = |name: &str, rust_log: Option<&str>| {
        let mut agent = Agent::request_with_log(&broker, name, "view", rust_log);
        let ticket = agent.wait_event("ticket")["ticket"].as_str().unwrap().to_string();
        let mut console = alice.join_with_log(&ticket, rust_log);
        console.wait_for("the direct path", is_direct);
        agent.wait_for("the direct path", is_direct);
        snapshots(&broker, &mut console, 2);
        let stderr = (console.stderr_text(), agent.stderr_text());
        quit_both(agent, console);
        stderr
    };
    // Asked for, the warnings webrtc-rs gives while setting up a path are there...
    let (console_err, _) = session("carol", Some("warn"));
    assert!(!library_warnings(&console_err).is_empty(), "{console_err}");
    // ...and by default neither terminal shows any.
    let (console_err, agent_err) = session("bob", None);
    assert_eq!(library_warnings(&console_err), Vec::<&str>::new(), "{console_err}");
    assert_eq!(library_warnings(&agent_err), Vec::<&str>::new(), "{agent_err}");
}

fn quit_both(agent: Agent, mut console: BatchConsole) {
    console.send("quit");
    assert!(console.finish().0.success());
    assert!(agent.finish().0.success());
}

#[test]
fn without_a_direct_path_the_session_stays_on_the_relay_after_the_timeout() {
    let broker = Broker::start_with_config(
        "[p2p]\nconnect_timeout_secs = 1\npeer_networks = [\"127.0.0.0/8\"]\n",
    );
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
/// `technician_net`, paired with view granted: (broker, agent, console, session). `p2p` is
/// more of the broker's `[p2p]` settings; the islands' networks are named as reachable.
fn across_islands(
    customer_net: &Island,
    technician_net: &Island,
    p2p: &str,
    consent: &str,
) -> (Broker, Agent, BatchConsole, String) {
    let config = format!("[p2p]\npeer_networks = [\"10.78.0.0/16\", \"10.79.0.0/16\"]\n{p2p}");
    let broker = Broker::start_at(&config, None, &customer_net.here_ip);
    broker.add_user("alice", "technician", "alice-password");
    let alice = broker.console("alice").in_netns(&technician_net.ns);
    let login = alice.login("alice", "alice-password");
    assert!(login.status.success(), "{}", String::from_utf8_lossy(&login.stderr));
    let mut agent = Agent::request_in_netns(&broker, "bob", consent, &customer_net.ns);
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
        across_islands(&customer_net, &technician_net, "connect_timeout_secs = 2\n", "view");
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
fn across_a_private_link_the_direct_path_carries_screen_and_input_for_a_whole_minute() {
    let Some(customer_net) = island_or_skip(3) else { return };
    let Some(technician_net) = island_or_skip(4) else { return };
    // A private link between the two networks: the direct path comes up over it.
    let _bridge = customer_net.bridge(&technician_net, 5).expect("a link between the islands");
    let (broker, agent, console, session) =
        across_islands(&customer_net, &technician_net, "", "control");
    holds_for_a_minute(broker, agent, console, &session);
}

#[test]
fn a_cut_private_link_sends_the_screen_through_the_broker_until_the_link_and_the_path_are_back() {
    let Some(customer_net) = island_or_skip(6) else { return };
    let Some(technician_net) = island_or_skip(7) else { return };
    let bridge = customer_net.bridge(&technician_net, 8).expect("a link between the islands");
    let (broker, mut agent, mut console, session) =
        across_islands(&customer_net, &technician_net, "", "view");
    path_change(&mut console, "the direct path", is_direct);
    agent.wait_for("the direct path", is_direct);
    snapshots(&broker, &mut console, 2);

    // The link between them goes; the broker still reaches both, and both fall back.
    bridge.cut();
    let cut = Instant::now();
    let (down, (relayed, _)) = path_change(&mut console, "the fallback", is_relay);
    assert!(down["reason"].as_str().unwrap().contains("went down"), "{down}");
    agent.wait_for("the fallback", is_relay);
    // Nobody does anything, and the screen keeps coming, through the broker, while it is cut.
    let shot = broker.scratch().join("cut.png");
    let mut pulled = 0;
    while cut.elapsed() < CUT {
        console.send(&format!("snapshot {}", shot.display()));
        console.wait_event("snapshot");
        pulled += 1;
    }
    // (A snapshot may be of the picture already shown: n take at least n - 1 new frames.)
    let (relayed_in_cut, direct_in_cut) = updates(&mut console);
    assert!(pulled >= 3 && relayed_in_cut + 1 >= relayed + pulled, "{pulled}: {relayed_in_cut}");

    // The link is back: so is the path, by itself.
    bridge.restore().expect("the link is made again");
    let restored = Instant::now();
    let (up, _) = path_change(&mut console, "the direct path again", is_direct);
    let took = restored.elapsed();
    assert!(took <= BACK_WITHIN, "direct again {took:?} after the link came back");
    assert_eq!(up["reason"], "the direct path is up again");
    agent.wait_for("the direct path again", is_direct);
    snapshots(&broker, &mut console, 3);
    let (_, direct_after) = updates(&mut console);
    assert!(direct_after >= direct_in_cut + 2, "{direct_in_cut} -> {direct_after}");
    quit_both(agent, console);

    // The transcript has each change, with its reason, from both sides.
    let (agent_paths, console_paths) = paths(&broker.sealed_records(&session));
    for (side, paths) in [("agent", agent_paths), ("console", console_paths)] {
        let kinds: Vec<&str> = paths.iter().map(|p| &p[..p.find(':').unwrap()]).collect();
        assert_eq!(kinds, ["direct", "relay", "direct"], "{side}: {paths:?}");
        assert!(paths[1].contains("went down"), "{side}: {paths:?}");
        assert!(paths[2].contains("up again"), "{side}: {paths:?}");
    }
    eprintln!("direct again {took:?} after the link came back");
}
