//! The sending half of a split connection: one writer task fed by three lanes, drained in
//! order — control, chat, input and shell first; then the newest screen frame (a newer one
//! replaces an unsent one); then bulk file data, which waits for room. A file transfer thus
//! never freezes the screen or delays a keystroke, and memory stays bounded.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures_util::SinkExt;
use futures_util::stream::SplitSink;
use tether_protocol::{Channel, ClientMessage};
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
}

pub(crate) fn spawn(sink: SplitSink<WsStream, Message>) -> (Sender, Writer) {
    let (urgent, urgent_rx) = mpsc::channel(URGENT_QUEUE);
    let (bulk, bulk_rx) = mpsc::channel(BULK_QUEUE);
    let screen = Arc::new(ScreenSlot::default());
    let task = tokio::spawn(write_loop(sink, urgent_rx, bulk_rx, screen.clone()));
    (Sender { urgent, bulk, screen }, Writer { task })
}

impl Sender {
    /// Sends a control message, waiting for room.
    pub async fn control(&self, msg: &ClientMessage) -> Result<(), ClientError> {
        self.raw(Message::text(msg.encode())).await
    }

    /// Sends a binary frame, waiting for room: file data on the bulk lane, everything else on
    /// the urgent lane.
    pub async fn frame(&self, frame: Bytes) -> Result<(), ClientError> {
        let lane =
            if frame.first() == Some(&Channel::File.as_u8()) { &self.bulk } else { &self.urgent };
        lane.send(Message::Binary(frame)).await.map_err(|_| closed())
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

async fn write_loop(
    mut sink: SplitSink<WsStream, Message>,
    mut urgent: mpsc::Receiver<Message>,
    mut bulk: mpsc::Receiver<Message>,
    screen: Arc<ScreenSlot>,
) {
    let take_screen = || screen.frame.lock().unwrap_or_else(|p| p.into_inner()).take();
    loop {
        let msg = if let Ok(m) = urgent.try_recv() {
            m
        } else if let Some(frame) = take_screen() {
            Message::Binary(frame)
        } else if let Ok(m) = bulk.try_recv() {
            m
        } else {
            // Nothing queued: flush what was fed, then wait for any lane.
            if sink.flush().await.is_err() {
                return;
            }
            tokio::select! {
                biased;
                m = urgent.recv() => match m {
                    Some(m) => m,
                    // Every sender is gone: close politely.
                    None => break,
                },
                _ = screen.ready.notified() => continue,
                m = bulk.recv() => match m {
                    Some(m) => m,
                    None => continue,
                },
            }
        };
        if let Err(err) = sink.feed(msg).await {
            tracing::debug!(%err, "send failed; writer stops");
            return;
        }
    }
    let _ = sink.close().await;
}

impl Writer {
    /// Waits (briefly) for the writer to send what is queued and close the socket. Drop every
    /// `Sender` first.
    pub async fn finish(self) {
        let _ = tokio::time::timeout(Duration::from_secs(5), self.task).await;
    }
}
