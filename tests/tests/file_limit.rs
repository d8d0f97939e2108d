//! The open-file limit: a broker started with a low soft limit raises it to the hard limit
//! (each connection holds a descriptor), serves no more connections than the limit leaves room
//! for beside its own files, says so, and records sessions as usual.
//!
//! In a test binary of its own: it lowers this process's soft limit, which the broker inherits.

use std::process::Command;

use tether_e2e::broker::Broker;

/// The soft and hard open-file limits of process `pid`.
fn nofile(pid: u32) -> (u64, u64) {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).expect("/proc limits");
    let line = limits.lines().find(|l| l.starts_with("Max open files")).expect("nofile line");
    let fields: Vec<&str> = line.split_whitespace().collect();
    (fields[3].parse().expect("soft"), fields[4].parse().expect("hard"))
}

#[test]
fn a_broker_raises_its_open_file_limit_and_sizes_its_connections_to_it() {
    let me = std::process::id();
    let (_, hard) = nofile(me);
    let lowered = Command::new("prlimit")
        .args(["--pid", &me.to_string(), "--nofile=256:"])
        .status()
        .expect("running prlimit");
    assert!(lowered.success(), "lowering this process's soft limit");
    assert_eq!(nofile(me), (256, hard));

    // More connections allowed than any descriptor limit could hold.
    let broker = Broker::start_with_config("[limits]\nmax_connections = 100000000\n");
    let lowered = "max_connections lowered to fit the open-file limit";
    tether_e2e::wait_until("the broker sizes its connections", || broker.log().contains(lowered));
    assert_eq!(nofile(broker.pid()), (hard, hard), "the soft limit raised to the hard one");
    let log = broker.log();
    let line = log.lines().find(|l| l.contains(lowered)).expect("the line just seen");
    assert!(line.contains(&format!("open_file_limit={hard}")), "{line}");
    assert!(line.contains(&format!("serving={}", hard - 128)), "{line}");

    // Sessions are served and recorded as usual.
    let alice = broker.technician("alice");
    let mut agent = broker.request("bob", "view");
    let ticket = agent.wait_event("ticket")["ticket"].as_str().unwrap().to_string();
    let mut console = alice.join(&ticket);
    let session = console.wait_event("paired")["session"].as_str().unwrap().to_string();
    console.send("chat can you see me?");
    agent.wait_event("chat");
    console.send("quit");
    assert!(console.finish().0.success());
    let _ = agent.finish();
    let records = broker.sealed_records(&session);
    assert!(records.iter().any(|r| r["event"] == "chat"), "the chat is recorded: {records:?}");
}
