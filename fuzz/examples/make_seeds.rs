//! Writes the `frame` and `control` seed corpora (`fuzz/seeds/frame`, `fuzz/seeds/control`)
//! from real messages built with the protocol's own encoders, so the seeds follow the protocol
//! as it changes: `cargo run --manifest-path fuzz/Cargo.toml --example make_seeds`.
//! The `broker_conn` seeds are readable scripts written by hand.

use std::path::Path;

use tether_protocol::tiles::{TILE, all_tiles, encode_update};
use tether_protocol::{
    Action, Capability, Channel, ClientMessage, Credential, Direction, ErrorCode, FileMsg, Frame,
    Hello, InputEvent, JoinTarget, MouseButton, Priority, Role, ScreenRequest, Secret,
    ServerMessage, ShellMsg, SupportRequest, TicketId, VersionRange, encode_ack,
    encode_data_header, file_flags, probe_flags, screen_flags, shell_flags,
};

fn main() {
    let seeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds");
    write(&seeds.join("frame"), &frames());
    write(&seeds.join("control"), &controls());
}

fn write(dir: &Path, seeds: &[(&str, Vec<u8>)]) {
    std::fs::create_dir_all(dir).expect("creating the seed directory");
    for (name, bytes) in seeds {
        std::fs::write(dir.join(name), bytes).expect("writing a seed");
    }
}

fn frames() -> Vec<(&'static str, Vec<u8>)> {
    let frame = |channel, flags, payload: &[u8]| {
        Frame::encode(channel, flags, payload).expect("a small frame").to_vec()
    };
    // A 96×80 checkerboard of 8-pixel squares: two tile columns and rows, the right and
    // bottom ones clipped; it compresses to a small seed.
    let (w, h) = (96u16, 80u16);
    let rgba: Vec<u8> = (0..usize::from(w) * usize::from(h))
        .flat_map(|i| {
            let (x, y) = (i % 96 / 8, i / 96 / 8);
            [(x * 20) as u8, (y * 20) as u8, ((x + y) % 2 * 200) as u8, 255]
        })
        .collect();
    let tiles = all_tiles(TILE, w, h);
    let key = encode_update(1, w, h, &rgba, true, 0, &tiles, 1, 1 << 20).expect("a keyframe");
    let delta = encode_update(2, w, h, &rgba, false, 1, &tiles[1..2], 1, 1 << 20).expect("a delta");
    let key_combo = "ctrl+alt+t".parse().expect("a key combination");
    let offer = FileMsg::Offer {
        id: 7,
        name: "report.pdf".into(),
        size: 5,
        sha256: "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824".into(),
        direction: Direction::ToAgent,
    };
    let mut data = encode_data_header(7, 0).to_vec();
    data.extend_from_slice(b"hello");
    vec![
        ("chat", frame(Channel::Chat, 0, "hello, can you see my screen?".as_bytes())),
        ("screen-keyframe", frame(Channel::Screen, screen_flags::UPDATE, &key)),
        ("screen-delta", frame(Channel::Screen, screen_flags::UPDATE, &delta)),
        (
            "screen-request",
            frame(
                Channel::Screen,
                screen_flags::REQUEST,
                &ScreenRequest { have: Some(1), keyframe: false }.encode(),
            ),
        ),
        ("input-move", {
            let e = InputEvent::MouseMove { x: 10, y: 20 };
            frame(Channel::Input, e.kind_flag(), &e.encode())
        }),
        ("input-click", {
            let e = InputEvent::MouseButton { button: MouseButton::Left, action: Action::Click };
            frame(Channel::Input, e.kind_flag(), &e.encode())
        }),
        ("input-key", {
            let e = InputEvent::Key { combo: key_combo, action: Action::Press };
            frame(Channel::Input, e.kind_flag(), &e.encode())
        }),
        ("clipboard", frame(Channel::Clipboard, 0, b"copied text")),
        ("file-offer", frame(Channel::File, file_flags::CONTROL, &offer.encode())),
        ("file-data", frame(Channel::File, file_flags::DATA, &data)),
        (
            "file-ack",
            frame(
                Channel::File,
                file_flags::CONTROL,
                &FileMsg::Ack { id: 7, received: 5 }.encode(),
            ),
        ),
        (
            "shell-open",
            frame(
                Channel::Shell,
                shell_flags::CONTROL,
                &ShellMsg::Open { cols: 80, rows: 24 }.encode(),
            ),
        ),
        ("shell-data", frame(Channel::Shell, shell_flags::DATA, b"ls -la\r")),
        ("probe-ping", frame(Channel::Probe, probe_flags::PING, &3u32.to_be_bytes())),
        ("probe-ack", frame(Channel::Probe, probe_flags::ACK, &encode_ack(1 << 20))),
        ("signal", frame(Channel::Signal, 0, br#"{"sdp":"v=0"}"#)),
    ]
}

fn controls() -> Vec<(&'static str, Vec<u8>)> {
    let client = |m: ClientMessage| m.encode().into_bytes();
    let server = |m: ServerMessage| m.encode().into_bytes();
    let hello = |role, credential| {
        client(ClientMessage::Hello(Hello {
            versions: VersionRange::CURRENT,
            role,
            credential,
            software: "tether-seed 0.1".into(),
        }))
    };
    vec![
        ("hello-agent", hello(Role::Agent, Credential::None)),
        (
            "hello-password",
            hello(
                Role::Console,
                Credential::Password { user: "alice".into(), password: Secret::new("pw".into()) },
            ),
        ),
        (
            "hello-code",
            hello(Role::Agent, Credential::Code { code: Secret::new("123456789".into()) }),
        ),
        (
            "request",
            client(ClientMessage::Request(SupportRequest {
                name: "Bob".into(),
                contact: "bob@example.com".into(),
                issue: "the printer jams".into(),
                priority: Priority::High,
            })),
        ),
        ("join", client(ClientMessage::Join { target: JoinTarget::Ticket(TicketId(3)) })),
        (
            "consent",
            client(ClientMessage::Consent { capability: Capability::Control, granted: true }),
        ),
        (
            "desk-claim",
            client(ClientMessage::Desk(tether_protocol::DeskRequest::Claim {
                ticket: TicketId(4),
            })),
        ),
        (
            "confirm",
            client(ClientMessage::Confirm { solved: true, rating: Some(5), comment: None }),
        ),
        ("error", server(ServerMessage::error(ErrorCode::RateLimited, "slow down", true))),
        (
            "quality",
            server(ServerMessage::Quality { rtt_ms: 12.5, received_kbps: 900.0, sent_kbps: 20.0 }),
        ),
        ("unknown-type", br#"{"type":"frobnicate","x":1}"#.to_vec()),
    ]
}
