//! The bandwidth check on a real shaped link (network namespaces, veth, tc), the gate it puts
//! on screen sharing, the override, and live quality.

use serde_json::Value;
use tether_e2e::broker::Broker;
use tether_e2e::netns::link_or_skip;

/// Runs `tether-agent check --json` in the agent's namespace against `url`; returns the result
/// event and whether the command exited zero.
fn check_from_agent_ns(
    link: &tether_e2e::netns::Link,
    broker: &Broker,
    url: &str,
) -> (Value, bool) {
    let out = link
        .in_agent_ns("tether-agent")
        .args(["check", "--json", "--broker", url, "--ca"])
        .arg(broker.ca())
        .output()
        .expect("running tether-agent check");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let result = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|e| e["event"] == "check")
        .unwrap_or_else(|| panic!("no result: {stdout}\n{}", String::from_utf8_lossy(&out.stderr)));
    (result, out.status.success())
}

fn within(value: f64, target: f64, tolerance: f64) -> bool {
    (value - target).abs() <= target * tolerance
}

#[test]
fn a_shaped_link_measures_its_rate_and_delay_and_fails() {
    let Some(link) = link_or_skip(1) else { return };
    link.shape_rate("1mbit").expect("shaping the link with tc tbf");
    let broker =
        Broker::start_at_names("", Some(&link.broker_ns), &link.broker_ip, &[&link.agent_ip]);
    let delay =
        link.delay(100, &format!("{}:{}", link.broker_ip, broker.port)).expect("a 100 ms delay");
    let (result, ok) = check_from_agent_ns(&link, &broker, &format!("wss://{}", delay.address));
    let f = |k: &str| result[k].as_f64().unwrap();
    eprintln!(
        "shaped 1 Mbit/s, 100 ms: measured rtt {} ms, download {} Mbit/s, upload {} Mbit/s",
        f("rtt_ms"),
        f("download_mbps"),
        f("upload_mbps")
    );
    assert!(within(f("rtt_ms"), 100.0, 0.25), "round trip {result}");
    assert!(within(f("download_mbps"), 1.0, 0.25), "download {result}");
    assert!(within(f("upload_mbps"), 1.0, 0.25), "upload {result}");
    assert_eq!(result["verdict"], "fail", "{result}");
    assert!(result["reasons"][0].as_str().unwrap().contains("upload"), "{result}");
    assert!(!ok, "a failed check exits non-zero");
}

#[test]
fn an_unshaped_link_passes() {
    let Some(link) = link_or_skip(2) else { return };
    let broker = Broker::start_at("", Some(&link.broker_ns), &link.broker_ip);
    let (result, ok) = check_from_agent_ns(&link, &broker, &broker.url());
    eprintln!("unshaped veth: {result}");
    assert_eq!(result["verdict"], "pass", "{result}");
    assert!(
        result["download_mbps"].as_f64().unwrap() > 10.0
            && result["upload_mbps"].as_f64().unwrap() > 10.0
    );
    assert!(ok);
}

#[test]
fn a_failed_check_holds_the_screen_back_until_the_technician_overrides() {
    // Thresholds no loopback can meet make the customer's check fail.
    let broker = Broker::start_with_config(
        "[bandwidth.agent]\nmin_upload_mbps = 1000000.0\nwarn_upload_mbps = 1000000.0\n\
         [bandwidth]\nquality_interval_secs = 1\n",
    );
    let alice = broker.technician("alice");
    let mut agent = broker.request("bob", "view");
    // The check runs first: a request becomes a ticket once it has.
    let check = agent.wait_event("check");
    assert_eq!(check["verdict"], "fail");
    let ticket = agent.wait_event("ticket")["ticket"].as_str().unwrap().to_string();
    let queued = alice.queue();
    assert_eq!(queued[0]["bandwidth"], "fail", "the queue shows the verdict");

    let mut console = alice.join(&ticket);
    assert_eq!(console.wait_event("check")["verdict"], "pass", "the console's own check");
    console.wait_event("paired");
    let gate = console.wait_event("bandwidth");
    assert_eq!(
        (gate["agent"].as_str(), gate["screen_blocked"].as_bool()),
        (Some("fail"), Some(true))
    );
    assert_eq!(agent.wait_event("bandwidth")["screen_blocked"], true);
    console.wait_for("view", |e| e["event"] == "consent" && e["granted"] == true);
    // Chat still works while the screen waits.
    console.send("chat can you hear me?");
    assert_eq!(agent.wait_event("chat")["text"], "can you hear me?");
    // Live quality arrives on the status line.
    let q = console.wait_event("quality");
    assert!(q["rtt_ms"].as_f64().unwrap() >= 0.0);

    console.send("override bandwidth customer accepts a slow picture");
    let gate = console
        .wait_for("gate open", |e| e["event"] == "bandwidth" && e["screen_blocked"] == false);
    assert!(gate["reason"].as_str().unwrap().contains("customer accepts a slow picture"));
    let shot = broker.scratch().join("after-override.png");
    console.send(&format!("snapshot {}", shot.display()));
    console.wait_event("snapshot");
    console.send("quit");
    assert!(console.finish().0.success());
    assert!(agent.finish().0.success());

    // The override is on the record.
    let sessions = broker.admin(&["sessions", "--json"]);
    let id = serde_json::from_slice::<Value>(&sessions.stdout).unwrap()[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let md = String::from_utf8(broker.admin(&["export", &id, "--format", "md"]).stdout).unwrap();
    assert!(md.contains("bandwidth check for bob: fail"), "{md}");
    assert!(
        md.contains("alice overrode the bandwidth check: customer accepts a slow picture"),
        "{md}"
    );
}

#[test]
fn the_console_check_runs_on_its_own() {
    let broker = Broker::start();
    let alice = broker.technician("alice");
    let out = alice.run(&["check", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let events: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let phases: Vec<&str> = events
        .iter()
        .filter(|e| e["event"] == "check_phase")
        .map(|e| e["phase"].as_str().unwrap())
        .collect();
    assert_eq!(phases, ["rtt", "download", "upload"]);
    assert_eq!(events.last().unwrap()["verdict"], "pass");
    // A human gets a table.
    let table = String::from_utf8(alice.run(&["check"]).stdout).unwrap();
    assert!(table.contains("round trip") && table.contains("verdict     PASS"), "{table}");
}
