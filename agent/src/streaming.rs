//! Streaming the screen, pulled by the console: an update is captured, encoded and sent only
//! while the customer allows view, the bandwidth gate is open and the console has asked for
//! one (it asks when it has drawn the last), at most at the configured rate and slower when the
//! live round trip says the link is struggling. Each update holds only the tiles that changed
//! since the picture the console holds; a keyframe goes out at the start, on a resize, on
//! request, and whenever the console's picture is not the one this side last sent. Updates take
//! the direct path while it is up, except while other technicians are in the session: they see
//! the screen as it passes through the broker, so then it goes through the broker.

use std::time::Duration;

use tether_client::Sender;
use tether_direct::Route;
use tether_protocol::tiles::{Framebuffer, TILE, TileError, TileIndex, all_tiles, encode_update};
use tether_protocol::{Channel, Frame, HEADER_LEN, MAX_MESSAGE_BYTES, ScreenRequest, screen_flags};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::screen::{CaptureError, Image, ScreenSource};

/// zstd level for screen updates: fast (a few ms for a full HD frame) and still ~40× on a
/// desktop.
const ZSTD_LEVEL: i32 = 1;

/// Controls the streaming task.
#[derive(Debug)]
pub struct Stream {
    allowed: watch::Sender<bool>,
    fps: watch::Sender<u32>,
    request: watch::Sender<Option<ScreenRequest>>,
    /// Updates go through the broker whatever the path (other technicians watch there).
    relayed: watch::Sender<bool>,
    max_fps: u32,
}

impl Stream {
    /// Not streaming yet; at most `max_fps` frames a second.
    pub fn new(max_fps: u32) -> Stream {
        let max_fps = max_fps.max(1);
        Stream {
            allowed: watch::channel(false).0,
            fps: watch::channel(max_fps).0,
            request: watch::channel(None).0,
            relayed: watch::channel(false).0,
            max_fps,
        }
    }

    /// Sends updates through the broker even while a direct path is up (other technicians
    /// watch the screen there), or lets them take the path again.
    pub fn through_broker(&self, relayed: bool) {
        self.relayed.send_replace(relayed);
    }

    /// Starts or stops streaming. Starting sends a keyframe without waiting to be asked.
    pub fn allow(&self, allowed: bool) {
        let was = self.allowed.send_replace(allowed);
        if allowed && !was {
            self.request.send_replace(Some(ScreenRequest { have: None, keyframe: true }));
        }
    }

    /// The console asks for the next update.
    pub fn requested(&self, request: ScreenRequest) {
        self.request.send_replace(Some(request));
    }

    /// Adjusts the frame rate to a live round-trip sample.
    pub fn adapt(&self, rtt_ms: f64) {
        let fps = adapt_fps(self.max_fps, rtt_ms);
        if *self.fps.borrow() != fps {
            tracing::debug!(fps, rtt_ms, "frame rate adapted");
            self.fps.send_replace(fps);
        }
    }

