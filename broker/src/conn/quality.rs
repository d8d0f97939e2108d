//! Live connection quality during a session: every few seconds the broker pings each side,
//! and from the round trip and the bytes relayed since the last sample tells that side how its
//! connection is doing. A round trip over the limit for several samples in a row warns both
//! sides (once, until it recovers) and is written to the transcript.

use std::time::Instant;

use bytes::Bytes;
use tether_protocol::{Channel, Frame, ServerMessage, probe_flags};

/// One side's live quality state. Pure: time and counters come in as arguments.
#[derive(Debug)]
pub(crate) struct Live {
    seq: u32,
    pending: Option<(u32, Instant)>,
    last: Option<(Instant, u64, u64)>,
    over: u32,
    warned: bool,
}

/// What a sample produced.
#[derive(Debug, PartialEq)]
pub(crate) struct Sample {
    /// For this side.
    pub(crate) quality: ServerMessage,
    /// For both sides, when the connection has stayed too slow.
    pub(crate) warning: Option<String>,
}

impl Live {
    pub(crate) fn new() -> Live {
        Live { seq: 0, pending: None, last: None, over: 0, warned: false }
    }

    /// A ping to send now (none while the last is unanswered).
    pub(crate) fn ping(&mut self, now: Instant) -> Option<Bytes> {
        if self.pending.is_some() {
            return None;
        }
        self.seq = self.seq.wrapping_add(1);
        self.pending = Some((self.seq, now));
        Frame::encode(Channel::Probe, probe_flags::PING, &self.seq.to_be_bytes()).ok()
    }

    /// A pong arrived. `sent` and `received` are the running byte totals relayed from and to
    /// this side.
    pub(crate) fn pong(
        &mut self,
        payload: &[u8],
        now: Instant,
        sent: u64,
        received: u64,
        max_rtt_ms: f64,
        warn_after: u32,
    ) -> Option<Sample> {
        let (seq, at) = self.pending?;
        if payload != seq.to_be_bytes() {
            return None;
        }
        self.pending = None;
        let rtt_ms = now.duration_since(at).as_secs_f64() * 1000.0;
        let (sent_kbps, received_kbps) = match self.last {
            Some((t, s, r)) if now > t => {
                let secs = now.duration_since(t).as_secs_f64();
                (kbps(sent.saturating_sub(s), secs), kbps(received.saturating_sub(r), secs))
            }
            _ => (0.0, 0.0),
        };
        self.last = Some((now, sent, received));
        let mut warning = None;
        if rtt_ms > max_rtt_ms {
            self.over += 1;
            if self.over >= warn_after && !self.warned {
                self.warned = true;
                warning = Some(format!(
                    "round trips have stayed above {max_rtt_ms:.0} ms ({rtt_ms:.0} ms now); the session may lag"
                ));
            }
        } else {
            self.over = 0;
            self.warned = false;
        }
        let quality = ServerMessage::Quality {
            rtt_ms: (rtt_ms * 10.0).round() / 10.0,
            received_kbps,
            sent_kbps,
        };
        Some(Sample { quality, warning })
    }
}

fn kbps(bytes: u64, secs: f64) -> f64 {
    (bytes as f64 * 8.0 / 1000.0 / secs).round()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn sample(live: &mut Live, at: Instant, rtt_ms: u64, sent: u64) -> Sample {
        let ping = live.ping(at).expect("a ping");
        let payload = ping.slice(tether_protocol::HEADER_LEN..);
        live.pong(&payload, at + Duration::from_millis(rtt_ms), sent, 0, 300.0, 3)
            .expect("a sample")
    }

    #[test]
    fn samples_measure_round_trips_and_rates() {
        let mut live = Live::new();
        let t0 = Instant::now();
        sample(&mut live, t0, 20, 0);
        let s = sample(&mut live, t0 + Duration::from_secs(5), 20, 625_000);
        let ServerMessage::Quality { rtt_ms, sent_kbps, .. } = s.quality else { panic!() };
        assert_eq!(rtt_ms, 20.0);
        assert!((sent_kbps - 1000.0).abs() < 10.0, "{sent_kbps}");
        assert_eq!(s.warning, None);
    }

    #[test]
    fn only_a_sustained_slow_link_warns_and_only_once() {
        let mut live = Live::new();
        let t0 = Instant::now();
        let step = |i: u64| t0 + Duration::from_secs(5 * i);
        assert!(sample(&mut live, step(0), 400, 0).warning.is_none());
        assert!(sample(&mut live, step(1), 400, 0).warning.is_none());
        assert!(sample(&mut live, step(2), 20, 0).warning.is_none(), "a good sample resets");
        assert!(sample(&mut live, step(3), 400, 0).warning.is_none());
        assert!(sample(&mut live, step(4), 400, 0).warning.is_none());
        assert!(sample(&mut live, step(5), 400, 0).warning.is_some(), "third in a row warns");
        assert!(sample(&mut live, step(6), 400, 0).warning.is_none(), "once");
    }

    #[test]
    fn stray_pongs_are_ignored_and_pings_wait_for_answers() {
        let mut live = Live::new();
        let now = Instant::now();
        assert!(live.pong(&[0, 0, 0, 9], now, 0, 0, 300.0, 3).is_none(), "no ping outstanding");
        assert!(live.ping(now).is_some());
        assert!(live.ping(now).is_none(), "one ping in flight at a time");
        assert!(live.pong(&[0, 0, 0, 9], now, 0, 0, 300.0, 3).is_none(), "wrong sequence");
    }
}
