//! The broker's shared state: configuration, store, pairing, failure limits and the shutdown
//! token, reached by every connection task through one `Arc<Broker>`. Mutexes here are std
//! mutexes held only for plain in-memory work, never across an `.await`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use tether_protocol::{ErrorCode, TicketStatus};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::codes::CodeKey;
use crate::config::Config;
use crate::limiter::FailureLimiter;
use crate::outbox::QueueLimits;
use crate::rendezvous::Rendezvous;
use crate::session::Session;
use crate::store::StoreHandle;

/// Password hashes computed at once; argon2id takes ~19 MiB and a core's worth of time each.
const CONCURRENT_HASHES: usize = 4;

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

    /// Records a session's start in the store and marks its ticket in session. Called while
    /// the session is made, before either side can end it, so the start is queued first.
    pub(crate) fn session_started(&self, session: &Session) {
        let record = crate::store::SessionRecord {
            id: session.id.clone(),
            ticket: session.ticket,
            technician: session.technician.clone(),
            customer: session.customer.clone(),
            started_at: unix_now(),
        };
        tracing::info!(
            session.id = %session.id, ticket.id = %session.ticket,
            technician = %session.technician, "session paired"
        );
        self.store.record(move |s| {
            s.start_session(&record)?;
            s.set_ticket_state(
                record.ticket,
                TicketStatus::InSession,
                Some(&record.technician),
                record.started_at,
            )
        });
    }

    /// Ends `session` (once) with `reason`, frees its ticket and records the end.
    pub(crate) fn end_session(
        &self,
        session: &Arc<Session>,
        reason: impl Into<String>,
        code: Option<ErrorCode>,
    ) {
        let reason = reason.into();
        if !session.end(reason.clone(), code) {
            return;
        }
        lock(&self.rendezvous).finish(session.ticket, &session.id);
        let c = &session.counters;
        use tether_protocol::Channel;
        tracing::info!(
            session.id = %session.id, ticket.id = %session.ticket, %reason,
            code = code.map(|c| c.name()),
            chat = c.frames(Channel::Chat), screen = c.frames(Channel::Screen),
            input = c.frames(Channel::Input),
            refused = c.refused.load(Ordering::Relaxed),
            screen_replaced = session.outbox(tether_protocol::Role::Console).screen_replaced(),
            "session ended"
        );
        let (id, ticket, tech) = (session.id.clone(), session.ticket, session.technician.clone());
        let now = unix_now();
        self.store.record(move |s| {
            s.end_session(&id, now, &reason)?;
            s.set_ticket_state(ticket, TicketStatus::Assigned, Some(&tech), now)
        });
    }
}
