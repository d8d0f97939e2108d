//! The session's side of the direct path: it sets the path up when the broker invites (unless
//! turned off), passes signals both ways, gives up on an attempt that is not up in time, keeps
//! the [`Route`] that screen and input frames take pointing at the path while it is up, and
//! once a path has been up, sets up a fresh one with growing pauses after it goes down, so the
//! path comes back when the network does. Agent and console drive it the same way from their
//! session loops through [`Link::next`]; it decides nothing about consent or the session.
//!
//! Each attempt is a new peer connection. The offering side (the agent) numbers its attempts
//! and stamps the number on every offer, answer and candidate (an `attempt` field beside the
//! description's own, which the broker passes on unread), so a late signal of an attempt given
//! up never reaches the next one. The answering side (the console) follows the offers: a
//! newer one replaces whatever path it had. Signals without a number (from an older peer) go
//! to the current attempt.

use std::collections::VecDeque;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use tether_protocol::{IceServer, Signal};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use crate::{DirectError, DirectEvent, DirectPath, Reach, Setup};

/// The pause before the first new attempt after a path went down.
pub const FIRST_RETRY: Duration = Duration::from_secs(1);
/// The longest pause between attempts: a link that comes back has the path again within about
/// this plus the time to set one up.
pub const MAX_RETRY: Duration = Duration::from_secs(8);
/// A path that held this long was healthy: when it goes down, the pauses start short again.
const STABLE: Duration = Duration::from_secs(30);

/// Where screen and input frames go: the direct path while it is up, else the relay.
#[derive(Debug, Clone, Default)]
pub struct Route(Arc<Mutex<Option<Arc<dyn DirectPath>>>>);

impl Route {
    fn set(&self, path: Option<Arc<dyn DirectPath>>) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = path;
    }

    /// Sends `frame` on the direct path if it is up and takes it; false means: send it on the
    /// relay.
    pub async fn send(&self, frame: &Bytes) -> bool {
        let path = self.0.lock().unwrap_or_else(|p| p.into_inner()).clone();
        match path {
            Some(path) => path.send(frame.clone()).await,
            None => false,
        }
    }

    /// Whether frames go direct now.
    pub fn is_direct(&self) -> bool {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).is_some()
    }
}

/// What the session must act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum News {
    /// Send this signal to the other side through the broker.
    Signal(Signal),
    /// Screen and input now go direct, for this reason (report it: `Signal::Path`).
    Up(String),
    /// They go through the broker again, for this reason (report it too).
    Down(String),
    /// A frame from the other side that came on the direct path.
    Frame(Bytes),
}

/// What the broker's invitation said.
#[derive(Debug, Clone)]
struct Invitation {
    ice_servers: Vec<IceServer>,
    reach: Reach,
    /// How long an attempt may take to come up.
    timeout: Duration,
}

/// A path being set up in the background, so that [`Link::next`] never awaits it.
type Opening = oneshot::Receiver<Result<Arc<dyn DirectPath>, DirectError>>;

/// A future that makes a direct path.
type Opened = Pin<Box<dyn Future<Output = Result<Arc<dyn DirectPath>, DirectError>> + Send>>;

/// What makes a path: the setup, where its signals go, where its events go.
type OpenFn = dyn Fn(Setup, Sends<Signal>, Sends<DirectEvent>) -> Opened + Send + Sync;
type Sends<T> = mpsc::UnboundedSender<T>;

/// Makes direct paths: [`crate::open`], or a test's double.
#[derive(Clone)]
struct Opener(Arc<OpenFn>);

impl std::fmt::Debug for Opener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Opener")
    }
}

/// One attempt: a peer connection from its set-up to its end.
#[derive(Debug)]
struct Attempt {
    number: u32,
    /// None while it is still being made (`opening`).
    path: Option<Arc<dyn DirectPath>>,
    opening: Option<Opening>,
    signals: mpsc::UnboundedReceiver<Signal>,
    events: mpsc::UnboundedReceiver<DirectEvent>,
    /// Since when it carries the screen and input.
    up_since: Option<Instant>,
}

impl Attempt {
    /// Ends the attempt without waiting for it: closing a peer connection that never connected
    /// can take long (or not end, with webrtc-rs 0.21 on the controlling side).
    fn close(self) {
        if let Some(path) = self.path {
            tokio::spawn(async move { path.close().await });
        }
        // An opening still under way is closed when it finishes (its receiver is gone).
    }
}

