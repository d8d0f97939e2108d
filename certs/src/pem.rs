//! Loading certificates and private keys from PEM files (rustls-pki-types' `PemObject`).

use std::path::Path;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::CertError;

/// Loads every certificate in a PEM file, leaf first. An empty file is an error.
pub fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, CertError> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| pem_error(path, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem_error(path, e))?;
    if certs.is_empty() {
        return Err(CertError::Pem { path: path.into(), reason: "no certificates found".into() });
    }
    Ok(certs)
}

/// Loads the first private key (PKCS#8, PKCS#1 or SEC1) in a PEM file.
pub fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>, CertError> {
    PrivateKeyDer::from_pem_file(path).map_err(|e| pem_error(path, e))
}

fn pem_error(path: &Path, err: rustls_pki_types::pem::Error) -> CertError {
    match err {
        rustls_pki_types::pem::Error::Io(source) => CertError::Io { path: path.into(), source },
        rustls_pki_types::pem::Error::NoItemsFound => {
            CertError::Pem { path: path.into(), reason: "no PEM item of the expected kind".into() }
        }
        // Never echo key material: the error kinds above and below carry none.
        other => CertError::Pem { path: path.into(), reason: format!("invalid PEM ({other:?})") },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_and_empty_files_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.pem");
        assert!(matches!(load_certs(&missing), Err(CertError::Io { .. })));
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "").unwrap();
        assert!(matches!(load_certs(&empty), Err(CertError::Pem { .. })));
        assert!(matches!(load_key(&empty), Err(CertError::Pem { .. })));
    }
}
