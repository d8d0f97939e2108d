//! The certificate the broker serves, reloadable: [`ServedCert`] answers every TLS handshake
//! with the current certificate and key, and [`ServedCert::reload_if_changed`] takes a
//! replaced pair from disk (an operator's renewed certificate, say) without a restart. A
//! replacement that does not load, or whose key does not match, is refused and the current
//! pair kept. [`CertInfo`] says what a certificate is and when it expires.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::CertificateDer;

use crate::{CertError, load_certs, load_key};

/// What a certificate says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    /// The subject, as a distinguished name.
    pub subject: String,
    /// The issuer, as a distinguished name.
    pub issuer: String,
    /// The host names and addresses it is valid for.
    pub names: Vec<String>,
    /// When it expires, Unix seconds.
    pub not_after: i64,
}

impl CertInfo {
    /// Reads a DER certificate.
    pub fn of(cert: &CertificateDer<'_>) -> Result<CertInfo, String> {
        use x509_parser::extensions::GeneralName;
        let (_, parsed) = x509_parser::parse_x509_certificate(cert.as_ref())
            .map_err(|e| format!("not a certificate: {e}"))?;
        let names = match parsed.subject_alternative_name() {
            Ok(Some(san)) => san
                .value
                .general_names
                .iter()
                .filter_map(|n| match n {
                    GeneralName::DNSName(name) => Some((*name).to_string()),
                    GeneralName::IPAddress(ip) => ip_text(ip),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        Ok(CertInfo {
            subject: parsed.subject().to_string(),
            issuer: parsed.issuer().to_string(),
            names,
            not_after: parsed.validity().not_after.timestamp(),
        })
    }
}

fn ip_text(bytes: &[u8]) -> Option<String> {
    match bytes.len() {
        4 => <[u8; 4]>::try_from(bytes).ok().map(|b| std::net::Ipv4Addr::from(b).to_string()),
        16 => <[u8; 16]>::try_from(bytes).ok().map(|b| std::net::Ipv6Addr::from(b).to_string()),
        _ => None,
    }
}

/// The files' identity when they were last loaded: changed when either differs.
type Stamp = [Option<(SystemTime, u64)>; 2];

/// The certificate and key served, and where they are reloaded from.
#[derive(Debug)]
pub struct ServedCert {
    cert_path: PathBuf,
    key_path: PathBuf,
    current: RwLock<Arc<CertifiedKey>>,
    stamp: RwLock<Stamp>,
}

impl ServedCert {
    /// Loads the pair at `cert_path` (leaf first) and `key_path`.
    pub fn load(cert_path: &Path, key_path: &Path) -> Result<(ServedCert, CertInfo), CertError> {
        let stamp = stamp(cert_path, key_path);
        let (key, info) = certified(cert_path, key_path)?;
        let served = ServedCert {
            cert_path: cert_path.into(),
            key_path: key_path.into(),
            current: RwLock::new(Arc::new(key)),
            stamp: RwLock::new(stamp),
        };
        Ok((served, info))
    }

    /// Loads the pair again if either file changed since it was last loaded: `Ok(Some)` with
    /// the new certificate's description when it was replaced, `Ok(None)` when nothing
    /// changed, and an error (the current pair kept) when the new files do not make a pair.
    /// A failed replacement is not retried until the files change again.
    pub fn reload_if_changed(&self) -> Result<Option<CertInfo>, CertError> {
        let now = stamp(&self.cert_path, &self.key_path);
        {
            let mut seen = self.stamp.write().unwrap_or_else(|p| p.into_inner());
            if *seen == now {
                return Ok(None);
            }
            *seen = now;
        }
        let (key, info) = certified(&self.cert_path, &self.key_path)?;
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(key);
        Ok(Some(info))
    }

    /// The certificate chain served now.
    pub fn chain(&self) -> Vec<CertificateDer<'static>> {
        self.current.read().unwrap_or_else(|p| p.into_inner()).cert.clone()
    }
}

impl ResolvesServerCert for ServedCert {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current.read().unwrap_or_else(|p| p.into_inner()).clone())
    }
}

fn stamp(cert: &Path, key: &Path) -> Stamp {
    let of = |p: &Path| std::fs::metadata(p).ok().and_then(|m| Some((m.modified().ok()?, m.len())));
    [of(cert), of(key)]
}

/// The pair at the two paths, checked to belong together, and the leaf's description.
fn certified(cert_path: &Path, key_path: &Path) -> Result<(CertifiedKey, CertInfo), CertError> {
    let chain = load_certs(cert_path)?;
    let key = load_key(key_path)?;
    let signing = rustls::crypto::ring::default_provider().key_provider.load_private_key(key)?;
    let info = CertInfo::of(&chain[0])
        .map_err(|reason| CertError::Pem { path: cert_path.into(), reason })?;
    let certified = CertifiedKey::new(chain, signing);
    certified.keys_match().map_err(|_| CertError::Pem {
        path: key_path.into(),
        reason: format!("this key does not belong to the certificate in {}", cert_path.display()),
    })?;
    Ok((certified, info))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DataDirCerts, generate};

    #[test]
    fn a_replaced_pair_is_served_and_a_broken_one_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (
            DataDirCerts::in_dir(&dir.path().join("a")),
            DataDirCerts::in_dir(&dir.path().join("b")),
        );
        std::fs::create_dir_all(dir.path().join("a")).unwrap();
        std::fs::create_dir_all(dir.path().join("b")).unwrap();
        generate(&a, &["desk.example".into()]).unwrap();
        generate(&b, &["help.example".into(), "10.1.2.3".into()]).unwrap();
        let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
        std::fs::copy(&a.server_cert, &cert).unwrap();
        std::fs::copy(&a.server_key, &key).unwrap();

        let (served, info) = ServedCert::load(&cert, &key).unwrap();
        assert!(info.names.contains(&"desk.example".to_string()), "{info:?}");
        assert!(info.not_after > 1_700_000_000, "{info:?}");
        assert!(served.reload_if_changed().unwrap().is_none(), "nothing changed yet");
        let first = served.chain();

        // A certificate without its key: refused, the first pair still served.
        std::fs::copy(&b.server_cert, &cert).unwrap();
        assert!(served.reload_if_changed().is_err());
        assert_eq!(served.chain(), first);

        // The whole new pair: served from now on.
        std::fs::copy(&b.server_key, &key).unwrap();
        let info = served.reload_if_changed().unwrap().expect("reloaded");
        assert!(info.names.contains(&"help.example".to_string()), "{info:?}");
        assert!(info.names.contains(&"10.1.2.3".to_string()), "{info:?}");
        assert_ne!(served.chain(), first);
    }
}
