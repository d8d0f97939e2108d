//! The direct path over WebRTC (webrtc-rs, ring crypto): one peer connection bound to one
//! explicit local address, trickled ICE, and two data channels — `screen` (unordered, no
//! retransmits) and `input` (reliable, ordered) — created by the offering side. The path is
//! up once both channels are open, and down when the other side has been silent for
//! [`SILENCE`] (ICE `disconnected`), when the connection fails or closes, or when a channel
//! closes. A path that went down is not revived: the session's [`crate::Link`] makes a new one.

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tether_protocol::{Channel, Signal};
use tokio::sync::mpsc;
use webrtc::data_channel::{DataChannel, DataChannelEvent, RTCDataChannelInit};
use webrtc::peer_connection::{
    PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler, RTCConfigurationBuilder,
    RTCIceCandidateInit, RTCIceServer, RTCPeerConnectionIceEvent, RTCPeerConnectionState,
    RTCSdpType, RTCSessionDescription, SettingEngineBuilder,
};

use crate::{DirectError, DirectEvent, DirectPath, MAX_DIRECT_FRAME, Reach, Setup};

/// The SCTP receive window: below the kernel's default UDP receive buffer, so that a burst of
/// screen frames is not dropped by the socket before SCTP sees it.
const RECEIVE_WINDOW: u32 = 192 * 1024;
/// Bytes a data channel may have unacknowledged before input sends wait and screen frames
/// are left to the relay.
const SEND_LIMIT: usize = 1024 * 1024;
/// Sent on the input channel by a side that closes the path because its session is over:
/// one byte, so never a frame (a frame's header alone is two).
const BYE: &[u8] = &[0xff];
/// How long closing waits for the other side to have the goodbye.
const BYE_WAIT: Duration = Duration::from_millis(500);
/// How often each side checks that the other still consents to receive (RFC 7675: a STUN
/// binding request on the selected pair; the answer, and the other side's own checks, are what
/// keeps the path alive).
///
/// webrtc-rs 0.21 counts only STUN as a sign of life, never the data flowing on the path, and
/// by default checks every 2 s. With a silence limit of 2 s as well, every check found the last
/// answer a few milliseconds more than 2 s old and declared the path disconnected: the path
/// went down about 2 s after ICE connected, on every healthy link (issue 22). Checks must come
/// several times within the silence limit.
const KEEPALIVE: Duration = Duration::from_millis(500);
/// How long a path may be silent (no STUN from the other side) before it counts as down and
/// everything goes back on the relay: six missed checks, and room for a queue on a slow link.
pub const SILENCE: Duration = Duration::from_secs(3);
/// How long after that ICE calls the connection failed (an attempt that never connects fails
/// after both together; the session gives up on it sooner, by its own timeout).
const FAILED_AFTER: Duration = Duration::from_secs(3);
/// Connectivity checks per candidate pair while connecting, 200 ms apart: for as long as ICE
/// keeps connecting (`SILENCE + FAILED_AFTER`), so that an attempt begun while the network
/// between the two sides is down still comes up when it returns (webrtc-rs gives a pair up
/// after 7, 1.4 s, by default).
const CHECKS: u16 = 30;

fn error(e: impl std::fmt::Display) -> DirectError {
    DirectError(e.to_string())
}

/// The two data channels, once known.
#[derive(Default)]
struct Channels {
    screen: Option<Arc<dyn DataChannel>>,
    input: Option<Arc<dyn DataChannel>>,
}

/// What the connection's callbacks share with the path.
struct Shared {
    channels: Mutex<Channels>,
    /// Channels that have opened.
    open: AtomicU8,
    up: AtomicBool,
    down: AtomicBool,
    signals: mpsc::UnboundedSender<Signal>,
    events: mpsc::UnboundedSender<DirectEvent>,
}

