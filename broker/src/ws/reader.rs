//! Reading messages. The read buffer is allocated when bytes arrive and dropped whenever the
//! socket has nothing more and no partial frame is held, so an idle connection costs no
//! buffer. While a frame arrives the buffer is sized to it (up to [`AHEAD`] at a time), so
//! the frame handed to the relay is one slice of an allocation that holds little else.

use std::future::poll_fn;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::{Buf, BufMut, BytesMut};
use tokio::io::AsyncRead;

use super::frame::{self, Opcode, Parsed};
use super::{Message, WsError};

/// The smallest allocation for bytes whose frame is not yet known.
const FIRST_READ: usize = 4 * 1024;
/// Bytes reserved ahead of their arrival at most: a header announcing a large frame does not
/// by itself make the broker allocate all of it. Above the largest file chunk, so a stream of
/// them is read without growing a buffer.
const AHEAD: usize = 128 * 1024;
/// Bytes asked of the stream at once: about one TLS record, so the part of the buffer the
/// stream zeroes before filling is never much more than it fills.
const READ_LIMIT: usize = 16 * 1024;

/// The reading half of a websocket.
#[derive(Debug)]
pub struct WsReader<R> {
    io: R,
    buf: BytesMut,
    /// A fragmented message being put together: its kind and what has arrived.
    partial: Option<(Opcode, BytesMut)>,
    max_message: usize,
    /// A close arrived or reading failed: nothing more is read.
    done: bool,
    /// The length of the last whole frame: the size of a new buffer, since the next frame
    /// is likely the same kind (a stream of file chunks or screen updates).
    hint: usize,
}

impl<R: AsyncRead + Unpin> WsReader<R> {
    /// Reads from `io`, after `read` (bytes that came with the upgrade request); frames and
    /// whole messages longer than `max_message` are refused.
    pub fn new(io: R, read: &[u8], max_message: usize) -> WsReader<R> {
        WsReader { io, buf: BytesMut::from(read), partial: None, max_message, done: false, hint: 0 }
    }

    /// Changes the largest frame and message accepted from now on.
    pub fn set_max_message(&mut self, max_message: usize) {
        self.max_message = max_message;
    }

    /// The next message; `None` once a close has arrived or reading has failed.
    pub async fn next(&mut self) -> Option<Result<Message, WsError>> {
        poll_fn(|cx| self.poll_next(cx)).await
    }

    fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Message, WsError>>> {
        if self.done {
            return Poll::Ready(None);
        }
        let result = loop {
            let needed = match frame::parse_header(&self.buf, self.max_message) {
                Err(e) => break Err(e),
                Ok(Parsed::Incomplete(n)) => n,
                Ok(Parsed::Header(h)) if self.buf.len() >= h.frame_len() => match self.take(h) {
                    Ok(Some(msg)) => break Ok(msg),
                    Ok(None) => continue,
                    Err(e) => break Err(e),
                },
                Ok(Parsed::Header(h)) => h.frame_len(),
            };
            match ready!(self.fill(cx, needed)) {
                Ok(()) => {}
                Err(e) => break Err(e),
            }
        };
        if matches!(result, Err(_) | Ok(Message::Close(_))) {
            self.done = true;
            self.buf = BytesMut::new();
            self.partial = None;
        }
        Poll::Ready(Some(result))
    }

    /// Reads more towards `needed` bytes in the buffer. Pending with nothing buffered drops
    /// the buffer.
    fn fill(&mut self, cx: &mut Context<'_>, needed: usize) -> Poll<Result<(), WsError>> {
        let missing = needed - self.buf.len();
        if self.buf.capacity() - self.buf.len() < missing.min(AHEAD) {
            let like_the_last = if self.buf.is_empty() { self.hint } else { 0 };
            self.buf.reserve(missing.max(like_the_last).clamp(FIRST_READ, AHEAD));
        }
        let mut limited = (&mut self.buf).limit(READ_LIMIT);
        match tokio_util::io::poll_read_buf(Pin::new(&mut self.io), cx, &mut limited) {
            Poll::Pending => {
                if self.buf.is_empty() {
                    self.buf = BytesMut::new();
                }
                Poll::Pending
            }
            Poll::Ready(Ok(0)) | Poll::Ready(Err(_)) => Poll::Ready(Err(WsError::Lost)),
            Poll::Ready(Ok(_)) => Poll::Ready(Ok(())),
        }
    }

