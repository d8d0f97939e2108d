//! The attacks of the security review, each performed against the real broker and shown to
//! fail, while a session beside them keeps chatting undisturbed.

use std::net::Ipv4Addr;

use tether_e2e::broker::Broker;
use tether_e2e::bystander::Bystander;
use tether_e2e::proc::Agent;
use tether_e2e::raw::{self, Answer, hello, say_until_answered};
use tether_protocol::{Credential, Role, Secret, ServerMessage};

const LOCAL: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 1);

/// A password sign-in of `user` from `source`: what the broker answered.
async fn sign_in(
    source: Ipv4Addr,
    port: u16,
    ca: &std::path::Path,
    user: &str,
    pw: &str,
) -> Answer {
    let ws = raw::websocket_from(source, port, ca).await;
    let credential =
        Credential::Password { user: user.into(), password: Secret::new(pw.to_string()) };
    say_until_answered(ws, vec![hello(Role::Console, credential)]).await
}

fn welcomed(answer: &Answer) -> Option<&tether_protocol::Welcome> {
    answer.messages.iter().find_map(|m| match m {
        ServerMessage::Welcome(w) => Some(w),
        _ => None,
    })
}

#[test]
fn parallel_sign_ins_are_counted_before_they_are_checked() {
    let broker = Broker::start();
    broker.add_user("carol", "dispatcher", "carol's long password");
    let mut bystander = Bystander::start(&broker);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (port, ca) = (broker.port, broker.ca());

    // 40 sign-ins at once from one address, each a different account, so that only the
    // address's budget (10 failures, the 11th blocks) holds them: no more than 11 are checked.
    let burst = rt.block_on(futures_util::future::join_all((0..40).map(|i| {
        let ca = ca.clone();
        async move { sign_in(LOCAL, port, &ca, &format!("nobody{i}"), "guess").await }
    })));
    let codes: Vec<_> = burst.iter().map(|a| a.error_code().unwrap_or_default()).collect();
    let checked = codes.iter().filter(|c| *c == "bad_credentials").count();
    let refused = codes.iter().filter(|c| *c == "rate_limited").count();
    assert_eq!(checked + refused, 40, "{codes:?}");
    assert!(checked <= 11, "{checked} sign-ins were checked in a burst: {codes:?}");
    // The right password comes too late: the address is blocked.
    let right = rt.block_on(sign_in(LOCAL, port, &ca, "carol", "carol's long password"));
    assert_eq!(right.error_code().as_deref(), Some("rate_limited"), "{:?}", right.messages);
    bystander.chat();

    // One account guessed from two addresses at once: its own limit (5 consecutive failures,
    // then a lock) holds both; the right password is refused while it is locked.
    let second = Ipv4Addr::new(127, 0, 0, 2);
    let third = Ipv4Addr::new(127, 0, 0, 3);
    let burst = rt.block_on(futures_util::future::join_all((0..20).map(|i| {
        let ca = ca.clone();
        let from = if i % 2 == 0 { second } else { third };
        async move { sign_in(from, port, &ca, "carol", &format!("guess {i}")).await }
    })));
    let checked = burst.iter().filter(|a| a.error_code().as_deref() == Some("bad_credentials"));
    assert!(checked.count() <= 5, "an account's limit held only its own address");
    let right = rt.block_on(sign_in(second, port, &ca, "carol", "carol's long password"));
    assert_eq!(right.error_code().as_deref(), Some("rate_limited"), "{:?}", right.messages);
    let message = right.messages.iter().find_map(|m| match m {
        ServerMessage::Error { message, .. } => Some(message.clone()),
        _ => None,
    });
    assert!(message.unwrap().contains("account is locked"));
    bystander.chat();

    // An admin lifts the lock; the owner signs in and is told of the failures.
    let out = std::process::Command::new(tether_e2e::bins::bin("tether-broker"))
        .args(["user", "unlock", "carol", "--data-dir"])
        .arg(broker.data_dir())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let fourth = Ipv4Addr::new(127, 0, 0, 4);
    let ok = rt.block_on(sign_in(fourth, port, &ca, "carol", "carol's long password"));
    let welcome = welcomed(&ok).expect("signed in after the unlock");
    let told = welcome.failed_sign_ins.as_ref().expect("told of the failed sign-ins");
    assert!(told.count >= 5, "{told:?}");
    assert!(told.last_from.as_deref().is_some_and(|f| f == "127.0.0.2" || f == "127.0.0.3"));
    bystander.chat();
    bystander.finish();
}

