//! One-time codes end to end: a code pairs once, never twice, and not after it expires.

use std::time::{SystemTime, UNIX_EPOCH};

use tether_e2e::broker::Broker;
use tether_e2e::proc::Agent;
use tether_e2e::wait_until;

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

#[test]
fn a_code_pairs_once_and_is_refused_the_second_time() {
    let broker = Broker::start();
    let alice = broker.technician("alice");
    let invitation = alice.invite(None);
    let code = invitation["code"].as_str().unwrap().to_string();
    let ticket = invitation["ticket"].as_str().unwrap().to_string();
    assert_eq!(code.len(), 9);
    assert!(invitation["expires_at"].as_i64().unwrap() > now());

    // Spaces are fine, as when read out over the phone.
    let spaced = format!("{} {} {}", &code[..3], &code[3..6], &code[6..]);
    let mut agent = Agent::join(&broker, "carol", &spaced, "view");
    agent.wait_event("waiting");
    // The technician joins by the code they issued (the ticket number works too).
    let mut console = alice.join(&code);
    assert_eq!(console.wait_event("paired")["ticket"], ticket);
    assert_eq!(agent.wait_event("paired")["technician"], "alice");
    console.wait_for("view granted", |e| e["event"] == "consent" && e["granted"] == true);
    console.send("chat welcome carol");
    assert_eq!(agent.wait_event("chat")["text"], "welcome carol");

    // The same code again is refused, and the running session is not disturbed.
    let again = Agent::join(&broker, "mallory", &code, "view");
    let (status, events) = again.finish();
    assert!(!status.success(), "a used code must be refused");
    assert!(
        events.iter().any(|e| e["event"] == "error" && e["code"] == "code_invalid"),
        "{events:?}"
    );
    console.send("chat still here");
    assert_eq!(agent.wait_event("chat")["text"], "still here");

    console.send("quit");
    assert!(console.finish().0.success());
    assert!(agent.finish().0.success());
    assert!(!broker.log().contains(&code), "the code reached the log");
}

#[test]
fn an_expired_code_is_refused() {
    let broker = Broker::start_with_config("[codes]\nttl_secs = 1\n");
    let alice = broker.technician("alice");
    let invitation = alice.invite(None);
    let code = invitation["code"].as_str().unwrap().to_string();
    let expires_at = invitation["expires_at"].as_i64().unwrap();
    wait_until("the code has expired", || now() > expires_at);
    let agent = Agent::join(&broker, "dave", &code, "view");
    let (status, events) = agent.finish();
    assert!(!status.success());
    assert!(
        events.iter().any(|e| e["event"] == "error" && e["code"] == "code_expired"),
        "{events:?}"
    );
}

#[test]
fn a_code_invited_for_an_existing_ticket_joins_that_ticket() {
    let broker = Broker::start();
    let alice = broker.technician("alice");
    // A customer asked for help, dropped off, and is invited back to the same ticket.
    let mut first = broker.request("erin", "view");
    let ticket = first.wait_event("ticket")["ticket"].as_str().unwrap().to_string();
    first.wait_event("waiting");
    drop(first);
    let invitation = alice.invite(Some(&ticket));
    assert_eq!(invitation["ticket"], ticket);
    let mut agent = Agent::join(&broker, "erin", invitation["code"].as_str().unwrap(), "view");
    agent.wait_event("waiting");
    let mut console = alice.join(&ticket);
    assert_eq!(console.wait_event("paired")["customer"], "erin");
    console.send("quit");
    assert!(console.finish().0.success());
    assert!(agent.finish().0.success());
}
