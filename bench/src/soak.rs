//! Endurance: many sessions exchanging chat both ways and screen-sized frames for a bounded
//! time, with the broker's memory sampled throughout (it should stay flat after warm-up), every
//! error counted (there should be none), and at the end every session left cleanly and checked:
//! each chat line arrived, each ticket is back in its queue, each session is recorded as ended
//! and each transcript verifies.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use tether_client::WsStream;
use tether_protocol::{
    Channel, ClientMessage, Credential, DeskReply, DeskRequest, Frame, Role, Secret, ServerMessage,
    TicketFilter, TicketStatus, probe_flags, screen_flags,
};
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;

use crate::load;
use crate::pairs::Target;
use crate::procs::{Relay, cpu_secs, rss_kib};

/// What the soak is told.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SoakRun {
    /// How long the load runs.
    pub(crate) secs: u64,
    /// Sessions.
    pub(crate) sessions: usize,
    /// Seconds between samples.
    pub(crate) every: u64,
}

/// A screen update's size: a busy desktop's tile update.
const SCREEN_BYTES: usize = 32 * 1024;
/// Each agent sends a screen update this often...
const SCREEN_EVERY: Duration = Duration::from_secs(2);
/// ...and each side a chat line this often.
const CHAT_EVERY: Duration = Duration::from_secs(5);

/// Counts shared by every session.
#[derive(Debug, Default)]
struct Stats {
    chat_sent: AtomicU64,
    chat_received: AtomicU64,
    screen_sent: AtomicU64,
    screen_received: AtomicU64,
    errors: AtomicU64,
    first_error: std::sync::Mutex<Option<String>>,
}

impl Stats {
    fn error(&self, what: String) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        self.first_error.lock().unwrap_or_else(|p| p.into_inner()).get_or_insert(what);
    }
}

/// One side's loop: sends on its timers until told to stop, reads everything, answers the
/// broker's probes, and counts.
async fn side(
    mut ws: WsStream,
    agent: bool,
    n: usize,
    stats: Arc<Stats>,
    mut stop: watch::Receiver<bool>,
) -> WsStream {
    // Spread the sessions' timers so they do not all fire at once.
    let offset = Duration::from_millis((n as u64 * 7919) % 2000);
    let start = tokio::time::Instant::now() + offset;
    let mut screen = tokio::time::interval_at(start, SCREEN_EVERY);
    let mut chat = tokio::time::interval_at(start, CHAT_EVERY);
    let update = Frame::encode(Channel::Screen, screen_flags::UPDATE, &[0x3c; SCREEN_BYTES])
        .unwrap_or_default();
    let mut lines = 0u64;
    loop {
        let sent = tokio::select! {
            _ = stop.changed() => return ws,
            _ = screen.tick(), if agent => {
                stats.screen_sent.fetch_add(1, Ordering::Relaxed);
                ws.send(Message::Binary(update.clone())).await
            }
            _ = chat.tick() => {
                lines += 1;
                let text = format!("{} {n} line {lines}", if agent { "customer" } else { "technician" });
                stats.chat_sent.fetch_add(1, Ordering::Relaxed);
                ws.send(Message::Binary(chat_frame(&text))).await
            }
            msg = ws.next() => match msg {
                Some(Ok(Message::Binary(b))) => received(&b, &stats, &mut ws).await,
                Some(Ok(Message::Text(t))) => match ServerMessage::decode(&t) {
                    Ok(ServerMessage::Error { message, .. }) => {
                        stats.error(format!("session {n}: {message}"));
                        Ok(())
                    }
                    Ok(ServerMessage::SessionEnded { reason, .. }) => {
                        stats.error(format!("session {n} ended: {reason}"));
                        return ws;
                    }
                    _ => Ok(()),
                },
                Some(Ok(_)) => Ok(()),
                Some(Err(e)) => {
                    stats.error(format!("session {n}: {e}"));
                    return ws;
                }
                None => {
                    stats.error(format!("session {n}: closed"));
                    return ws;
                }
            },
        };
        if let Err(e) = sent {
            stats.error(format!("session {n}: send: {e}"));
            return ws;
        }
    }
}

fn chat_frame(text: &str) -> Bytes {
    Frame::encode(Channel::Chat, 0, text.as_bytes()).unwrap_or_default()
}