#[test]
fn wrong_codes_from_many_addresses_leave_a_legitimate_code_usable() {
    let broker = Broker::start();
    let mut bystander = Bystander::start(&broker);
    let erin = broker.technician("erin");
    let right = erin.invite(None)["code"].as_str().unwrap().to_string();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (port, ca) = (broker.port, broker.ca());
    // Five addresses, six wrong codes each (the sixth blocks the address): 30 wrong guesses in
    // all. Before the fix, ten wrong guesses from anywhere burned every live code.
    let mut n = 0u32;
    for host in 2..=6u8 {
        let source = Ipv4Addr::new(127, 0, 0, host);
        for _ in 0..6 {
            n += 1;
            let code =
                format!("{:09}", (right.parse::<u32>().unwrap() + n * 104_729) % 1_000_000_000);
            let answer = rt.block_on(async {
                let ws = raw::websocket_from(source, port, &ca).await;
                let hello = hello(Role::Agent, Credential::Code { code: Secret::new(code) });
                say_until_answered(ws, vec![hello]).await
            });
            assert_eq!(answer.error_code().as_deref(), Some("code_invalid"));
        }
        // The address's own block holds: even the right code is refused from it, unchecked.
        let answer = rt.block_on(async {
            let ws = raw::websocket_from(source, port, &ca).await;
            let guess = Credential::Code { code: Secret::new(right.clone()) };
            say_until_answered(ws, vec![hello(Role::Agent, guess)]).await
        });
        assert_eq!(answer.error_code().as_deref(), Some("rate_limited"));
    }
    bystander.chat();
    // The customer the code was meant for joins with it.
    let mut customer = Agent::join(&broker, "dora", &right, "view");
    customer.wait_event("waiting");
    bystander.chat();
    bystander.finish();
}

