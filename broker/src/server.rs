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

use std::sync::Mutex;

use std::path::PathBuf;

use tether_access::{Access, CodeKey};
use tether_certs::{CertInfo, ServedCert};
use tether_desk::{Bus, Desk, Parts, Webhooks};
use tether_store::{SqliteStore, StoreError, StoreHandle};
use tether_transcript::{Library, Recorder, SigningKey};

use crate::config::Config;
use crate::datadir::{DataDir, DataDirError};
use crate::rendezvous::Rendezvous;
use crate::shared::{LiveSessions, Shared};

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
    /// A service could not be set up.
    #[error("{0}")]
    Service(String),
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
    let (tls, served) = tls_config(data_dir, &config)?;
    let acceptor = TlsAcceptor::from(tls);
    let cert_path = config.tls.cert.clone().unwrap_or_else(|| data_dir.certs().server_cert);
    let store = StoreHandle::new(SqliteStore::open(&data_dir.database())?);
    let code_key = CodeKey::load(&data_dir.code_key())
        .map_err(|e| RunError::Io(format!("{}: {e}", data_dir.code_key().display())))?;
    let (recorder, library) = transcripts(data_dir, &config)?;
    let grace = Duration::from_secs(config.limits.shutdown_grace_secs);
    let connections = connection_cap(config.limits.max_connections);
    let permits = Arc::new(Semaphore::new(connections));
    // Webhook deliveries outlive the connections by a moment at shutdown, so they have their
    // own tracker.
    let deliveries = tokio_util::task::TaskTracker::new();
    let webhooks = if config.webhooks.is_empty() {
        None
    } else {
        let hooks = Webhooks::start(&config.webhooks, &deliveries)
            .map_err(|e| RunError::Service(e.to_string()))?;
        Some(hooks)
    };
    let rendezvous = Arc::new(Mutex::new(Rendezvous::default()));
    let access =
        Arc::new(Access::new(store.clone(), code_key, config.auth.clone(), config.codes.clone()));
    let desk = Arc::new(
        Desk::new(Parts {
            store: store.clone(),
            policy: *access.policy(),
            settings: config.desk.clone(),
            bus: Bus::new(store.clone(), webhooks),
            live: Arc::new(LiveSessions(rendezvous.clone())),
            library,
            attachments: data_dir.root().join("attachments"),
        })
        .map_err(|e| RunError::Service(e.to_string()))?,
    );
    desk.recover_interrupted().await.map_err(|e| RunError::Service(e.to_string()))?;
    let shared = Arc::new(Shared::new(
        config,
        access,
        desk.clone(),
        recorder,
        rendezvous,
        shutdown.clone(),
        connections,
    ));
    shared.tracker.spawn({
        let shutdown = shutdown.clone();
        async move { desk.monitor_deadlines(shutdown).await }
    });
    shared.tracker.spawn(watch_accounts(shared.clone(), store.clone(), shutdown.clone()));
    shared.tracker.spawn(watch_certificate(served, cert_path, shutdown.clone()));
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
        let Some(slot) = shared.admissions.admit(peer.ip()) else {
            tracing::debug!(peer.addr = %peer, "too many connections from this address; closed");
            continue;
        };
        let for_conn = shared.clone();
        let acceptor = acceptor.clone();
        shared.tracker.spawn(async move {
            crate::conn::serve(for_conn, acceptor, tcp, peer, slot).await;
            drop(permit);
        });
    }

    drop(listener);
    tracing::info!(grace_secs = grace.as_secs(), "shutting down: no new connections");
    shared.tracker.close();
    // Sessions get the grace period; the extra seconds let writers send their close frames.
    if tokio::time::timeout(grace + Duration::from_secs(3), shared.tracker.wait()).await.is_err() {
        tracing::warn!(
            tasks = shared.tracker.len(),
            "connections still open after the grace period"
        );
    }
    // The services (and with them the webhook queue) go; deliveries under way get a moment.
    drop(shared);
    deliveries.close();
    let _ = tokio::time::timeout(Duration::from_secs(2), deliveries.wait()).await;
    store.flush().await;
    tracing::info!("broker stopped");
    Ok(())
}

/// How often the store is asked whether an account changed (disabled, role): the longest a
/// connection of a disabled account stays open.
const ACCOUNT_CHECK: Duration = Duration::from_secs(1);

