//! The session's side of the direct path: it opens the path when the broker invites (unless
//! turned off), passes signals both ways, gives up when the path is not up in time, and
//! keeps the [`Route`] that screen and input frames take pointing at the path while it is up.
//! Agent and console drive it the same way from their session loops through [`Link::next`].

use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use tether_protocol::{IceServer, Signal};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::{DirectEvent, DirectPath, Setup};

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
    /// Screen and input now go direct (report it: `Signal::Path`).
    Up,
    /// They go through the broker again, for this reason (report it too).
    Down(String),
    /// A frame from the other side that came on the direct path.
    Frame(Bytes),
}

/// One session's direct path, from invitation to close.
#[derive(Debug)]
pub struct Link {
    offerer: bool,
    enabled: bool,
    bind: IpAddr,
    route: Route,
    path: Option<Arc<dyn DirectPath>>,
    signals: Option<mpsc::UnboundedReceiver<Signal>>,
    events: Option<mpsc::UnboundedReceiver<DirectEvent>>,
    /// When to give up waiting for the path to come up.
    deadline: Option<(Instant, u64)>,
}

impl Link {
    /// A link for the side that offers (the agent) or answers, bound to `bind`; when not
    /// `enabled`, invitations are declined and everything stays on the relay.
    pub fn new(offerer: bool, enabled: bool, bind: IpAddr) -> Link {
        Link {
            offerer,
            enabled,
            bind,
            route: Route::default(),
            path: None,
            signals: None,
            events: None,
            deadline: None,
        }
    }

    /// The route screen and input frames take.
    pub fn route(&self) -> Route {
        self.route.clone()
    }

    /// The broker invites a direct path. Returns why none is tried, if none is.
    pub async fn invited(
        &mut self,
        ice_servers: Vec<IceServer>,
        timeout_secs: u64,
    ) -> Option<String> {
        if !self.enabled {
            return Some("the direct path is turned off here (--no-p2p)".into());
        }
        self.close();
        let (signals, signals_rx) = mpsc::unbounded_channel();
        let (events, events_rx) = mpsc::unbounded_channel();
        let setup = Setup { offerer: self.offerer, ice_servers, bind: self.bind };
        match crate::open(setup, signals, events).await {
            Ok(path) => {
                self.path = Some(path);
                self.signals = Some(signals_rx);
                self.events = Some(events_rx);
                let wait = Duration::from_secs(timeout_secs);
                self.deadline = Some((Instant::now() + wait, timeout_secs));
                None
            }
            Err(e) => Some(e.to_string()),
        }
    }

    /// A signal from the other side.
    pub async fn signal(&mut self, signal: Signal) {
        if let Some(path) = &self.path
            && let Err(e) = path.signal(signal).await
        {
            tracing::debug!(err = %e, "signal not taken");
        }
    }

    /// The next thing to act on; pending while there is nothing (and forever without a path).
    pub async fn next(&mut self) -> News {
        let deadline = self.deadline.map(|(at, _)| at);
        tokio::select! {
            Some(signal) = recv(&mut self.signals) => News::Signal(signal),
            Some(event) = recv(&mut self.events) => match event {
                DirectEvent::Up => {
                    self.deadline = None;
                    self.route.set(self.path.clone());
                    News::Up
                }
                DirectEvent::Down(why) => {
                    let was_up = self.route.is_direct();
                    self.close();
                    if was_up {
                        News::Down(format!("the direct path went down: {why}"))
                    } else {
                        News::Down(format!("no direct path: {why}"))
                    }
                }
                DirectEvent::Frame(frame) => News::Frame(frame),
            },
            _ = sleep_until(deadline) => {
                let secs = self.deadline.map(|(_, s)| s).unwrap_or_default();
                self.close();
                News::Down(format!("no direct path within {secs} s"))
            }
        }
    }

    /// Closes the path; frames go through the broker.
    pub fn close(&mut self) {
        self.route.set(None);
        self.deadline = None;
        self.signals = None;
        self.events = None;
        if let Some(path) = self.path.take() {
            // Closing a peer connection that never connected can take long (or not end, with
            // webrtc-rs 0.21 on the controlling side); the session never waits for it.
            tokio::spawn(async move { path.close().await });
        }
    }
}

async fn recv<T>(rx: &mut Option<mpsc::UnboundedReceiver<T>>) -> Option<T> {
    match rx {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