impl Shared {
    fn went_down(&self, why: String) {
        self.up.store(false, Ordering::Release);
        if !self.down.swap(true, Ordering::AcqRel) {
            let _ = self.events.send(DirectEvent::Down(why));
        }
    }

    /// The other side said goodbye: whatever follows (its channels closing) is no failure.
    fn ended(&self) {
        self.up.store(false, Ordering::Release);
        if !self.down.swap(true, Ordering::AcqRel) {
            let _ = self.events.send(DirectEvent::Ended);
        }
    }

    /// Reads one channel's events until it closes: frames to the session, and the path up
    /// once both channels are open. Every channel must be read continuously: undelivered
    /// messages hold back the whole association's receive window.
    fn watch(self: &Arc<Self>, dc: Arc<dyn DataChannel>) {
        let shared = self.clone();
        tokio::spawn(async move {
            while let Some(event) = dc.poll().await {
                match event {
                    DataChannelEvent::OnOpen => {
                        let open = shared.open.fetch_add(1, Ordering::AcqRel) + 1;
                        if open == 2 && !shared.down.load(Ordering::Acquire) {
                            shared.up.store(true, Ordering::Release);
                            let _ = shared.events.send(DirectEvent::Up);
                        }
                    }
                    DataChannelEvent::OnMessage(m) if m.data[..] == *BYE => shared.ended(),
                    DataChannelEvent::OnMessage(m) => {
                        let _ = shared.events.send(DirectEvent::Frame(m.data.freeze()));
                    }
                    DataChannelEvent::OnClose => {
                        shared.went_down("a data channel closed".into());
                        break;
                    }
                    _ => {}
                }
            }
        });
    }
}

/// The peer connection's callbacks.
struct Handler {
    shared: Arc<Shared>,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Handler {
    async fn on_ice_candidate(&self, event: RTCPeerConnectionIceEvent) {
        match event.candidate.to_json().map(|c| serde_json::to_string(&c)) {
            Ok(Ok(candidate)) => {
                let _ = self.shared.signals.send(Signal::Candidate { candidate });
            }
            Ok(Err(e)) => tracing::debug!(err = %e, "candidate not serialisable"),
            Err(e) => tracing::debug!(err = %e, "candidate not serialisable"),
        }
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        tracing::debug!(%state, "direct path state");
        if matches!(
            state,
            RTCPeerConnectionState::Failed
                | RTCPeerConnectionState::Disconnected
                | RTCPeerConnectionState::Closed
        ) {
            self.shared.went_down(format!("the peer connection is {state}"));
        }
    }

    async fn on_data_channel(&self, dc: Arc<dyn DataChannel>) {
        // The answering side learns the offerer's channels here. Never block in a callback.
        let shared = self.shared.clone();
        tokio::spawn(async move {
            let label = dc.label().await.unwrap_or_default();
            {
                let mut channels = shared.channels.lock().unwrap_or_else(|p| p.into_inner());
                match label.as_str() {
                    "screen" => channels.screen = Some(dc.clone()),
                    "input" => channels.input = Some(dc.clone()),
                    other => return tracing::debug!(label = other, "unknown data channel"),
                }
            }
            shared.watch(dc);
        });
    }
}

/// The direct path over a WebRTC peer connection.
pub struct WebRtcPath {
    pc: Arc<dyn PeerConnection>,
    shared: Arc<Shared>,
    /// Candidates that came before the other side's description.
    early: tokio::sync::Mutex<(bool, Vec<RTCIceCandidateInit>)>,
    /// The other side's addresses this side may send checks to.
    reach: Reach,
}

impl std::fmt::Debug for WebRtcPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebRtcPath").field("up", &self.shared.up.load(Ordering::Relaxed)).finish()
    }
}

