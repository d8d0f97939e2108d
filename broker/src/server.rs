//! The listener: accepts TCP connections (a permit first, so at most `max_connections` are
//! served), hands each to its own tracked task, and on shutdown stops accepting, lets
//! sessions finish within the grace period and flushes the store.

use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

use crate::codes::CodeKey;
use crate::config::Config;
use crate::datadir::{DataDir, DataDirError};
use crate::state::Broker;
use crate::store::{SqliteStore, StoreError, StoreHandle};

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
    let grace = Duration::from_secs(config.limits.shutdown_grace_secs);
    let permits = Arc::new(Semaphore::new(config.limits.max_connections));
    let broker = Arc::new(Broker::new(config, store.clone(), code_key, shutdown.clone()));
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
    store.flush().await;
    tracing::info!("broker stopped");
    Ok(())
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
