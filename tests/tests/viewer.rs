//! The viewer window under Xvfb: `tether-console join` opens a window showing the customer's
//! screen (the test pattern's colour bars appear in a screenshot of it), and while control is
//! held the pointer and keys over the picture reach the customer's machine.

use tether_agent::screen::TEST_BARS;
use tether_e2e::broker::Broker;
use tether_e2e::proc::input_log;
use tether_e2e::wait_until;
use tether_e2e::xvfb::{Picture, Xvfb};

fn logged(broker: &Broker) -> Vec<serde_json::Value> {
    std::fs::read_to_string(input_log(broker, "bob"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn the_window_shows_the_remote_screen_and_carries_input_while_control_is_held() {
    let x = Xvfb::start(1280, 900);
    let broker = Broker::start();
    let alice = broker.technician("alice");
    let mut agent = broker.request("bob", "control");
    let ticket = agent.wait_event("ticket")["ticket"].as_str().unwrap().to_string();
    let mut console = alice.join_with_window(&ticket, &x.display);
    let window = x.wait_window(&format!("tether: {ticket}"));
    agent.wait_event("paired");

    // Every colour bar of the remote test pattern is on screen, scaled, in large blocks.
    let dir = tempfile::tempdir().unwrap();
    let shot = dir.path().join("window.png");
    wait_until("the remote screen is drawn in the window", || {
        x.screenshot(&window, &shot);
        let picture = Picture::read(&shot);
        TEST_BARS.iter().all(|bar| picture.count(*bar, 2) > 2_000)
    });

    // Control, asked from the terminal beside the window; then a click on the picture and
    // typing go to the customer's machine.
    console.send("request control");
    console.wait_for("control granted", |e| e["text"] == "Customer allowed control.");
    x.run("xdotool", &["mousemove", "--window", &window, "300", "300", "click", "1"]);
    // No window manager here to give the window the keyboard: focus it as one would.
    x.run("xdotool", &["windowfocus", "--sync", &window]);
    x.run("xdotool", &["type", "hi"]);
    wait_until("the click and the keys reached the customer", || {
        let events = logged(&broker);
        let kinds: Vec<&str> = events.iter().filter_map(|e| e["kind"].as_str()).collect();
        kinds.contains(&"mouse_button")
            && events.iter().any(|e| e["kind"] == "key" && e["combo"] == "h")
            && events.iter().any(|e| e["kind"] == "key" && e["combo"] == "i")
    });
    let events = logged(&broker);
    let moved = events.iter().find(|e| e["kind"] == "mouse_move").expect("a pointer move");
    let (mx, my) = (moved["x"].as_u64().unwrap(), moved["y"].as_u64().unwrap());
    assert!(mx < 640 && my < 400, "inside the remote screen: {mx},{my}");

    console.send("quit");
    console.wait_for("the end", |e| {
        e["text"].as_str().is_some_and(|t| t.starts_with("Session ended"))
    });
    assert!(console.finish().0.success());
    assert!(agent.finish().0.success());
}