async fn received(
    b: &Bytes,
    stats: &Stats,
    ws: &mut WsStream,
) -> Result<(), tokio_tungstenite::tungstenite::Error> {
    match (b.first().copied(), b.get(1).copied()) {
        (Some(c), _) if c == Channel::Chat.as_u8() => {
            stats.chat_received.fetch_add(1, Ordering::Relaxed);
        }
        (Some(c), _) if c == Channel::Screen.as_u8() => {
            stats.screen_received.fetch_add(1, Ordering::Relaxed);
        }
        (Some(c), Some(f)) if c == Channel::Probe.as_u8() && f == probe_flags::PING => {
            return ws.send(Message::Binary(tether_client::check::pong(b))).await;
        }
        _ => {}
    }
    Ok(())
}

/// Reads until the session's end arrives (or a few seconds pass); true if it did.
async fn until_ended(ws: &mut WsStream) -> bool {
    let ended = async {
        while let Some(Ok(msg)) = ws.next().await {
            if let Message::Text(t) = msg
                && matches!(ServerMessage::decode(&t), Ok(ServerMessage::SessionEnded { .. }))
            {
                return true;
            }
        }
        false
    };
    tokio::time::timeout(Duration::from_secs(10), ended).await.unwrap_or(false)
}

/// Every ticket, closed ones too, as the bench technician sees them.
async fn tickets(
    relay: &Relay,
    target: &Target,
) -> anyhow::Result<Vec<tether_protocol::TicketSummary>> {
    let Target::Tether { addr, token } = target else { anyhow::bail!("tether only") };
    let tls = tether_certs::client_config(relay.ca())?;
    let credential = Credential::Token { token: Secret::new(token.clone()) };
    let (mut conn, _) = tether_client::connect(addr, tls, Role::Console, credential).await?;
    let filter = TicketFilter { include_closed: true, ..TicketFilter::default() };
    conn.send(&ClientMessage::Desk(DeskRequest::TicketList { filter })).await?;
    loop {
        if let ServerMessage::Desk(DeskReply::Tickets { tickets }) = conn.recv_control().await? {
            conn.close().await;
            return Ok(tickets);
        }
    }
}

