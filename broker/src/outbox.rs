//! The outbox: everything waiting to be written to one connection, queued per channel with
//! the policy of DESIGN.md's channel table, and the writer task that drains it.
//!
//! Whoever wants to reach a connection (its own task, its session peer's reader, the broker)
//! pushes here; only the writer task touches the socket's sending half. Order: control, then
//! each channel's [`Lane`] (the policy the clients' sender follows too): input and probes,
//! interactive (chat, shell, clipboard), the newest screen frame, bulk (files). Screen frames
//! keep only the newest; everything else is never dropped, and when it would exceed the byte
//! or message limit the push fails with [`Overflow`] so that the session ends instead of
//! buffering without bound.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tether_protocol::{Channel, Lane, ServerMessage};
use tokio::io::AsyncWrite;
use tokio::sync::Notify;

use crate::ws::{CloseFrame, Message, WsWriter};

/// Limits on the never-dropped queues of one connection.
#[derive(Debug, Clone, Copy)]
pub(crate) struct QueueLimits {
    /// Bytes queued at most.
    pub(crate) max_bytes: usize,
    /// Messages queued at most.
    pub(crate) max_messages: usize,
}

/// A never-dropped queue is full: the receiving peer is not keeping up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the {channel} queue to the peer is full ({queued_bytes} bytes queued)")]
pub(crate) struct Overflow {
    pub(crate) channel: &'static str,
    pub(crate) queued_bytes: usize,
}

/// What the writer should do next.
#[derive(Debug)]
pub(crate) enum Next {
    /// Send this message.
    Send(Message),
    /// Send this close frame and stop.
    Close(CloseFrame),
}

/// One connection's outgoing queues.
#[derive(Debug)]
pub(crate) struct Outbox {
    queues: Mutex<Queues>,
    wake: Notify,
    /// Signalled whenever the writer takes something off the queues.
    room: Notify,
    limits: QueueLimits,
}

#[derive(Debug, Default)]
struct Queues {
    control: VecDeque<Message>,
    input: VecDeque<Bytes>,
    chat: VecDeque<Bytes>,
    bulk: VecDeque<Bytes>,
    screen: Option<Bytes>,
    bytes: usize,
    messages: usize,
    screen_replaced: u64,
    /// When the writer last took something (None: never yet).
    last_pop: Option<Instant>,
    /// Set once: after it, pushes are ignored and the writer closes when drained.
    close: Option<CloseFrame>,
    /// The writer is gone; nothing will ever be sent again.
    dead: bool,
}

impl Queues {
    fn pop(&mut self) -> Option<Message> {
        let msg = if let Some(m) = self.control.pop_front() {
            Some(m)
        } else if let Some(b) = self.input.pop_front().or_else(|| self.chat.pop_front()) {
            Some(Message::Binary(b))
        } else if let Some(screen) = self.screen.take() {
            // The one pending screen frame goes before bulk data, so a file transfer never
            // freezes the picture; bulk (flow-controlled) takes every turn the screen leaves.
            self.last_pop = Some(Instant::now());
            return Some(Message::Binary(screen));
        } else {
            self.bulk.pop_front().map(Message::Binary)
        };
        if let Some(m) = &msg {
            self.bytes -= m.len();
            self.messages -= 1;
            self.last_pop = Some(Instant::now());
        }
        msg
    }

    fn is_empty(&self) -> bool {
        self.messages == 0 && self.screen.is_none()
    }
}

