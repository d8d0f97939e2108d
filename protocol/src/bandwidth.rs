//! The bandwidth check: probe frames, measurements, thresholds and the verdict.
//!
//! The broker measures each client with its own clock: round-trip time from `ping`/`pong`
//! probe frames, download from the client's acknowledgements of random data the broker sends,
//! upload from the arrival of random data the client sends. Senders keep at most a window of
//! unacknowledged bytes in flight, so socket buffers never stand in for the link. Everything
//! here is pure: time arrives in arguments.

use serde::{Deserialize, Serialize};

/// Probe frame flags (the frame header's second byte on the `probe` channel).
pub mod flags {
    /// Broker to client: echo this payload back as [`PONG`].
    pub const PING: u8 = 1;
    /// Client to broker: the echoed [`PING`] payload.
    pub const PONG: u8 = 2;
    /// Random payload being measured.
    pub const DATA: u8 = 3;
    /// Cumulative bytes of [`DATA`] received so far (u64, big-endian).
    pub const ACK: u8 = 4;
    /// No more [`DATA`] follows; the receiver answers with a final [`ACK`].
    pub const END: u8 = 5;
}

/// The size of one probe data frame's payload.
pub const PROBE_CHUNK: usize = 16 * 1024;

/// The payload of an ACK frame.
pub fn encode_ack(bytes: u64) -> [u8; 8] {
    bytes.to_be_bytes()
}

/// Reads an ACK payload; `None` unless exactly eight bytes.
pub fn decode_ack(payload: &[u8]) -> Option<u64> {
    <[u8; 8]>::try_from(payload).ok().map(u64::from_be_bytes)
}

/// A check's phases, as the broker announces them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProbePhase {
    /// Pings.
    Rtt,
    /// The broker sends; the client acknowledges.
    Download,
    /// The client sends (windowed by the broker's acknowledgements); the broker measures.
    Upload,
}

/// What one side's link measured.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    /// Median round-trip time, milliseconds.
    pub rtt_ms: f64,
    /// Jitter: mean absolute difference between consecutive round trips, milliseconds.
    pub jitter_ms: f64,
    /// Broker to client, megabits per second.
    pub download_mbps: f64,
    /// Client to broker, megabits per second.
    pub upload_mbps: f64,
}

/// Pass, warn or fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Verdict {
    /// Good enough.
    Pass,
    /// Usable, but close to a limit.
    Warn,
    /// Below what a session needs: screen sharing is blocked unless overridden.
    Fail,
}

impl Verdict {
    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Warn => "warn",
            Verdict::Fail => "fail",
        }
    }
}

/// Limits for one role. A figure beyond its fail limit fails; beyond its warn limit warns.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    /// Upload below this fails, Mbit/s.
    pub min_upload_mbps: f64,
    /// Upload below this warns, Mbit/s.
    pub warn_upload_mbps: f64,
    /// Download below this fails, Mbit/s.
    pub min_download_mbps: f64,
    /// Download below this warns, Mbit/s.
    pub warn_download_mbps: f64,
    /// Round trips above this fail, milliseconds.
    pub max_rtt_ms: f64,
    /// Round trips above this warn, milliseconds.
    pub warn_rtt_ms: f64,
}

impl Thresholds {
    /// The agent's defaults: it sends the screen, so upload matters.
    pub const AGENT: Thresholds = Thresholds {
        min_upload_mbps: 1.5,
        warn_upload_mbps: 3.0,
        min_download_mbps: 0.0,
        warn_download_mbps: 0.0,
        max_rtt_ms: 300.0,
        warn_rtt_ms: 150.0,
    };

    /// The console's defaults: it receives the screen, so download matters.
    pub const CONSOLE: Thresholds = Thresholds {
        min_upload_mbps: 0.0,
        warn_upload_mbps: 0.0,
        min_download_mbps: 1.5,
        warn_download_mbps: 3.0,
        max_rtt_ms: 300.0,
        warn_rtt_ms: 150.0,
    };

    /// Judges `m`, with the reasons in words (empty when it passes).
    pub fn judge(&self, m: &Measurement) -> (Verdict, Vec<String>) {
        let mut verdict = Verdict::Pass;
        let mut reasons = Vec::new();
        let mut note = |v: Verdict, reason: String| {
            verdict = verdict.max(v);
            reasons.push(reason);
        };
        let floors = [
            ("upload", m.upload_mbps, self.min_upload_mbps, self.warn_upload_mbps),
            ("download", m.download_mbps, self.min_download_mbps, self.warn_download_mbps),
        ];
        for (what, got, fail, warn) in floors {
            if got < fail {
                note(
                    Verdict::Fail,
                    format!("{what} {got:.2} Mbit/s is below the {fail} Mbit/s needed"),
                );
            } else if got < warn {
                note(
                    Verdict::Warn,
                    format!("{what} {got:.2} Mbit/s is below the {warn} Mbit/s advised"),
                );
            }
        }
        if m.rtt_ms > self.max_rtt_ms {
            note(
                Verdict::Fail,
                format!(
                    "round trip {:.0} ms is above the {} ms allowed",
                    m.rtt_ms, self.max_rtt_ms
                ),
            );
        } else if m.rtt_ms > self.warn_rtt_ms {
            note(
                Verdict::Warn,
                format!(
                    "round trip {:.0} ms is above the {} ms advised",
                    m.rtt_ms, self.warn_rtt_ms
                ),
            );
        }
        (verdict, reasons)
    }

