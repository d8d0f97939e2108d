//! Round trips, tag lists and hostile input for the control messages.

use proptest::prelude::*;

use super::*;
use crate::*;

fn client_samples() -> Vec<ClientMessage> {
    vec![
        ClientMessage::Hello(Hello {
            versions: VersionRange::CURRENT,
            role: Role::Console,
            credential: Credential::Password {
                user: "alice".into(),
                password: Secret::new("pw".into()),
            },
            software: "tether-console 0.1".into(),
        }),
        ClientMessage::Request(SupportRequest {
            name: "Bob".into(),
            contact: "bob@example.com".into(),
            issue: "printer".into(),
            priority: Priority::High,
        }),
        ClientMessage::Queue,
        ClientMessage::Invite { ticket: Some(TicketId(3)) },
        ClientMessage::Join { target: JoinTarget::Ticket(TicketId(3)) },
        ClientMessage::Join { target: JoinTarget::Code(Secret::new("123456789".into())) },
        ClientMessage::ConsentRequest { capability: Capability::Control },
        ClientMessage::ConsentRelease { capability: Capability::Control },
        ClientMessage::Consent { capability: Capability::View, granted: true },
        ClientMessage::Leave { reason: Some("done".into()) },
        ClientMessage::Note { text: "rebooted".into() },
        ClientMessage::Resolve { text: "replaced toner".into() },
        ClientMessage::Confirm { solved: true, rating: Some(5), comment: Some("great".into()) },
        ClientMessage::Desk(crate::DeskRequest::Claim { ticket: TicketId(4) }),
        ClientMessage::Check,
        ClientMessage::OverrideBandwidth { reason: "customer insists".into() },
        ClientMessage::InviteTechnician { name: "bob".into(), mode: HelperMode::Watch },
        ClientMessage::Transfer { to: "bob".into() },
        ClientMessage::Approve { id: 3, allowed: true },
        ClientMessage::Signal { signal: Signal::Path { direct: true, reason: "up".into() } },
        ClientMessage::Admin(AdminRequest::Export {
            session: "s-1".into(),
            format: crate::ExportFormat::Html,
        }),
    ]
}

fn server_samples() -> Vec<ServerMessage> {
    let check = CheckResult {
        measurement: crate::Measurement {
            rtt_ms: 10.0,
            jitter_ms: 1.0,
            download_mbps: 50.0,
            upload_mbps: 1.0,
        },
        verdict: crate::Verdict::Fail,
        reasons: vec!["upload".into()],
    };
    let ticket = TicketSummary {
        id: TicketId(1),
        status: TicketStatus::Queued,
        priority: Priority::Low,
        channel: "agent".into(),
        client: "Bob".into(),
        contact: "bob".into(),
        issue: "x".into(),
        created_at: 1_700_000_000,
        assigned_to: None,
        customer_waiting: true,
        bandwidth: Some(crate::Verdict::Warn),
        deadline_at: Some(1_700_007_200),
        responded_at: None,
        claimed_priority: Some(Priority::Critical),
    };
    vec![
        ServerMessage::Welcome(Welcome {
            version: 1,
            user: Some(UserInfo { name: "alice".into(), role: UserRole::Technician }),
            token: Some(Secret::new("t".into())),
            token_expires_at: Some(1),
            max_message_bytes: MAX_MESSAGE_BYTES,
            failed_sign_ins: Some(crate::FailedSignIns {
                count: 3,
                last_at: Some(1_700_000_000),
                last_from: Some("192.0.2.7".into()),
            }),
        }),
        ServerMessage::TicketCreated { ticket: ticket.clone() },
        ServerMessage::Queue { tickets: vec![ticket] },
        ServerMessage::Invitation(InvitationInfo {
            code: Secret::new("123456789".into()),
            ticket: TicketId(1),
            expires_at: 5,
        }),
        ServerMessage::Waiting { ticket: TicketId(1) },
        ServerMessage::Paired(SessionInfo {
            id: "s1".into(),
            ticket: TicketId(1),
            peer: PeerInfo { role: Role::Agent, name: "Bob".into() },
        }),
        ServerMessage::ConsentRequested { capability: Capability::View },
        ServerMessage::ConsentChanged { capability: Capability::View, granted: false },
        ServerMessage::error(ErrorCode::RateLimited, "slow down", true),
        ServerMessage::SessionEnded { reason: "bye".into(), code: None },
        ServerMessage::ShuttingDown { grace_secs: 5 },
        ServerMessage::Recorded { what: "note".into() },
        ServerMessage::ResolutionProposed { text: "fixed".into() },
        ServerMessage::Confirmed { solved: false },
        ServerMessage::Admin(AdminReply::Document { part: "x".into(), last: true }),
        ServerMessage::CheckPhase {
            phase: ProbePhase::Upload,
            max_secs: 2.0,
            max_bytes: 8,
            rtt_ms: 3.0,
        },
        ServerMessage::CheckDone(check.clone()),
        ServerMessage::BandwidthGate {
            agent: Some(check.clone()),
            console: None,
            screen_blocked: true,
            reason: "upload too slow".into(),
        },
        ServerMessage::Quality { rtt_ms: 12.5, received_kbps: 900.0, sent_kbps: 20.0 },
        ServerMessage::QualityWarning { message: "slow".into() },
        ServerMessage::ApprovalRequested { id: 1, what: Approval::Transfer { to: "bob".into() } },
        ServerMessage::ApprovalDecided {
            what: Approval::SecondTechnician { name: "bob".into(), mode: HelperMode::Help },
            allowed: false,
        },
        ServerMessage::Helper { name: "bob".into(), mode: HelperMode::Watch, joined: true },
        ServerMessage::HandedOver { to: "bob".into() },
        ServerMessage::Resumable { token: Secret::new("t".repeat(43)), grace_secs: 30 },
        ServerMessage::PeerAway { grace_secs: 30 },
        ServerMessage::PeerBack,
        ServerMessage::DirectPath {
            ice_servers: vec![IceServer {
                urls: vec!["turn:turn.example.com:3478".into()],
                username: "u".into(),
                credential: Some(Secret::new("p".into())),
            }],
            timeout_secs: 5,
            peer_networks: vec!["10.20.0.0/16".into()],
        },
        ServerMessage::DirectPath {
            ice_servers: Vec::new(),
            timeout_secs: 5,
            peer_networks: vec![],
        },
        ServerMessage::Signal { signal: Signal::Answer { sdp: "{}".into() } },
        ServerMessage::Desk(crate::DeskReply::Done { message: "ok".into() }),
        ServerMessage::Event(Box::new(crate::DeskEvent {
            kind: "assigned".into(),
            ticket: TicketId(1),
            at: 5,
            actor: "alice".into(),
            detail: "to bob".into(),
            summary: None,
        })),
    ]
}