/// Follows account changes, made by this broker or by `tether-broker user` beside it, and
/// cuts the connections of accounts that were disabled or given another role.
async fn watch_accounts(shared: Arc<Shared>, store: StoreHandle, shutdown: CancellationToken) {
    let mut seen = store.account_changes().await.unwrap_or(0);
    let mut tick = tokio::time::interval(ACCOUNT_CHECK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        let now = match store.account_changes().await {
            Ok(now) => now,
            Err(err) => {
                tracing::error!(%err, "cannot read account changes");
                continue;
            }
        };
        if now == seen {
            continue;
        }
        match store.users().await {
            Ok(users) => {
                shared.cut_changed_accounts(&users);
                seen = now;
            }
            Err(err) => tracing::error!(%err, "cannot read accounts"),
        }
    }
}

/// The transcript recorder (writing, sealing) and library (reading, verifying).
fn transcripts(data_dir: &DataDir, config: &Config) -> Result<(Recorder, Library), RunError> {
    let dir = config.transcripts.dir.clone().unwrap_or_else(|| data_dir.transcripts());
    if config.transcripts.enabled && !dir.exists() {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .map_err(|e| RunError::Io(format!("{}: {e}", dir.display())))?;
    }
    for (path, mode) in crate::datadir::loosened(&crate::datadir::private_paths(data_dir, &dir)) {
        tracing::warn!(
            path = %path.display(), mode = format!("{mode:o}"),
            "readable or writable by others than the broker's user: it may hold secrets (chmod go-rwx)"
        );
    }
    let key = SigningKey::load(&data_dir.signing_key()).map_err(|e| RunError::Io(e.to_string()))?;
    let library = Library::new(&dir, key.verifying_key());
    let t = &config.transcripts;
    Ok((Recorder::new(dir, key, t.enabled, t.required), library))
}

/// Descriptors kept for what is not a connection: the database and its journal, transcripts
/// being written (at most [`tether_transcript::FILES_AT_ONCE`]), logs, attachments, webhooks.
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

/// How often the served certificate's files are looked at for a replacement.
const CERT_CHECK: Duration = Duration::from_secs(5);
/// Days before expiry from which start-up and reloads warn.
const EXPIRY_WARNING_DAYS: i64 = 30;

/// The TLS configuration over the served certificate (the operator's `tls.cert`/`tls.key`,
/// or the broker's own), said at start-up, and the certificate to watch for replacement.
fn tls_config(
    data_dir: &DataDir,
    config: &Config,
) -> Result<(Arc<rustls::ServerConfig>, Arc<ServedCert>), RunError> {
    let (cert, key, own) = match (&config.tls.cert, &config.tls.key) {
        (Some(cert), Some(key)) => (cert.clone(), key.clone(), false),
        _ => {
            let certs = data_dir.certs();
            (certs.server_cert, certs.server_key, true)
        }
    };
    let (served, info) = ServedCert::load(&cert, &key)?;
    say_certificate(&info, "serving", &cert);
    if own {
        tracing::info!(
            ca = %data_dir.certs().ca_cert.display(),
            "this certificate is from the broker's own CA, which browsers do not trust: give \
             browsers an operator certificate (tls.cert, tls.key) or install the CA on them"
        );
    }
    let served = Arc::new(served);
    let mut tls = tether_certs::served_config(served.clone(), config.min_tls_version()?)?;
    // One port serves the websockets (HTTP/1.1 upgrades) and the web (HTTP/2 or HTTP/1.1);
    // agents and consoles offer no protocol and get HTTP/1.1.
    tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok((Arc::new(tls), served))
}

/// Logs which certificate is served and when it expires (a warning when that is soon).
fn say_certificate(info: &CertInfo, what: &str, path: &std::path::Path) {
    let expires = tether_protocol::rfc3339(info.not_after);
    let days_left = (info.not_after - tether_store::unix_now()) / 86_400;
    let names = info.names.join(", ");
    if days_left < EXPIRY_WARNING_DAYS {
        tracing::warn!(path = %path.display(), subject = %info.subject, %names, %expires, days_left, "{what} a certificate that expires soon");
    } else {
        tracing::info!(path = %path.display(), subject = %info.subject, issuer = %info.issuer, %names, %expires, days_left, "{what} certificate");
    }
}

/// Takes a replaced certificate and key from disk while the broker runs; a pair that does not
/// load is refused and the current one kept.
async fn watch_certificate(served: Arc<ServedCert>, path: PathBuf, shutdown: CancellationToken) {
    let mut tick = tokio::time::interval(CERT_CHECK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        match served.reload_if_changed() {
            Ok(Some(info)) => say_certificate(&info, "reloaded; now serving", &path),
            Ok(None) => {}
            Err(err) => {
                tracing::error!(%err, "the replaced certificate was refused; still serving the previous one");
            }
        }
    }
}
