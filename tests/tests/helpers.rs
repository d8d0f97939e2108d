//! A second technician who watches or helps, and handing a customer over to another
//! technician: the customer is asked each time, and the session's record says so.

use tether_e2e::broker::Broker;
use tether_e2e::proc::input_log;
use tether_e2e::wait_until;

fn granted(e: &serde_json::Value, cap: &str) -> bool {
    e["event"] == "consent" && e["capability"] == cap && e["granted"] == true
}

#[test]
fn a_second_technician_helps_with_the_customers_approval_and_leaves() {
    let broker = Broker::start();
    let alice = broker.technician("alice");
    let bob = broker.technician("bob");
    let dan = broker.technician("dan");
    let mut agent = broker.request("carol", "ask");
    let ticket = agent.wait_event("ticket")["ticket"].as_str().unwrap().to_string();
    // Offered to the least loaded technician, first by name on a tie: alice.
    let mut console = alice.join(&ticket);
    console.wait_event("paired");
    agent.wait_event("consent_asked");
    agent.send("y");
    console.wait_for("view", |e| granted(e, "view"));

    // A technician nobody let in cannot join.
    let mut early = bob.join(&ticket);
    let refused = early.wait_event("error");
    assert!(refused["message"].as_str().unwrap().contains("assigned to alice"), "{refused}");
    drop(early);

    console.send("invite-tech bob help");
    let asked = agent.wait_event("approval_asked");
    assert_eq!(asked["what"]["name"], "bob");
    agent.send("y");
    assert_eq!(console.wait_event("approval")["allowed"], true);
    let mut helper = bob.join(&ticket);
    helper.wait_event("paired");
    assert_eq!(console.wait_event("helper")["name"], "bob");
    assert_eq!(agent.wait_event("helper")["joined"], true);

    // Everyone hears everyone; the helper sees the screen.
    agent.send("hello both");
    assert_eq!(console.wait_event("chat")["text"], "hello both");
    assert_eq!(helper.wait_event("chat")["text"], "hello both");
    helper.send("chat bob here, I know this printer");
    assert_eq!(agent.wait_event("chat")["text"], "bob here, I know this printer");
    assert_eq!(console.wait_event("chat")["text"], "bob here, I know this printer");
    let shot = broker.scratch().join("helper.png");
    helper.send(&format!("snapshot {}", shot.display()));
    helper.wait_event("snapshot");
    // Helping includes input, once the customer grants control.
    helper.send("key ctrl+p");
    assert_eq!(helper.wait_event("error")["code"], "consent_required");
    console.send("request control");
    agent.wait_event("consent_asked");
    agent.send("y");
    console.wait_for("control", |e| granted(e, "control"));
    helper.send("key ctrl+p");
    let log = input_log(&broker, "carol");
    wait_until("the helper's key arrives", || {
        std::fs::read_to_string(&log).unwrap_or_default().contains("ctrl+p")
    });

    // A watcher may look but not touch.
    console.send("invite-tech dan watch");
    agent.wait_event("approval_asked");
    agent.send("y");
    console.wait_for("dan allowed", |e| e["event"] == "approval" && e["allowed"] == true);
    let mut watcher = dan.join(&ticket);
    watcher.wait_event("paired");
    watcher.send("mouse 1 1");
    assert_eq!(watcher.wait_event("error")["code"], "forbidden");

    // The helper leaves; the session goes on.
    helper.send("quit");
    assert!(helper.finish().0.success());
    agent.wait_for("bob left", |e| {
        e["event"] == "helper" && e["joined"] == false && e["name"] == "bob"
    });
    console.send("chat still with you");
    assert_eq!(agent.wait_event("chat")["text"], "still with you");
    console.send("quit");
    assert!(console.finish().0.success());
    assert!(agent.finish().0.success());
    watcher.finish();

    let sessions = broker.admin(&["sessions", "--json"]);
    let id = serde_json::from_slice::<serde_json::Value>(&sessions.stdout).unwrap()[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let transcript = String::from_utf8(broker.admin(&["show", &id]).stdout).unwrap();
    for event in ["approval_requested", "\"approved\"", "helper_joined", "helper_left"] {
        assert!(transcript.contains(event), "{event} missing");
    }
    assert!(transcript.contains("bob here, I know this printer"));
}

#[test]
fn a_customer_is_handed_over_only_with_approval_and_stays_connected() {
    let broker = Broker::start();
    let alice = broker.technician("alice");
    let bob = broker.technician("bob");
    let mut agent = broker.request("carol", "ask");
    let ticket = agent.wait_event("ticket")["ticket"].as_str().unwrap().to_string();
    let mut console = alice.join(&ticket);
    console.wait_event("paired");
    agent.wait_event("consent_asked");
    agent.send("y");

    // Refused: nothing changes.
    console.send("transfer bob");
    agent.wait_event("approval_asked");
    agent.send("n");
    assert_eq!(console.wait_event("approval")["allowed"], false);
    console.send("chat staying with me then");
    assert_eq!(agent.wait_event("chat")["text"], "staying with me then");

    // Allowed: alice's session ends, the customer waits for bob, who now owns the ticket.
    console.send("transfer bob");
    agent.wait_event("approval_asked");
    agent.send("y");
    let ended = console.wait_event("ended");
    assert!(ended["reason"].as_str().unwrap().contains("over to bob"), "{ended}");
    assert!(console.finish().0.success());
    assert_eq!(agent.wait_event("handed_over")["to"], "bob");
    agent.wait_event("waiting");
    let queue = bob.queue();
    let t = queue.iter().find(|t| format!("T{}", t["id"]) == ticket).unwrap();
    assert_eq!(t["assigned_to"], "bob");

    let mut next = bob.join(&ticket);
    next.wait_event("paired");
    assert_eq!(agent.wait_event("paired")["technician"], "bob");
    // A new session: the customer is asked again.
    agent.wait_event("consent_asked");
    agent.send("y");
    next.wait_for("view", |e| granted(e, "view"));
    next.send("quit");
    assert!(next.finish().0.success());
    agent.wait_event("ended");
    assert!(agent.finish().0.success());
}
