//! The broker's Ed25519 transcript key (ring): made at init, kept as PKCS#8 with mode 0600;
//! its public half is exported as a PEM SubjectPublicKeyInfo beside it, so that anyone can
//! check a seal.

use std::path::Path;

use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{self, Ed25519KeyPair, KeyPair};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{PrivatePkcs8KeyDer, SubjectPublicKeyInfoDer};

use tether_protocol::{hex, unhex};

/// DER prefix of an Ed25519 SubjectPublicKeyInfo; the 32-byte key follows.
const SPKI_PREFIX: [u8; 12] =
    [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00];

/// Why a key could not be made or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// Reading or writing failed.
    #[error("{0}")]
    Io(String),
    /// The file does not hold an Ed25519 key.
    #[error("{0} does not hold an Ed25519 key")]
    Invalid(String),
    /// The RNG failed.
    #[error("key generation failed")]
    Generate,
}

/// The signing half. Its `Debug` never shows the key.
pub struct SigningKey(Ed25519KeyPair);

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey([redacted])")
    }
}

impl SigningKey {
    /// A new key as PKCS#8 PEM.
    pub fn generate_pem() -> Result<String, KeyError> {
        let pkcs8 =
            Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).map_err(|_| KeyError::Generate)?;
        Ok(pem("PRIVATE KEY", pkcs8.as_ref()))
    }

    /// Reads a PKCS#8 PEM key.
    pub fn load(path: &Path) -> Result<SigningKey, KeyError> {
        let der = PrivatePkcs8KeyDer::from_pem_file(path)
            .map_err(|e| KeyError::Io(format!("{}: {e:?}", path.display())))?;
        Ed25519KeyPair::from_pkcs8(der.secret_pkcs8_der())
            .map(SigningKey)
            .map_err(|_| KeyError::Invalid(path.display().to_string()))
    }

    /// Signs `msg`; hex.
    pub fn sign(&self, msg: &[u8]) -> String {
        hex(self.0.sign(msg).as_ref())
    }

    /// The public half.
    pub fn verifying_key(&self) -> VerifyingKey {
        let mut key = [0u8; 32];
        key.copy_from_slice(self.0.public_key().as_ref());
        VerifyingKey(key)
    }
}

/// The public half.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifyingKey([u8; 32]);

impl VerifyingKey {
    /// Reads a PEM SubjectPublicKeyInfo.
    pub fn load(path: &Path) -> Result<VerifyingKey, KeyError> {
        let der = SubjectPublicKeyInfoDer::from_pem_file(path)
            .map_err(|e| KeyError::Io(format!("{}: {e:?}", path.display())))?;
        let bytes = der.as_ref();
        match bytes.strip_prefix(&SPKI_PREFIX[..]) {
            Some(key) if key.len() == 32 => {
                let mut k = [0u8; 32];
                k.copy_from_slice(key);
                Ok(VerifyingKey(k))
            }
            _ => Err(KeyError::Invalid(path.display().to_string())),
        }
    }

    /// As a PEM SubjectPublicKeyInfo.
    pub fn to_pem(self) -> String {
        let mut der = SPKI_PREFIX.to_vec();
        der.extend_from_slice(&self.0);
        pem("PUBLIC KEY", &der)
    }

    /// Whether `sig_hex` is this key's signature of `msg`.
    pub fn verify(&self, msg: &[u8], sig_hex: &str) -> bool {
        let Some(sig) = unhex(sig_hex) else { return false };
        signature::UnparsedPublicKey::new(&signature::ED25519, &self.0).verify(msg, &sig).is_ok()
    }

    /// A short fingerprint, recorded in seals so a reader knows which key to use.
    pub fn fingerprint(&self) -> String {
        super::record::hash_line(&self.0)[..16].to_string()
    }
}

fn pem(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_through_pem_and_verify_only_their_signatures() {
        let dir = tempfile::tempdir().unwrap();
        let key_path = dir.path().join("k.pem");
        std::fs::write(&key_path, SigningKey::generate_pem().unwrap()).unwrap();
        let key = SigningKey::load(&key_path).unwrap();
        let pub_path = dir.path().join("k.pub");
        std::fs::write(&pub_path, key.verifying_key().to_pem()).unwrap();
        let public = VerifyingKey::load(&pub_path).unwrap();
        assert_eq!(public, key.verifying_key());
        let sig = key.sign(b"hello");
        assert!(public.verify(b"hello", &sig));
        assert!(!public.verify(b"hellp", &sig));
        assert!(!public.verify(b"hello", &sig[2..]));
        assert!(!public.verify(b"hello", "zz"));
        assert_eq!(format!("{key:?}"), "SigningKey([redacted])");
    }
}
