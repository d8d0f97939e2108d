//! Account administration: adding, disabling and enabling accounts, and reading a password
//! from standard input, for the host's `tether-broker user` commands (which open the store
//! directly; SQLite allows it while the broker runs) and any later entry point.

use std::io::BufRead;

use tether_protocol::{Secret, UserRole};

use tether_store::{Store, StoreError, UserRecord, unix_now};

use crate::credentials::{AuthError, hash_password};

/// Reads a password from the first line of `input` (trailing newline removed).
pub fn read_password(input: &mut impl BufRead) -> std::io::Result<Secret<String>> {
    let mut line = String::new();
    input.read_line(&mut line)?;
    while line.ends_with('\n') || line.ends_with('\r') {
        line.pop();
    }
    Ok(Secret::new(line))
}

/// Why an account command failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UserError {
    /// The name is not usable.
    #[error("user name {0:?} must be 1 to 64 letters, digits, '.', '_' or '-'")]
    BadName(String),
    /// The password is not usable.
    #[error(transparent)]
    Password(#[from] AuthError),
    /// The store refused.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// No such account.
    #[error("no user {0:?}")]
    NotFound(String),
}

/// Adds an account.
pub async fn add(
    store: &dyn Store,
    name: &str,
    role: UserRole,
    skills: &[String],
    password: &Secret<String>,
) -> Result<(), UserError> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if !valid {
        return Err(UserError::BadName(name.into()));
    }
    let record = UserRecord {
        name: name.into(),
        role,
        skills: skills.iter().map(|s| s.trim().to_lowercase()).filter(|s| !s.is_empty()).collect(),
        password_hash: hash_password(password)?,
        disabled: false,
        created_at: unix_now(),
        availability: tether_protocol::Availability::Available,
        location: None,
        failed_logins: 0,
        locked_until: None,
    };
    store.add_user(&record).await?;
    Ok(())
}

/// Disables or re-enables an account. Disabling revokes its tokens at once.
pub async fn set_disabled(store: &dyn Store, name: &str, disabled: bool) -> Result<(), UserError> {
    if store.set_disabled(name, disabled).await? {
        Ok(())
    } else {
        Err(UserError::NotFound(name.into()))
    }
}
