//! Streaming the screen: frames are captured and sent only while the customer allows view and
//! the bandwidth gate is open, at most at the configured rate, and slower when the live round
//! trip says the link is struggling. A frame that finds the connection busy is dropped, never
//! queued: the next one will be fresher.

use std::time::Duration;

use tether_client::Sender;
use tether_protocol::{Channel, Frame};
use tokio::sync::watch;

use crate::screen::{ScreenSource, encode_png_frame};

/// Controls the streaming task.
#[derive(Debug)]
pub struct Stream {
    allowed: watch::Sender<bool>,
    fps: watch::Sender<u32>,
    max_fps: u32,
}

impl Stream {
    /// Not streaming yet; at most `max_fps` frames a second.
    pub fn new(max_fps: u32) -> Stream {
        let max_fps = max_fps.max(1);
        Stream { allowed: watch::channel(false).0, fps: watch::channel(max_fps).0, max_fps }
    }

    /// Starts or stops streaming.
    pub fn allow(&self, allowed: bool) {
        self.allowed.send_replace(allowed);
    }

    /// Adjusts the frame rate to a live round-trip sample.
    pub fn adapt(&self, rtt_ms: f64) {
        let fps = adapt_fps(self.max_fps, rtt_ms);
        if *self.fps.borrow() != fps {
            tracing::debug!(fps, rtt_ms, "frame rate adapted");
            self.fps.send_replace(fps);
        }
    }

    /// The streaming task: captures from `source` and sends on `sender` while allowed.
    pub fn run(
        &self,
        source: Box<dyn ScreenSource>,
        sender: Sender,
    ) -> impl Future<Output = ()> + use<> {
        screen_loop(source, sender, self.allowed.subscribe(), self.fps.subscribe())
    }
}

/// The frame rate for a round trip: full speed on a quick link, fewer frames as it slows, so
/// that each frame arrives fresh instead of queueing behind the last.
pub fn adapt_fps(max_fps: u32, rtt_ms: f64) -> u32 {
    let share = match rtt_ms {
        r if r < 100.0 => 1.0,
        r if r < 200.0 => 0.5,
        r if r < 400.0 => 0.25,
        _ => 0.1,
    };
    ((f64::from(max_fps) * share).round() as u32).max(1)
}

async fn screen_loop(
    mut source: Box<dyn ScreenSource>,
    sender: Sender,
    mut allowed: watch::Receiver<bool>,
    mut fps: watch::Receiver<u32>,
) {
    let period = |fps: u32| Duration::from_secs(1) / fps.max(1);
    let mut tick = tokio::time::interval(period(*fps.borrow_and_update()));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut seq: u32 = 0;
    loop {
        if !*allowed.borrow_and_update() {
            if allowed.changed().await.is_err() {
                return;
            }
            continue;
        }
        if fps.has_changed().unwrap_or(false) {
            tick = tokio::time::interval(period(*fps.borrow_and_update()));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        }
        tick.tick().await;
        let captured = tokio::task::spawn_blocking(move || {
            let frame = source.capture().and_then(|image| encode_png_frame(&image, seq));
            (source, frame)
        })
        .await;
        let Ok((returned, frame)) = captured else { return };
        source = returned;
        match frame.map(|payload| Frame::encode(Channel::Screen, 0, &payload)) {
            Ok(Ok(frame)) => {
                if sender.frame_if_room(frame) {
                    seq = seq.wrapping_add(1);
                }
            }
            Ok(Err(err)) => tracing::warn!(%err, "screen frame too large; skipped"),
            Err(err) => tracing::warn!(%err, "screen capture failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slower_links_get_fewer_frames_but_never_none() {
        assert_eq!(adapt_fps(30, 20.0), 30);
        assert_eq!(adapt_fps(30, 150.0), 15);
        assert_eq!(adapt_fps(30, 300.0), 8);
        assert_eq!(adapt_fps(30, 900.0), 3);
        assert_eq!(adapt_fps(2, 900.0), 1);
    }
}