/// What one step of [`Link::next`] came to.
enum Step {
    News(News),
    /// Nothing for the session yet; look again.
    Again,
}

/// One session's direct path, from invitation to close.
#[derive(Debug)]
pub struct Link {
    open: Opener,
    offerer: bool,
    enabled: bool,
    bind: IpAddr,
    route: Route,
    invitation: Option<Invitation>,
    current: Option<Attempt>,
    /// The highest attempt number used (offerer) or seen (answerer).
    attempts: u32,
    /// When to give up on the attempt under way (or, answering, on waiting for an offer).
    deadline: Option<Instant>,
    /// When the offerer starts its next attempt, and the pause after that one.
    retry_at: Option<Instant>,
    backoff: Duration,
    /// A path has been up since the invitation: when it goes, it is tried again.
    was_up: bool,
    /// The session has been told about this invitation's path at least once.
    reported: bool,
    /// News decided while taking a signal, handed out by the next [`Link::next`].
    queued: VecDeque<News>,
}

impl Link {
    /// A link for the side that offers (the agent) or answers, bound to `bind`; when not
    /// `enabled`, invitations are declined and everything stays on the relay.
    pub fn new(offerer: bool, enabled: bool, bind: IpAddr) -> Link {
        let open = Opener(Arc::new(|setup, signals, events| {
            Box::pin(crate::open(setup, signals, events))
        }));
        Link::with_opener(open, offerer, enabled, bind)
    }

    fn with_opener(open: Opener, offerer: bool, enabled: bool, bind: IpAddr) -> Link {
        Link {
            open,
            offerer,
            enabled,
            bind,
            route: Route::default(),
            invitation: None,
            current: None,
            attempts: 0,
            deadline: None,
            retry_at: None,
            backoff: FIRST_RETRY,
            was_up: false,
            reported: false,
            queued: VecDeque::new(),
        }
    }

    /// The route screen and input frames take.
    pub fn route(&self) -> Route {
        self.route.clone()
    }

    /// Whether screen and input go direct now.
    pub fn is_direct(&self) -> bool {
        self.route.is_direct()
    }

    /// The broker invites a direct path: the offering side starts an attempt, the answering
    /// side waits for its offer. Returns why none is tried, if none is.
    pub fn invited(
        &mut self,
        ice_servers: Vec<IceServer>,
        timeout_secs: u64,
        peer_networks: &[String],
    ) -> Option<String> {
        if !self.enabled {
            return Some("the direct path is turned off here (--no-p2p)".into());
        }
        self.close();
        let timeout = Duration::from_secs(timeout_secs);
        let reach = Reach::new(peer_networks);
        self.invitation = Some(Invitation { ice_servers, reach, timeout });
        self.deadline = Some(Instant::now() + timeout);
        if self.offerer {
            self.start();
        }
        None
    }

    /// A signal from the other side.
    pub async fn signal(&mut self, signal: Signal) {
        if matches!(signal, Signal::Path { .. }) {
            return;
        }
        let number = attempt_of(&signal);
        if let (false, Signal::Offer { .. }) = (self.offerer, &signal) {
            if !self.answer(number).await {
                return;
            }
        } else if let (Some(n), Some(current)) = (number, &self.current)
            && n != current.number
        {
            tracing::debug!(attempt = n, current = current.number, "stale signal dropped");
            return;
        }
        let Some(path) = self.current.as_ref().and_then(|a| a.path.clone()) else {
            tracing::debug!(kind = signal.kind(), "signal without a path dropped");
            return;
        };
        if let Err(e) = path.signal(signal).await {
            tracing::debug!(err = %e, "signal not taken");
        }
    }

    /// The next thing to act on; pending while there is nothing (and forever without an
    /// invitation). Cancel-safe: nothing is lost when another branch of a `select!` wins.
    pub async fn next(&mut self) -> News {
        loop {
            if let Some(news) = self.queued.pop_front() {
                return news;
            }
            if let Step::News(news) = self.step().await {
                return news;
            }
        }
    }

    /// The session is over: tells the other side (so that it does not take the path's end
    /// for a failure), closes the path and stops trying. Waits a moment at most.
    pub async fn finish(&mut self) {
        self.route.set(None);
        if let Some(path) = self.current.as_mut().and_then(|a| a.path.take())
            && tokio::time::timeout(Duration::from_secs(1), path.finish()).await.is_err()
        {
            tokio::spawn(async move { path.close().await });
        }
        self.close();
    }