    /// Takes the whole frame `h` off the buffer: a message, or `None` for a fragment that
    /// does not end one.
    fn take(&mut self, h: frame::Header) -> Result<Option<Message>, WsError> {
        let Some(key) = h.mask else {
            return Err(WsError::Protocol("a client's frames must be masked"));
        };
        self.hint = h.frame_len();
        let mut payload = self.buf.split_to(h.frame_len());
        payload.advance(h.header_len);
        frame::unmask(&mut payload, key);
        match h.opcode {
            Opcode::Ping => Ok(Some(Message::Ping(payload.freeze()))),
            Opcode::Pong => Ok(Some(Message::Pong(payload.freeze()))),
            Opcode::Close => Ok(Some(Message::Close(frame::parse_close(&payload)?))),
            Opcode::Text | Opcode::Binary => {
                if self.partial.is_some() {
                    return Err(WsError::Protocol("a message began inside a fragmented one"));
                }
                if h.fin {
                    return finish(h.opcode, payload).map(Some);
                }
                self.partial = Some((h.opcode, payload));
                Ok(None)
            }
            Opcode::Continuation => {
                let Some((_, so_far)) = &mut self.partial else {
                    return Err(WsError::Protocol("a continuation frame without a message"));
                };
                let size = so_far.len() + payload.len();
                if size > self.max_message {
                    return Err(WsError::TooLarge { size: size as u64 });
                }
                so_far.extend_from_slice(&payload);
                if !h.fin {
                    return Ok(None);
                }
                let (opcode, whole) = self.partial.take().expect("checked above");
                finish(opcode, whole).map(Some)
            }
        }
    }
}

