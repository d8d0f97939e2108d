//! Technician accounts: the saved token is private, expires, and dies with a disabled account.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use tether_e2e::bins::bin;
use tether_e2e::broker::Broker;
use tether_e2e::wait_until;

fn profile(broker: &Broker, name: &str) -> serde_json::Value {
    let path = broker.scratch().join(format!("console-{name}/console.json"));
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "the saved token is readable by its owner only");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn the_token_is_saved_privately_and_expires() {
    let broker = Broker::start_with_config("[auth]\ntoken_ttl_secs = 1\n");
    let alice = broker.technician("alice");
    let saved = profile(&broker, "alice");
    assert_eq!(saved["user"], "alice");
    assert_eq!(saved["token"].as_str().unwrap().len(), 64);
    let expires = saved["token_expires_at"].as_i64().unwrap();
    wait_until("the token has expired", || {
        SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64 > expires
    });
    let out = alice.run(&["queue"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad_credentials"));
}

#[test]
fn disabling_an_account_revokes_its_token_at_once() {
    let broker = Broker::start();
    let alice = broker.technician("alice");
    assert!(alice.run(&["queue"]).status.success());
    let out = Command::new(bin("tether-broker"))
        .args(["user", "disable", "alice", "--data-dir"])
        .arg(broker.data_dir())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = alice.run(&["queue"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad_credentials"));
    // And the password no longer works either.
    assert!(!broker.console("alice").login("alice", "alice-password").status.success());

    let list = Command::new(bin("tether-broker"))
        .args(["user", "list", "--data-dir"])
        .arg(broker.data_dir())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&list.stdout);
    assert!(text.lines().any(|l| l.starts_with("alice") && l.contains("disabled")), "{text}");
}

#[test]
fn user_add_refuses_duplicates_and_bad_input() {
    let broker = Broker::start();
    broker.add_user("alice", "technician", "alice-password");
    let add = |name: &str, role: &str, password: &str| {
        let mut child = Command::new(bin("tether-broker"))
            .args(["user", "add", name, "--role", role, "--password-stdin", "--data-dir"])
            .arg(broker.data_dir())
            .stdin(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        // A command that refuses its arguments exits before reading: the pipe may be gone.
        let _ = writeln!(child.stdin.take().unwrap(), "{password}");
        child.wait_with_output().unwrap()
    };
    let dup = add("alice", "technician", "another-password");
    assert!(String::from_utf8_lossy(&dup.stderr).contains("already exists"));
    assert!(!add("bob", "technician", "short").status.success(), "weak password");
    assert!(!add("bad name", "technician", "long enough password").status.success());
    assert!(!add("carol", "wizard", "long enough password").status.success(), "unknown role");
    assert!(add("dave", "dispatcher", "long enough password").status.success());
}