    /// Checks the limits are ordered sensibly.
    pub fn validate(&self) -> Result<(), String> {
        let ok = self.min_upload_mbps >= 0.0
            && self.warn_upload_mbps >= self.min_upload_mbps
            && self.min_download_mbps >= 0.0
            && self.warn_download_mbps >= self.min_download_mbps
            && self.warn_rtt_ms > 0.0
            && self.max_rtt_ms >= self.warn_rtt_ms;
        if ok {
            Ok(())
        } else {
            Err("each warn limit must lie between zero and its fail limit".into())
        }
    }
}

/// A finished check: what was measured and what it means.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    /// The figures.
    pub measurement: Measurement,
    /// The verdict under the broker's thresholds for this role.
    pub verdict: Verdict,
    /// Why, when not a pass.
    pub reasons: Vec<String>,
}

/// Median and jitter of round-trip samples in milliseconds; zeros for no samples.
pub fn rtt_stats(samples: &[f64]) -> (f64, f64) {
    if samples.is_empty() {
        return (0.0, 0.0);
    }
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    let median = if sorted.len().is_multiple_of(2) {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    } else {
        sorted[mid]
    };
    let jitter = if samples.len() < 2 {
        0.0
    } else {
        samples.windows(2).map(|w| (w[1] - w[0]).abs()).sum::<f64>() / (samples.len() - 1) as f64
    };
    (median, jitter)
}

/// Bytes over seconds as Mbit/s; zero for no time.
pub fn mbps(bytes: u64, secs: f64) -> f64 {
    if secs <= 0.0 { 0.0 } else { bytes as f64 * 8.0 / secs / 1e6 }
}

/// The window a probe sender keeps in flight: twice the bandwidth-delay product seen so far,
/// within 64 KiB and 8 MiB, so a slow link is never buried under buffered data and a fast one
/// is never starved.
pub fn probe_window(rate_bytes_per_sec: f64, rtt_secs: f64) -> u64 {
    let bdp = rate_bytes_per_sec * rtt_secs.max(0.0005);
    (2.0 * bdp).clamp(64.0 * 1024.0, 8.0 * 1024.0 * 1024.0) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(rtt: f64, down: f64, up: f64) -> Measurement {
        Measurement { rtt_ms: rtt, jitter_ms: 0.0, download_mbps: down, upload_mbps: up }
    }

    #[test]
    fn agents_fail_on_slow_upload_and_warn_near_the_limit() {
        let t = Thresholds::AGENT;
        assert_eq!(t.judge(&m(20.0, 50.0, 50.0)), (Verdict::Pass, vec![]));
        let (v, why) = t.judge(&m(20.0, 50.0, 1.0));
        assert_eq!(v, Verdict::Fail);
        assert!(why[0].contains("upload 1.00 Mbit/s is below the 1.5"), "{why:?}");
        assert_eq!(t.judge(&m(20.0, 50.0, 2.0)).0, Verdict::Warn);
        assert_eq!(t.judge(&m(200.0, 50.0, 50.0)).0, Verdict::Warn);
        let (v, why) = t.judge(&m(400.0, 0.1, 1.0));
        assert_eq!(v, Verdict::Fail);
        assert_eq!(why.len(), 2, "download does not matter for an agent: {why:?}");
    }

    #[test]
    fn consoles_care_about_download() {
        let t = Thresholds::CONSOLE;
        assert_eq!(t.judge(&m(20.0, 1.0, 0.1)).0, Verdict::Fail);
        assert_eq!(t.judge(&m(20.0, 10.0, 0.1)).0, Verdict::Pass);
    }

    #[test]
    fn thresholds_must_be_ordered() {
        assert!(Thresholds::AGENT.validate().is_ok());
        let bad = Thresholds { warn_upload_mbps: 1.0, ..Thresholds::AGENT };
        assert!(bad.validate().is_err());
        let bad = Thresholds { max_rtt_ms: 100.0, ..Thresholds::AGENT };
        assert!(bad.validate().is_err());
    }

    #[test]
    fn statistics() {
        assert_eq!(rtt_stats(&[]), (0.0, 0.0));
        assert_eq!(rtt_stats(&[10.0, 30.0, 20.0]), (20.0, 15.0));
        assert_eq!(rtt_stats(&[10.0, 20.0]).0, 15.0);
        assert_eq!(mbps(1_000_000, 8.0), 1.0);
        assert_eq!(mbps(5, 0.0), 0.0);
        assert_eq!(probe_window(1.0, 0.1), 64 * 1024);
        assert_eq!(probe_window(1e12, 1.0), 8 * 1024 * 1024);
        assert_eq!(decode_ack(&encode_ack(42)), Some(42));
        assert_eq!(decode_ack(&[1, 2, 3]), None);
    }
}
