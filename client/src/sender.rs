//! The sending half of a split connection: one writer task fed by three lanes, drained in
//! order, each frame in its channel's [`Lane`] (the policy the broker's outbox follows too) —
//! control, input, chat, shell and the like first; then the newest screen frame (a newer one
//! replaces an unsent one); then bulk file data, which waits for room. A file transfer thus
//! never freezes the screen or delays a keystroke, and memory stays bounded. When the
//! connection drops, the writer can be handed a new one ([`Writer::reattach`]): what is still
//! in the lanes goes out on it, and every `Sender` keeps working.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures_util::SinkExt;
use futures_util::stream::SplitSink;
use tether_protocol::{Channel, ClientMessage, Lane};
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;

use crate::{ClientError, WsStream};

/// Messages the urgent lane holds before senders wait.
const URGENT_QUEUE: usize = 256;
/// File frames the bulk lane holds before senders wait.
const BULK_QUEUE: usize = 8;

/// The sending half: cheap to clone, backed by one writer task.
#[derive(Debug, Clone)]
pub struct Sender {
    urgent: mpsc::Sender<Message>,
    bulk: mpsc::Sender<Message>,
    screen: Arc<ScreenSlot>,
}

#[derive(Debug, Default)]
struct ScreenSlot {
    frame: Mutex<Option<Bytes>>,
    ready: Notify,
}

/// The writer task behind a [`Sender`].
#[derive(Debug)]
pub struct Writer {
    task: JoinHandle<()>,
    /// Replacement connections for the writer.
    sinks: mpsc::Sender<Sink>,
}

type Sink = SplitSink<WsStream, Message>;

pub(crate) fn spawn(sink: Sink) -> (Sender, Writer) {
    let (urgent, urgent_rx) = mpsc::channel(URGENT_QUEUE);
    let (bulk, bulk_rx) = mpsc::channel(BULK_QUEUE);
    let (sinks, sinks_rx) = mpsc::channel(1);
    let screen = Arc::new(ScreenSlot::default());
    let lanes = Lanes { urgent: urgent_rx, bulk: bulk_rx, screen: screen.clone() };
    let task = tokio::spawn(write_loop(sink, lanes, sinks_rx));
    (Sender { urgent, bulk, screen }, Writer { task, sinks })
}

/// The receiving ends of a [`Sender`]'s lanes.
struct Lanes {
    urgent: mpsc::Receiver<Message>,
    bulk: mpsc::Receiver<Message>,
    screen: Arc<ScreenSlot>,
}

impl Sender {
    /// Sends a control message, waiting for room.
    pub async fn control(&self, msg: &ClientMessage) -> Result<(), ClientError> {
        self.raw(Message::text(msg.encode())).await
    }

    /// Sends a binary frame in its channel's lane, waiting for room (a screen frame replaces
    /// any not yet sent).
    pub async fn frame(&self, frame: Bytes) -> Result<(), ClientError> {
        let lane = frame.first().and_then(|&c| Channel::from_u8(c)).map(Channel::lane);
        let queue = match lane {
            Some(Lane::Bulk) => &self.bulk,
            Some(Lane::Newest) => {
                return if self.frame_if_room(frame) { Ok(()) } else { Err(closed()) };
            }
            // Unknown channels too: the broker answers them with an error.
            Some(Lane::First | Lane::Interactive) | None => &self.urgent,
        };
        queue.send(Message::Binary(frame)).await.map_err(|_| closed())
    }

    /// Offers a screen frame: it replaces any screen frame not yet sent (a stale frame is worth
    /// less than none). Returns false once the connection is gone.
    pub fn frame_if_room(&self, frame: Bytes) -> bool {
        if self.urgent.is_closed() {
            return false;
        }
        *self.screen.frame.lock().unwrap_or_else(|p| p.into_inner()) = Some(frame);
        self.screen.ready.notify_one();
        true
    }

    /// Sends any websocket message on the urgent lane (tests use this for bad input).
    pub async fn raw(&self, msg: Message) -> Result<(), ClientError> {
        self.urgent.send(msg).await.map_err(|_| closed())
    }
}

fn closed() -> ClientError {
    ClientError::Closed { code: None, reason: None }
}

/// Drains the lanes into the connection until every `Sender` is gone. If the connection
/// fails, waits for a replacement (the message that failed is lost with the connection), and
/// stops if none can come.
async fn write_loop(mut sink: Sink, mut lanes: Lanes, mut sinks: mpsc::Receiver<Sink>) {
    loop {
        match drain(&mut sink, &mut lanes, &mut sinks).await {
            Drained::SendersGone => {
                let _ = sink.close().await;
                return;
            }
            Drained::Failed => match sinks.recv().await {
                Some(new) => sink = new,
                None => return,
            },
        }
    }
}

/// Why [`drain`] stopped.
enum Drained {
    /// Every sender was dropped: close politely.
    SendersGone,
    /// The connection failed.
    Failed,
}

async fn drain(sink: &mut Sink, lanes: &mut Lanes, sinks: &mut mpsc::Receiver<Sink>) -> Drained {
    let screen = lanes.screen.clone();
    let take_screen = || screen.frame.lock().unwrap_or_else(|p| p.into_inner()).take();
    loop {
        if let Ok(new) = sinks.try_recv() {
            // A new connection replaces one that failed without our noticing.
            *sink = new;
        }
        let msg = if let Ok(m) = lanes.urgent.try_recv() {
            m
        } else if let Some(frame) = take_screen() {
            Message::Binary(frame)
        } else if let Ok(m) = lanes.bulk.try_recv() {
            m
        } else {
            // Nothing queued: flush what was fed, then wait for any lane.
            if sink.flush().await.is_err() {
                return Drained::Failed;
            }
            tokio::select! {
                biased;
                m = lanes.urgent.recv() => match m {
                    Some(m) => m,
                    None => return Drained::SendersGone,
                },
                Some(new) = sinks.recv() => {
                    *sink = new;
                    continue;
                }
                _ = screen.ready.notified() => continue,
                m = lanes.bulk.recv() => match m {
                    Some(m) => m,
                    None => continue,
                },
            }
        };
        if let Err(err) = sink.feed(msg).await {
            tracing::debug!(%err, "send failed; the writer waits for a new connection");
            return Drained::Failed;
        }
    }
}

impl Writer {
    /// Carries on over `conn` (a resumed connection): what is queued, and everything sent from
    /// now on, goes out on it. Returns its receiving half.
    pub async fn reattach(&self, conn: crate::Connection) -> Result<crate::Receiver, ClientError> {
        let (sink, receiver) = conn.into_halves();
        self.sinks.send(sink).await.map_err(|_| closed())?;
        Ok(receiver)
    }

    /// Waits (briefly) for the writer to send what is queued and close the socket. Drop every
    /// `Sender` first.
    pub async fn finish(self) {
        let _ = tokio::time::timeout(Duration::from_secs(5), self.task).await;
    }
}
