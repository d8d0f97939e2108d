//! The checks the `frame` and `control` fuzz targets run on one input, shared with the
//! workspace test that replays seeds and crash reproducers (`tests/tests/fuzz_regressions.rs`
//! includes this file by path). Every decoder gets arbitrary bytes; whatever decodes must
//! re-encode to something that decodes to the same value, so a mismatch is a crash.
//!
//! Depends on `tether-protocol` and std only, so that the test crate can include it as is.

use tether_protocol::tiles::{Framebuffer, TILE, decode_update, encode_update, grid};
use tether_protocol::{
    Channel, ClientMessage, DecodeError, FileMsg, Frame, FrameHeader, HEADER_LEN, Hello,
    InputEvent, KeyCombo, MAX_INPUT_EVENT_BYTES, ScreenFrame, ScreenRequest, ServerMessage,
    ShellMsg, VersionError, VersionRange, decode_ack, decode_data, encode_ack, encode_data_header,
    negotiate, safe_file_name,
};

/// Pictures up to this many pixels are drawn and re-encoded; larger ones are only decoded, so
/// that one input cannot make the fuzzer allocate hundreds of megabytes.
const MAX_DRAWN_PIXELS: usize = 256 * 256;

/// A binary websocket message: the frame header, then the payload through every channel's
/// decoders (all of them, whatever the channel byte says, so each decoder sees every input).
pub fn check_frame(data: &[u8]) {
    let payload = match Frame::decode(data) {
        Ok(frame) => {
            let FrameHeader { channel, flags } = frame.header;
            assert_eq!(channel.as_u8(), data[0]);
            assert_eq!(Channel::from_u8(data[0]), Some(channel));
            assert_eq!(flags, data[1]);
            assert_eq!(frame.payload, &data[HEADER_LEN..]);
            let encoded = Frame::encode(channel, flags, frame.payload).expect("re-encoding");
            assert_eq!(&encoded[..], data, "a decoded frame re-encodes to its bytes");
            let _ = (channel.name(), channel.required_consent(), channel.max_frame_bytes());
            frame.payload
        }
        Err(_) => data,
    };
    check_screen(payload);
    check_input(payload);
    check_file(payload);
    check_shell(payload);
    if let Some(n) = decode_ack(payload) {
        assert_eq!(encode_ack(n), payload);
    }
}

/// A text websocket message (arbitrary bytes taken as lossy UTF-8): both directions' control
/// messages, a bare `hello` body, and version negotiation.
pub fn check_control(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    match ClientMessage::decode(&text) {
        Ok(msg) => {
            assert!(ClientMessage::TYPES.contains(&msg.kind()));
            let json = msg.encode();
            let again = ClientMessage::decode(&json).expect("a re-encoded client message decodes");
            assert_eq!(again, msg, "client message round trip through {json}");
            assert_eq!(again.encode(), json, "client message encoding is stable");
        }
        Err(err) => check_decode_error(&err, ClientMessage::TYPES),
    }
    match ServerMessage::decode(&text) {
        Ok(msg) => {
            let json = msg.encode();
            let again = ServerMessage::decode(&json).expect("a re-encoded server message decodes");
            assert_eq!(again, msg, "server message round trip through {json}");
            assert_eq!(again.encode(), json, "server message encoding is stable");
        }
        Err(err) => check_decode_error(&err, ServerMessage::TYPES),
    }
    if let Ok(hello) = serde_json::from_str::<Hello>(&text) {
        let json = serde_json::to_string(&hello).expect("a hello serialises");
        assert_eq!(serde_json::from_str::<Hello>(&json).ok(), Some(hello.clone()));
        check_negotiation(hello.versions, VersionRange::CURRENT);
    }
    // The first eight bytes as two ranges: negotiation against any supported range.
    if let Some(v) = data.get(..8) {
        let r = |i: usize| u16::from_be_bytes([v[i], v[i + 1]]);
        check_negotiation(
            VersionRange { min: r(0), max: r(2) },
            VersionRange { min: r(4), max: r(6) },
        );
    }
}

fn check_decode_error(err: &DecodeError, known: &[&str]) {
    let _ = err.code();
    if let DecodeError::UnknownType(kind) = err {
        assert!(!known.contains(&kind.as_str()), "known type {kind:?} reported unknown");
        assert!(kind.chars().count() <= 64, "the echoed type is bounded");
    }
}

