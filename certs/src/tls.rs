//! rustls client and server configurations, always on the ring provider: the broker's server,
//! clients that trust the broker's CA, and clients of the wider web (webhook receivers) that
//! trust the system's roots plus an operator's CA bundle.

use std::path::Path;
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::{ClientConfig, RootCertStore, ServerConfig, SupportedProtocolVersion};
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::{CertError, load_certs};

/// The oldest TLS version a broker accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TlsVersion {
    /// TLS 1.2 and 1.3.
    Tls12,
    /// TLS 1.3 only (the default).
    #[default]
    Tls13,
}

impl TlsVersion {
    fn versions(self) -> &'static [&'static SupportedProtocolVersion] {
        static TLS12_UP: [&SupportedProtocolVersion; 2] =
            [&rustls::version::TLS13, &rustls::version::TLS12];
        static TLS13_ONLY: [&SupportedProtocolVersion; 1] = [&rustls::version::TLS13];
        match self {
            TlsVersion::Tls12 => &TLS12_UP,
            TlsVersion::Tls13 => &TLS13_ONLY,
        }
    }
}

/// Makes ring the process-wide rustls provider. Call first thing in every binary and test;
/// calling it again is harmless.
pub fn install_provider() {
    // Err only means a provider is already installed, which is the state we want.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A server configuration for `chain` (leaf first) and `key`, accepting `min_version` and up.
pub fn server_config(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    min_version: TlsVersion,
) -> Result<Arc<ServerConfig>, CertError> {
    let config = ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(min_version.versions())?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    Ok(Arc::new(config))
}

/// A server configuration answering with whatever `served` serves now (so a replaced
/// certificate takes effect without a restart), accepting `min_version` and up.
pub fn served_config(
    served: Arc<crate::ServedCert>,
    min_version: TlsVersion,
) -> Result<ServerConfig, CertError> {
    Ok(ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(min_version.versions())?
        .with_no_client_auth()
        .with_cert_resolver(served))
}

/// A client configuration trusting only the CA certificates in `ca_file`.
pub fn client_config(ca_file: &Path) -> Result<Arc<ClientConfig>, CertError> {
    let mut roots = RootCertStore::empty();
    for cert in load_certs(ca_file)? {
        roots.add(cert)?;
    }
    let config = ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(TlsVersion::Tls12.versions())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// A client configuration for the wider web: the system's trusted roots, plus the CA
/// certificates in `extra_ca` (an operator's own CA). Protocol versions are rustls' safe
/// defaults (1.2 and 1.3).
pub fn web_client_config(extra_ca: Option<&Path>) -> Result<ClientConfig, CertError> {
    let mut roots = system_roots();
    if let Some(path) = extra_ca {
        for cert in load_certs(path)? {
            roots.add(cert)?;
        }
    }
    Ok(ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// The system's trusted roots (on Debian, `/etc/ssl/certs`); what cannot be read is logged.
fn system_roots() -> RootCertStore {
    let mut roots = RootCertStore::empty();
    let found = rustls_native_certs::load_native_certs();
    for err in &found.errors {
        tracing::warn!(%err, "a system CA certificate could not be read");
    }
    let (added, ignored) = roots.add_parsable_certificates(found.certs);
    if ignored > 0 {
        tracing::warn!(ignored, "system CA certificates rustls cannot use were skipped");
    }
    if added == 0 {
        tracing::warn!("no system CA certificates were found");
    }
    roots
}
