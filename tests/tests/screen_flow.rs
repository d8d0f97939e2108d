//! Pulled screen updates with the real agent and a hand-driven console: a console that stops
//! asking gets nothing more, and the agent does not even capture meanwhile (the test pattern
//! moves one step per capture, so the next update shows exactly one step); nothing queues in
//! the broker; a console that asks for a delta against a picture it does not hold gets a
//! keyframe.

use tether_client::check::pong;
use tether_client::{Connection, Incoming};
use tether_e2e::broker::Broker;
use tether_e2e::{PATIENCE, raw};
use tether_protocol::tiles::{Framebuffer, decode_update};
use tether_protocol::{
    Capability, Channel, ClientMessage, Credential, Frame, HEADER_LEN, JoinTarget, Role,
    ScreenFrame, ScreenRequest, Secret, ServerMessage, TicketId, probe_flags, screen_flags,
};

/// The next message, answering the broker's pings on the way (as every client does).
async fn recv(console: &mut Connection) -> Incoming {
    loop {
        let incoming = tokio::time::timeout(PATIENCE, console.recv())
            .await
            .expect("the broker went quiet")
            .unwrap();
        match incoming {
            Incoming::Frame(h, b)
                if h.channel == Channel::Probe && h.flags == probe_flags::PING =>
            {
                console.send_frame(pong(&b)).await.unwrap();
            }
            other => return other,
        }
    }
}

/// Waits for the next screen update, counting the broker's quality reports on the way.
async fn next_update(console: &mut Connection, qualities: &mut u32) -> bytes::Bytes {
    loop {
        match recv(console).await {
            Incoming::Frame(h, b) if h.channel == Channel::Screen => return b,
            Incoming::Control(ServerMessage::Quality { .. }) => *qualities += 1,
            _ => {}
        }
    }
}

fn draw(picture: &mut Option<Framebuffer>, message: &[u8]) -> (u32, bool) {
    let frame = ScreenFrame::decode(&message[HEADER_LEN..]).unwrap();
    let update = decode_update(&frame).unwrap();
    Framebuffer::apply(picture, &frame, &update).unwrap();
    (frame.seq, update.keyframe)
}

/// Where the pattern's moving block is: the first white pixel of the bottom band's top row.
fn block_x(picture: &Framebuffer) -> usize {
    let y = usize::from(picture.height) * 2 / 3 + 2;
    let row = &picture.rgba[y * usize::from(picture.width) * 4..];
    row.chunks(4).position(|p| p[..3] == [255, 255, 255]).expect("the block")
}

async fn request(console: &mut Connection, have: Option<u32>, keyframe: bool) {
    let payload = ScreenRequest { have, keyframe }.encode();
    let frame = Frame::encode(Channel::Screen, screen_flags::REQUEST, &payload).unwrap();
    console.send_frame(frame).await.unwrap();
}

#[test]
fn a_console_that_stops_asking_gets_nothing_and_the_agent_captures_nothing() {
    // Quality reports every second: the clock the console watches while not asking.
    let broker = Broker::start_with_config("[bandwidth]\nquality_interval_secs = 1\n");
    let alice = broker.technician("alice");
    let mut agent = broker.request("bob", "view");
    let ticket: TicketId = agent.wait_event("ticket")["ticket"].as_str().unwrap().parse().unwrap();
    let token = Secret::new(alice.token());
    let addr: tether_client::BrokerAddr = broker.url().parse().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let session = rt.block_on(async {
        let credential = Credential::Token { token };
        let (mut console, _) =
            tether_client::connect(&addr, raw::tls(&broker.ca()), Role::Console, credential)
                .await
                .unwrap();
        tether_client::check::run_check(&mut console, |_| {}).await.unwrap();
        console.send(&ClientMessage::Join { target: JoinTarget::Ticket(ticket) }).await.unwrap();
        let session = loop {
            if let Incoming::Control(ServerMessage::Paired(info)) = recv(&mut console).await {
                break info.id;
            }
        };
        let view = ClientMessage::ConsentRequest { capability: Capability::View };
        console.send(&view).await.unwrap();

        // The keyframe comes unasked when view is granted.
        let mut qualities = 0;
        let mut picture = None;
        let first = next_update(&mut console, &mut qualities).await;
        assert_eq!(draw(&mut picture, &first), (0, true));
        let start = block_x(picture.as_ref().unwrap());

        // Not asking: three quality reports (seconds, dozens of frame times) and no update.
        qualities = 0;
        loop {
            match recv(&mut console).await {
                Incoming::Frame(h, _) if h.channel == Channel::Screen => {
                    panic!("an update nobody asked for")
                }
                Incoming::Control(ServerMessage::Quality { .. }) => qualities += 1,
                _ => {}
            }
            if qualities == 3 {
                break;
            }
        }

        // Asked: the next update is the very next capture, a delta against the first.
        request(&mut console, Some(0), false).await;
        let second = next_update(&mut console, &mut qualities).await;
        assert_eq!(draw(&mut picture, &second), (1, false));
        let step = usize::from(picture.as_ref().unwrap().width) / 16;
        assert_eq!(block_x(picture.as_ref().unwrap()), start + step, "one capture, not dozens");

        // A request against a picture the agent did not send gets a keyframe.
        request(&mut console, Some(77), false).await;
        let third = next_update(&mut console, &mut qualities).await;
        assert_eq!(draw(&mut picture, &third), (2, true));

        console.send(&ClientMessage::Leave { reason: None }).await.unwrap();
        session
    });
    agent.wait_event("ended");
    assert!(agent.finish().0.success());

    // The broker relayed exactly three updates and never replaced one waiting in its queue.
    wait_until_sealed(&broker, &session);
    let transcript = broker.data_dir().join("transcripts").join(format!("{session}.jsonl"));
    let summary: serde_json::Value = std::fs::read_to_string(transcript)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|r| r["event"] == "screen_summary")
        .expect("a screen summary");
    assert_eq!(summary["data"]["frames"], 3, "{summary}");
    assert_eq!(summary["data"]["requests"], 2);
    assert_eq!(summary["data"]["replaced_by_newer"], 0);
}

fn wait_until_sealed(broker: &Broker, session: &str) {
    tether_e2e::wait_until("the transcript is sealed", || {
        broker.admin(&["verify", session]).status.code() == Some(0)
    });
}
