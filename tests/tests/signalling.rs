//! The direct path's signalling through the broker: both sides are invited to try one after
//! pairing, offers, answers and candidates reach the other side, oversized ones are refused,
//! the path in use is recorded in the transcript, a broker with `p2p.enabled = false`
//! invites nobody and relays nothing, and a customer's candidates on the technician's own
//! network are never contacted unless the operator names that network.

use serde_json::Value;
use tether_client::{Connection, Incoming};
use tether_e2e::PATIENCE;
use tether_e2e::broker::Broker;
use tether_e2e::raw;
use tether_protocol::{
    Capability, ClientMessage, ErrorCode, MAX_SIGNAL_BYTES, ServerMessage, Signal,
};

/// The next control message, skipping frames (the broker's probes).
async fn next(conn: &mut Connection) -> ServerMessage {
    let read = async {
        loop {
            if let Incoming::Control(msg) = conn.recv().await.expect("a message") {
                return msg;
            }
        }
    };
    tokio::time::timeout(PATIENCE, read).await.expect("in time")
}

/// Control messages until one satisfies `pred`; returns the ones passed on the way and it.
async fn until(
    conn: &mut Connection,
    pred: impl Fn(&ServerMessage) -> bool,
) -> (Vec<ServerMessage>, ServerMessage) {
    let mut passed = Vec::new();
    loop {
        let msg = next(conn).await;
        if pred(&msg) {
            return (passed, msg);
        }
        passed.push(msg);
    }
}

async fn signal(conn: &mut Connection, signal: Signal) {
    conn.send(&ClientMessage::Signal { signal }).await.expect("sent");
}