/// The negotiated version is the highest both ranges hold; a refusal means there is none.
fn check_negotiation(offered: VersionRange, supported: VersionRange) {
    let low = offered.min.max(supported.min);
    let high = offered.max.min(supported.max);
    match negotiate(offered, supported) {
        Ok(v) => {
            assert!(offered.min <= v && v <= offered.max, "{v} outside {offered:?}");
            assert!(supported.min <= v && v <= supported.max, "{v} outside {supported:?}");
            assert!(v == offered.max || v == supported.max, "{v} is not the highest common");
        }
        Err(VersionError::EmptyRange { min, max }) => {
            assert!(min > max && (min, max) == (offered.min, offered.max));
        }
        Err(VersionError::NoOverlap { .. }) => {
            assert!(offered.min <= offered.max && low > high, "{offered:?} and {supported:?}");
        }
        Err(other) => panic!("unexpected negotiation error {other:?}"),
    }
}

fn check_screen(payload: &[u8]) {
    if let Some(request) = ScreenRequest::decode(payload) {
        assert_eq!(ScreenRequest::decode(&request.encode()), Some(request));
    }
    let Ok(frame) = ScreenFrame::decode(payload) else { return };
    assert_eq!(frame.encode(), payload, "a screen frame re-encodes to its bytes");
    let Ok(update) = decode_update(&frame) else { return };
    let (cols, rows) = grid(update.tile, frame.width, frame.height);
    assert!(!update.tiles.is_empty());
    assert!(update.tiles.iter().all(|&(c, r)| c < cols && r < rows), "tile outside the grid");
    let pixels = usize::from(frame.width) * usize::from(frame.height);
    if pixels > MAX_DRAWN_PIXELS {
        return;
    }
    // Draw it: a keyframe onto nothing, a delta onto the picture it names.
    let mut held =
        (!update.keyframe).then(|| Framebuffer::blank(frame.width, frame.height, update.base));
    Framebuffer::apply(&mut held, &frame, &update).expect("a decoded update draws");
    let drawn = held.expect("a picture after drawing");
    assert_eq!(drawn.seq, frame.seq);
    assert_eq!(drawn.rgba.len(), pixels * 4);
    // With the agent's tile size and no tile sent twice, what was drawn re-encodes to an
    // update that decodes to the same tiles and pixels.
    let mut distinct = update.tiles.clone();
    distinct.sort_unstable();
    distinct.dedup();
    if update.tile != TILE || distinct.len() != update.tiles.len() {
        return;
    }
    let (w, h) = (frame.width, frame.height);
    let payload = encode_update(
        frame.seq,
        w,
        h,
        &drawn.rgba,
        update.keyframe,
        update.base,
        &update.tiles,
        1,
        usize::MAX,
    )
    .expect("re-encoding a drawn update");
    let again = ScreenFrame::decode(&payload).expect("a re-encoded screen frame decodes");
    assert_eq!(decode_update(&again).expect("a re-encoded update decodes"), update);
}

fn check_input(payload: &[u8]) {
    if let Ok(event) = InputEvent::decode(payload) {
        let encoded = event.encode();
        assert!(encoded.len() <= MAX_INPUT_EVENT_BYTES, "re-encoded event over the limit");
        assert_eq!(InputEvent::decode(&encoded).expect("a re-encoded event decodes"), event);
        assert_eq!(InputEvent::kind_of_flag(event.kind_flag()), event.kind());
    }
    // No let chains here: the workspace's minimum Rust (1.85) compiles this file too.
    let combo = std::str::from_utf8(payload).ok().and_then(|t| t.parse::<KeyCombo>().ok());
    if let Some(combo) = combo {
        let printed = combo.to_string();
        assert_eq!(printed.parse::<KeyCombo>().ok(), Some(combo), "{printed:?} re-parses");
    }
}

fn check_file(payload: &[u8]) {
    if let Ok(msg) = FileMsg::decode(payload) {
        assert_eq!(FileMsg::decode(&msg.encode()).ok(), Some(msg.clone()));
        if let FileMsg::Offer { name, .. } = &msg {
            check_file_name(name);
        }
    }
    if let Some((id, offset, data)) = decode_data(payload) {
        let mut encoded = encode_data_header(id, offset).to_vec();
        encoded.extend_from_slice(data);
        assert_eq!(encoded, payload);
    }
    check_file_name(&String::from_utf8_lossy(payload));
}

/// A sanitised name never leaves the receiving folder.
fn check_file_name(name: &str) {
    let Some(safe) = safe_file_name(name) else { return };
    assert!(!safe.is_empty() && safe.len() <= 255, "{safe:?}");
    assert!(!safe.contains(['/', '\\', ':']) && !safe.contains(".."), "{safe:?}");
    assert!(!safe.starts_with('.') && !safe.chars().any(char::is_control), "{safe:?}");
}

fn check_shell(payload: &[u8]) {
    if let Ok(msg) = ShellMsg::decode(payload) {
        assert_eq!(ShellMsg::decode(&msg.encode()).ok(), Some(msg));
    }
}
