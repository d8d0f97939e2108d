//! The happy path, end to end with the three real binaries: request, queue, join, screen,
//! chat both ways, control, input, revocation, and a clean end.

use tether_e2e::broker::Broker;
use tether_e2e::proc::input_log;
use tether_e2e::wait_until;

fn pixel(png_path: &std::path::Path, x: usize, y: usize) -> ([u8; 3], (u32, u32)) {
    let file = std::fs::File::open(png_path).expect("snapshot file");
    let mut reader =
        png::Decoder::new(std::io::BufReader::new(file)).read_info().expect("a valid PNG");
    let mut buf = vec![0; reader.output_buffer_size().expect("a PNG small enough to decode")];
    let info = reader.next_frame(&mut buf).expect("PNG data");
    assert_eq!(info.color_type, png::ColorType::Rgba);
    let i = (y * info.width as usize + x) * 4;
    ([buf[i], buf[i + 1], buf[i + 2]], (info.width, info.height))
}

fn read_input_log(path: &std::path::Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("input log line is JSON"))
        .collect()
}

#[test]
fn request_queue_join_view_chat_control_revoke_and_quit() {
    let broker = Broker::start();
    let alice = broker.technician("alice");
    let mut agent = broker.request("bob", "control");
    let ticket = agent.wait_event("ticket")["ticket"].as_str().expect("ticket id").to_string();
    agent.wait_event("waiting");

    // The queue lists the waiting customer.
    let queue = alice.queue();
    let listed = queue.iter().find(|t| format!("T{}", t["id"]) == ticket).expect("ticket in queue");
    assert_eq!(listed["client"], "bob");
    assert_eq!(listed["channel"], "agent");
    // Offered at once to the only available technician.
    assert_eq!(listed["status"], "assigned");
    assert_eq!(listed["assigned_to"], "alice");
    assert!(listed["deadline_at"].as_i64().unwrap() > listed["created_at"].as_i64().unwrap());
    assert_eq!(listed["customer_waiting"], true);

    let mut console = alice.join(&ticket);
    assert_eq!(console.wait_event("connected")["user"], "alice");
    let paired = console.wait_event("paired");
    assert_eq!(paired["customer"], "bob");
    assert_eq!(agent.wait_event("paired")["technician"], "alice");
    console.wait_for("view granted", |e| {
        e["event"] == "consent" && e["capability"] == "view" && e["granted"] == true
    });

    // Two snapshots of the moving test pattern: valid PNGs, colour bars in place, and different.
    let dir = broker.scratch();
    let (s1, s2) = (dir.join("s1.png"), dir.join("s2.png"));
    console.send(&format!("snapshot {}", s1.display()));
    let e1 = console.wait_event("snapshot");
    console.send(&format!("snapshot {}", s2.display()));
    let e2 = console.wait_event("snapshot");
    assert_ne!(e1["seq"], e2["seq"], "the second snapshot is of a newer frame");
    let (width, height) =
        (e1["width"].as_u64().unwrap() as usize, e1["height"].as_u64().unwrap() as usize);
    for (k, bar) in tether_agent::screen::TEST_BARS.iter().enumerate() {
        let x = k * width / 8 + width / 16;
        assert_eq!(pixel(&s1, x, 5).0, *bar, "bar {k} of the test pattern");
    }
    assert_eq!(pixel(&s1, 0, 0).1, (width as u32, height as u32));
    assert_ne!(std::fs::read(&s1).unwrap(), std::fs::read(&s2).unwrap(), "frames move");

    // Chat both ways.
    console.send("chat hello bob, alice here");
    assert_eq!(agent.wait_event("chat")["text"], "hello bob, alice here");
    agent.send("thanks alice, it is on fire");
    let chat = console.wait_event("chat");
    assert_eq!(
        (chat["from"].as_str(), chat["text"].as_str()),
        (Some("bob"), Some("thanks alice, it is on fire"))
    );

    // Control, then input in order.
    console.send("request control");
    console.wait_for("control granted", |e| {
        e["event"] == "consent" && e["capability"] == "control" && e["granted"] == true
    });
    console.send("mouse 10 20 click");
    console.send("key ctrl+alt+t");
    let log = input_log(&broker, "bob");
    wait_until("three input events are logged", || read_input_log(&log).len() >= 3);
    let events = read_input_log(&log);
    assert_eq!(events.len(), 3);
    assert_eq!(events[0], serde_json::json!({"kind": "mouse_move", "x": 10, "y": 20}));
    assert_eq!(
        events[1],
        serde_json::json!({"kind": "mouse_button", "button": "left", "action": "click"})
    );
    assert_eq!(
        events[2],
        serde_json::json!({"kind": "key", "combo": "ctrl+alt+t", "action": "click"})
    );

    // The customer revokes control: the next input is refused and never reaches the agent.
    agent.send("revoke");
    console.wait_for("control revoked", |e| {
        e["event"] == "consent" && e["capability"] == "control" && e["granted"] == false
    });
    console.send("mouse 30 40 click");
    let refused = console.wait_event("error");
    assert_eq!(refused["code"], "consent_required");
    // Chat sent after the refused input travels the same path; once it arrives, any input the
    // broker had forwarded would have arrived first (input is drained before chat).
    console.send("chat after revoke");
    assert_eq!(agent.wait_event("chat")["text"], "after revoke");
    assert_eq!(read_input_log(&log).len(), 3, "refused input never reached the agent");

    console.send("quit");
    let ended = console.wait_event("ended");
    assert!(ended["reason"].as_str().unwrap().contains("technician"), "{ended}");
    let (status, _) = console.finish();
    assert!(status.success(), "console exit {status}");
    agent.wait_event("ended");
    let (status, _) = agent.finish();
    assert!(status.success(), "agent exit {status}");

    // The broker is still serving, and recorded the ticket as assigned to alice.
    let queue = alice.queue();
    let after =
        queue.iter().find(|t| format!("T{}", t["id"]) == ticket).expect("ticket still open");
    assert_eq!(after["assigned_to"], "alice");
    assert_eq!(after["customer_waiting"], false);

    // No secret reached the log.
    let log = broker.log();
    assert!(!log.contains("alice-password"), "password in the log");
    let profile = std::fs::read_to_string(dir.join("console-alice/console.json")).unwrap();
    let token: serde_json::Value = serde_json::from_str(&profile).unwrap();
    assert!(!log.contains(token["token"].as_str().unwrap()), "token in the log");
    assert!(log.contains("session ended"), "the session end is logged");
}

