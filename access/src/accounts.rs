//! Account administration: adding, disabling and enabling accounts and changing roles, for
//! the host's `tether-broker user` commands (which open the store directly; SQLite allows it
//! while the broker runs) and, through [`Access::manage_account`] and the policy, for admins
//! over the API; and reading a password from standard input.

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
    /// A skill tag is not usable.
    #[error("skill {0:?} must be 1 to {MAX_SKILL} characters without commas or control characters")]
    BadSkill(String),
}

/// The longest skill tag, in characters.
pub const MAX_SKILL: usize = 40;

/// Skill tags as kept: trimmed, lower case, without duplicates; a tag with a comma (the
/// separator the store keeps them with) or a control character is refused.
pub fn skills(tags: &[String]) -> Result<Vec<String>, UserError> {
    let mut out: Vec<String> = Vec::new();
    for tag in tags {
        let tag = tag.trim().to_lowercase();
        if tag.is_empty() {
            continue;
        }
        if tag.chars().count() > MAX_SKILL || tag.chars().any(|c| c == ',' || c.is_control()) {
            return Err(UserError::BadSkill(tag));
        }
        if !out.contains(&tag) {
            out.push(tag);
        }
    }
    Ok(out)
}

/// Adds an account.
pub async fn add(
    store: &dyn Store,
    name: &str,
    role: UserRole,
    skills: &[String],
    password: &Secret<String>,
) -> Result<(), UserError> {
    check_name(name)?;
    let skills = self::skills(skills)?;
    add_hashed(store, name, role, &skills, hash_password(password)?).await
}

/// Whether `name` can be an account's name.
fn check_name(name: &str) -> Result<(), UserError> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if valid { Ok(()) } else { Err(UserError::BadName(name.into())) }
}

/// Adds an account whose password is already hashed.
async fn add_hashed(
    store: &dyn Store,
    name: &str,
    role: UserRole,
    skills: &[String],
    password_hash: String,
) -> Result<(), UserError> {
    let record = UserRecord {
        name: name.into(),
        role,
        skills: skills.to_vec(),
        password_hash,
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

/// A change to the accounts, as an admin asks for it.
#[derive(Debug)]
pub enum AccountChange {
    /// A new account.
    Add {
        /// Its login name.
        name: String,
        /// Its role.
        role: UserRole,
        /// Its skills.
        skills: Vec<String>,
        /// Its first password.
        password: Secret<String>,
    },
    /// Disable (`true`) or enable an account; disabling revokes its tokens at once.
    Disabled {
        /// Whose.
        name: String,
        /// Disabled or not.
        disabled: bool,
    },
    /// Give an account another role (its connections are cut; it signs in again).
    Role {
        /// Whose.
        name: String,
        /// The new role.
        role: UserRole,
    },
    /// Replace an account's skill tags (routing uses them for the next ticket).
    Skills {
        /// Whose.
        name: String,
        /// The new tags.
        skills: Vec<String>,
    },
}

impl crate::Access {
    /// Makes `change` if `actor` may manage accounts. The password is hashed off the async
    /// threads, in the same slots as sign-ins.
    pub async fn manage_account(
        &self,
        actor: &crate::Actor,
        change: AccountChange,
    ) -> Result<(), crate::AccessError> {
        use crate::AccessError;
        self.policy().check(actor, crate::Action::ManageUsers)?;
        let store: &dyn Store = &**self.store();
        let refused = |e: UserError| match e {
            UserError::BadName(_) | UserError::BadSkill(_) => AccessError::Invalid(e.to_string()),
            UserError::NotFound(name) => AccessError::NoSuchUser(name),
            UserError::Password(e) => AccessError::Credentials(e),
            UserError::Store(StoreError::Conflict(why)) => AccessError::Invalid(why),
            UserError::Store(e) => AccessError::Store(e),
        };
        match change {
            AccountChange::Add { name, role, skills, password } => {
                check_name(&name).map_err(refused)?;
                let skills = self::skills(&skills).map_err(refused)?;
                if password.expose().chars().count() < MIN_PASSWORD {
                    return Err(AccessError::Invalid(format!(
                        "a password has at least {MIN_PASSWORD} characters"
                    )));
                }
                let hash = self.hash_off_thread(password).await?;
                add_hashed(store, &name, role, &skills, hash).await.map_err(refused)?;
                tracing::info!(user = %name, role = role.name(), by = %actor.name(), "account added");
            }
            AccountChange::Disabled { name, disabled } => {
                set_disabled(store, &name, disabled).await.map_err(refused)?;
                tracing::info!(user = %name, disabled, by = %actor.name(), "account changed");
            }
            AccountChange::Role { name, role } => {
                if !store.set_role(&name, role).await? {
                    return Err(AccessError::NoSuchUser(name));
                }
                tracing::info!(user = %name, role = role.name(), by = %actor.name(), "role changed");
            }
            AccountChange::Skills { name, skills } => {
                let skills = self::skills(&skills).map_err(refused)?;
                if !store.set_skills(&name, &skills).await? {
                    return Err(AccessError::NoSuchUser(name));
                }
                tracing::info!(user = %name, skills = %skills.join(","), by = %actor.name(), "skills changed");
            }
        }
        Ok(())
    }
}

/// The shortest password an admin may give a new account.
pub const MIN_PASSWORD: usize = 10;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skills_are_kept_trimmed_lower_case_once_and_without_separators() {
        let tags = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            skills(&tags(&[" VPN ", "", "printers", "vpn"])).unwrap(),
            tags(&["vpn", "printers"])
        );
        assert!(matches!(skills(&tags(&["a,b"])), Err(UserError::BadSkill(_))));
        assert!(matches!(skills(&tags(&["bell\u{7}"])), Err(UserError::BadSkill(_))));
        assert!(matches!(skills(&tags(&[&"x".repeat(41)])), Err(UserError::BadSkill(_))));
    }
}
