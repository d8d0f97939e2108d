//! The broker's shared state: configuration, store, pairing, failure limits and the shutdown
//! token, reached by every connection task through one `Arc<Broker>`. Mutexes here are std
//! mutexes held only for plain in-memory work, never across an `.await`.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::codes::CodeKey;
use crate::config::Config;
use crate::desk::ops::Desk;
use crate::limiter::FailureLimiter;
use crate::outbox::QueueLimits;
use crate::rendezvous::Rendezvous;
use crate::store::StoreHandle;
use crate::transcript::SigningKey;

/// Password hashes computed at once; argon2id takes ~19 MiB and a core's worth of time each.
const CONCURRENT_HASHES: usize = 4;

/// Where and how session transcripts are written.
#[derive(Debug)]
pub(crate) struct Transcripts {
    /// The directory.
    pub(crate) dir: PathBuf,
    /// The sealing key.
    pub(crate) key: Arc<SigningKey>,
    /// Whether sessions are recorded at all.
    pub(crate) enabled: bool,
    /// Whether a session whose transcript fails must end.
    pub(crate) required: bool,
}

/// Everything connection tasks share.
#[derive(Debug)]
pub(crate) struct Broker {
    pub(crate) config: Config,
    pub(crate) store: StoreHandle,
    pub(crate) code_key: CodeKey,
    pub(crate) rendezvous: Mutex<Rendezvous>,
    pub(crate) code_guesses: Mutex<FailureLimiter>,
    pub(crate) login_failures: Mutex<FailureLimiter>,
    pub(crate) hashing: Semaphore,
    pub(crate) transcripts: Transcripts,
    /// The support desk: calendar and event bus.
    pub(crate) desk: Desk,
    /// Where onsite attachments are kept.
    pub(crate) attachments: PathBuf,
    /// One probe data frame of random bytes, sent again and again by bandwidth checks.
    pub(crate) probe_data: bytes::Bytes,
    pub(crate) shutdown: CancellationToken,
    pub(crate) tracker: TaskTracker,
    next_conn: AtomicU64,
}

/// Locks a std mutex, carrying on through poisoning: every value behind these mutexes is
/// plain data that a panicking holder cannot leave half-updated in a way that matters more
/// than serving everyone else.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Now, as Unix seconds.
pub(crate) fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

impl Broker {
    pub(crate) fn new(
        config: Config,
        store: StoreHandle,
        code_key: CodeKey,
        transcripts: Transcripts,
        desk: Desk,
        attachments: PathBuf,
        shutdown: CancellationToken,
    ) -> Broker {
        let c = &config.codes;
        let code_guesses =
            FailureLimiter::new(c.max_failures_per_source, c.failure_window_secs, c.block_secs);
        let a = &config.auth;
        let login_failures =
            FailureLimiter::new(a.max_failures_per_source, a.failure_window_secs, a.block_secs);
        Broker {
            config,
            store,
            code_key,
            rendezvous: Mutex::new(Rendezvous::default()),
            code_guesses: Mutex::new(code_guesses),
            login_failures: Mutex::new(login_failures),
            hashing: Semaphore::new(CONCURRENT_HASHES),
            transcripts,
            desk,
            attachments,
            probe_data: probe_data(),
            shutdown,
            tracker: TaskTracker::new(),
            next_conn: AtomicU64::new(1),
        }
    }

    /// A fresh connection id for logs.
    pub(crate) fn next_conn_id(&self) -> u64 {
        self.next_conn.fetch_add(1, Ordering::Relaxed)
    }

    /// Queue limits for a new connection's outbox.
    pub(crate) fn queue_limits(&self) -> QueueLimits {
        QueueLimits {
            max_bytes: self.config.limits.max_queued_bytes,
            max_messages: self.config.limits.max_queued_messages,
        }
    }
}

/// A probe data frame of random (incompressible) bytes.
fn probe_data() -> bytes::Bytes {
    let mut payload = vec![0u8; tether_protocol::PROBE_CHUNK];
    // The RNG never fails on Linux; zeros would still measure an uncompressed link.
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut payload);
    tether_protocol::Frame::encode(
        tether_protocol::Channel::Probe,
        tether_protocol::probe_flags::DATA,
        &payload,
    )
    .unwrap_or_default()
}
