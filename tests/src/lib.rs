//! Harness for tether's end-to-end tests: builds and starts the real binaries on loopback
//! over real TLS, drives them the way a person or script would (arguments, standard input,
//! JSON events on standard output), and waits for conditions, never for fixed times.
//!
//! - [`bins`]: locating (and building once) the three binaries.
//! - [`broker`]: a broker in a temporary data directory.
//! - [`browser`]: a headless Chromium at the web desk, over WebDriver, keeping screenshots.
//! - [`bystander`]: a session kept chatting while a test attacks the broker.
//! - [`hooks`]: webhook receivers (HTTP and HTTPS from an operator's CA) and a CONNECT proxy.
//! - [`proc`]: a running agent or batch console with its event stream.
//! - [`raw`]: a hand-driven TLS websocket for hostile input.
//! - [`relay`]: a TCP relay to the broker that a test can cut.
//! - [`require`]: root and the programs the tests need, checked with one line if missing.
//! - [`web`]: an HTTPS client (HTTP/1.1 or HTTP/2) of the broker's web side.
//! - [`xvfb`]: a virtual X display to capture, inject into and screenshot.

pub mod bins;
pub mod broker;
pub mod browser;
pub mod bystander;
pub mod hooks;
pub mod netns;
pub mod proc;
pub mod raw;
pub mod relay;
pub mod require;
pub mod web;
pub mod xvfb;

use std::time::{Duration, Instant};

/// How long any single condition may take before a test fails. Generous: CI machines are slow,
/// and a passing test never waits this long.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// Polls `cond` until it holds or [`PATIENCE`] runs out; panics with `what` on timeout.
pub fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}
