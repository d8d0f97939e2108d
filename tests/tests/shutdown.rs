//! Graceful shutdown: on SIGTERM the broker stops accepting, tells connected peers, lets the
//! session run out its grace period, ends it cleanly and exits 0.

use tether_e2e::broker::Broker;

#[test]
fn sigterm_tells_peers_ends_sessions_and_exits_zero() {
    let broker = Broker::start_with_config("[limits]\nshutdown_grace_secs = 2\n");
    let alice = broker.technician("alice");
    let mut agent = broker.request("bob", "view");
    let ticket = agent.wait_event("ticket")["ticket"].as_str().unwrap().to_string();
    let mut console = alice.join(&ticket);
    console.wait_event("paired");
    // A second customer still waiting in the queue is told too.
    let mut waiting = broker.request("carol", "view");
    waiting.wait_event("waiting");

    let status = broker.terminate();
    assert!(status.success(), "broker exit {status}");

    let notice = console.wait_event("notice");
    assert!(notice["message"].as_str().unwrap().contains("shutting down"), "{notice}");
    let ended = console.wait_event("ended");
    assert_eq!(ended["code"], "shutting_down", "{ended}");
    assert!(console.finish().0.success());
    let ended = agent.wait_event("ended");
    assert!(ended["reason"].as_str().unwrap().contains("shut down"), "{ended}");
    assert!(agent.finish().0.success());

    let (status, events) = waiting.finish();
    assert!(!status.success(), "a customer cut off before help arrived exits non-zero");
    assert!(events.iter().any(|e| e["code"] == "shutting_down"), "{events:?}");
}