#[test]
fn offers_answers_and_candidates_cross_and_the_path_is_recorded() {
    let broker = Broker::start();
    let token = broker.technician("alice").token();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let session = rt.block_on(async {
        let (mut agent, mut console) = raw::paired(&broker.url(), &broker.ca(), &token).await;
        for side in [&mut agent, &mut console] {
            let (_, invitation) =
                until(side, |m| matches!(m, ServerMessage::DirectPath { .. })).await;
            let ServerMessage::DirectPath { ice_servers, timeout_secs, .. } = invitation else {
                unreachable!()
            };
            assert_eq!((ice_servers.len(), timeout_secs), (0, 5), "host candidates, 5 s");
        }
        // The agent's resume token follows its invitation.
        until(&mut agent, |m| matches!(m, ServerMessage::Resumable { .. })).await;
        let offer = Signal::Offer { sdp: r#"{"type":"offer","sdp":"v=0"}"#.into() };
        signal(&mut agent, offer.clone()).await;
        assert_eq!(next(&mut console).await, ServerMessage::Signal { signal: offer });
        let answer = Signal::Answer { sdp: r#"{"type":"answer","sdp":"v=0"}"#.into() };
        signal(&mut console, answer.clone()).await;
        assert_eq!(next(&mut agent).await, ServerMessage::Signal { signal: answer });
        let candidate = Signal::Candidate { candidate: r#"{"candidate":"candidate:1"}"#.into() };
        signal(&mut console, candidate.clone()).await;
        assert_eq!(next(&mut agent).await, ServerMessage::Signal { signal: candidate });

        // Too large: refused to the sender, nothing reaches the other side.
        signal(&mut agent, Signal::Offer { sdp: "v".repeat(MAX_SIGNAL_BYTES + 1) }).await;
        let ServerMessage::Error { code, .. } = next(&mut agent).await else { panic!() };
        assert_eq!(code, ErrorCode::TooLarge);
        let path = Signal::Path { direct: true, reason: "the direct path is up".into() };
        signal(&mut agent, path.clone()).await;
        assert_eq!(next(&mut console).await, ServerMessage::Signal { signal: path });

        console.send(&ClientMessage::Leave { reason: None }).await.unwrap();
        let ServerMessage::SessionEnded { .. } = next(&mut agent).await else { panic!() };
        let info = broker.admin(&["sessions", "--json"]);
        let sessions: Value = serde_json::from_slice(&info.stdout).unwrap();
        sessions[0]["id"].as_str().unwrap().to_string()
    });
    tether_e2e::wait_until("the transcript is sealed", || {
        broker.admin(&["verify", &session]).status.code() == Some(0)
    });
    let text = std::fs::read_to_string(
        broker.data_dir().join("transcripts").join(format!("{session}.jsonl")),
    )
    .unwrap();
    let records: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let kinds: Vec<&str> = records
        .iter()
        .filter(|r| r["event"] == "signal")
        .map(|r| r["data"]["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["offer", "answer", "candidate"], "signals by kind, not content");
    assert!(!text.contains("candidate:1"), "the candidate itself stays out of the records");
    let path = records.iter().find(|r| r["event"] == "path").expect("the path is recorded");
    assert_eq!(path["data"]["path"], "direct");
}

#[test]
fn a_broker_without_direct_paths_invites_nobody_and_relays_no_signal() {
    let broker = Broker::start_with_config("[p2p]\nenabled = false\n");
    let token = broker.technician("alice").token();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let (mut agent, mut console) = raw::paired(&broker.url(), &broker.ca(), &token).await;
        signal(&mut agent, Signal::Offer { sdp: "{}".into() }).await;
        let (before, refusal) =
            until(&mut agent, |m| matches!(m, ServerMessage::Error { .. })).await;
        let ServerMessage::Error { code, .. } = refusal else { unreachable!() };
        assert_eq!(code, ErrorCode::Forbidden, "the offer is refused");
        // Up to the customer's consent, the technician hears no invitation and no offer.
        let grant = ClientMessage::Consent { capability: Capability::View, granted: true };
        agent.send(&grant).await.unwrap();
        let (heard, _) = until(&mut console, |m| {
            *m == ServerMessage::ConsentChanged { capability: Capability::View, granted: true }
        })
        .await;
        let direct = |m: &ServerMessage| {
            matches!(m, ServerMessage::DirectPath { .. } | ServerMessage::Signal { .. })
        };
        assert!(!before.iter().chain(&heard).any(direct), "{before:?} {heard:?}");
    });
}

/// A customer that sends the console an offer and a trickled candidate naming two UDP ports
/// of this machine's loopback (the technician's own network): whether the real console sends
/// STUN checks to them, told apart by the two sockets. With `127.0.0.0/8` named in
/// `p2p.peer_networks` it does (which shows the decoys would catch a probe); by default it
/// drops both candidates, and its attempt ends without a single packet reaching them.
#[test]
fn a_customers_candidates_on_the_technicians_network_are_contacted_only_when_named() {
    for named in [true, false] {
        let networks = if named { "peer_networks = [\"127.0.0.0/8\"]\n" } else { "" };
        let broker =
            Broker::start_with_config(&format!("[p2p]\nconnect_timeout_secs = 2\n{networks}"));
        let alice = broker.technician("alice");
        let rt = tokio::runtime::Runtime::new().unwrap();
        let decoys =
            [0, 1].map(|_| std::net::UdpSocket::bind("127.0.0.1:0").expect("a decoy port"));
        let ports = decoys.each_ref().map(|d| d.local_addr().unwrap().port());
        let (mut customer, ticket) = rt.block_on(customer_with_ticket(&broker));
        let mut console = alice.join(&ticket);
        console.wait_event("paired");
        let _path = rt.block_on(offer_decoys(&mut customer, ports));
        for decoy in &decoys {
            decoy.set_read_timeout(Some(PATIENCE)).unwrap();
        }
        if named {
            for decoy in &decoys {
                let mut buf = [0u8; 1500];
                let (n, _) = decoy.recv_from(&mut buf).expect("the console checks a named network");
                assert!(n >= 20 && buf[..2] == [0, 1], "a STUN binding request");
            }
        } else {
            let down = console
                .wait_for("the attempt to end", |e| e["event"] == "path" && e["direct"] == false);
            assert!(down["reason"].as_str().unwrap().contains("not up within"), "{down}");
            for decoy in &decoys {
                decoy.set_nonblocking(true).unwrap();
                let mut buf = [0u8; 1500];
                let got = decoy.recv_from(&mut buf);
                assert!(
                    got.as_ref().is_err_and(|e| e.kind() == std::io::ErrorKind::WouldBlock),
                    "the console sent something to the technician's loopback: {got:?}"
                );
            }
        }
        console.send("quit");
        console.wait_event("ended");
    }
}

/// A library customer whose request became a ticket: the connection and the ticket.
async fn customer_with_ticket(broker: &Broker) -> (Connection, String) {
    let addr: tether_client::BrokerAddr = broker.url().parse().unwrap();
    let (mut customer, _) = tether_client::connect(
        &addr,
        raw::tls(&broker.ca()),
        tether_protocol::Role::Agent,
        tether_protocol::Credential::None,
    )
    .await
    .expect("connect");
    let request = tether_protocol::SupportRequest {
        name: "Mallory".into(),
        contact: String::new(),
        issue: "help".into(),
        priority: tether_protocol::Priority::Low,
    };
    customer.send(&ClientMessage::Request(request)).await.unwrap();
    tether_client::check::run_check(&mut customer, |_| {}).await.expect("check");
    let (_, made) =
        until(&mut customer, |m| matches!(m, ServerMessage::TicketCreated { .. })).await;
    let ServerMessage::TicketCreated { ticket } = made else { unreachable!() };
    (customer, ticket.id.to_string())
}

/// Once invited, offers a real peer connection's description with its own candidates
/// replaced by one naming `ports[1]`, then trickles one naming `ports[0]`. The path is
/// returned so that it stays open.
async fn offer_decoys(
    customer: &mut Connection,
    ports: [u16; 2],
) -> std::sync::Arc<dyn tether_direct::DirectPath> {
    until(customer, |m| matches!(m, ServerMessage::DirectPath { .. })).await;
    let (signals, mut outgoing) = tokio::sync::mpsc::unbounded_channel();
    let (events, _) = tokio::sync::mpsc::unbounded_channel();
    let setup = tether_direct::Setup {
        offerer: true,
        ice_servers: Vec::new(),
        bind: std::net::Ipv4Addr::LOCALHOST.into(),
        reach: tether_direct::Reach::new(&["127.0.0.0/8".into()]),
    };
    let path = tether_direct::open(setup, signals, events).await.expect("a peer connection");
    let offer = loop {
        if let Some(Signal::Offer { sdp }) = outgoing.recv().await {
            break sdp;
        }
    };
    let mut description: Value = serde_json::from_str(&offer).unwrap();
    let sdp = description["sdp"].as_str().unwrap();
    let mut decoyed: String =
        sdp.split_inclusive('\n').filter(|l| !l.starts_with("a=candidate:")).collect();
    decoyed
        .push_str(&format!("a=candidate:2 1 udp 2130706431 127.0.0.1 {} typ host\r\n", ports[1]));
    description["sdp"] = Value::String(decoyed);
    signal(customer, Signal::Offer { sdp: description.to_string() }).await;
    let candidate = serde_json::json!({
        "candidate": format!("candidate:1 1 udp 2130706431 127.0.0.1 {} typ host", ports[0]),
        "sdpMid": "0",
        "sdpMLineIndex": 0,
    });
    signal(customer, Signal::Candidate { candidate: candidate.to_string() }).await;
    path
}
