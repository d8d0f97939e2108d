//! The host's commands, which work on a data directory directly (SQLite allows it while the
//! broker runs): `init`, `user add|list|disable|enable`, and `admin`, whose verbs and printing
//! are shared with the console's (`tether_protocol::admin_cli`) and whose answers come from the
//! same desk service and policy as a console's, asked as the host.

use std::path::Path;
use std::sync::Arc;

use tether_access::{Actor, Policy, accounts};
use tether_desk::{Bus, Desk, NoSessions, Parts};
use tether_protocol::admin_cli::{AdminVerb, Printed};
use tether_protocol::{Secret, UserRole};
use tether_store::StoreHandle;
use tether_transcript::{Library, VerifyingKey};

use crate::{Config, DataDir};

/// Why a host command failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CliError {
    /// The data directory is not initialised.
    #[error("{0} is not a broker data directory (run tether-broker init)")]
    NotInitialised(String),
    /// The arguments are unusable.
    #[error("{0}")]
    Usage(String),
    /// Anything else, with its context.
    #[error("{0}")]
    Failed(String),
}

fn failed(e: impl std::fmt::Display) -> CliError {
    CliError::Failed(e.to_string())
}

/// Opens the store of `dir`, initialising an empty directory first.
fn open_store(dir: &DataDir) -> Result<StoreHandle, CliError> {
    if !dir.is_initialised() {
        dir.init(&[]).map_err(failed)?;
    }
    tether_store::open(&dir.database()).map_err(failed)
}

/// `user add`: adds an account with the password given.
pub async fn add_user(
    dir: &DataDir,
    name: &str,
    role: UserRole,
    skills: &[String],
    password: &Secret<String>,
) -> Result<(), CliError> {
    let store = open_store(dir)?;
    accounts::add(&*store, name, role, skills, password).await.map_err(failed)?;
    store.flush().await;
    Ok(())
}

/// `user list`: the accounts as a table.
pub async fn list_users(dir: &DataDir) -> Result<String, CliError> {
    let store = open_store(dir)?;
    let mut out = format!("{:<20} {:<11} {:<9} skills\n", "name", "role", "state");
    for u in store.users().await.map_err(failed)? {
        let state = if u.disabled { "disabled" } else { "active" };
        let skills = u.skills.join(",");
        out.push_str(&format!("{:<20} {:<11} {:<9} {skills}\n", u.name, u.role.name(), state));
    }
    Ok(out)
}

/// `user disable|enable`: disabling revokes the account's tokens at once.
pub async fn set_disabled(dir: &DataDir, name: &str, disabled: bool) -> Result<(), CliError> {
    let store = open_store(dir)?;
    accounts::set_disabled(&*store, name, disabled).await.map_err(failed)
}

/// `user unlock`: lifts a lock after failed sign-ins.
pub async fn unlock(dir: &DataDir, name: &str) -> Result<(), CliError> {
    let store = open_store(dir)?;
    if store.unlock_account(name).await.map_err(failed)? {
        Ok(())
    } else {
        Err(CliError::Usage(format!("no user {name:?}")))
    }
}

/// `user role`: changes a role; a running broker cuts the account's open connections.
pub async fn set_role(dir: &DataDir, name: &str, role: UserRole) -> Result<(), CliError> {
    let store = open_store(dir)?;
    if store.set_role(name, role).await.map_err(failed)? {
        Ok(())
    } else {
        Err(CliError::Usage(format!("no user {name:?}")))
    }
}

/// `user tokens`: the account's live tokens as a table.
pub async fn tokens(dir: &DataDir, name: &str) -> Result<String, CliError> {
    let store = open_store(dir)?;
    let now = tether_store::unix_now();
    let mut out = format!("{:<14} {:<21} {:<21} last used\n", "id", "created", "expires");
    for t in store.tokens(name, now).await.map_err(failed)? {
        let used = t.last_used_at.map(tether_protocol::rfc3339).unwrap_or_else(|| "never".into());
        out.push_str(&format!(
            "{:<14} {:<21} {:<21} {used}\n",
            t.id,
            tether_protocol::rfc3339(t.created_at),
            tether_protocol::rfc3339(t.expires_at)
        ));
    }
    Ok(out)
}

/// `user revoke`: revokes the token whose id starts with `id`, or every token for an empty
/// `id`; a prefix naming more than one token is refused.
pub async fn revoke(dir: &DataDir, name: &str, id: &str) -> Result<usize, CliError> {
    let store = open_store(dir)?;
    if !id.is_empty() {
        let now = tether_store::unix_now();
        let matching = store.tokens(name, now).await.map_err(failed)?;
        let n = matching.iter().filter(|t| t.id.starts_with(id)).count();
        if n != 1 {
            return Err(CliError::Usage(format!(
                "{n} tokens of {name} have an id starting {id:?}"
            )));
        }
    }
    store.revoke_tokens(name, id).await.map_err(failed)
}

/// `admin VERB`: asks the desk as the host and says how the answer prints.
pub async fn admin(dir: &DataDir, verb: AdminVerb, now: i64) -> Result<Printed, CliError> {
    if !dir.is_initialised() {
        return Err(CliError::NotInitialised(dir.root().display().to_string()));
    }
    let config = match dir.config_file() {
        path if path.exists() => Config::from_file(&path).map_err(failed)?,
        _ => Config::default(),
    };
    let command = verb.command(now).map_err(CliError::Usage)?;
    let desk = host_desk(dir, &config)?;
    let answer = desk.admin(&Actor::Host, command.request.clone()).await.map_err(failed)?;
    Ok(command.print(answer))
}

/// A desk over the data directory with no relay beside it.
fn host_desk(dir: &DataDir, config: &Config) -> Result<Desk, CliError> {
    let transcripts = config.transcripts.dir.clone().unwrap_or_else(|| dir.transcripts());
    let key = VerifyingKey::load(&dir.signing_pub()).map_err(failed)?;
    let store = tether_store::open(&dir.database()).map_err(failed)?;
    Desk::new(Parts {
        store: store.clone(),
        policy: Policy,
        settings: config.desk.clone(),
        bus: Bus::new(store, None),
        live: Arc::new(NoSessions),
        library: Library::new(&transcripts, key),
        attachments: attachments(dir.root()),
    })
    .map_err(failed)
}

/// Where onsite attachments are kept.
pub(crate) fn attachments(root: &Path) -> std::path::PathBuf {
    root.join("attachments")
}
