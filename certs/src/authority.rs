//! The broker's own certificate authority: on first start it makes a CA and a server
//! certificate signed by it, so that agents and consoles need only `ca.pem`.

use std::fs::OpenOptions;
use std::io::Write;
use std::net::IpAddr;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};
use rustls_pki_types::ServerName;
use time::{Duration, OffsetDateTime};

use crate::CertError;

/// How long the self-made CA lives.
const CA_LIFETIME: Duration = Duration::days(3650);
/// How long a self-made server certificate lives (the longest browsers accept).
const SERVER_LIFETIME: Duration = Duration::days(397);

/// Where the certificates live in a broker data directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataDirCerts {
    /// The CA certificate handed to agents and consoles (`ca.pem`).
    pub ca_cert: PathBuf,
    /// The CA's private key (`ca-key.pem`, mode 0600).
    pub ca_key: PathBuf,
    /// The server certificate chain (`server.pem`: leaf, then CA).
    pub server_cert: PathBuf,
    /// The server's private key (`server-key.pem`, mode 0600).
    pub server_key: PathBuf,
}

impl DataDirCerts {
    /// The paths inside `dir`.
    pub fn in_dir(dir: &Path) -> DataDirCerts {
        DataDirCerts {
            ca_cert: dir.join("ca.pem"),
            ca_key: dir.join("ca-key.pem"),
            server_cert: dir.join("server.pem"),
            server_key: dir.join("server-key.pem"),
        }
    }

    /// Whether the server certificate and key are both present.
    pub fn exist(&self) -> bool {
        self.server_cert.exists() && self.server_key.exists()
    }
}

/// Makes a CA and a server certificate for `hostnames` (DNS names or IP addresses), writing
/// them to `paths`. Keys are written with mode 0600; existing files are refused, never
/// overwritten.
pub fn generate(paths: &DataDirCerts, hostnames: &[String]) -> Result<(), CertError> {
    let now = OffsetDateTime::now_utc();
    let sans = hostnames
        .iter()
        .map(|h| match h.parse::<IpAddr>() {
            Ok(ip) => Ok(SanType::IpAddress(ip)),
            // rcgen accepts any IA5 string; rustls's DNS-name rules are the ones clients apply.
            Err(_) => ServerName::try_from(h.as_str())
                .ok()
                .and_then(|_| h.clone().try_into().ok())
                .map(SanType::DnsName)
                .ok_or_else(|| CertError::BadHostname(h.clone())),
        })
        .collect::<Result<Vec<_>, _>>()?;

    let ca_key = KeyPair::generate()?;
    let mut ca_params = CertificateParams::default();
    ca_params.distinguished_name = rcgen::DistinguishedName::new();
    ca_params.distinguished_name.push(DnType::CommonName, "tether broker CA");
    ca_params.distinguished_name.push(DnType::OrganizationName, "tether");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    ca_params.not_before = now - Duration::hours(1);
    ca_params.not_after = now + CA_LIFETIME;
    let ca_cert = ca_params.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca_params, &ca_key);

    let server_key = KeyPair::generate()?;
    let mut params = CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, hostnames.first().map_or("tether", |h| h));
    params.subject_alt_names = sans;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    params.not_before = now - Duration::hours(1);
    params.not_after = now + SERVER_LIFETIME;
    let server_cert = params.signed_by(&server_key, &issuer)?;

    write_new(&paths.ca_key, ca_key.serialize_pem().as_bytes(), 0o600)?;
    write_new(&paths.ca_cert, ca_cert.pem().as_bytes(), 0o644)?;
    write_new(&paths.server_key, server_key.serialize_pem().as_bytes(), 0o600)?;
    let chain = format!("{}{}", server_cert.pem(), ca_cert.pem());
    write_new(&paths.server_cert, chain.as_bytes(), 0o644)?;
    Ok(())
}

fn write_new(path: &Path, contents: &[u8], mode: u32) -> Result<(), CertError> {
    let io = |source| CertError::Io { path: path.into(), source };
    let mut file =
        OpenOptions::new().write(true).create_new(true).mode(mode).open(path).map_err(io)?;
    file.write_all(contents).map_err(io)?;
    file.sync_all().map_err(io)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;
    use crate::{load_certs, load_key};

    #[test]
    fn makes_a_chain_and_private_keys() {
        let dir = tempfile::tempdir().unwrap();
        let paths = DataDirCerts::in_dir(dir.path());
        assert!(!paths.exist());
        generate(&paths, &["localhost".into(), "127.0.0.1".into()]).unwrap();
        assert!(paths.exist());
        assert_eq!(load_certs(&paths.server_cert).unwrap().len(), 2);
        assert_eq!(load_certs(&paths.ca_cert).unwrap().len(), 1);
        load_key(&paths.server_key).unwrap();
        let mode = std::fs::metadata(&paths.server_key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        // Never overwrite.
        assert!(matches!(generate(&paths, &["localhost".into()]), Err(CertError::Io { .. })));
    }

    #[test]
    fn refuses_bad_hostnames() {
        let dir = tempfile::tempdir().unwrap();
        let paths = DataDirCerts::in_dir(dir.path());
        assert!(matches!(generate(&paths, &["bad name!".into()]), Err(CertError::BadHostname(_))));
        assert!(!paths.ca_cert.exists(), "nothing written on failure");
    }
}