impl Outbox {
    /// An empty outbox.
    pub(crate) fn new(limits: QueueLimits) -> Outbox {
        Outbox {
            queues: Mutex::new(Queues::default()),
            wake: Notify::new(),
            room: Notify::new(),
            limits,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Queues> {
        // The queues hold no invariant a panic could break halfway; keep serving.
        self.queues.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues a control message (never dropped).
    pub(crate) fn control(&self, msg: &ServerMessage) -> Result<(), Overflow> {
        let text = msg.encode();
        self.push_counted("control", Message::Text(text), |q, m| q.control.push_back(m))
    }

    /// Queues the answer to a peer's websocket ping.
    pub(crate) fn pong(&self, payload: Bytes) -> Result<(), Overflow> {
        self.push_counted("control", Message::Pong(payload), |q, m| q.control.push_back(m))
    }

    /// Queues an advisory control message, dropping it if the queue is full: for notices whose
    /// loss harms nothing, such as "input refused", which a flooding peer could otherwise use
    /// to fill its own queue.
    pub(crate) fn notice(&self, msg: &ServerMessage) {
        let _ = self.control(msg);
    }

    /// Queues a binary frame on `channel` in that channel's lane.
    pub(crate) fn frame(&self, channel: Channel, frame: Bytes) -> Result<(), Overflow> {
        let lane = channel.lane();
        if lane == Lane::Newest {
            let mut q = self.lock();
            if q.close.is_some() || q.dead {
                return Ok(());
            }
            if q.screen.replace(frame).is_some() {
                q.screen_replaced += 1;
            }
            drop(q);
            self.wake.notify_one();
            return Ok(());
        }
        let name = channel.name();
        let msg = Message::Binary(frame);
        match lane {
            Lane::First => self.push_counted(name, msg, |q, m| q.input.push_back(into_bytes(m))),
            Lane::Interactive => {
                self.push_counted(name, msg, |q, m| q.chat.push_back(into_bytes(m)))
            }
            Lane::Bulk | Lane::Newest => {
                self.push_counted(name, msg, |q, m| q.bulk.push_back(into_bytes(m)))
            }
        }
    }

    fn push_counted(
        &self,
        channel: &'static str,
        msg: Message,
        push: impl FnOnce(&mut Queues, Message),
    ) -> Result<(), Overflow> {
        let mut q = self.lock();
        if q.close.is_some() || q.dead {
            return Ok(());
        }
        let len = msg.len();
        if q.bytes + len > self.limits.max_bytes || q.messages + 1 > self.limits.max_messages {
            return Err(Overflow { channel, queued_bytes: q.bytes });
        }
        q.bytes += len;
        q.messages += 1;
        let msg = if q.bytes > COMPACT_BEHIND && q.stalled() { compact(msg) } else { msg };
        push(&mut q, msg);
        drop(q);
        self.wake.notify_one();
        Ok(())
    }

    /// Queues a frame like [`Outbox::frame`], but when the queue is full waits up to `stall`
    /// for the writer to make room: a slow but live peer applies backpressure to the sender
    /// (whose socket is simply not read meanwhile); only a peer that reads nothing for `stall`
    /// overflows.
    pub(crate) async fn frame_or_wait(
        &self,
        channel: Channel,
        frame: Bytes,
        stall: Duration,
    ) -> Result<(), Overflow> {
        // The common case, a queue with room, without registering for the writer's signal.
        let Err(_) = self.frame(channel, frame.clone()) else { return Ok(()) };
        let deadline = tokio::time::Instant::now() + stall;
        loop {
            let room = self.room.notified();
            tokio::pin!(room);
            room.as_mut().enable();
            match self.frame(channel, frame.clone()) {
                Ok(()) => return Ok(()),
                Err(overflow) => {
                    if tokio::time::timeout_at(deadline, room).await.is_err() {
                        return Err(overflow);
                    }
                }
            }
        }
    }

    /// Asks the writer to send what is queued, then close with `code` and `reason`. Only the
    /// first call counts; later pushes are ignored.
    pub(crate) fn close(&self, code: u16, reason: &str) {
        let mut q = self.lock();
        if q.close.is_none() {
            // The writer cuts the reason to what a control frame holds.
            q.close = Some(CloseFrame { code, reason: reason.to_owned() });
        }
        drop(q);
        self.wake.notify_one();
        // Pushers waiting for room find the outbox closing and stop waiting.
        self.room.notify_waiters();
    }

    /// Hands everything still queued here to `to`, the outbox of a connection taking this one's
    /// place (a customer resuming its session), behind what `to` already holds; this outbox
    /// takes no more.
    pub(crate) fn hand_over(&self, to: &Outbox) {
        let old = std::mem::replace(&mut *self.lock(), Queues { dead: true, ..Queues::default() });
        self.room.notify_waiters();
        let mut q = to.lock();
        if q.close.is_some() || q.dead {
            return;
        }
        q.control.extend(old.control);
        q.input.extend(old.input);
        q.chat.extend(old.chat);
        q.bulk.extend(old.bulk);
        if q.screen.is_none() {
            q.screen = old.screen;
        }
        q.bytes += old.bytes;
        q.messages += old.messages;
        drop(q);
        to.wake.notify_one();
    }

    /// How many stale screen frames were replaced by newer ones before being sent.
    pub(crate) fn screen_replaced(&self) -> u64 {
        self.lock().screen_replaced
    }

    /// The next thing to write, waiting until there is one.
    pub(crate) async fn next(&self) -> Next {
        loop {
            {
                let mut q = self.lock();
                if let Some(msg) = q.pop() {
                    drop(q);
                    self.room.notify_waiters();
                    return Next::Send(msg);
                }
                if let Some(frame) = q.close.clone() {
                    return Next::Close(frame);
                }
            }
            self.wake.notified().await;
        }
    }

    /// Whether nothing waits to be written.
    pub(crate) fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    fn mark_dead(&self) {
        let mut q = self.lock();
        *q = Queues { dead: true, close: q.close.take(), ..Queues::default() };
        drop(q);
        self.room.notify_waiters();
    }
}

/// Queued bytes beyond which a frame for a stalled writer is copied into an allocation of its
/// own size.
const COMPACT_BEHIND: usize = 64 * 1024;
/// A writer that has taken nothing for this long is stalled (its peer is not reading).
const STALLED: Duration = Duration::from_millis(50);

impl Queues {
    /// Whether the writer has taken nothing for a while: its peer is slow, and what is queued
    /// now will wait.
    fn stalled(&self) -> bool {
        self.last_pop.is_none_or(|at| at.elapsed() > STALLED)
    }
}

/// A copy of a frame in an allocation of its own size. A frame is a slice of the buffer its
/// connection read it into; waiting behind a slow peer it would keep that whole buffer alive,
/// so a full queue would hold more memory than it counts. Frames for a peer that keeps up go
/// out as they are, without a copy.
fn compact(m: Message) -> Message {
    match m {
        Message::Binary(b) => Message::Binary(Bytes::copy_from_slice(&b)),
        other => other,
    }
}

fn into_bytes(m: Message) -> Bytes {
    match m {
        Message::Binary(b) => b,
        // push_counted is only given Binary messages for data channels.
        other => other.into_data(),
    }
}

/// Drains `outbox` into `ws` until closed or the socket fails, pinging every `ping_every`.
/// Flushes when the outbox runs dry, so bursts go out in few TLS records.
pub(crate) async fn write_loop<W>(
    outbox: &Outbox,
    mut ws: WsWriter<W>,
    ping_every: Duration,
) -> std::io::Result<()>
where
    W: AsyncWrite + Unpin,
{
    let result = async {
        let mut ping = tokio::time::interval(ping_every);
        ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ping.tick().await;
        loop {
            tokio::select! {
                next = outbox.next() => match next {
                    Next::Send(msg) => {
                        ws.feed(&msg).await?;
                        if outbox.is_empty() {
                            ws.flush().await?;
                        }
                    }
                    Next::Close(frame) => return ws.close(frame).await,
                },
                _ = ping.tick() => ws.send(&Message::Ping(Bytes::new())).await?,
            }
        }
    }
    .await;
    outbox.mark_dead();
    result
}

#[cfg(test)]
mod tests {
    use tether_protocol::{ErrorCode, Frame};

    use super::*;
    use crate::ws::frame::Opcode;

    fn outbox(max_messages: usize) -> Outbox {
        Outbox::new(QueueLimits { max_bytes: 1 << 20, max_messages })
    }

    fn frame(channel: Channel, tag: u8) -> Bytes {
        Frame::encode(channel, 0, &[tag]).unwrap()
    }

    async fn drain(o: &Outbox) -> Vec<Message> {
        let mut out = Vec::new();
        while !o.is_empty() {
            match o.next().await {
                Next::Send(m) => out.push(m),
                Next::Close(_) => break,
            }
        }
        out
    }

    #[tokio::test]
    async fn screen_keeps_only_the_newest_frame() {
        let o = outbox(10);
        for tag in 0..5 {
            o.frame(Channel::Screen, frame(Channel::Screen, tag)).unwrap();
        }
        let sent = drain(&o).await;
        assert_eq!(sent, vec![Message::Binary(frame(Channel::Screen, 4))]);
        assert_eq!(o.screen_replaced(), 4);
    }

    #[tokio::test]
    async fn frames_that_wait_behind_a_deep_queue_stop_pinning_their_read_buffer() {
        let o = Outbox::new(QueueLimits { max_bytes: 8 << 20, max_messages: 100 });
        // Frames sliced out of one big read buffer, as a connection reads them.
        let buffer = Bytes::from(vec![7u8; 1 << 20]);
        let slice = |i: usize| buffer.slice(i * 65536..(i + 1) * 65536);
        for i in 0..8 {
            o.frame(Channel::File, slice(i)).unwrap();
        }
        let sent = drain(&o).await;
        let shares = |m: &Message, i: usize| match m {
            Message::Binary(b) => b.as_ptr() == slice(i).as_ptr(),
            _ => false,
        };
        assert!(shares(&sent[0], 0), "a frame at the front of the queue goes out uncopied");
        assert!(!shares(&sent[7], 7), "a frame deep in the queue has its own allocation");
        assert_eq!(sent[7], Message::Binary(slice(7)), "with the same bytes");
    }

    #[tokio::test]
    async fn a_hand_over_moves_what_waits_behind_what_the_new_outbox_holds() {
        let (old, new) = (outbox(10), outbox(10));
        old.frame(Channel::Chat, frame(Channel::Chat, 1)).unwrap();
        old.frame(Channel::Screen, frame(Channel::Screen, 2)).unwrap();
        new.frame(Channel::Chat, frame(Channel::Chat, 3)).unwrap();
        old.hand_over(&new);
        assert!(old.is_empty());
        old.frame(Channel::Chat, frame(Channel::Chat, 4)).unwrap();
        assert!(old.is_empty(), "the old outbox takes no more");
        let tags: Vec<u8> = drain(&new).await.iter().map(|m| m.clone().into_data()[2]).collect();
        assert_eq!(tags, vec![3, 1, 2]);
    }

    #[tokio::test]
    async fn control_goes_first_then_input_chat_screen_bulk() {
        let o = outbox(10);
        o.frame(Channel::Screen, frame(Channel::Screen, 1)).unwrap();
        o.frame(Channel::File, frame(Channel::File, 2)).unwrap();
        o.frame(Channel::Chat, frame(Channel::Chat, 3)).unwrap();
        o.frame(Channel::Input, frame(Channel::Input, 4)).unwrap();
        o.control(&ServerMessage::ShuttingDown { grace_secs: 1 }).unwrap();
        let sent = drain(&o).await;
        assert!(matches!(sent[0], Message::Text(_)));
        let tags: Vec<u8> = sent[1..].iter().map(|m| m.clone().into_data()[2]).collect();
        assert_eq!(tags, vec![4, 3, 1, 2]);
    }

    #[tokio::test]
    async fn never_dropped_queues_overflow_instead_of_growing() {
        let o = outbox(3);
        for tag in 0..3 {
            o.frame(Channel::Chat, frame(Channel::Chat, tag)).unwrap();
        }
        let err = o.frame(Channel::Input, frame(Channel::Input, 9)).unwrap_err();
        assert_eq!(err.channel, "input");
        // Screen is not counted: it replaces.
        o.frame(Channel::Screen, frame(Channel::Screen, 1)).unwrap();
        let by_bytes = Outbox::new(QueueLimits { max_bytes: 10, max_messages: 100 });
        by_bytes
            .frame(Channel::Chat, Frame::encode(Channel::Chat, 0, b"12345678").unwrap())
            .unwrap();
        assert!(by_bytes.frame(Channel::Chat, frame(Channel::Chat, 1)).is_err());
        // Draining makes room again.
        drain(&o).await;
        o.frame(Channel::Input, frame(Channel::Input, 9)).unwrap();
    }

    #[tokio::test]
    async fn a_full_queue_waits_for_room_then_gives_up() {
        let o = std::sync::Arc::new(outbox(1));
        o.frame(Channel::Chat, frame(Channel::Chat, 1)).unwrap();
        // Nobody drains: the push gives up after the stall time.
        let stalled =
            o.frame_or_wait(Channel::Chat, frame(Channel::Chat, 2), Duration::from_millis(50));
        assert!(stalled.await.is_err());
        // A writer that drains makes room, and the push goes through.
        let drainer = {
            let o = o.clone();
            tokio::spawn(async move { o.next().await })
        };
        o.frame_or_wait(Channel::Chat, frame(Channel::Chat, 3), Duration::from_secs(30))
            .await
            .unwrap();
        assert!(matches!(drainer.await.unwrap(), Next::Send(_)));
        assert!(matches!(o.next().await, Next::Send(m) if m.clone().into_data()[2] == 3));
    }

    #[tokio::test]
    async fn close_drains_first_and_ignores_later_pushes() {
        let o = outbox(10);
        o.frame(Channel::Chat, frame(Channel::Chat, 1)).unwrap();
        o.close(ErrorCode::PeerGone.close_code(), "bye");
        o.frame(Channel::Chat, frame(Channel::Chat, 2)).unwrap();
        o.close(1000, "second close ignored");
        assert!(matches!(o.next().await, Next::Send(_)));
        match o.next().await {
            Next::Close(f) => {
                assert_eq!(f.code, 4023);
                assert_eq!(f.reason.as_str(), "bye");
            }
            other => panic!("expected close, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn writer_sends_in_order_and_closes() {
        let o = outbox(10);
        o.frame(Channel::Chat, frame(Channel::Chat, 1)).unwrap();
        o.close(1000, "done");
        let (mut client, server) = tokio::io::duplex(1 << 16);
        write_loop(&o, WsWriter::new(server), Duration::from_secs(60)).await.unwrap();
        let mut wire = Vec::new();
        tokio::io::AsyncReadExt::read_to_end(&mut client, &mut wire).await.unwrap();
        let sent = crate::ws::frame::server_frames(&wire);
        assert_eq!(sent[0], (Opcode::Binary, frame(Channel::Chat, 1).to_vec()));
        assert_eq!(sent[1].0, Opcode::Close);
        assert_eq!(sent.len(), 2);
        // A dead outbox accepts and discards.
        o.frame(Channel::Chat, frame(Channel::Chat, 2)).unwrap();
        assert!(o.is_empty());
    }
}
