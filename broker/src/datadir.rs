//! The broker's data directory: what lives where, and `init`, which fills an empty one with a
//! CA and server certificate, the code-hashing key, the database and a commented config.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use tether_certs::{CertError, DataDirCerts};

use crate::config;
use tether_access::credentials::{AuthError, random_bytes};
use tether_store::{SqliteStore, StoreError};
use tether_transcript::SigningKey;
use tether_transcript::signing::KeyError;

/// Host names a self-made server certificate covers when none are given.
pub const DEFAULT_HOSTNAMES: [&str; 2] = ["localhost", "127.0.0.1"];

/// Why a data directory could not be prepared.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataDirError {
    /// A file or directory could not be made.
    #[error("{path}: {source}")]
    Io {
        /// Where.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Certificates could not be made.
    #[error(transparent)]
    Certs(#[from] CertError),
    /// The database could not be made.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The RNG failed.
    #[error(transparent)]
    Random(#[from] AuthError),
    /// The transcript signing key could not be made or read.
    #[error(transparent)]
    Key(#[from] KeyError),
}

/// A broker data directory: certificates and keys, `code.key`, `transcript-signing.key` and
/// `.pub`, `tether.db`, `broker.toml` and `transcripts/`.
#[derive(Debug, Clone)]
pub struct DataDir {
    root: PathBuf,
}

/// What `init` did.
#[derive(Debug, Default)]
pub struct InitReport {
    /// Files created now (existing ones are kept).
    pub created: Vec<PathBuf>,
}

impl DataDir {
    /// The directory at `root` (not necessarily existing yet).
    pub fn new(root: impl Into<PathBuf>) -> DataDir {
        DataDir { root: root.into() }
    }

    /// The directory itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The SQLite database.
    pub fn database(&self) -> PathBuf {
        self.root.join("tether.db")
    }

    /// The key one-time codes are hashed with.
    pub fn code_key(&self) -> PathBuf {
        self.root.join("code.key")
    }

    /// The optional configuration file read when `--config` is not given.
    pub fn config_file(&self) -> PathBuf {
        self.root.join("broker.toml")
    }

    /// The Ed25519 key transcripts are sealed with (PKCS#8 PEM, mode 0600).
    pub fn signing_key(&self) -> PathBuf {
        self.root.join("transcript-signing.key")
    }

    /// Its public half, for anyone verifying a transcript.
    pub fn signing_pub(&self) -> PathBuf {
        self.root.join("transcript-signing.pub")
    }

    /// Where transcripts go unless configured elsewhere.
    pub fn transcripts(&self) -> PathBuf {
        self.root.join("transcripts")
    }

    /// Certificate and key paths.
    pub fn certs(&self) -> DataDirCerts {
        DataDirCerts::in_dir(&self.root)
    }

    /// Whether `init` has run here.
    pub fn is_initialised(&self) -> bool {
        self.certs().exist()
            && self.code_key().exists()
            && self.database().exists()
            && self.signing_key().exists()
            && self.signing_pub().exists()
            && self.transcripts().exists()
    }

    /// Creates whatever is missing: the directory (mode 0700), the CA and a server certificate
    /// for `hostnames`, the code key, the database and a commented `broker.toml`. Existing
    /// files are never overwritten.
    pub fn init(&self, hostnames: &[String]) -> Result<InitReport, DataDirError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| DataDirError::Io { path, source }
        };
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.root)
            .map_err(io(&self.root))?;
        let mut report = InitReport::default();
        let certs = self.certs();
        if !certs.exist() {
            let names: Vec<String> = if hostnames.is_empty() {
                DEFAULT_HOSTNAMES.iter().map(|s| s.to_string()).collect()
            } else {
                hostnames.to_vec()
            };
            tether_certs::generate(&certs, &names)?;
            report.created.extend([
                certs.ca_cert,
                certs.ca_key,
                certs.server_cert,
                certs.server_key,
            ]);
        }
        let key = self.code_key();
        if !key.exists() {
            write_new(&key, &random_bytes::<32>()?, 0o600).map_err(io(&key))?;
            report.created.push(key);
        }
        let key = self.signing_key();
        if !key.exists() {
            write_new(&key, SigningKey::generate_pem()?.as_bytes(), 0o600).map_err(io(&key))?;
            report.created.push(key.clone());
        }
        let public = self.signing_pub();
        if !public.exists() {
            let pem = SigningKey::load(&key)?.verifying_key().to_pem();
            write_new(&public, pem.as_bytes(), 0o644).map_err(io(&public))?;
            report.created.push(public);
        }
        let transcripts = self.transcripts();
        if !transcripts.exists() {
            fs::DirBuilder::new().mode(0o700).create(&transcripts).map_err(io(&transcripts))?;
            report.created.push(transcripts);
        }
        let db = self.database();
        if !db.exists() {
            // Made empty and private first, so SQLite never creates it readable by others.
            write_new(&db, b"", 0o600).map_err(io(&db))?;
            SqliteStore::open(&db)?;
            report.created.push(db);
        }
        let conf = self.config_file();
        if !conf.exists() {
            // It will hold webhook and TURN secrets.
            write_new(&conf, config::EXAMPLE.as_bytes(), 0o600).map_err(io(&conf))?;
            report.created.push(conf);
        }
        Ok(report)
    }
}

/// What of the data directory may hold secrets: the directory itself, its keys, database,
/// configuration and transcripts, with the mode each should have at most.
pub fn private_paths(dir: &DataDir, transcripts: &Path) -> Vec<(PathBuf, u32)> {
    let certs = dir.certs();
    vec![
        (dir.root().to_path_buf(), 0o700),
        (dir.code_key(), 0o600),
        (dir.signing_key(), 0o600),
        (certs.ca_key, 0o600),
        (certs.server_key, 0o600),
        (dir.database(), 0o600),
        (dir.config_file(), 0o600),
        (transcripts.to_path_buf(), 0o700),
    ]
}

/// The paths among `paths` that others than the broker's user may read or write, with
/// their modes: each deserves a warning at start-up.
pub fn loosened(paths: &[(PathBuf, u32)]) -> Vec<(PathBuf, u32)> {
    use std::os::unix::fs::PermissionsExt;
    paths
        .iter()
        .filter_map(|(path, most)| {
            let mode = fs::metadata(path).ok()?.permissions().mode() & 0o777;
            (mode & !most != 0).then(|| (path.clone(), mode))
        })
        .collect()
}

fn write_new(path: &Path, contents: &[u8], mode: u32) -> std::io::Result<()> {
    let mut f = OpenOptions::new().write(true).create_new(true).mode(mode).open(path)?;
    f.write_all(contents)?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn init_creates_everything_once() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = DataDir::new(tmp.path().join("data"));
        assert!(!dir.is_initialised());
        let report = dir.init(&[]).unwrap();
        assert_eq!(report.created.len(), 10);
        assert!(dir.is_initialised());
        let mode = fs::metadata(dir.root()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        let key_mode = fs::metadata(dir.code_key()).unwrap().permissions().mode();
        assert_eq!(key_mode & 0o777, 0o600);
        let private = private_paths(&dir, &dir.transcripts());
        assert!(loosened(&private).is_empty(), "{:?}", loosened(&private));
        fs::set_permissions(dir.config_file(), fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(loosened(&private), vec![(dir.config_file(), 0o644)]);
        let ca_before = fs::read(dir.certs().ca_cert).unwrap();
        assert!(dir.init(&["other.example".into()]).unwrap().created.is_empty());
        assert_eq!(fs::read(dir.certs().ca_cert).unwrap(), ca_before, "never overwritten");
    }
}