impl WebRtcPath {
    /// Creates the peer connection; the offering side also creates the channels and sends
    /// its offer.
    pub async fn open(
        setup: Setup,
        signals: mpsc::UnboundedSender<Signal>,
        events: mpsc::UnboundedSender<DirectEvent>,
    ) -> Result<Arc<WebRtcPath>, DirectError> {
        let shared = Arc::new(Shared {
            channels: Mutex::new(Channels::default()),
            open: AtomicU8::new(0),
            up: AtomicBool::new(false),
            down: AtomicBool::new(false),
            signals,
            events,
        });
        let ice_servers = setup
            .ice_servers
            .iter()
            .map(|s| RTCIceServer {
                urls: s.urls.clone(),
                username: s.username.clone(),
                credential: s.credential.as_ref().map(|c| c.expose().clone()).unwrap_or_default(),
            })
            .collect();
        let settings = SettingEngineBuilder::new()
            // No multicast DNS: candidates carry plain addresses, and no extra socket on 5353.
            .with_multicast_dns_mode(rtc::ice::mdns::MulticastDnsMode::Disabled)
            .with_sctp_max_receive_buffer_size(RECEIVE_WINDOW)
            // A path that stops answering is given up in seconds, not half a minute; one that
            // answers is never given up.
            .with_ice_timeouts(Some(SILENCE), Some(FAILED_AFTER), Some(KEEPALIVE))
            .with_ice_connection_attempts(None, Some(CHECKS))
            .build();
        let pc = PeerConnectionBuilder::new()
            .with_configuration(
                RTCConfigurationBuilder::new().with_ice_servers(ice_servers).build(),
            )
            .with_setting_engine(settings)
            .with_handler(Arc::new(Handler { shared: shared.clone() }))
            .with_udp_addrs(vec![format!("{}:0", setup.bind)])
            .with_data_channel_send_buffer_limit(SEND_LIMIT)
            .build()
            .await
            .map_err(error)?;
        let path = Arc::new(WebRtcPath {
            pc: Arc::new(pc),
            shared,
            early: tokio::sync::Mutex::new((false, Vec::new())),
            reach: setup.reach.clone(),
        });
        if setup.offerer {
            let unreliable = RTCDataChannelInit {
                ordered: false,
                max_retransmits: Some(0),
                ..Default::default()
            };
            let screen =
                path.pc.create_data_channel("screen", Some(unreliable)).await.map_err(error)?;
            let input = path.pc.create_data_channel("input", None).await.map_err(error)?;
            {
                let mut channels = path.shared.channels.lock().unwrap_or_else(|p| p.into_inner());
                channels.screen = Some(screen.clone());
                channels.input = Some(input.clone());
            }
            path.shared.watch(screen);
            path.shared.watch(input);
            let offer = path.pc.create_offer(None).await.map_err(error)?;
            path.pc.set_local_description(offer.clone()).await.map_err(error)?;
            let sdp = serde_json::to_string(&offer).map_err(error)?;
            let _ = path.shared.signals.send(Signal::Offer { sdp });
        }
        Ok(path)
    }

