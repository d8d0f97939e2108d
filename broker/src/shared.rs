//! [`Shared`]: what every connection task shares through one `Arc` — the configuration, the
//! services the relay composes (access, desk, transcript recorder), the pairing state, and the
//! shutdown token and task tracker. Mutexes here are std mutexes held only for plain
//! in-memory work, never across an `.await`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use tether_access::Access;
use tether_desk::{Desk, Live};
use tether_protocol::{TicketId, UserRole};
use tether_store::UserRecord;
use tether_transcript::Recorder;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::admission::Admissions;
use crate::config::Config;
use crate::outbox::QueueLimits;
use crate::rendezvous::Rendezvous;

/// Everything connection tasks share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) config: Config,
    /// Sign-in, customer codes and the authorization policy.
    pub(crate) access: Arc<Access>,
    /// The HTTP side, for connections that are not websockets.
    pub(crate) web: tether_web::Web,
    /// The support desk.
    pub(crate) desk: Arc<Desk>,
    /// Where session transcripts are written.
    pub(crate) recorder: Recorder,
    /// Who waits for whom, and the live sessions.
    pub(crate) rendezvous: Arc<Mutex<Rendezvous>>,
    /// Connection slots per address, and the staff reserve.
    pub(crate) admissions: Arc<Admissions>,
    /// Signed-in staff connections, so that a disabled account or a changed role cuts them.
    staff: Mutex<HashMap<u64, StaffConn>>,
    /// Bandwidth checks run by anonymous connections, counted per address.
    pub(crate) checks: Mutex<tether_access::limiter::FailureLimiter>,
    /// One probe data frame of random bytes, sent again and again by bandwidth checks.
    pub(crate) probe_data: bytes::Bytes,
    pub(crate) shutdown: CancellationToken,
    pub(crate) tracker: TaskTracker,
    next_conn: AtomicU64,
}

pub(crate) use crate::sync::lock;

impl Shared {
    pub(crate) fn new(
        config: Config,
        access: Arc<Access>,
        desk: Arc<Desk>,
        recorder: Recorder,
        rendezvous: Arc<Mutex<Rendezvous>>,
        shutdown: CancellationToken,
        connections: usize,
    ) -> Shared {
        let l = &config.limits;
        let admissions =
            Admissions::new(connections, l.staff_reserve, l.max_connections_per_source);
        let b = &config.bandwidth;
        // Each check counts; more than the budget in the window waits out the window.
        let checks = tether_access::limiter::FailureLimiter::new(
            b.max_checks_per_source.saturating_sub(1),
            b.check_window_secs,
            b.check_window_secs,
        );
        Shared {
            admissions: Arc::new(admissions),
            config,
            web: tether_web::Web::new(desk.clone(), access.clone(), shutdown.clone()),
            access,
            desk,
            recorder,
            rendezvous,
            staff: Mutex::new(HashMap::new()),
            checks: Mutex::new(checks),
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

    /// Registers connection `conn` as signed in as `user`; the connection watches the
    /// returned [`Revocation`] and ends when the account is disabled or its role changes.
    pub(crate) fn register_staff(&self, conn: u64, user: &UserRecord) -> Revocation {
        let revocation = Revocation::default();
        let entry =
            StaffConn { name: user.name.clone(), role: user.role, revocation: revocation.clone() };
        lock(&self.staff).insert(conn, entry);
        revocation
    }

    /// Forgets connection `conn` (it ended).
    pub(crate) fn deregister_staff(&self, conn: u64) {
        lock(&self.staff).remove(&conn);
    }

    /// Cuts the connections of accounts that are gone, disabled, or have another role than
    /// they signed in with; returns how many.
    pub(crate) fn cut_changed_accounts(&self, users: &[UserRecord]) -> usize {
        let by_name: HashMap<&str, &UserRecord> =
            users.iter().map(|u| (u.name.as_str(), u)).collect();
        let staff = lock(&self.staff);
        let mut cut = 0;
        for conn in staff.values() {
            let reason = match by_name.get(conn.name.as_str()) {
                None => "the account was removed",
                Some(u) if u.disabled => "the account was disabled",
                Some(u) if u.role != conn.role => "the account's role changed; sign in again",
                Some(_) => continue,
            };
            if conn.revocation.revoke(reason) {
                tracing::info!(user = %conn.name, reason, "cutting a connection of a changed account");
                cut += 1;
            }
        }
        cut
    }

    /// Queue limits for a new connection's outbox.
    pub(crate) fn queue_limits(&self) -> QueueLimits {
        QueueLimits {
            max_bytes: self.config.limits.max_queued_bytes,
            max_messages: self.config.limits.max_queued_messages,
        }
    }
}

/// A signed-in staff connection.
#[derive(Debug)]
struct StaffConn {
    name: String,
    role: UserRole,
    revocation: Revocation,
}

/// The end of a staff connection's right to stay: cancelled, with the reason, when its
/// account is disabled or its role changes.
#[derive(Debug, Clone, Default)]
pub(crate) struct Revocation {
    token: CancellationToken,
    reason: Arc<OnceLock<&'static str>>,
}

impl Revocation {
    /// Revokes with `reason`; false if it was revoked already.
    fn revoke(&self, reason: &'static str) -> bool {
        let first = self.reason.set(reason).is_ok();
        self.token.cancel();
        first
    }

    /// Resolves once revoked (a future made once, for a connection's life).
    pub(crate) fn revoked(&self) -> tokio_util::sync::WaitForCancellationFutureOwned {
        self.token.clone().cancelled_owned()
    }

    /// Why it was revoked.
    pub(crate) fn reason(&self) -> &'static str {
        self.reason.get().copied().unwrap_or("the account changed")
    }
}

/// What the desk sees of the relay: the pairing state, read under its lock.
#[derive(Debug)]
pub(crate) struct LiveSessions(pub(crate) Arc<Mutex<Rendezvous>>);

impl Live for LiveSessions {
    fn customer_waiting(&self, ticket: TicketId) -> bool {
        lock(&self.0).customer_waiting(ticket)
    }

    fn sessions_of(&self, technician: &str) -> usize {
        lock(&self.0).sessions_of(technician)
    }

    fn ticket_assigned(&self, ticket: TicketId, owner: &str) {
        lock(&self.0).reassigned(ticket, owner);
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