fn finish(opcode: Opcode, payload: BytesMut) -> Result<Message, WsError> {
    if opcode == Opcode::Text {
        String::from_utf8(payload.to_vec()).map(Message::Text).map_err(|_| WsError::Utf8)
    } else {
        Ok(Message::Binary(payload.freeze()))
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use tokio::io::AsyncWriteExt;

    use super::super::CloseFrame;
    use super::super::frame::{client_frame, close_payload};
    use super::*;

    const KEY: [u8; 4] = [0x12, 0x34, 0x56, 0x78];

    /// A reader over whatever `bytes` a client sent, then the end of the stream.
    async fn read_all(bytes: Vec<u8>, max: usize) -> Vec<Result<Message, WsError>> {
        let (mut client, server) = tokio::io::duplex(1 << 20);
        let writer = tokio::spawn(async move {
            // Dribbled out in small writes, so frames arrive in pieces.
            for chunk in bytes.chunks(7) {
                client.write_all(chunk).await.unwrap();
            }
        });
        let mut reader = WsReader::new(server, &[], max);
        let mut out = Vec::new();
        writer.await.unwrap();
        while let Some(m) = reader.next().await {
            out.push(m);
        }
        out
    }

    #[tokio::test]
    async fn reads_messages_sent_in_pieces_then_notes_the_lost_connection() {
        let mut wire = client_frame(true, Opcode::Text, br#"{"type":"x"}"#, KEY);
        wire.extend(client_frame(true, Opcode::Binary, &[7; 70_000], KEY));
        wire.extend(client_frame(true, Opcode::Ping, b"p", KEY));
        let got = read_all(wire, 1 << 20).await;
        assert_eq!(got[0], Ok(Message::Text(r#"{"type":"x"}"#.into())));
        assert_eq!(got[1], Ok(Message::Binary(Bytes::from(vec![7; 70_000]))));
        assert_eq!(got[2], Ok(Message::Ping(Bytes::from_static(b"p"))));
        assert_eq!(got[3], Err(WsError::Lost), "the stream ended without a close");
        assert_eq!(got.len(), 4);
    }

    #[tokio::test]
    async fn puts_fragments_together_and_interleaves_control_frames() {
        let mut wire = client_frame(false, Opcode::Binary, b"ab", KEY);
        wire.extend(client_frame(true, Opcode::Pong, b"", KEY));
        wire.extend(client_frame(false, Opcode::Continuation, b"cd", KEY));
        wire.extend(client_frame(true, Opcode::Continuation, b"e", KEY));
        let close = CloseFrame { code: 1000, reason: "bye".into() };
        wire.extend(client_frame(true, Opcode::Close, &close_payload(&close), KEY));
        wire.extend(client_frame(true, Opcode::Text, b"after the close", KEY));
        let got = read_all(wire, 1 << 20).await;
        assert_eq!(got[0], Ok(Message::Pong(Bytes::new())));
        assert_eq!(got[1], Ok(Message::Binary(Bytes::from_static(b"abcde"))));
        assert_eq!(got[2], Ok(Message::Close(Some(close))));
        assert_eq!(got.len(), 3, "nothing is read after a close");
    }

    #[tokio::test]
    async fn each_broken_rule_ends_reading_with_its_error() {
        let cases: Vec<(Vec<u8>, WsError)> = vec![
            (
                {
                    let mut f = client_frame(true, Opcode::Binary, b"x", KEY);
                    f[1] &= 0x7F;
                    f.truncate(f.len() - 4);
                    f
                },
                WsError::Protocol("a client's frames must be masked"),
            ),
            (client_frame(true, Opcode::Text, &[0xC3, 0x28], KEY), WsError::Utf8),
            (
                client_frame(true, Opcode::Continuation, b"x", KEY),
                WsError::Protocol("a continuation frame without a message"),
            ),
            (
                [
                    client_frame(false, Opcode::Text, b"x", KEY),
                    client_frame(true, Opcode::Text, b"y", KEY),
                ]
                .concat(),
                WsError::Protocol("a message began inside a fragmented one"),
            ),
            (client_frame(true, Opcode::Binary, &[0; 101], KEY), WsError::TooLarge { size: 101 }),
            (
                [
                    client_frame(false, Opcode::Binary, &[0; 60], KEY),
                    client_frame(true, Opcode::Continuation, &[0; 60], KEY),
                ]
                .concat(),
                WsError::TooLarge { size: 120 },
            ),
        ];
        for (wire, err) in cases {
            let got = read_all(wire, 100).await;
            assert_eq!(got, vec![Err(err)]);
        }
    }

    #[tokio::test]
    async fn an_idle_reader_holds_no_buffer() {
        let (mut client, server) = tokio::io::duplex(1 << 20);
        let mut reader = WsReader::new(server, &[], 1 << 20);
        client.write_all(&client_frame(true, Opcode::Binary, &[1; 5000], KEY)).await.unwrap();
        assert!(matches!(reader.next().await, Some(Ok(Message::Binary(b))) if b.len() == 5000));
        // Nothing more has arrived: the next read waits, and the buffer is gone meanwhile.
        let waiting = tokio::time::timeout(std::time::Duration::from_millis(20), reader.next());
        assert!(waiting.await.is_err());
        assert_eq!(reader.buf.capacity(), 0);
        // Half a frame is kept while the rest is awaited.
        let frame = client_frame(true, Opcode::Binary, &[2; 5000], KEY);
        client.write_all(&frame[..100]).await.unwrap();
        let waiting = tokio::time::timeout(std::time::Duration::from_millis(20), reader.next());
        assert!(waiting.await.is_err());
        assert_eq!(reader.buf.len(), 100);
        client.write_all(&frame[100..]).await.unwrap();
        assert!(matches!(reader.next().await, Some(Ok(Message::Binary(b))) if b[..] == [2; 5000]));
    }

    #[tokio::test]
    async fn bytes_that_came_with_the_upgrade_are_read_first() {
        let first = client_frame(true, Opcode::Text, b"hello", KEY);
        let (mut client, server) = tokio::io::duplex(1024);
        let mut reader = WsReader::new(server, &first, 1 << 20);
        assert_eq!(reader.next().await, Some(Ok(Message::Text("hello".into()))));
        client.shutdown().await.unwrap();
        assert_eq!(reader.next().await, Some(Err(WsError::Lost)));
        assert_eq!(reader.next().await, None);
    }
}
