//! Hostile input: each bad client gets a clear error or close while a session running beside
//! it keeps chatting undisturbed.

use tether_e2e::broker::Broker;
use tether_e2e::bystander::Bystander;
use tether_e2e::proc::Agent;
use tether_e2e::raw::{self, say};
use tether_protocol::{
    ClientMessage, Credential, Hello, MAX_MESSAGE_BYTES, Role, Secret, VersionRange,
};
use tokio_tungstenite::tungstenite::Message;

fn hello(role: Role, credential: Credential, versions: VersionRange) -> Message {
    Message::text(
        ClientMessage::Hello(Hello { versions, role, credential, software: "hostile".into() })
            .encode(),
    )
}

#[test]
fn bad_clients_are_refused_while_a_session_keeps_chatting() {
    let broker = Broker::start();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (port, ca) = (broker.port, broker.ca());
    let mut bystander = Bystander::start(&broker);
    bystander.chat();

    // Wrong password.
    let out = broker.console("alice2").login("alice", "not-the-password");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad_credentials"));
    bystander.chat();

    // Garbage bytes where TLS is expected: the connection is closed, nothing is answered.
    let answer = rt.block_on(raw::tcp_garbage(port, b"\x00\x01garbage\xffthat is not TLS\r\n\r\n"));
    assert!(answer.is_empty() || !answer.starts_with(b"HTTP"), "{answer:?}");
    bystander.chat();

    // Plain HTTP over TLS for a page that does not exist: a clear HTTP error, not a hang
    // (`/` is the web desk's page).
    let answer = rt.block_on(raw::tls_exchange(
        port,
        &ca,
        b"GET /no-such-page HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    ));
    assert!(
        String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 404"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    let answer = rt.block_on(raw::tls_exchange(
        port,
        &ca,
        b"GET /v1/ws HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    ));
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 426") && text.contains("tether broker"), "{text}");
    bystander.chat();

    // An oversized frame: closed with "message too big".
    let answer = rt.block_on(async {
        let ws = raw::websocket(port, &ca).await;
        say(ws, vec![Message::binary(vec![1u8; MAX_MESSAGE_BYTES + 1])]).await
    });
    assert_eq!(answer.close_code, Some(1009), "{answer:?}");
    assert_eq!(answer.error_code().as_deref(), Some("too_large"));
    bystander.chat();

    // An unknown message type.
    let answer = rt.block_on(async {
        let ws = raw::websocket(port, &ca).await;
        say(ws, vec![Message::text(r#"{"type":"frobnicate","x":1}"#)]).await
    });
    assert_eq!(answer.error_code().as_deref(), Some("unknown_message"));
    assert_eq!(answer.close_code, Some(1003));
    bystander.chat();

    // Malformed JSON.
    let answer = rt.block_on(async {
        let ws = raw::websocket(port, &ca).await;
        say(ws, vec![Message::text("{not json")]).await
    });
    assert_eq!(answer.error_code().as_deref(), Some("malformed"));
    bystander.chat();

    // A protocol version nobody speaks.
    let answer = rt.block_on(async {
        let ws = raw::websocket(port, &ca).await;
        let v = VersionRange { min: 90, max: 99 };
        say(ws, vec![hello(Role::Agent, Credential::None, v)]).await
    });
    assert_eq!(answer.error_code().as_deref(), Some("unsupported_version"));
    assert_eq!(answer.close_code, Some(4000));
    bystander.chat();

    // A join without authentication: as the first message, and after an empty hello.
    let join = Message::text(r#"{"type":"join","target":{"ticket":1}}"#);
    let answer =
        rt.block_on(async { say(raw::websocket(port, &ca).await, vec![join.clone()]).await });
    assert_eq!(answer.error_code().as_deref(), Some("unauthenticated"));
    assert_eq!(answer.close_code, Some(4001));
    let answer = rt.block_on(async {
        let ws = raw::websocket(port, &ca).await;
        say(ws, vec![hello(Role::Console, Credential::None, VersionRange::CURRENT), join]).await
    });
    assert_eq!(answer.error_code().as_deref(), Some("unauthenticated"));
    let answer = rt.block_on(async {
        let ws = raw::websocket(port, &ca).await;
        let token = Credential::Token { token: Secret::new("f".repeat(64)) };
        say(ws, vec![hello(Role::Console, token, VersionRange::CURRENT)]).await
    });
    assert_eq!(answer.error_code().as_deref(), Some("bad_credentials"));
    bystander.chat();

    // A made-up resume token takes no session back.
    let answer = rt.block_on(async {
        let ws = raw::websocket(port, &ca).await;
        let token = Credential::Resume { token: Secret::new("f".repeat(64)) };
        say(ws, vec![hello(Role::Agent, token, VersionRange::CURRENT)]).await
    });
    assert_eq!(answer.error_code().as_deref(), Some("unauthenticated"));
    bystander.chat();

    // Six wrong codes from one address, after which even the right code is refused.
    let alice = broker.console("alice");
    let right = alice.invite(None)["code"].as_str().unwrap().to_string();
    let wrong: Vec<String> = (1..=6u32)
        .map(|i| format!("{:09}", (right.parse::<u32>().unwrap() + i * 7919) % 1_000_000_000))
        .collect();
    for (i, code) in wrong.iter().enumerate() {
        let (status, events) = Agent::join(&broker, &format!("guesser{i}"), code, "view").finish();
        assert!(!status.success());
        assert!(events.iter().any(|e| e["code"] == "code_invalid"), "guess {i}: {events:?}");
    }
    let (status, events) = Agent::join(&broker, "guesser-right", &right, "view").finish();
    assert!(!status.success(), "the right code got through a blocked address");
    assert!(events.iter().any(|e| e["code"] == "rate_limited"), "{events:?}");
    bystander.chat();

    // The bystander's session ends normally, and the broker served throughout.
    bystander.console.send("quit");
    bystander.console.wait_event("ended");
    assert!(bystander.agent.finish().0.success());
    assert!(bystander.console.finish().0.success());
    assert_eq!(alice.queue().len(), 2, "the broker still answers");
}

#[test]
fn a_silent_connection_is_closed_after_the_handshake_timeout() {
    let broker = Broker::start_with_config("[limits]\nhandshake_timeout_secs = 1\n");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let answer = rt.block_on(async {
        raw::read_to_close(raw::websocket(broker.port, &broker.ca()).await).await
    });
    assert_eq!(answer.error_code().as_deref(), Some("timeout"));
}

#[test]
fn a_peer_that_stops_reading_ends_its_session_instead_of_growing_a_queue() {
    use tether_client::Incoming;
    use tether_protocol::{
        Channel, ErrorCode, Frame, JoinTarget, Priority, ServerMessage, SupportRequest, TicketId,
    };

    let broker = Broker::start_with_config(
        "[limits]\nmax_queued_bytes = 1048576\nmax_queued_messages = 64\nstall_timeout_secs = 1\n",
    );
    let alice = broker.technician("alice");
    let saved =
        std::fs::read_to_string(broker.scratch().join("console-alice/console.json")).unwrap();
    let token: serde_json::Value = serde_json::from_str(&saved).unwrap();
    let token = Secret::new(token["token"].as_str().unwrap().to_string());
    let addr: tether_client::BrokerAddr = broker.url().parse().unwrap();
    let tls = raw::tls(&broker.ca());
    let rt = tokio::runtime::Runtime::new().unwrap();
    let flood_until_ended = async {
        let (mut agent, _) =
            tether_client::connect(&addr, tls.clone(), Role::Agent, Credential::None)
                .await
                .unwrap();
        agent
            .send(&ClientMessage::Request(SupportRequest {
                name: "flood".into(),
                contact: String::new(),
                issue: "floods".into(),
                priority: Priority::Low,
            }))
            .await
            .unwrap();
        tether_client::check::run_check(&mut agent, |_| {}).await.unwrap();
        let ServerMessage::TicketCreated { ticket } = agent.recv_control().await.unwrap() else {
            panic!("no ticket")
        };
        let (mut console, _) =
            tether_client::connect(&addr, tls, Role::Console, Credential::Token { token })
                .await
                .unwrap();
        tether_client::check::run_check(&mut console, |_| {}).await.unwrap();
        console
            .send(&ClientMessage::Join { target: JoinTarget::Ticket(TicketId(ticket.id.0)) })
            .await
            .unwrap();
        loop {
            if let ServerMessage::Paired(_) = console.recv_control().await.unwrap() {
                break;
            }
        }
        // From here on the console reads nothing. The agent floods chat, which is never dropped.
        let (sender, mut receiver, _writer) = agent.split();
        let flood = tokio::spawn(async move {
            let chunk = Frame::encode(Channel::Chat, 0, &vec![b'x'; 16 * 1024]).unwrap();
            for _ in 0..20_000 {
                if sender.frame(chunk.clone()).await.is_err() {
                    break;
                }
            }
        });
        let ended = loop {
            match receiver.recv().await {
                Ok(Incoming::Control(ServerMessage::SessionEnded { reason, code })) => {
                    break (reason, code);
                }
                Ok(_) => {}
                Err(e) => panic!("connection ended without a reason: {e}"),
            }
        };
        flood.abort();
        drop(console);
        ended
    };
    let ended = rt
        .block_on(async { tokio::time::timeout(tether_e2e::PATIENCE, flood_until_ended).await })
        .expect("the session neither overflowed nor ended");
    assert_eq!(ended.1, Some(ErrorCode::Overflow), "{ended:?}");
    assert!(ended.0.contains("fell too far behind"), "{ended:?}");
    // The broker is fine and serving.
    assert_eq!(alice.queue().len(), 1);
}
