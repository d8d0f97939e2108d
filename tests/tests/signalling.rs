//! The direct path's signalling through the broker: both sides are invited to try one after
//! pairing, offers, answers and candidates reach the other side, oversized ones are refused,
//! the path in use is recorded in the transcript, and a broker with `p2p.enabled = false`
//! invites nobody and relays nothing.

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
            let ServerMessage::DirectPath { ice_servers, timeout_secs } = invitation else {
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