    async fn described(&self, json: &str, expect: RTCSdpType) -> Result<(), DirectError> {
        let mut desc: RTCSessionDescription = serde_json::from_str(json).map_err(error)?;
        if desc.sdp_type != expect {
            return Err(DirectError(format!("expected an {expect} description")));
        }
        desc.sdp = self.reach.filter_sdp(&desc.sdp);
        self.pc.set_remote_description(desc).await.map_err(error)?;
        let mut early = self.early.lock().await;
        early.0 = true;
        for candidate in std::mem::take(&mut early.1) {
            self.pc.add_ice_candidate(candidate).await.map_err(error)?;
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl DirectPath for WebRtcPath {
    async fn signal(&self, signal: Signal) -> Result<(), DirectError> {
        match signal {
            Signal::Offer { sdp } => {
                self.described(&sdp, RTCSdpType::Offer).await?;
                let answer = self.pc.create_answer(None).await.map_err(error)?;
                self.pc.set_local_description(answer.clone()).await.map_err(error)?;
                let sdp = serde_json::to_string(&answer).map_err(error)?;
                let _ = self.shared.signals.send(Signal::Answer { sdp });
            }
            Signal::Answer { sdp } => self.described(&sdp, RTCSdpType::Answer).await?,
            Signal::Candidate { candidate } => {
                let candidate: RTCIceCandidateInit =
                    serde_json::from_str(&candidate).map_err(error)?;
                if !self.reach.allows_candidate(&candidate.candidate) {
                    tracing::debug!(
                        candidate = candidate.candidate,
                        "dropped a candidate outside the allowed reach"
                    );
                    return Ok(());
                }
                let mut early = self.early.lock().await;
                if early.0 {
                    self.pc.add_ice_candidate(candidate).await.map_err(error)?;
                } else {
                    early.1.push(candidate);
                }
            }
            Signal::Path { .. } => {}
        }
        Ok(())
    }

    async fn send(&self, frame: Bytes) -> bool {
        if !self.shared.up.load(Ordering::Acquire) || frame.len() > MAX_DIRECT_FRAME {
            return false;
        }
        let channel = frame.first().copied();
        let (dc, screen) = {
            let channels = self.shared.channels.lock().unwrap_or_else(|p| p.into_inner());
            match channel {
                Some(c) if c == Channel::Screen.as_u8() => (channels.screen.clone(), true),
                Some(c) if c == Channel::Input.as_u8() => (channels.input.clone(), false),
                _ => (None, false),
            }
        };
        let Some(dc) = dc else { return false };
        let data = BytesMut::from(&frame[..]);
        if screen {
            // A full screen channel means a slow path: the frame goes on the relay instead.
            dc.try_send(data).await.is_ok()
        } else {
            dc.send(data).await.is_ok()
        }
    }

    async fn close(&self) {
        self.shared.went_down("closed".into());
        let _ = self.pc.close().await;
    }

    async fn finish(&self) {
        let input = self.shared.channels.lock().unwrap_or_else(|p| p.into_inner()).input.clone();
        if let (true, Some(dc)) = (self.shared.up.load(Ordering::Acquire), input)
            && dc.send(BytesMut::from(BYE)).await.is_ok()
        {
            // Until it is acknowledged: closing at once could overtake it.
            let _ = tokio::time::timeout(BYE_WAIT, async {
                while dc.outstanding_bytes().await.is_ok_and(|n| n > 0) {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            })
            .await;
        }
        self.close().await;
    }
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};

    use super::*;

    const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

    /// Opens both sides, forwarding each side's signals to the other unless `cut`.
    async fn pair(
        cut: bool,
    ) -> (
        Arc<WebRtcPath>,
        mpsc::UnboundedReceiver<DirectEvent>,
        Arc<WebRtcPath>,
        mpsc::UnboundedReceiver<DirectEvent>,
    ) {
        let (a_sig, mut a_sig_rx) = mpsc::unbounded_channel();
        let (b_sig, mut b_sig_rx) = mpsc::unbounded_channel();
        let (a_ev, a_events) = mpsc::unbounded_channel();
        let (b_ev, b_events) = mpsc::unbounded_channel();
        // Both ends on loopback: allowed by name.
        let reach = crate::Reach::new(&["127.0.0.0/8".into()]);
        let setup = |offerer| Setup {
            offerer,
            ice_servers: Vec::new(),
            bind: LOOPBACK,
            reach: reach.clone(),
        };
        let b = WebRtcPath::open(setup(false), b_sig, b_ev).await.unwrap();
        let a = WebRtcPath::open(setup(true), a_sig, a_ev).await.unwrap();
        let (to_b, to_a) = (b.clone(), a.clone());
        tokio::spawn(async move {
            while let Some(s) = a_sig_rx.recv().await {
                if !(cut && matches!(s, Signal::Candidate { .. })) {
                    to_b.signal(s).await.unwrap();
                }
            }
        });
        tokio::spawn(async move {
            while let Some(s) = b_sig_rx.recv().await {
                if !(cut && matches!(s, Signal::Candidate { .. })) {
                    to_a.signal(s).await.unwrap();
                }
            }
        });
        (a, a_events, b, b_events)
    }

    async fn until_up(events: &mut mpsc::UnboundedReceiver<DirectEvent>) {
        let up = async {
            while let Some(e) = events.recv().await {
                if e == DirectEvent::Up {
                    return;
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(20), up).await.expect("the path came up");
    }

    fn frame(channel: Channel, tag: u8, len: usize) -> Bytes {
        let mut payload = vec![tag; len];
        payload[0] = tag;
        tether_protocol::Frame::encode(channel, 0, &payload).unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn screen_and_input_frames_cross_a_loopback_path() {
        let (a, mut a_events, b, mut b_events) = pair(false).await;
        until_up(&mut a_events).await;
        until_up(&mut b_events).await;
        // Screen frames from the offerer (the agent) arrive as sent.
        let sent = frame(Channel::Screen, 7, 32 * 1024);
        assert!(a.send(sent.clone()).await);
        let got = tokio::time::timeout(Duration::from_secs(10), b_events.recv()).await.unwrap();
        assert_eq!(got, Some(DirectEvent::Frame(sent)));
        // Input from the answerer (the console), in order.
        for i in 0..20u8 {
            assert!(b.send(frame(Channel::Input, i, 16)).await);
        }
        for i in 0..20u8 {
            let got = tokio::time::timeout(Duration::from_secs(10), a_events.recv()).await.unwrap();
            assert_eq!(got, Some(DirectEvent::Frame(frame(Channel::Input, i, 16))));
        }
        // What the path does not carry goes on the relay.
        assert!(!a.send(frame(Channel::Chat, 1, 8)).await, "chat stays on the broker");
        assert!(!a.send(frame(Channel::Screen, 1, MAX_DIRECT_FRAME)).await, "too large");
        a.close().await;
        b.close().await;
    }

    /// No event but frames for `wait`: the path neither went down nor closed.
    async fn holds(events: &mut mpsc::UnboundedReceiver<DirectEvent>, wait: Duration) {
        let until = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(until, events.recv()).await {
                Err(_) => return,
                Ok(Some(DirectEvent::Frame(_))) => {}
                Ok(other) => panic!("the path changed: {other:?}"),
            }
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_idle_path_stays_up_through_several_consent_checks() {
        let (a, mut a_events, b, mut b_events) = pair(false).await;
        until_up(&mut a_events).await;
        until_up(&mut b_events).await;
        // Nothing is sent for three times the silence limit: the consent checks alone keep
        // the path up (before issue 22's fix it went down 2 s after connecting).
        let wait = SILENCE * 3;
        tokio::join!(holds(&mut a_events, wait), holds(&mut b_events, wait));
        a.close().await;
        b.close().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_side_that_finishes_says_so_and_the_other_does_not_see_a_failure() {
        let (a, mut a_events, b, mut b_events) = pair(false).await;
        until_up(&mut a_events).await;
        until_up(&mut b_events).await;
        a.finish().await;
        let heard = tokio::time::timeout(Duration::from_secs(10), b_events.recv()).await.unwrap();
        assert_eq!(heard, Some(DirectEvent::Ended));
        assert!(!b.send(frame(Channel::Screen, 1, 8)).await, "frames go on the relay");
        b.close().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn without_candidates_the_path_never_comes_up() {
        let (a, mut a_events, b, _b_events) = pair(true).await;
        let up = tokio::time::timeout(Duration::from_secs(3), async {
            while let Some(e) = a_events.recv().await {
                if e == DirectEvent::Up {
                    return true;
                }
            }
            false
        })
        .await;
        assert!(!matches!(up, Ok(true)), "no path without candidates");
        assert!(!a.send(frame(Channel::Screen, 1, 8)).await, "frames go on the relay");
        a.close().await;
        b.close().await;
    }
}
