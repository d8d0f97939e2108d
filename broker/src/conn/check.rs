//! The broker's half of a bandwidth check, run on a connection before it pairs: round trips
//! from pings, download from the client's acknowledgements of random data sent within a
//! window, upload from the arrival of the client's data. Every figure comes from the broker's
//! own clock; a client can only make itself look slower, never faster.

use std::time::{Duration, Instant};

use bytes::Bytes;
use tether_protocol::{
    Channel, CheckResult, ClientMessage, ErrorCode, Frame, HEADER_LEN, Measurement, PROBE_CHUNK,
    ProbePhase, Role, ServerMessage, TicketId, decode_ack, encode_ack, mbps, probe_flags,
    probe_window, rtt_stats,
};

use tether_store::{CheckRecord, unix_now};

use super::{Conn, Inbound, Refusal};

/// How long the broker waits for any one answer during a check.
const ANSWER_WITHIN: Duration = Duration::from_secs(15);

impl Conn {
    /// Measures this connection and judges it against `role`'s thresholds; tells the client.
    pub(super) async fn run_check(&mut self, role: Role) -> Result<CheckResult, Refusal> {
        // Anyone may connect as a customer, and each check sends megabytes: an address gets a
        // budget of them. Signed-in staff are not counted.
        if self.user.is_none() {
            let (source, now) = (self.peer.ip(), tether_store::unix_now());
            let mut checks = crate::shared::lock(&self.shared.checks);
            checks.reserve(source, now).map_err(|b| {
                Refusal::new(
                    ErrorCode::RateLimited,
                    format!(
                        "too many bandwidth checks from this address; try again in {} s",
                        b.until - now
                    ),
                )
            })?;
            checks.settle(source, true, now);
        }
        let settings = self.shared.config.bandwidth.clone();
        let limit = Duration::from_secs_f64(settings.max_secs);
        self.phase(ProbePhase::Rtt, settings.max_secs, 0, 0.0)?;
        let mut samples = Vec::with_capacity(settings.pings as usize);
        for seq in 0..settings.pings {
            samples.push(self.ping(seq).await?.as_secs_f64() * 1000.0);
        }
        let (rtt_ms, jitter_ms) = rtt_stats(&samples);
        self.phase(ProbePhase::Download, settings.max_secs, settings.max_bytes, rtt_ms)?;
        let download_mbps = self.download(limit, settings.max_bytes, rtt_ms / 1000.0).await?;
        self.phase(ProbePhase::Upload, settings.max_secs, settings.max_bytes, rtt_ms)?;
        let upload_mbps = self.upload(limit, settings.max_bytes).await?;
        let measurement = Measurement { rtt_ms, jitter_ms, download_mbps, upload_mbps };
        let (verdict, reasons) = settings.thresholds(role).judge(&measurement);
        tracing::info!(
            rtt_ms = format!("{rtt_ms:.1}"),
            jitter_ms = format!("{jitter_ms:.1}"),
            download_mbps = format!("{download_mbps:.2}"),
            upload_mbps = format!("{upload_mbps:.2}"),
            verdict = verdict.name(),
            "bandwidth checked"
        );
        let result = CheckResult { measurement, verdict, reasons };
        self.outbox.control(&ServerMessage::CheckDone(result.clone()))?;
        Ok(result)
    }

    /// Keeps a check with its ticket and in the ticket's history.
    pub(super) fn keep_check(
        &self,
        ticket: TicketId,
        role: Role,
        name: &str,
        result: &CheckResult,
    ) {
        let record =
            CheckRecord { ticket, role, name: name.into(), at: unix_now(), result: result.clone() };
        self.shared.desk.check_kept(record);
    }

    fn phase(
        &self,
        phase: ProbePhase,
        max_secs: f64,
        max_bytes: u64,
        rtt_ms: f64,
    ) -> Result<(), Refusal> {
        Ok(self.outbox.control(&ServerMessage::CheckPhase {
            phase,
            max_secs,
            max_bytes,
            rtt_ms,
        })?)
    }

    /// The next probe frame from the client: its flags and payload.
    async fn probe_frame(&mut self) -> Result<(u8, Bytes), Refusal> {
        loop {
            let inbound =
                tokio::time::timeout(ANSWER_WITHIN, self.recv()).await.map_err(|_| {
                    Refusal::new(ErrorCode::Timeout, "the bandwidth check got no answer in time")
                })??;
            match inbound {
                Inbound::Frame(h, bytes) if h.channel == Channel::Probe => {
                    return Ok((h.flags, bytes.slice(HEADER_LEN..)));
                }
                Inbound::Frame(..) => {}
                Inbound::Control(ClientMessage::Leave { .. }) | Inbound::Closed => {
                    return Err(Refusal::new(
                        ErrorCode::PeerGone,
                        "left during the bandwidth check",
                    ));
                }
                Inbound::Control(msg) => self.complain(
                    ErrorCode::Malformed,
                    format!("{} must wait until the bandwidth check is done", msg.kind()),
                ),
            }
        }
    }

