//! The HTTP client webhooks are POSTed with: reqwest, its TLS configuration (rustls on ring,
//! from `tether-certs`) built once per receiver at start-up, trusting the system's roots plus
//! the receiver's operator CA bundle (`ca_file`), going through `HTTPS_PROXY`/`HTTP_PROXY`
//! unless `NO_PROXY` names the receiver (reqwest reads them from the environment), and sending
//! a `Host` header with the port and IPv6 brackets as the URL has them.

use std::path::Path;
use std::time::Duration;

/// How long one delivery attempt may take, connecting included.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a client could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The CA bundle is unusable.
    #[error("webhook ca_file: {0}")]
    CaFile(#[from] tether_certs::CertError),
    /// The HTTP client could not be set up.
    #[error("webhook client: {0}")]
    Setup(String),
}

/// A client for one receiver, trusting the system's roots and the CAs in `ca_file`.
pub(crate) fn client(ca_file: Option<&Path>) -> Result<reqwest::Client, ClientError> {
    let tls = tether_certs::web_client_config(ca_file)?;
    reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .timeout(ATTEMPT_TIMEOUT)
        .connect_timeout(ATTEMPT_TIMEOUT)
        // A receiver answers the POST itself; a redirect is not followed with the payload.
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("tether-broker/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| ClientError::Setup(e.to_string()))
}
