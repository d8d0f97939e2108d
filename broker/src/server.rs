//! The listener: accepts TCP connections (a permit first, so at most `max_connections` are
//! served, and never more than the open-file limit leaves room for), hands each to its own
//! tracked task, and on shutdown stops accepting, lets sessions finish within the grace period
//! and flushes the store.

use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

use crate::codes::CodeKey;
use crate::config::Config;
use crate::datadir::{DataDir, DataDirError};
use crate::desk::events::Bus;
use crate::desk::ops::Desk;
use crate::state::{Broker, Transcripts};
use crate::store::{SqliteStore, StoreError, StoreHandle};
use crate::transcript::SigningKey;

/// Why the broker could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// The data directory could not be prepared.
    #[error(transparent)]
    DataDir(#[from] DataDirError),
    /// Certificates or TLS settings are unusable.
    #[error(transparent)]
    Certs(#[from] tether_certs::CertError),
    /// The database could not be opened.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A file could not be read.
    #[error("{0}")]
    Io(String),
    /// The configuration is unusable.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
}

/// Serves `listener` until `shutdown` is cancelled, then winds down gracefully.
///
/// The data directory is initialised first if it is empty, so a fresh machine needs only
/// this call.
pub async fn run(
    listener: TcpListener,
    data_dir: &DataDir,
    config: Config,
    shutdown: CancellationToken,
) -> Result<(), RunError> {
    config.validate()?;
    if !data_dir.is_initialised() {
        let report = data_dir.init(&[])?;
        for path in &report.created {
            tracing::info!(path = %path.display(), "created");
        }
    }
    let acceptor = TlsAcceptor::from(tls_config(data_dir, &config)?);
    let store = StoreHandle::new(SqliteStore::open(&data_dir.database())?);
    let code_key = CodeKey::load(&data_dir.code_key())
        .map_err(|e| RunError::Io(format!("{}: {e}", data_dir.code_key().display())))?;
    let transcripts = transcripts(data_dir, &config)?;
    recover_interrupted_sessions(&store).await?;
    let grace = Duration::from_secs(config.limits.shutdown_grace_secs);
    let permits = Arc::new(Semaphore::new(connection_cap(config.limits.max_connections)));
    let tracker = tokio_util::task::TaskTracker::new();
    let hooks = (!config.webhooks.is_empty()).then(|| {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        tracker.spawn(crate::desk::webhooks::deliver(config.webhooks.clone(), rx, tracker.clone()));
        tx
    });
    let desk = Desk { calendar: config.desk.calendar()?, bus: Bus::new(hooks) };
    let attachments = data_dir.root().join("attachments");
    let broker = Arc::new(Broker::new(
        config,
        store.clone(),
        code_key,
        transcripts,
        desk,
        attachments,
        shutdown.clone(),
    ));
    broker.tracker.spawn(broker.clone().monitor_deadlines());
    tracing::info!(addr = %listener.local_addr().map(|a| a.to_string()).unwrap_or_default(), "broker serving");

    loop {
        let permit = tokio::select! {
            _ = shutdown.cancelled() => break,
            permit = permits.clone().acquire_owned() => match permit {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        let (tcp, peer) = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(err) => {
                    // EMFILE and friends: back off rather than spin; the listener stays open.
                    tracing::warn!(%err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let broker_for_conn = broker.clone();
        let acceptor = acceptor.clone();
        broker.tracker.spawn(async move {
            crate::conn::serve(broker_for_conn, acceptor, tcp, peer).await;
            drop(permit);
        });
    }

    drop(listener);
    tracing::info!(grace_secs = grace.as_secs(), "shutting down: no new connections");
    broker.tracker.close();
    // Sessions get the grace period; the extra seconds let writers send their close frames.
    if tokio::time::timeout(grace + Duration::from_secs(3), broker.tracker.wait()).await.is_err() {
        tracing::warn!(
            tasks = broker.tracker.len(),
            "connections still open after the grace period"
        );
    }
    // The broker (and with it the webhook queue) goes; deliveries under way get a moment.
    drop(broker);
    tracker.close();
    let _ = tokio::time::timeout(Duration::from_secs(2), tracker.wait()).await;
    store.flush().await;
    tracing::info!("broker stopped");
    Ok(())
}

fn transcripts(data_dir: &DataDir, config: &Config) -> Result<Transcripts, RunError> {
    let dir = config.transcripts.dir.clone().unwrap_or_else(|| data_dir.transcripts());
    if config.transcripts.enabled {
        std::fs::create_dir_all(&dir)
            .map_err(|e| RunError::Io(format!("{}: {e}", dir.display())))?;
    }
    let key = SigningKey::load(&data_dir.signing_key()).map_err(|e| RunError::Io(e.to_string()))?;
    Ok(Transcripts {
        dir,
        key: Arc::new(key),
        enabled: config.transcripts.enabled,
        required: config.transcripts.required,
    })
}

/// Sessions a previous run left open (it was killed) are marked ended; their transcripts stay
/// unsealed, which `verify` reports as such.
async fn recover_interrupted_sessions(store: &StoreHandle) -> Result<(), RunError> {
    let reason = "the broker stopped before the session ended";
    let now = crate::state::unix_now();
    let open = store.call(move |s| s.close_unfinished(now, reason)).await?;
    for row in open {
        tracing::warn!(session.id = %row.start.id, ticket.id = %row.start.ticket, "session was interrupted by a broker stop");
        let event = crate::bookkeeping::ticket_event(
            row.start.ticket,
            "broker",
            "session_interrupted",
            &row.start.id,
        );
        store.record(move |s| {
            // The ticket was left in session; give it back to its technician.
            s.set_ticket_state(
                row.start.ticket,
                tether_protocol::TicketStatus::Assigned,
                Some(&row.start.technician),
                now,
            )?;
            s.add_ticket_event(&event)
        });
    }
    Ok(())
}

/// Descriptors kept for what is not a connection: the database and its journal, transcripts
/// being written (at most [`crate::transcript::FILES_AT_ONCE`]), logs, attachments, webhooks.
const FD_RESERVE: usize = 128;

/// How many connections may be open at once: `configured`, but no more than the open-file
/// limit leaves room for beside [`FD_RESERVE`]. The soft limit is raised to the hard one
/// first, since each connection holds a descriptor; without that a broker would run out of
/// them long before `max_connections` on a system whose soft default is 1024.
fn connection_cap(configured: usize) -> usize {
    let soft = match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(soft) => usize::try_from(soft).unwrap_or(usize::MAX),
        Err(err) => {
            tracing::warn!(%err, "cannot read the open-file limit; trusting max_connections");
            return configured;
        }
    };
    let cap = soft.saturating_sub(FD_RESERVE).max(1);
    if cap < configured {
        tracing::warn!(
            max_connections = configured,
            open_file_limit = soft,
            serving = cap,
            "max_connections lowered to fit the open-file limit"
        );
    }
    configured.min(cap)
}

fn tls_config(data_dir: &DataDir, config: &Config) -> Result<Arc<rustls::ServerConfig>, RunError> {
    let (cert, key) = match (&config.tls.cert, &config.tls.key) {
        (Some(cert), Some(key)) => (cert.clone(), key.clone()),
        _ => {
            let certs = data_dir.certs();
            (certs.server_cert, certs.server_key)
        }
    };
    let chain = tether_certs::load_certs(&cert)?;
    let key = tether_certs::load_key(&key)?;
    Ok(tether_certs::server_config(chain, key, config.min_tls_version()?)?)
}