/// Runs `tether-broker user ARGS --data-dir DATA` on the broker's data directory.
fn user_command(broker: &Broker, args: &[&str]) {
    let out = std::process::Command::new(tether_e2e::bins::bin("tether-broker"))
        .arg("user")
        .args(args)
        .arg("--data-dir")
        .arg(broker.data_dir())
        .output()
        .unwrap();
    assert!(out.status.success(), "user {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn disabling_an_account_cuts_its_open_connections_and_ends_its_sessions() {
    let broker = Broker::start();
    let mut bystander = Bystander::start(&broker);
    let mallory = broker.technician("mallory");
    // Mallory's session with a customer, and an open connection issuing codes.
    let mut agent = broker.request("carol", "view");
    let ticket = agent.wait_event("ticket")["ticket"].as_str().unwrap().to_string();
    let mut console = mallory.join(&ticket);
    console.wait_event("paired");
    agent.wait_event("paired");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let addr: tether_client::BrokerAddr = broker.url().parse().unwrap();
    let tls = raw::tls(&broker.ca());
    let token = Credential::Token { token: Secret::new(mallory.token()) };
    let mut inviter = rt.block_on(async {
        let (mut conn, _) = tether_client::connect(&addr, tls, Role::Console, token).await.unwrap();
        conn.send(&tether_protocol::ClientMessage::Invite { ticket: None }).await.unwrap();
        let answer = conn.recv_control().await.unwrap();
        assert!(matches!(answer, ServerMessage::Invitation(_)), "{answer:?}");
        conn
    });

    user_command(&broker, &["disable", "mallory"]);

    // The open connection is cut, with the reason; no further code is issued on it.
    let cut = rt.block_on(async {
        let _ = inviter.send(&tether_protocol::ClientMessage::Invite { ticket: None }).await;
        loop {
            match inviter.recv_control().await {
                Ok(ServerMessage::Invitation(_)) => panic!("a disabled account got a code"),
                Ok(_) => continue,
                Err(e) => break e.to_string(),
            }
        }
    });
    assert!(cut.contains("disabled"), "{cut}");
    // The session ends on both sides, saying why, and the transcript keeps it.
    let ended = console.wait_event("ended");
    assert!(ended["reason"].as_str().unwrap().contains("disabled"), "{ended}");
    let ended = agent.wait_event("ended");
    let reason = ended["reason"].as_str().unwrap().to_string();
    assert!(reason.contains("signed out") && reason.contains("disabled"), "{reason}");
    let session = ended_session(&broker, "mallory");
    let records = broker.sealed_records(&session);
    let last = records.iter().rev().find(|r| r["event"] == "session_ended").unwrap();
    assert!(last["data"]["reason"].as_str().unwrap().contains("disabled"), "{last}");
    bystander.chat();
    bystander.finish();
}

/// The id of `technician`'s most recent session.
fn ended_session(broker: &Broker, technician: &str) -> String {
    let out = broker.admin(&["sessions", "--technician", technician, "--json"]);
    let sessions: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    sessions[0]["id"].as_str().unwrap().to_string()
}

/// Runs a console command that must be refused with `code`.
fn refused(console: &tether_e2e::proc::Console, args: &[&str], code: &str) {
    let out = console.run(args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{args:?} was allowed");
    assert!(err.contains(code), "{args:?}: {err}");
}

/// Logs a phone ticket as `dispatcher` and gives it to `to`; its id.
fn ticket_for(dispatcher: &tether_e2e::proc::Console, to: &str) -> String {
    let out = dispatcher.run(&[
        "ticket",
        "new",
        "--channel",
        "phone",
        "--client",
        "Dan",
        "--contact",
        "dan@example.com",
        "--issue",
        "the printer",
        "--priority",
        "low",
        "--json",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let t: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let id = format!("T{}", t["summary"]["id"]);
    assert!(dispatcher.run(&["ticket", "assign", &id, to]).status.success());
    id
}

#[test]
fn technicians_cannot_touch_or_read_other_technicians_tickets() {
    let broker = Broker::start_with_config("[desk]\nauto_assign = false\n");
    let mut bystander = Bystander::start(&broker);
    let ann = broker.technician("ann");
    let _ben = broker.technician("ben");
    broker.add_user("dora", "dispatcher", "dora's password");
    let dora = broker.console("dora");
    assert!(dora.login("dora", "dora's password").status.success());
    let bens = ticket_for(&dora, "ben");
    for args in [
        vec!["ticket", "ack", &bens],
        vec!["ticket", "follow-up", &bens, "--due", "+1d", "--note", "call back"],
        vec!["ticket", "show", &bens],
        vec!["invite", "--ticket", &bens],
    ] {
        refused(&ann, &args, "forbidden");
    }
    // Lists leave it out: its client's contact is not ann's to read.
    let out = ann.run(&["ticket", "list", "--json"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && !text.contains("dan@example.com"), "{text}");
    assert!(!String::from_utf8_lossy(&ann.run(&["queue"]).stdout).contains("Dan"));
    // Ben's own ticket is his to read; dispatchers read everything.
    assert!(dora.run(&["ticket", "show", &bens]).status.success());
    bystander.chat();
    bystander.finish();
}

#[test]
fn a_technician_waiting_at_a_ticket_given_to_another_is_told_and_never_paired() {
    let broker = Broker::start_with_config("[desk]\nauto_assign = false\n");
    let ann = broker.technician("ann");
    let _ben = broker.technician("ben");
    broker.add_user("dora", "dispatcher", "dora's password");
    let dora = broker.console("dora");
    assert!(dora.login("dora", "dora's password").status.success());
    let t = ticket_for(&dora, "ann");
    let mut waiting = broker.join(&ann, &t);
    waiting.wait_event("waiting");
    assert!(dora.run(&["ticket", "assign", &t, "ben"]).status.success());
    let told = waiting.wait_event("error");
    assert!(told["message"].as_str().unwrap().contains("reassigned to ben"), "{told}");
    let (status, _) = waiting.finish();
    assert!(!status.success());
    // The customer who comes now waits for ben.
    let code = dora.invite(Some(&t))["code"].as_str().unwrap().to_string();
    let mut customer = Agent::join(&broker, "dan", &code, "view");
    customer.wait_event("waiting");
}

#[test]
fn files_holding_secrets_are_private_and_a_loosened_one_is_reported() {
    use std::os::unix::fs::PermissionsExt;
    let outside = tempfile::tempdir().unwrap();
    let transcripts = outside.path().join("transcripts");
    let mut broker =
        Broker::start_with_config(&format!("[transcripts]\ndir = \"{}\"\n", transcripts.display()));
    let bystander = Bystander::start(&broker);
    bystander.finish();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let data = broker.data_dir();
    assert_eq!(mode(&data), 0o700);
    for file in [
        "broker.toml",
        "tether.db",
        "code.key",
        "transcript-signing.key",
        "ca-key.pem",
        "server-key.pem",
    ] {
        assert_eq!(mode(&data.join(file)), 0o600, "{file}");
    }
    assert_eq!(mode(&transcripts), 0o700, "a transcript directory outside the data directory");
    let written: Vec<_> =
        std::fs::read_dir(&transcripts).unwrap().map(|e| e.unwrap().path()).collect();
    assert!(!written.is_empty());
    for path in written {
        assert_eq!(mode(&path), 0o600, "{}", path.display());
    }
    // Loosened by hand: the broker says so when it starts.
    std::fs::set_permissions(data.join("broker.toml"), std::fs::Permissions::from_mode(0o644))
        .unwrap();
    broker.restart();
    tether_e2e::wait_until("the broker warns of the loosened file", || {
        broker
            .log()
            .lines()
            .any(|l| l.contains("WARN") && l.contains("broker.toml") && l.contains("644"))
    });
}

/// Opens a websocket from `source` and holds it, silent.
async fn hold(
    source: Ipv4Addr,
    port: u16,
    ca: &std::path::Path,
) -> Option<tether_client::WsStream> {
    let socket = tokio::net::TcpSocket::new_v4().ok()?;
    socket.bind((source, 0).into()).ok()?;
    let tcp = socket.connect(([127, 0, 0, 1], port).into()).await.ok()?;
    let name = rustls_pki_types::ServerName::try_from("127.0.0.1").ok()?;
    let tls = tokio_rustls::TlsConnector::from(raw::tls(ca)).connect(name, tcp).await.ok()?;
    let url = format!("wss://127.0.0.1:{port}/v1/ws");
    tokio_tungstenite::client_async(url, tls).await.ok().map(|(ws, _)| ws)
}

#[test]
fn a_flood_of_connections_never_locks_technicians_out() {
    let broker = Broker::start_with_config(
        "[limits]\nmax_connections = 40\nstaff_reserve = 10\nmax_connections_per_source = 12\n\
         handshake_timeout_secs = 60\n",
    );
    let mut bystander = Bystander::start(&broker);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (port, ca) = (broker.port, broker.ca());
    // One address opens 30 connections and holds them: it gets its 12.
    let flood = rt.block_on(futures_util::future::join_all(
        (0..30).map(|_| hold(Ipv4Addr::new(127, 0, 0, 2), port, &ca)),
    ));
    let held: Vec<_> = flood.into_iter().flatten().collect();
    assert_eq!(held.len(), 12, "one address holds at most its share");
    // Two more addresses take the other public slots (40 - 10 reserved - 2 of the
    // bystander - 12 = 16); a customer arriving now is told the broker is full...
    let more = rt.block_on(futures_util::future::join_all((0..24).map(|i| {
        let source = Ipv4Addr::new(127, 0, 0, 3 + (i % 2) as u8);
        let ca = ca.clone();
        async move { hold(source, port, &ca).await }
    })));
    let more: Vec<_> = more.into_iter().flatten().collect();
    let customer = rt.block_on(async {
        let ws = raw::websocket_from(Ipv4Addr::new(127, 0, 0, 5), port, &ca).await;
        say_until_answered(ws, vec![hello(Role::Agent, Credential::None)]).await
    });
    assert_eq!(customer.error_code().as_deref(), Some("busy"), "{:?}", customer.messages);
    // ...while a technician still signs in and works.
    let erin = broker.technician("erin");
    assert!(erin.run(&["queue"]).status.success(), "a technician was locked out");
    bystander.chat();
    drop((held, more));
    bystander.finish();
}

#[test]
fn an_anonymous_connection_cannot_send_a_megabyte_or_wait_for_ever() {
    let broker = Broker::start_with_config("[limits]\ncustomer_wait_secs = 2\n");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (port, ca) = (broker.port, broker.ca());
    // Before it is trusted, a message of 200 KiB is refused as too large.
    let answer = rt.block_on(async {
        let ws = raw::websocket(port, &ca).await;
        let big = tokio_tungstenite::tungstenite::Message::text("x".repeat(200 * 1024));
        say_until_answered(ws, vec![big]).await
    });
    assert_eq!(answer.error_code().as_deref(), Some("too_large"), "{:?}", answer.messages);
    // A customer no technician comes for is told after the configured wait.
    let mut customer = broker.request("frank", "view");
    customer.wait_event("waiting");
    let told = customer.wait_event("error");
    assert!(told["message"].as_str().unwrap().contains("no technician joined"), "{told}");
}

#[test]
fn bandwidth_checks_from_one_address_are_limited() {
    let broker = Broker::start_with_config("[bandwidth]\nmax_checks_per_source = 3\n");
    let check = || {
        std::process::Command::new(tether_e2e::bins::bin("tether-agent"))
            .args(["check", "--json", "--broker", &broker.url(), "--ca"])
            .arg(broker.ca())
            .output()
            .unwrap()
    };
    for _ in 0..3 {
        let out = check();
        assert!(!String::from_utf8_lossy(&out.stdout).contains("rate_limited"));
    }
    let out = check();
    let said =
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!out.status.success() && said.contains("rate_limited"), "{said}");
    // A signed-in technician's checks are not counted.
    let erin = broker.technician("erin");
    assert!(erin.run(&["check", "--json"]).status.success());
}

#[test]
fn customers_get_turn_credentials_for_their_session_only() {
    let secret = "the secret the TURN server shares";
    let broker = Broker::start_with_config(&format!(
        "[p2p]\nturn_secret = \"{secret}\"\nturn_ttl_secs = 600\n\
         [[p2p.ice_servers]]\nurls = [\"turn:turn.example.com:3478\"]\n"
    ));
    let token = broker.technician("alice").token();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let servers = rt.block_on(async {
        let (mut agent, _console) = raw::paired(&broker.url(), &broker.ca(), &token).await;
        loop {
            if let ServerMessage::DirectPath { ice_servers, .. } =
                agent.recv_control().await.unwrap()
            {
                break ice_servers;
            }
        }
    });
    let turn = &servers[0];
    let credential = turn.credential.as_ref().expect("a credential").expose().clone();
    assert_ne!(credential, secret, "never the shared secret itself");
    // `EXPIRY:SESSION-agent`, expiring within the configured ten minutes.
    let (expiry, who) = turn.username.split_once(':').unwrap();
    let expiry: i64 = expiry.parse().unwrap();
    let now = tether_protocol::unix_seconds(std::time::SystemTime::now());
    assert!(expiry > now && expiry <= now + 600, "{expiry} vs {now}");
    assert!(who.starts_with("s-") && who.ends_with("-agent"), "{who}");
    // What a TURN server with the secret (coturn's use-auth-secret) accepts.
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, secret.as_bytes());
    let expected = ring::hmac::sign(&key, turn.username.as_bytes());
    use base64::Engine;
    assert_eq!(credential, base64::engine::general_purpose::STANDARD.encode(expected.as_ref()));
}

#[test]
fn a_token_is_revoked_by_logging_out_or_by_an_admin_one_at_a_time() {
    let broker = Broker::start();
    broker.add_user("ann", "technician", "ann's long password");
    broker.add_user("root", "admin", "root's long password");
    // Two devices of ann's, each with its own saved login.
    let laptop = broker.console("ann-laptop");
    let phone = broker.console("ann-phone");
    assert!(laptop.login("ann", "ann's long password").status.success());
    assert!(phone.login("ann", "ann's long password").status.success());
    let root = broker.console("root");
    assert!(root.login("root", "root's long password").status.success());
    let tokens = |c: &tether_e2e::proc::Console, args: &[&str]| -> Vec<serde_json::Value> {
        let out = c.run(args);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    assert_eq!(tokens(&laptop, &["tokens", "--json"]).len(), 2);
    // Logging out on the phone revokes the phone's token only.
    assert!(phone.run(&["logout"]).status.success());
    assert!(laptop.run(&["queue"]).status.success());
    assert_eq!(tokens(&root, &["tokens", "--user", "ann", "--json"]).len(), 1);
    // Someone else's tokens are not a technician's to see.
    broker.add_user("ben", "technician", "ben's long password");
    let ben = broker.console("ben");
    assert!(ben.login("ben", "ben's long password").status.success());
    refused(&ben, &["tokens", "--user", "ann"], "forbidden");
    // The admin revokes the laptop's token by its id: ann is signed out there at once.
    let id = tokens(&root, &["tokens", "--user", "ann", "--json"])[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(root.run(&["revoke", &id[..6], "--user", "ann"]).status.success());
    refused(&laptop, &["queue"], "bad_credentials");
    assert!(ben.run(&["queue"]).status.success(), "nobody else is signed out");
}