    /// Closes the path and stops trying; frames go through the broker until the next
    /// invitation.
    pub fn close(&mut self) {
        self.drop_attempt();
        self.invitation = None;
        self.deadline = None;
        self.retry_at = None;
        self.backoff = FIRST_RETRY;
        self.was_up = false;
        self.reported = false;
    }

    /// Waits for one thing to happen and applies it. Every await is on a receiver or a timer,
    /// and the state changes only after one completes.
    async fn step(&mut self) -> Step {
        let (deadline, retry_at) = (self.deadline, self.retry_at);
        let attempt = self.current.as_mut();
        let (opening, signals, events) = match attempt {
            // While the path is being made its signals wait, so that the answer to its offer
            // never arrives before the path is here to take it.
            Some(a) => match a.opening.as_mut() {
                Some(opening) => (Some(opening), None, None),
                None => (None, Some(&mut a.signals), Some(&mut a.events)),
            },
            None => (None, None, None),
        };
        tokio::select! {
            biased;
            opened = maybe(opening) => {
                let Some(attempt) = self.current.as_mut() else { return Step::Again };
                attempt.opening = None;
                match opened {
                    Ok(Ok(path)) => {
                        attempt.path = Some(path);
                        Step::Again
                    }
                    Ok(Err(e)) => self.failed(e.to_string()),
                    Err(_) => self.failed("the path could not be set up".into()),
                }
            }
            event = recv(events) => match event {
                Some(DirectEvent::Up) => self.up(),
                Some(DirectEvent::Down(why)) => self.failed(why),
                Some(DirectEvent::Ended) => self.ended(),
                Some(DirectEvent::Frame(frame)) => Step::News(News::Frame(frame)),
                None => self.failed("the path stopped".into()),
            },
            Some(signal) = recv(signals) => {
                let number = self.current.as_ref().map_or(0, |a| a.number);
                Step::News(News::Signal(stamp(signal, number)))
            }
            _ = sleep_until(deadline) => {
                let secs = self.invitation.as_ref().map_or(0, |i| i.timeout.as_secs());
                self.failed(format!("not up within {secs} s"))
            }
            _ = sleep_until(retry_at) => {
                self.retry_at = None;
                self.start();
                Step::Again
            }
        }
    }

    /// Starts a new offering attempt in the background.
    fn start(&mut self) {
        let Some((ice_servers, reach)) =
            self.invitation.as_ref().map(|i| (i.ice_servers.clone(), i.reach.clone()))
        else {
            return;
        };
        self.drop_attempt();
        self.attempts += 1;
        let (signals, signals_rx) = mpsc::unbounded_channel();
        let (events, events_rx) = mpsc::unbounded_channel();
        let setup = Setup { offerer: true, ice_servers, bind: self.bind, reach };
        let (done, opening) = oneshot::channel();
        let open = (self.open.0)(setup, signals, events);
        tokio::spawn(async move {
            let opened = open.await;
            if let Err(Ok(path)) = done.send(opened) {
                // Given up on before it was ready.
                path.close().await;
            }
        });
        tracing::debug!(attempt = self.attempts, "direct path attempt");
        self.current = Some(Attempt {
            number: self.attempts,
            path: None,
            opening: Some(opening),
            signals: signals_rx,
            events: events_rx,
            up_since: None,
        });
        self.deadline = self.invitation.as_ref().map(|i| Instant::now() + i.timeout);
    }

    /// The answering side takes offer `number` (None: an older peer's): true when a path is
    /// there to take it.
    async fn answer(&mut self, number: Option<u32>) -> bool {
        let Some(invitation) = self.invitation.clone() else {
            tracing::debug!("an offer without an invitation dropped");
            return false;
        };
        let number = match number {
            Some(n) if n <= self.attempts => {
                tracing::debug!(attempt = n, seen = self.attempts, "stale offer dropped");
                return false;
            }
            Some(n) => n,
            None => self.attempts + 1,
        };
        self.attempts = number;
        if self.route.is_direct() {
            // The other side saw the path fail first and set up a new one.
            let why = "the direct path went down: the customer's side set it up again";
            self.queued.push_back(News::Down(why.into()));
            self.reported = true;
        }
        self.drop_attempt();
        let (signals, signals_rx) = mpsc::unbounded_channel();
        let (events, events_rx) = mpsc::unbounded_channel();
        let setup = Setup {
            offerer: false,
            ice_servers: invitation.ice_servers,
            bind: self.bind,
            reach: invitation.reach,
        };
        self.deadline = Some(Instant::now() + invitation.timeout);
        match (self.open.0)(setup, signals, events).await {
            Ok(path) => {
                self.current = Some(Attempt {
                    number,
                    path: Some(path),
                    opening: None,
                    signals: signals_rx,
                    events: events_rx,
                    up_since: None,
                });
                true
            }
            Err(e) => {
                if let Step::News(news) = self.failed(e.to_string()) {
                    self.queued.push_back(news);
                }
                false
            }
        }
    }

