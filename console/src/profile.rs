//! The saved login: broker, CA, user and bearer token, in the user's config directory
//! (`$TETHER_CONFIG_DIR`, else `$XDG_CONFIG_HOME/tether`, else `~/.config/tether`), readable by
//! its owner only.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use tether_protocol::Secret;

/// A saved login.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Profile {
    /// Broker URL.
    pub broker: String,
    /// Absolute path of the CA certificate.
    pub ca: PathBuf,
    /// Account name.
    pub user: String,
    /// Bearer token.
    pub token: Secret<String>,
    /// When the token expires, Unix seconds.
    pub token_expires_at: i64,
}

/// Why the profile could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProfileError {
    /// No config directory can be found.
    #[error("no config directory: set HOME, XDG_CONFIG_HOME or TETHER_CONFIG_DIR")]
    NoDir,
    /// Reading or writing failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is damaged.
    #[error("{path} is not a valid login file ({reason}); log in again")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

/// The directory the profile lives in.
pub fn dir() -> Result<PathBuf, ProfileError> {
    let var = |name| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(d) = var("TETHER_CONFIG_DIR") {
        return Ok(d);
    }
    if let Some(d) = var("XDG_CONFIG_HOME") {
        return Ok(d.join("tether"));
    }
    var("HOME").map(|h| h.join(".config").join("tether")).ok_or(ProfileError::NoDir)
}

fn path() -> Result<PathBuf, ProfileError> {
    Ok(dir()?.join("console.json"))
}

impl Profile {
    /// The saved login, if any.
    pub fn load() -> Result<Option<Profile>, ProfileError> {
        let path = path()?;
        let text = match fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(ProfileError::Io { path, source }),
        };
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| ProfileError::Corrupt { path, reason: e.to_string() })
    }

    /// Forgets the saved login; false if there was none.
    pub fn remove() -> Result<bool, ProfileError> {
        let path = path()?;
        match fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(source) => Err(ProfileError::Io { path, source }),
        }
    }

    /// Saves atomically with mode 0600 (directory 0700).
    pub fn save(&self) -> Result<PathBuf, ProfileError> {
        let path = path()?;
        let dir = path.parent().map(PathBuf::from).unwrap_or_default();
        let io = |path: &PathBuf| {
            let path = path.clone();
            move |source| ProfileError::Io { path, source }
        };
        fs::DirBuilder::new().recursive(true).mode(0o700).create(&dir).map_err(io(&dir))?;
        let tmp = dir.join(".console.json.tmp");
        let _ = fs::remove_file(&tmp);
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(io(&tmp))?;
        // Plain data: serialisation cannot fail.
        let text = serde_json::to_string_pretty(self).unwrap_or_default();
        file.write_all(text.as_bytes()).map_err(io(&tmp))?;
        file.sync_all().map_err(io(&tmp))?;
        fs::rename(&tmp, &path).map_err(io(&path))?;
        Ok(path)
    }
}
