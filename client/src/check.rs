//! The client's half of a bandwidth check: answer the broker's pings, acknowledge the data it
//! sends, and send data when asked (keeping a window of unacknowledged bytes in flight), until
//! the broker reports the result. The broker measures everything with its own clock.

use std::time::Instant;

use bytes::Bytes;
use tether_protocol::{
    Channel, CheckResult, ClientMessage, Frame, PROBE_CHUNK, ProbePhase, ServerMessage, decode_ack,
    encode_ack, probe_flags, probe_window,
};

use crate::{ClientError, Connection, Incoming};

/// A phase starting, for progress displays.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    /// Which.
    pub phase: ProbePhase,
    /// Its time limit.
    pub max_secs: f64,
    /// Its size limit.
    pub max_bytes: u64,
}

/// Asks for a check on `conn` and takes part until the broker reports the result.
pub async fn run_check(
    conn: &mut Connection,
    mut on_phase: impl FnMut(&Progress),
) -> Result<CheckResult, ClientError> {
    conn.send(&ClientMessage::Check).await?;
    let mut downloaded: u64 = 0;
    let mut upload: Option<Uploader> = None;
    loop {
        let incoming = match upload.as_mut().filter(|u| u.may_send()) {
            Some(up) => match conn.recv_now() {
                Some(incoming) => incoming?,
                None => {
                    let frame = up.next_frame();
                    conn.send_frame(frame).await?;
                    continue;
                }
            },
            None => conn.recv().await?,
        };
        match incoming {
            Incoming::Control(ServerMessage::CheckPhase { phase, max_secs, max_bytes, rtt_ms }) => {
                on_phase(&Progress { phase, max_secs, max_bytes });
                if phase == ProbePhase::Upload {
                    upload = Some(Uploader::new(rtt_ms / 1000.0));
                }
            }
            Incoming::Control(ServerMessage::CheckDone(result)) => return Ok(result),
            Incoming::Control(ServerMessage::Error { code, message, .. }) => {
                return Err(ClientError::Refused { code, message });
            }
            Incoming::Control(other) => tracing::debug!(?other, "ignored during the check"),
            Incoming::Frame(h, bytes) if h.channel == Channel::Probe => {
                let payload = &bytes[tether_protocol::HEADER_LEN..];
                match h.flags {
                    probe_flags::PING => conn.send_frame(pong(&bytes)).await?,
                    probe_flags::DATA => {
                        downloaded += payload.len() as u64;
                        conn.send_frame(probe(probe_flags::ACK, &encode_ack(downloaded))).await?;
                    }
                    probe_flags::ACK => {
                        if let (Some(up), Some(acked)) = (upload.as_mut(), decode_ack(payload)) {
                            up.acked(acked);
                        }
                    }
                    probe_flags::END => {
                        if let Some(up) = upload.as_mut() {
                            up.stopped = true;
                        }
                        conn.send_frame(probe(probe_flags::END, &[])).await?;
                    }
                    _ => {}
                }
            }
            Incoming::Frame(..) => {}
        }
    }
}

/// The answer to a broker `ping` frame (the whole message): the same payload as a `pong`.
pub fn pong(ping: &Bytes) -> Bytes {
    probe(probe_flags::PONG, &ping[tether_protocol::HEADER_LEN..])
}

fn probe(flags: u8, payload: &[u8]) -> Bytes {
    // Probe payloads are at most a chunk: encoding cannot exceed the message limit.
    Frame::encode(Channel::Probe, flags, payload).unwrap_or_default()
}

/// Sends upload data within a window of unacknowledged bytes.
struct Uploader {
    data: Bytes,
    sent: u64,
    acked: u64,
    window: u64,
    rtt_secs: f64,
    first_ack: Option<(Instant, u64)>,
    stopped: bool,
}

impl Uploader {
    fn new(rtt_secs: f64) -> Uploader {
        Uploader {
            data: probe(probe_flags::DATA, &noise(PROBE_CHUNK)),
            sent: 0,
            acked: 0,
            window: probe_window(0.0, rtt_secs),
            rtt_secs,
            first_ack: None,
            stopped: false,
        }
    }

    fn may_send(&self) -> bool {
        !self.stopped && self.sent.saturating_sub(self.acked) + PROBE_CHUNK as u64 <= self.window
    }

    fn next_frame(&mut self) -> Bytes {
        self.sent += PROBE_CHUNK as u64;
        self.data.clone()
    }

    fn acked(&mut self, acked: u64) {
        let now = Instant::now();
        self.acked = self.acked.max(acked);
        match self.first_ack {
            None => self.first_ack = Some((now, acked)),
            Some((at, bytes)) => {
                let secs = now.duration_since(at).as_secs_f64();
                if secs > 0.0 {
                    let rate = self.acked.saturating_sub(bytes) as f64 / secs;
                    self.window = probe_window(rate, self.rtt_secs);
                }
            }
        }
    }
}

/// Incompressible filler (xorshift64*): what matters is that no layer can shrink it.
fn noise(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15 ^ Instant::now().elapsed().as_nanos() as u64;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        out.extend_from_slice(&x.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes());
    }
    out.truncate(len);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_uploader_keeps_within_its_window_and_grows_it() {
        let mut up = Uploader::new(0.01);
        let mut frames = 0;
        while up.may_send() {
            up.next_frame();
            frames += 1;
        }
        assert_eq!(frames, 4, "64 KiB initial window of 16 KiB chunks");
        up.acked(16 * 1024);
        assert!(up.may_send());
        std::thread::sleep(std::time::Duration::from_millis(5));
        up.acked(10 << 20);
        assert!(up.window > 64 * 1024, "a fast link widens the window");
        up.stopped = true;
        assert!(!up.may_send());
    }

    #[test]
    fn noise_does_not_compress() {
        let n = noise(PROBE_CHUNK);
        assert_eq!(n.len(), PROBE_CHUNK);
        let distinct: std::collections::HashSet<_> = n.chunks(8).collect();
        assert!(distinct.len() > PROBE_CHUNK / 8 - 4);
    }
}