    async fn ping(&mut self, seq: u32) -> Result<Duration, Refusal> {
        let sent = Instant::now();
        self.outbox.frame(Channel::Probe, probe(probe_flags::PING, &seq.to_be_bytes()))?;
        loop {
            let (flags, payload) = self.probe_frame().await?;
            if flags == probe_flags::PONG && payload.as_ref() == seq.to_be_bytes() {
                return Ok(sent.elapsed());
            }
        }
    }

    /// Sends random data within a window until the time or size limit, then waits for the
    /// client to acknowledge all of it; the rate is measured between acknowledgements.
    async fn download(
        &mut self,
        limit: Duration,
        max_bytes: u64,
        rtt_secs: f64,
    ) -> Result<f64, Refusal> {
        let chunk = self.shared.probe_data.clone();
        let len = PROBE_CHUNK as u64;
        let start = Instant::now();
        // Never more in flight than half what the outbox may hold, in bytes and in messages.
        let limits = &self.shared.config.limits;
        let cap =
            (limits.max_queued_bytes as u64 / 2).min(limits.max_queued_messages as u64 / 2 * len);
        let (mut sent, mut acked, mut window) = (0u64, 0u64, probe_window(0.0, rtt_secs).min(cap));
        let mut first: Option<(Instant, u64)> = None;
        let mut last = (start, 0u64);
        loop {
            let sending = start.elapsed() < limit && sent < max_bytes;
            while sending && sent < max_bytes && sent - acked + len <= window {
                self.outbox.frame(Channel::Probe, chunk.clone())?;
                sent += len;
            }
            if !sending && acked >= sent {
                break;
            }
            let (flags, payload) = self.probe_frame().await?;
            if flags != probe_flags::ACK {
                continue;
            }
            let Some(n) = decode_ack(&payload) else { continue };
            let now = Instant::now();
            acked = n.min(sent);
            let (t0, b0) = *first.get_or_insert((now, acked));
            last = (now, acked);
            let secs = now.duration_since(t0).as_secs_f64();
            if secs > 0.0 {
                window = probe_window((acked - b0) as f64 / secs, rtt_secs).min(cap);
            }
        }
        Ok(match first {
            Some((t0, b0)) if last.0 > t0 => {
                mbps(last.1 - b0, last.0.duration_since(t0).as_secs_f64())
            }
            // One acknowledgement only (a tiny limit): count from the start, less a round trip.
            _ => mbps(acked, (start.elapsed().as_secs_f64() - rtt_secs).max(1e-6)),
        })
    }

    /// Receives the client's data until the time or size limit, acknowledging as it comes,
    /// then tells it to stop and waits until it has; the rate is measured on arrival.
    async fn upload(&mut self, limit: Duration, max_bytes: u64) -> Result<f64, Refusal> {
        let mut received = 0u64;
        let mut first: Option<Instant> = None;
        let (mut counted, mut last) = (0u64, Instant::now());
        loop {
            let (flags, payload) = self.probe_frame().await?;
            if flags == probe_flags::END {
                break;
            }
            if flags != probe_flags::DATA {
                continue;
            }
            let now = Instant::now();
            let n = payload.len() as u64;
            received += n;
            match first {
                None => first = Some(now),
                Some(_) => {
                    counted += n;
                    last = now;
                }
            }
            // A client busy sending may read acknowledgements slowly: wait for room rather than
            // fail (its window stops it soon enough).
            let ack = probe(probe_flags::ACK, &encode_ack(received));
            self.outbox.frame_or_wait(Channel::Probe, ack, ANSWER_WITHIN).await?;
            if received >= max_bytes || first.is_some_and(|t| now.duration_since(t) >= limit) {
                self.outbox.frame(Channel::Probe, probe(probe_flags::END, &[]))?;
                // Data already in flight still arrives; the client's END follows it.
                while self.probe_frame().await?.0 != probe_flags::END {}
                break;
            }
        }
        Ok(match first {
            Some(t0) if last > t0 => mbps(counted, last.duration_since(t0).as_secs_f64()),
            _ => 0.0,
        })
    }
}

fn probe(flags: u8, payload: &[u8]) -> Bytes {
    // Probe payloads are a few bytes: well within the message limit.
    Frame::encode(Channel::Probe, flags, payload).unwrap_or_default()
}
