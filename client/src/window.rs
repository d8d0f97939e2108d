//! The send window of a file transfer, sized by delay (after LEDBAT, RFC 6817): it grows while
//! acknowledgements come back about as fast as the quickest round trip seen, and shrinks as
//! soon as they slow down — that is, as soon as the transfer's own data starts to queue in a
//! buffer somewhere on the path. A transfer thus fills an idle link without building the
//! standing queue that would hold screen frames, keystrokes and shell output behind it.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use tether_protocol::FILE_CHUNK;

/// The queueing delay a transfer may add to the path.
pub const TARGET_DELAY: Duration = Duration::from_millis(8);
/// The smallest piece of a file sent at once: on a slow link a smaller window sends smaller
/// pieces, so that a screen frame or keystroke never waits long behind one.
pub const MIN_CHUNK: usize = 16 * 1024;
/// The smallest window: two small chunks, so that one is always on its way.
pub const MIN_WINDOW: u64 = 2 * MIN_CHUNK as u64;
/// The largest window.
pub const MAX_WINDOW: u64 = 16 << 20;
/// The window a transfer starts with.
const INITIAL_WINDOW: u64 = 4 * MIN_CHUNK as u64;
/// The quickest round trip is remembered per bucket of this length, over two buckets, so that
/// a path that became slower for good is believed after a while.
const BASE_BUCKET: Duration = Duration::from_secs(10);

/// One transfer's window.
#[derive(Debug)]
pub struct Window {
    size: u64,
    /// Data sent and not yet acknowledged: (end offset, when sent).
    in_flight: VecDeque<(u64, Instant)>,
    acked: u64,
    /// The quickest round trips of this bucket and the last, and when this bucket began.
    base: [Option<Duration>; 2],
    bucket_start: Option<Instant>,
    /// Doubling each round trip until the first sign of queueing.
    slow_start: bool,
    last_cut: Option<Instant>,
}

impl Window {
    /// A window for a transfer starting at `offset`.
    pub fn new(offset: u64) -> Window {
        Window {
            size: INITIAL_WINDOW,
            in_flight: VecDeque::new(),
            acked: offset,
            base: [None, None],
            bucket_start: None,
            slow_start: true,
            last_cut: None,
        }
    }

    /// Bytes that may be in flight.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// How much to send in one piece: a quarter of the window, between [`MIN_CHUNK`] and
    /// [`FILE_CHUNK`].
    pub fn chunk(&self) -> usize {
        ((self.size / 4) as usize).clamp(MIN_CHUNK, FILE_CHUNK)
    }

    /// Data up to `end` went out at `at`.
    pub fn sent(&mut self, end: u64, at: Instant) {
        self.in_flight.push_back((end, at));
    }

    /// The receiver has everything up to `received`, as heard at `now`.
    pub fn acked(&mut self, received: u64, now: Instant) {
        if received <= self.acked {
            return;
        }
        let newly = received - self.acked;
        self.acked = received;
        let mut sent_at = None;
        while let Some(&(end, at)) = self.in_flight.front() {
            if end > received {
                break;
            }
            sent_at = Some(at);
            self.in_flight.pop_front();
        }
        let Some(sent_at) = sent_at else { return };
        let rtt = now.saturating_duration_since(sent_at);
        let base = self.base_delay(rtt, now);
        let queueing = rtt.saturating_sub(base);
        if queueing > TARGET_DELAY {
            // Our own data is queueing: back off at once, at most once a round trip.
            self.slow_start = false;
            if self.last_cut.is_none_or(|t| now.saturating_duration_since(t) >= rtt) {
                self.size = (self.size / 2).max(MIN_WINDOW);
                self.last_cut = Some(now);
            }
            return;
        }
        if self.slow_start && queueing < TARGET_DELAY / 2 {
            self.size = (self.size + newly).min(MAX_WINDOW);
            return;
        }
        self.slow_start = false;
        // Below the target: grow by up to a chunk a round trip, in proportion to the room left.
        let room = 1.0 - queueing.as_secs_f64() / TARGET_DELAY.as_secs_f64();
        let grow = room * newly as f64 * FILE_CHUNK as f64 / self.size as f64;
        self.size = (self.size + grow as u64).clamp(MIN_WINDOW, MAX_WINDOW);
    }

    /// Folds `rtt` into the remembered quickest round trips; returns the quickest.
    fn base_delay(&mut self, rtt: Duration, now: Instant) -> Duration {
        match self.bucket_start {
            Some(start) if now.saturating_duration_since(start) < BASE_BUCKET => {
                self.base[0] = Some(self.base[0].map_or(rtt, |b| b.min(rtt)));
            }
            _ => {
                self.base = [Some(rtt), self.base[0]];
                self.bucket_start = Some(now);
            }
        }
        self.base.iter().flatten().copied().min().unwrap_or(rtt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHUNK: u64 = FILE_CHUNK as u64;

    /// Runs a window over a link of `rate` bytes a second and `rtt` base round trip whose
    /// buffer holds everything: returns the window and the queueing delay after `secs`.
    fn simulate(rate: f64, rtt: Duration, secs: f64) -> (u64, Duration) {
        let t0 = Instant::now();
        let mut w = Window::new(0);
        let mut now = 0.0f64;
        // When the link finishes sending each chunk.
        let mut link_free = 0.0f64;
        let mut sent = 0u64;
        let mut pending: VecDeque<(u64, f64)> = VecDeque::new();
        let mut queueing = Duration::ZERO;
        while now < secs {
            while sent - w.acked < w.size() {
                let chunk = w.chunk() as u64;
                sent += chunk;
                w.sent(sent, t0 + Duration::from_secs_f64(now));
                link_free = link_free.max(now) + chunk as f64 / rate;
                pending.push_back((sent, link_free + rtt.as_secs_f64()));
            }
            let (end, at) = pending.pop_front().expect("something in flight");
            now = now.max(at);
            queueing = Duration::from_secs_f64((link_free - now).max(0.0));
            w.acked(end, t0 + Duration::from_secs_f64(now));
        }
        (w.size(), queueing)
    }

    #[test]
    fn a_slow_link_gets_a_small_window_and_a_short_queue() {
        // 2.5 MB/s (20 Mbit/s), 40 ms: the path holds 100 KB; a fixed 1 MiB window would
        // queue 400 ms.
        let (size, queueing) = simulate(2.5e6, Duration::from_millis(40), 20.0);
        assert!(size < 400 * 1024, "window {size}");
        assert!(queueing < 3 * TARGET_DELAY, "queueing {queueing:?}");
    }

    #[test]
    fn a_fast_link_opens_the_window_wide() {
        // 1 GB/s, 1 ms: the path holds 1 MB.
        let (size, _) = simulate(1e9, Duration::from_millis(1), 2.0);
        assert!(size >= 1 << 20, "window {size}");
    }

    #[test]
    fn duplicate_and_stale_acks_change_nothing() {
        let t = Instant::now();
        let mut w = Window::new(1000);
        w.sent(1000 + CHUNK, t);
        let before = w.size();
        w.acked(500, t + Duration::from_millis(5));
        w.acked(1000, t + Duration::from_millis(5));
        assert_eq!(w.size(), before);
        w.acked(1000 + CHUNK, t + Duration::from_millis(5));
        assert!(w.size() > before, "slow start grows");
    }
}