fn tag(json: &str) -> String {
    serde_json::from_str::<serde_json::Value>(json).unwrap()["type"].as_str().unwrap().to_string()
}

#[test]
fn client_messages_round_trip_and_tags_are_listed() {
    let samples = client_samples();
    let mut seen = std::collections::BTreeSet::new();
    for msg in samples {
        let json = msg.encode();
        assert_eq!(ClientMessage::decode(&json).unwrap(), msg);
        assert_eq!(tag(&json), msg.kind());
        assert!(ClientMessage::TYPES.contains(&msg.kind()));
        seen.insert(msg.kind());
    }
    assert_eq!(seen.len(), ClientMessage::TYPES.len(), "every type has a sample");
}

#[test]
fn server_messages_round_trip_and_tags_are_listed() {
    let mut seen = std::collections::BTreeSet::new();
    for msg in server_samples() {
        let json = msg.encode();
        assert_eq!(ServerMessage::decode(&json).unwrap(), msg);
        let t = tag(&json);
        assert!(ServerMessage::TYPES.contains(&t.as_str()), "{t}");
        seen.insert(t);
    }
    assert_eq!(seen.len(), ServerMessage::TYPES.len());
}

#[test]
fn unknown_type_is_told_apart_from_malformed() {
    assert_eq!(
        ClientMessage::decode(r#"{"type":"frobnicate"}"#),
        Err(DecodeError::UnknownType("frobnicate".into()))
    );
    for bad in ["", "nonsense", "{}", r#"{"type":7}"#, r#"{"type":"join"}"#, "[1,2]"] {
        assert!(matches!(ClientMessage::decode(bad), Err(DecodeError::Malformed(_))), "{bad:?}");
    }
    let big = format!(r#"{{"type":"leave","reason":"{}"}}"#, "x".repeat(MAX_MESSAGE_BYTES));
    assert_eq!(ClientMessage::decode(&big), Err(DecodeError::TooLarge(big.len())));
}

#[test]
fn secrets_never_print_in_debug() {
    let msg = &client_samples()[0];
    let dbg = format!("{msg:?}");
    assert!(!dbg.contains("\"pw\""), "{dbg}");
    assert!(dbg.contains("[redacted]"));
}

proptest! {
    #[test]
    fn arbitrary_text_never_panics(text in ".{0,200}") {
        let _ = ClientMessage::decode(&text);
        let _ = ServerMessage::decode(&text);
    }

    #[test]
    fn arbitrary_json_shapes_never_panic(
        kind in prop::sample::select(ClientMessage::TYPES.to_vec()),
        field in "[a-z_]{1,10}",
        value in prop_oneof![Just("null".to_string()), "[0-9]{1,20}", "\"[a-z]{0,8}\"", Just("{}".into())],
    ) {
        let text = format!(r#"{{"type":"{kind}","{field}":{value}}}"#);
        let _ = ClientMessage::decode(&text);
    }
}
