//! tether-certs: the certificate authority, certificates and rustls configuration.
//!
//! No other crate touches TLS setup. Everything uses rustls with the ring provider only:
//! [`install_provider`] makes it the process default, and the configs built here name it
//! explicitly so that no other provider can creep in.
//!
//! Modules: `authority` (the broker's own CA and server certificate), `pem` (loading PEM
//! files), `served` ([`ServedCert`], the served pair, reloaded when replaced, and
//! [`CertInfo`]), `tls` (the client and server configurations).
#![forbid(unsafe_code)]

mod authority;
mod error;
mod pem;
mod served;
mod tls;

pub use authority::{DataDirCerts, generate};
pub use error::CertError;
pub use pem::{load_certs, load_key};
pub use served::{CertInfo, ServedCert};
pub use tls::{
    TlsVersion, client_config, install_provider, served_config, server_config, web_client_config,
};
