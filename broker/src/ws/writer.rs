//! Writing messages: each frame's header and payload go to the stream together in one
//! vectored write, so TLS seals them into the same records, and nothing is buffered here.

use std::io::{self, IoSlice};

use tokio::io::{AsyncWrite, AsyncWriteExt};

use super::frame::{self, Opcode};
use super::{CloseFrame, Message};

/// The writing half of a websocket.
#[derive(Debug)]
pub struct WsWriter<W> {
    io: W,
}

impl<W: AsyncWrite + Unpin> WsWriter<W> {
    /// Writes to `io`.
    pub fn new(io: W) -> WsWriter<W> {
        WsWriter { io }
    }

    /// Writes `msg` without flushing.
    pub async fn feed(&mut self, msg: &Message) -> io::Result<()> {
        match msg {
            Message::Text(t) => self.frame(Opcode::Text, t.as_bytes()).await,
            Message::Binary(b) => self.frame(Opcode::Binary, b).await,
            Message::Ping(b) => self.frame(Opcode::Ping, control(b)).await,
            Message::Pong(b) => self.frame(Opcode::Pong, control(b)).await,
            Message::Close(f) => {
                let payload = f.as_ref().map(frame::close_payload).unwrap_or_default();
                self.frame(Opcode::Close, &payload).await
            }
        }
    }

    /// Writes `msg` and flushes.
    pub async fn send(&mut self, msg: &Message) -> io::Result<()> {
        self.feed(msg).await?;
        self.flush().await
    }

    /// Flushes what was written to the socket.
    pub async fn flush(&mut self) -> io::Result<()> {
        self.io.flush().await
    }

    /// Sends a close frame and shuts the sending side down (TLS close_notify, then the TCP
    /// half-close); reading goes on, for the peer's answering close.
    pub async fn close(&mut self, frame: CloseFrame) -> io::Result<()> {
        self.send(&Message::Close(Some(frame))).await?;
        self.io.shutdown().await
    }

    async fn frame(&mut self, opcode: Opcode, payload: &[u8]) -> io::Result<()> {
        let (head, used) = frame::encode_header(opcode, payload.len());
        let (mut head, mut body) = (&head[..used], payload);
        while !head.is_empty() {
            let n = self.io.write_vectored(&[IoSlice::new(head), IoSlice::new(body)]).await?;
            if n == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
            let from_head = n.min(head.len());
            head = &head[from_head..];
            body = &body[n - from_head..];
        }
        self.io.write_all(body).await
    }
}

/// A control frame's payload, cut to what a control frame may carry.
fn control(payload: &[u8]) -> &[u8] {
    &payload[..payload.len().min(frame::MAX_CONTROL)]
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use tokio::io::AsyncReadExt;

    use super::super::frame::server_frames;
    use super::*;

    #[tokio::test]
    async fn writes_unmasked_frames_then_closes_the_sending_side() {
        let (client, server) = tokio::io::duplex(1 << 20);
        let mut writer = WsWriter::new(server);
        writer.feed(&Message::Text("hi".into())).await.unwrap();
        writer.feed(&Message::Binary(Bytes::from(vec![5; 70_000]))).await.unwrap();
        writer.feed(&Message::Ping(Bytes::from(vec![1; 300]))).await.unwrap();
        writer.close(CloseFrame { code: 4001, reason: "who are you".into() }).await.unwrap();
        let mut wire = Vec::new();
        let mut client = client;
        client.read_to_end(&mut wire).await.unwrap();
        let got = server_frames(&wire);
        assert_eq!(got[0], (Opcode::Text, b"hi".to_vec()));
        assert_eq!(got[1], (Opcode::Binary, vec![5; 70_000]));
        assert_eq!(got[2], (Opcode::Ping, vec![1; 125]), "a control frame is cut to 125 bytes");
        let close = frame::parse_close(&got[3].1).unwrap().unwrap();
        assert_eq!(
            (got[3].0, close.code, close.reason.as_str()),
            (Opcode::Close, 4001, "who are you")
        );
        assert_eq!(got.len(), 4, "and the stream ended after the close");
    }
}