    /// Both channels of the current attempt are open.
    fn up(&mut self) -> Step {
        let Some(attempt) = self.current.as_mut() else { return Step::Again };
        attempt.up_since = Some(Instant::now());
        self.deadline = None;
        self.route.set(attempt.path.clone());
        self.reported = true;
        let again = std::mem::replace(&mut self.was_up, true);
        let why = if again { "the direct path is up again" } else { "the direct path is up" };
        Step::News(News::Up(why.into()))
    }

    /// The current attempt failed or went down for `why`: it is closed, the session told if
    /// that changes its path (or it has heard nothing yet), and a new attempt planned if a path
    /// has been up before.
    fn failed(&mut self, why: String) -> Step {
        let number = self.current.as_ref().map_or(0, |a| a.number);
        let held = self.current.as_ref().and_then(|a| a.up_since).map(|at| at.elapsed());
        let was_direct = self.route.is_direct();
        self.drop_attempt();
        self.deadline = None;
        if self.offerer && self.was_up {
            if held.is_some_and(|held| held >= STABLE) {
                self.backoff = FIRST_RETRY;
            }
            self.retry_at = Some(Instant::now() + self.backoff);
            tracing::debug!(attempt = number, %why, retry_in = ?self.backoff, "direct path failed");
            self.backoff = (self.backoff * 2).min(MAX_RETRY);
        } else {
            tracing::debug!(attempt = number, %why, "direct path failed");
        }
        if was_direct {
            self.reported = true;
            Step::News(News::Down(format!("the direct path went down: {why}")))
        } else if !self.reported {
            self.reported = true;
            Step::News(News::Down(format!("no direct path: {why}")))
        } else {
            Step::Again
        }
    }

    /// The other side closed the path because its session is over: back to the relay, with
    /// nothing to report and nothing to try again (the session ends too).
    fn ended(&mut self) -> Step {
        tracing::debug!("the other side ended the direct path");
        self.drop_attempt();
        self.deadline = None;
        self.retry_at = None;
        self.was_up = false;
        Step::Again
    }

    fn drop_attempt(&mut self) {
        self.route.set(None);
        if let Some(attempt) = self.current.take() {
            attempt.close();
        }
    }
}

/// The attempt number a signal carries, if any.
fn attempt_of(signal: &Signal) -> Option<u32> {
    #[derive(serde::Deserialize)]
    struct Numbered {
        attempt: Option<u32>,
    }
    let json = match signal {
        Signal::Offer { sdp } | Signal::Answer { sdp } => sdp,
        Signal::Candidate { candidate } => candidate,
        Signal::Path { .. } => return None,
    };
    serde_json::from_str::<Numbered>(json).ok().and_then(|n| n.attempt)
}

/// `signal` with attempt number `number` added to its JSON object.
fn stamp(signal: Signal, number: u32) -> Signal {
    let add = |json: String| match serde_json::from_str::<serde_json::Value>(&json) {
        Ok(serde_json::Value::Object(mut map)) => {
            map.insert("attempt".into(), number.into());
            serde_json::Value::Object(map).to_string()
        }
        _ => json,
    };
    match signal {
        Signal::Offer { sdp } => Signal::Offer { sdp: add(sdp) },
        Signal::Answer { sdp } => Signal::Answer { sdp: add(sdp) },
        Signal::Candidate { candidate } => Signal::Candidate { candidate: add(candidate) },
        path @ Signal::Path { .. } => path,
    }
}

async fn recv<T>(rx: Option<&mut mpsc::UnboundedReceiver<T>>) -> Option<T> {
    match rx {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

async fn maybe<T>(rx: Option<&mut oneshot::Receiver<T>>) -> Result<T, oneshot::error::RecvError> {
    match rx {
        Some(rx) => rx.await,
        None => std::future::pending().await,
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests;
