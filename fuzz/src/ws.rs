//! The checks the `ws` fuzz target runs on one input, shared with the workspace test that
//! replays seeds and crash reproducers (`tests/tests/fuzz_regressions.rs` includes this file by
//! path). The broker's websocket reader gets the input twice:
//!
//! - as raw bytes from a client, arriving in pieces of input-chosen sizes with the stream
//!   pausing between them: it must never panic, never hand over a message above the limit, and
//!   read nothing after a close or an error;
//! - as messages a well-behaved client sends, fragmented at input-chosen points with pings
//!   between the fragments: each must come back whole and in order.
//!
//! Depends on `tether-broker`, `tokio` and std only. No runtime: the reader is polled by hand,
//! as it only ever waits on its stream.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use tether_broker::ws::{Message, WsReader};
use tokio::io::{AsyncRead, ReadBuf};

/// Bytes arriving in pieces, with a pause (a `Pending` that wakes at once) before each.
struct Pieces<'a> {
    data: &'a [u8],
    sizes: &'a [u8],
    turn: usize,
    paused: bool,
}

impl AsyncRead for Pieces<'_> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if !self.paused {
            self.paused = true;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        self.paused = false;
        let size = match self.sizes {
            [] => usize::MAX,
            sizes => 1 + usize::from(sizes[self.turn % sizes.len()]) * 37,
        };
        self.turn += 1;
        let n = size.min(self.data.len()).min(buf.remaining());
        buf.put_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Poll::Ready(Ok(()))
    }
}

/// Websocket opcodes.
const CONTINUATION: u8 = 0x0;
const TEXT: u8 = 0x1;
const BINARY: u8 = 0x2;
const PING: u8 = 0x9;

/// A client's frame, written here byte by byte from RFC 6455 §5.2 (not with the broker's own
/// code, so that a mistake there cannot cancel itself out).
fn client_frame(fin: bool, opcode: u8, payload: &[u8], key: [u8; 4]) -> Vec<u8> {
    let mut out = vec![if fin { 0x80 } else { 0 } | opcode];
    match payload.len() {
        n @ 0..=125 => out.push(0x80 | n as u8),
        n @ 126..=0xFFFF => {
            out.push(0x80 | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(0x80 | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(&key);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    out
}

/// Every message `reader` gives until it gives none, polled by hand.
fn read_all(reader: &mut WsReader<Pieces<'_>>) -> Vec<Result<Message, tether_broker::ws::WsError>> {
    let mut cx = Context::from_waker(Waker::noop());
    let mut out = Vec::new();
    loop {
        let next = {
            let mut fut = std::pin::pin!(reader.next());
            // Each pause wakes at once, so this ends after at most two polls per piece.
            loop {
                if let Poll::Ready(next) = fut.as_mut().poll(&mut cx) {
                    break next;
                }
            }
        };
        match next {
            Some(m) => out.push(m),
            None => return out,
        }
    }
}

/// Runs both checks on one input.
pub fn check_ws(data: &[u8]) {
    let [limit, sizes_len, rest @ ..] = data else { return };
    let max = [16, 125, 1000, 70_000][usize::from(*limit) % 4];
    let (sizes, bytes) = rest.split_at(usize::from(*sizes_len).min(rest.len()).min(8));
    check_raw(bytes, sizes, max);
    check_round_trip(bytes, sizes);
}

fn check_raw(bytes: &[u8], sizes: &[u8], max: usize) {
    let mut reader = WsReader::new(Pieces { data: bytes, sizes, turn: 0, paused: false }, &[], max);
    let got = read_all(&mut reader);
    // Every frame takes at least two bytes; the last result may be the end of the stream.
    assert!(got.len() <= bytes.len() / 2 + 1);
    for (i, m) in got.iter().enumerate() {
        match m {
            Ok(Message::Close(_)) | Err(_) => assert_eq!(i, got.len() - 1, "nothing after {m:?}"),
            Ok(m) => assert!(m.len() <= max, "a message over the limit: {} > {max}", m.len()),
        }
    }
}

fn check_round_trip(bytes: &[u8], sizes: &[u8]) {
    // Each message: a byte that chooses its kind and fragments, one for its length, then its
    // payload.
    let (mut wire, mut sent) = (Vec::new(), Vec::new());
    let mut rest = bytes;
    while let [shape, len, tail @ ..] = rest {
        let take = usize::from(*len).min(tail.len());
        let (payload, tail) = tail.split_at(take);
        rest = tail;
        let key = [*shape, *len, 0x5a, 0xa5];
        let message = if shape & 1 == 0 {
            Message::Binary(bytes::Bytes::copy_from_slice(payload))
        } else {
            Message::Text(String::from_utf8_lossy(payload).into_owned())
        };
        let body = message.clone().into_data();
        let opcode = if shape & 1 == 0 { BINARY } else { TEXT };
        let fragments = 1 + usize::from(shape >> 1 & 3);
        let step = body.len().div_ceil(fragments).max(1);
        let mut parts: Vec<&[u8]> = body.chunks(step).collect();
        if parts.is_empty() {
            parts.push(&[]);
        }
        let last = parts.len() - 1;
        for (i, part) in parts.iter().enumerate() {
            let op = if i == 0 { opcode } else { CONTINUATION };
            wire.extend(client_frame(i == last, op, part, key));
            if i < last && shape & 0x80 != 0 {
                // A ping between fragments is answered without breaking the message.
                wire.extend(client_frame(true, PING, &[*shape], key));
                sent.push(Message::Ping(bytes::Bytes::copy_from_slice(&[*shape])));
            }
        }
        sent.push(message);
    }
    let mut reader =
        WsReader::new(Pieces { data: &wire, sizes, turn: 0, paused: false }, &[], 1 << 20);
    let got = read_all(&mut reader);
    let (last, messages) = got.split_last().expect("at least the end of the stream");
    assert!(last.is_err(), "the stream ends without a close: {last:?}");
    let messages: Vec<Message> = messages.iter().map(|m| m.clone().expect("a message")).collect();
    assert_eq!(messages, sent);
}