/// Runs the soak and prints its samples and checks.
pub(crate) async fn run(run: SoakRun) -> anyhow::Result<()> {
    let mut relay = Relay::broker()?;
    let (target, tls) = crate::target(&relay, true).await?;
    eprintln!("soak: pairing {} sessions", run.sessions);
    let (pairs, failed, _) = load::set_up(&target, tls, 0, run.sessions, 100).await;
    anyhow::ensure!(failed == 0, "{failed} pairings failed");
    let stats = Arc::new(Stats::default());
    let (stop, stopped) = watch::channel(false);
    let tasks: Vec<_> = pairs
        .into_iter()
        .enumerate()
        .map(|(n, (agent, console))| {
            let a = tokio::spawn(side(agent, true, n, stats.clone(), stopped.clone()));
            let c = tokio::spawn(side(console, false, n, stats.clone(), stopped.clone()));
            (a, c)
        })
        .collect();

    println!(
        "\nsoak: {} sessions for {} s; each agent sends a {} KiB screen update every {} s, each \
         side a chat line every {} s\n",
        run.sessions,
        run.secs,
        SCREEN_BYTES / 1024,
        SCREEN_EVERY.as_secs(),
        CHAT_EVERY.as_secs()
    );
    println!(
        "| elapsed s | broker RSS MiB | broker CPU % | chat lines | screen updates | errors |"
    );
    println!("| ---: | ---: | ---: | ---: | ---: | ---: |");
    let start = Instant::now();
    let pid = relay.pid();
    let mut samples = Vec::new();
    let (mut cpu_then, mut at) = (cpu_secs(pid), Instant::now());
    while start.elapsed() < Duration::from_secs(run.secs) {
        tokio::time::sleep(Duration::from_secs(run.every)).await;
        let (cpu_now, now) = (cpu_secs(pid), Instant::now());
        let cpu = (cpu_now - cpu_then) * 100.0 / (now - at).as_secs_f64();
        (cpu_then, at) = (cpu_now, now);
        let rss = rss_kib(pid) as f64 / 1024.0;
        samples.push(rss);
        println!(
            "| {:.0} | {rss:.1} | {cpu:.0} | {} | {} | {} |",
            start.elapsed().as_secs_f64(),
            stats.chat_received.load(Ordering::Relaxed),
            stats.screen_received.load(Ordering::Relaxed),
            stats.errors.load(Ordering::Relaxed)
        );
    }
    stop.send_replace(true);
    let mut sides = Vec::with_capacity(tasks.len());
    for (a, c) in tasks {
        sides.push((a.await?, c.await?));
    }
    // Let the last lines arrive, then every technician leaves.
    let sent = stats.chat_sent.load(Ordering::Relaxed);
    let drained = tokio::time::timeout(Duration::from_secs(10), async {
        futures_util::future::join_all(sides.iter_mut().map(|(a, c)| async {
            tokio::join!(drain(a, &stats), drain(c, &stats));
        }))
        .await
    });
    let _ = drained.await;
    let leave = Message::text(ClientMessage::Leave { reason: Some("soak done".into()) }.encode());
    let ended = futures_util::future::join_all(sides.iter_mut().map(|(agent, console)| {
        let leave = leave.clone();
        async move {
            let _ = console.send(leave).await;
            until_ended(agent).await
        }
    }))
    .await;
    let ended_cleanly = ended.iter().filter(|e| **e).count();
    // The store records session ends off the hot path: give it a moment to catch up.
    let mut tickets = tickets(&relay, &target).await?;
    for _ in 0..20 {
        if tickets.iter().all(|t| t.status != TicketStatus::InSession) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        tickets = self::tickets(&relay, &target).await?;
    }
    let mut statuses = std::collections::BTreeMap::new();
    for t in &tickets {
        *statuses.entry(format!("{:?}", t.status).to_lowercase()).or_insert(0) += 1;
    }
    let in_session = tickets.iter().filter(|t| t.status == TicketStatus::InSession).count();
    drop(sides);
    let status = relay.stop()?;
    let verified = relay.admin(&["verify", "--all"])?;
    let intact =
        String::from_utf8_lossy(&verified.stdout).lines().filter(|l| l.contains("OK")).count();
    let listed = relay.admin(&["sessions", "--json"])?;
    let sessions: Vec<serde_json::Value> = serde_json::from_slice(&listed.stdout)?;
    let recorded_ended = sessions.iter().filter(|s| s["end_reason"].is_string()).count();

    let warm = samples.len() / 5;
    let (low, high) = samples[warm.min(samples.len().saturating_sub(1))..]
        .iter()
        .fold((f64::MAX, 0.0f64), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    let received = stats.chat_received.load(Ordering::Relaxed);
    println!();
    println!("| check | result |");
    println!("| --- | --- |");
    println!("| RSS after warm-up (first fifth), MiB | {low:.1} – {high:.1} |");
    println!("| errors during the run | {} |", stats.errors.load(Ordering::Relaxed));
    if let Some(e) = stats.first_error.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
        println!("| first error | {e} |");
    }
    println!("| chat lines arrived / sent | {received} / {sent} |");
    println!(
        "| screen updates arrived / sent (a newer one may replace an unsent one) | {} / {} |",
        stats.screen_received.load(Ordering::Relaxed),
        stats.screen_sent.load(Ordering::Relaxed)
    );
    println!("| sessions ended cleanly on leave | {ended_cleanly} / {} |", run.sessions);
    println!("| tickets still marked in session | {in_session} / {} |", tickets.len());
    println!("| ticket statuses | {statuses:?} |");
    println!("| broker exit on SIGTERM | {status} |");
    println!("| sessions recorded as ended | {recorded_ended} / {} |", sessions.len());
    println!("| transcripts verified OK | {intact} / {} |", sessions.len());
    Ok(())
}

/// Reads what is still in flight for a moment, counting it.
async fn drain(ws: &mut WsStream, stats: &Stats) {
    while let Ok(Some(Ok(msg))) = tokio::time::timeout(Duration::from_millis(500), ws.next()).await
    {
        if let Message::Binary(b) = msg
            && b.first() == Some(&Channel::Chat.as_u8())
        {
            stats.chat_received.fetch_add(1, Ordering::Relaxed);
        }
    }
}