    /// The streaming task: captures from `source` and sends when asked — on the direct path
    /// while `route` has one, else on `sender` (the relay).
    pub fn run(
        &self,
        source: Box<dyn ScreenSource>,
        sender: Sender,
        route: Route,
    ) -> impl Future<Output = ()> + use<> {
        let watches = Watches {
            allowed: self.allowed.subscribe(),
            fps: self.fps.subscribe(),
            request: self.request.subscribe(),
            relayed: self.relayed.subscribe(),
        };
        screen_loop(source, sender, route, watches, self.request.clone())
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

struct Watches {
    allowed: watch::Receiver<bool>,
    fps: watch::Receiver<u32>,
    request: watch::Receiver<Option<ScreenRequest>>,
    relayed: watch::Receiver<bool>,
}

/// What one capture produced.
enum Captured {
    /// An encoded update, and the model after it.
    Update(Vec<u8>, Framebuffer),
    /// Nothing changed since the console's picture.
    Unchanged(Option<Framebuffer>),
    /// The capture or encoding failed.
    Failed(CaptureError, Option<Framebuffer>),
}

async fn screen_loop(
    mut source: Box<dyn ScreenSource>,
    sender: Sender,
    route: Route,
    mut w: Watches,
    requests: watch::Sender<Option<ScreenRequest>>,
) {
    // What the console holds, as far as this side knows.
    let mut model: Option<Framebuffer> = None;
    let mut seq: u32 = 0;
    let mut last_sent: Option<Instant> = None;
    loop {
        let pending = *w.request.borrow_and_update();
        let (true, Some(request)) = (*w.allowed.borrow_and_update(), pending) else {
            // Not allowed, or not asked: capture nothing until that changes.
            tokio::select! {
                changed = w.allowed.changed() => if changed.is_err() { return },
                changed = w.request.changed() => if changed.is_err() { return },
            }
            continue;
        };
        if request.keyframe || request.have != model.as_ref().map(|m| m.seq) {
            model = None;
        }
        let period = Duration::from_secs(1) / (*w.fps.borrow()).max(1);
        if let Some(at) = last_sent {
            tokio::time::sleep_until(at + period).await;
        }
        let this = seq;
        let job = tokio::task::spawn_blocking(move || {
            let captured = match source.capture() {
                Ok(image) => encode(&image, model, this),
                Err(e) => Captured::Failed(e, model),
            };
            (source, captured)
        });
        let Ok((returned, captured)) = job.await else { return };
        source = returned;
        match captured {
            Captured::Update(payload, after) => {
                model = Some(after);
                let Ok(frame) = Frame::encode(Channel::Screen, screen_flags::UPDATE, &payload)
                else {
                    continue;
                };
                let direct = !*w.relayed.borrow() && route.send(&frame).await;
                if !direct && !sender.frame_if_room(frame) {
                    return;
                }
                seq = seq.wrapping_add(1);
                last_sent = Some(Instant::now());
                // Asked and answered; a request that came in meanwhile stands.
                requests.send_if_modified(|r| {
                    let answered = *r == Some(request);
                    if answered {
                        *r = None;
                    }
                    answered
                });
            }
            Captured::Unchanged(kept) => {
                model = kept;
                // Look again after a frame's time.
                tokio::time::sleep(period).await;
            }
            Captured::Failed(err, kept) => {
                model = kept;
                tracing::warn!(%err, "screen capture failed");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

/// The update that brings the console's picture (`model`; `None` for a keyframe) to `image`,
/// as sequence number `seq`: the changed tiles, as many as fit in one message (the rest go in
/// the next update).
fn encode(image: &Image, model: Option<Framebuffer>, seq: u32) -> Captured {
    let (width, height) = (image.width, image.height);
    let model = model.filter(|m| (m.width, m.height) == (width, height));
    let keyframe = model.is_none();
    let mut tiles: Vec<TileIndex> = match &model {
        Some(m) => m.changed_tiles(&image.rgba, width, height),
        None => all_tiles(TILE, width, height),
    };
    if tiles.is_empty() {
        return Captured::Unchanged(model);
    }
    let base = model.as_ref().map_or(0, |m| m.seq);
    let budget = MAX_MESSAGE_BYTES - HEADER_LEN;
    loop {
        match encode_update(
            seq,
            width,
            height,
            &image.rgba,
            keyframe,
            base,
            &tiles,
            ZSTD_LEVEL,
            budget,
        ) {
            Ok(payload) => {
                let mut after = model.unwrap_or_else(|| Framebuffer::blank(width, height, seq));
                after.copy_tiles(&image.rgba, &tiles);
                after.seq = seq;
                return Captured::Update(payload, after);
            }
            Err(TileError::TooLarge(_)) if tiles.len() > 1 => tiles.truncate(tiles.len() / 2),
            Err(e) => return Captured::Failed(CaptureError::Encode(e.to_string()), model),
        }
    }
}

#[cfg(test)]
mod tests {
    use tether_protocol::ScreenFrame;
    use tether_protocol::tiles::decode_update;

    use super::*;
    use crate::screen::TestPattern;

    #[test]
    fn slower_links_get_fewer_frames_but_never_none() {
        assert_eq!(adapt_fps(30, 20.0), 30);
        assert_eq!(adapt_fps(30, 150.0), 15);
        assert_eq!(adapt_fps(30, 300.0), 8);
        assert_eq!(adapt_fps(30, 900.0), 3);
        assert_eq!(adapt_fps(2, 900.0), 1);
    }

    fn draw(console: &mut Option<Framebuffer>, payload: &[u8]) -> bool {
        let frame = ScreenFrame::decode(payload).unwrap();
        let update = decode_update(&frame).unwrap();
        Framebuffer::apply(console, &frame, &update).unwrap();
        update.keyframe
    }

    #[test]
    fn a_keyframe_then_only_changes_then_nothing() {
        let mut pattern = TestPattern::new(640, 400);
        let first = pattern.capture().unwrap();
        let Captured::Update(key, model) = encode(&first, None, 0) else { panic!("an update") };
        let mut console = None;
        assert!(draw(&mut console, &key));
        assert_eq!(console.as_ref().unwrap().rgba, first.rgba);

        let second = pattern.capture().unwrap();
        let Captured::Update(delta, model) = encode(&second, Some(model), 1) else {
            panic!("an update")
        };
        let frame = ScreenFrame::decode(&delta).unwrap();
        let changed = decode_update(&frame).unwrap().tiles;
        // The block moved within the bottom band: a few tiles of the 10×7.
        assert!(!changed.is_empty() && changed.len() <= 6, "{changed:?}");
        assert!(!draw(&mut console, &delta));
        assert_eq!(console.as_ref().unwrap().rgba, second.rgba);

        assert!(matches!(encode(&second, Some(model), 2), Captured::Unchanged(Some(_))));
    }

    #[test]
    fn a_resized_screen_gets_a_keyframe() {
        let small = TestPattern::new(320, 200).capture().unwrap();
        let Captured::Update(_, model) = encode(&small, None, 0) else { panic!("an update") };
        let big = TestPattern::new(640, 400).capture().unwrap();
        let Captured::Update(payload, after) = encode(&big, Some(model), 1) else {
            panic!("an update")
        };
        let mut console = None;
        assert!(draw(&mut console, &payload), "a keyframe");
        assert_eq!((after.width, after.height), (640, 400));
        assert_eq!(console.unwrap().rgba, big.rgba);
    }

    #[test]
    fn a_frame_too_big_for_one_message_goes_in_parts() {
        // Noise does not compress: 1024×768 of it is 2.3 MB of pixels.
        let mut x: u32 = 1;
        let rgba: Vec<u8> = (0..1024 * 768 * 4)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect();
        let image = Image { width: 1024, height: 768, rgba };
        let mut console = None;
        let mut model = None;
        let mut parts = 0;
        while let Captured::Update(payload, after) = encode(&image, model.take(), parts) {
            assert!(payload.len() <= MAX_MESSAGE_BYTES);
            draw(&mut console, &payload);
            model = Some(after);
            parts += 1;
        }
        assert!(parts >= 3, "{parts} parts");
        // Alpha aside, the console's picture is the image.
        let strip = |v: &[u8]| v.chunks(4).map(|p| [p[0], p[1], p[2]]).collect::<Vec<_>>();
        assert_eq!(strip(&console.unwrap().rgba), strip(&image.rgba));
    }
}