#[test]
fn the_customer_is_asked_at_the_terminal_and_ctrl_c_ends_cleanly() {
    let broker = Broker::start();
    let alice = broker.technician("alice");
    let mut agent = broker.request("bob", "ask");
    let ticket = agent.wait_event("ticket")["ticket"].as_str().unwrap().to_string();
    let mut console = alice.join(&ticket);
    console.wait_event("paired");

    // The console asks for view on joining; the customer says yes.
    let asked = agent.wait_event("consent_asked");
    assert_eq!(
        (asked["capability"].as_str(), asked["technician"].as_str()),
        (Some("view"), Some("alice"))
    );
    agent.send("y");
    console.wait_for("view granted", |e| {
        e["event"] == "consent" && e["capability"] == "view" && e["granted"] == true
    });
    let shot = broker.scratch().join("asked.png");
    console.send(&format!("snapshot {}", shot.display()));
    console.wait_event("snapshot");

    // Control: the customer says no, and input is refused by the broker.
    console.send("request control");
    assert_eq!(agent.wait_event("consent_asked")["capability"], "control");
    agent.send("n");
    console.wait_for("control refused", |e| {
        e["event"] == "consent" && e["capability"] == "control" && e["granted"] == false
    });
    console.send("key a");
    assert_eq!(console.wait_event("error")["code"], "consent_required");

    // Ctrl-C on the agent ends the session for both, cleanly.
    let _ = std::process::Command::new("kill").args(["-INT", &agent.pid().to_string()]).status();
    let ended = console.wait_event("ended");
    assert!(ended["reason"].as_str().unwrap().contains("customer"), "{ended}");
    assert!(agent.finish().0.success(), "agent exits 0 on Ctrl-C");
    assert!(console.finish().0.success());
    assert!(read_input_log(&input_log(&broker, "bob")).is_empty(), "no input was carried out");
}
