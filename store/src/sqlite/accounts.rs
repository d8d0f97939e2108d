//! Accounts and bearer tokens in SQLite.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, params};

use super::{Db, SqliteStore, user_from_row};
use tether_protocol::Availability;

use crate::{Accounts, FailedLogins, StoreError, TokenRecord, UserRecord};
use tether_protocol::UserRole;

impl Db {
    pub(super) fn set_availability(
        &self,
        name: &str,
        availability: Availability,
    ) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "UPDATE users SET availability = ?2 WHERE name = ?1",
                params![name, availability.name()],
            )?;
            Ok(())
        })
    }

    pub(super) fn set_location(&self, name: &str, lat: f64, lon: f64) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "UPDATE users SET lat = ?2, lon = ?3 WHERE name = ?1",
                params![name, lat, lon],
            )?;
            Ok(())
        })
    }

    pub(super) fn add_user(&self, user: &UserRecord) -> Result<(), StoreError> {
        self.with(|c| {
            let inserted = c.execute(
                "INSERT INTO users (name, role, skills, password_hash, disabled, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(name) DO NOTHING",
                params![
                    user.name,
                    user.role.name(),
                    user.skills.join(","),
                    user.password_hash,
                    user.disabled,
                    user.created_at
                ],
            )?;
            if inserted == 0 {
                return Err(StoreError::Conflict(format!("user {:?} already exists", user.name)));
            }
            Ok(())
        })
    }

    pub(super) fn users(&self) -> Result<Vec<UserRecord>, StoreError> {
        self.with(|c| {
            let mut stmt = c.prepare("SELECT * FROM users ORDER BY name")?;
            let rows = stmt.query_map([], user_from_row)?.collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
    }

    pub(super) fn user(&self, name: &str) -> Result<Option<UserRecord>, StoreError> {
        self.with(|c| {
            Ok(c.query_row("SELECT * FROM users WHERE name = ?1", [name], user_from_row)
                .optional()?)
        })
    }

    pub(super) fn set_disabled(&self, name: &str, disabled: bool) -> Result<bool, StoreError> {
        self.with(|c| {
            let tx = c.unchecked_transaction()?;
            let n = tx.execute(
                "UPDATE users SET disabled = ?2 WHERE name = ?1",
                params![name, disabled],
            )?;
            if disabled {
                tx.execute("DELETE FROM tokens WHERE user_name = ?1", [name])?;
            }
            if n == 1 {
                changed(&tx, name)?;
            }
            tx.commit()?;
            Ok(n == 1)
        })
    }

    pub(super) fn add_token(
        &self,
        hash: &[u8],
        user: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        self.with(|c| {
            // Expired tokens are useless; sweep them while we are here.
            c.execute("DELETE FROM tokens WHERE expires_at <= ?1", [now])?;
            c.execute(
                "INSERT INTO tokens (hash, user_name, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
                params![hash, user, now, expires_at],
            )?;
            Ok(())
        })
    }

    pub(super) fn token_user(
        &self,
        hash: &[u8],
        now: i64,
    ) -> Result<Option<UserRecord>, StoreError> {
        self.with(|c| {
            let user = c
                .query_row(
                    "SELECT users.* FROM tokens JOIN users ON users.name = tokens.user_name
                     WHERE tokens.hash = ?1 AND tokens.expires_at > ?2 AND users.disabled = 0",
                    params![hash, now],
                    user_from_row,
                )
                .optional()?;
            if user.is_some() {
                c.execute(
                    "UPDATE tokens SET last_used_at = ?2 WHERE hash = ?1",
                    params![hash, now],
                )?;
            }
            Ok(user)
        })
    }

    pub(super) fn set_role(&self, name: &str, role: UserRole) -> Result<bool, StoreError> {
        self.with(|c| {
            let tx = c.unchecked_transaction()?;
            let n = tx.execute(
                "UPDATE users SET role = ?2 WHERE name = ?1",
                params![name, role.name()],
            )?;
            if n == 1 {
                changed(&tx, name)?;
            }
            tx.commit()?;
            Ok(n == 1)
        })
    }

    pub(super) fn set_skills(&self, name: &str, skills: &[String]) -> Result<bool, StoreError> {
        self.with(|c| {
            let n = c.execute(
                "UPDATE users SET skills = ?2 WHERE name = ?1",
                params![name, skills.join(",")],
            )?;
            Ok(n == 1)
        })
    }

    pub(super) fn login_failed(&self, name: &str, at: i64, from: &str) -> Result<u32, StoreError> {
        self.with(|c| {
            Ok(c.query_row(
                "UPDATE users SET failed_logins = failed_logins + 1,
                 failed_since_sign_in = failed_since_sign_in + 1, last_failed_at = ?2,
                 last_failed_from = ?3 WHERE name = ?1 RETURNING failed_logins",
                params![name, at, from],
                |r| r.get(0),
            )
            .optional()?
            .unwrap_or(0))
        })
    }

    pub(super) fn lock_account(&self, name: &str, until: i64) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute("UPDATE users SET locked_until = ?2 WHERE name = ?1", params![name, until])?;
            Ok(())
        })
    }

    pub(super) fn login_succeeded(&self, name: &str) -> Result<FailedLogins, StoreError> {
        self.with(|c| {
            let tx = c.unchecked_transaction()?;
            let failed = tx
                .query_row(
                    "SELECT failed_since_sign_in, last_failed_at, last_failed_from FROM users
                     WHERE name = ?1",
                    [name],
                    |r| {
                        Ok(FailedLogins {
                            count: r.get(0)?,
                            last_at: r.get(1)?,
                            last_from: r.get(2)?,
                        })
                    },
                )
                .optional()?
                .unwrap_or(FailedLogins { count: 0, last_at: None, last_from: None });
            tx.execute(
                "UPDATE users SET failed_logins = 0, failed_since_sign_in = 0, locked_until = NULL,
                 last_failed_at = NULL, last_failed_from = NULL WHERE name = ?1",
                [name],
            )?;
            tx.commit()?;
            Ok(failed)
        })
    }

    pub(super) fn unlock_account(&self, name: &str) -> Result<bool, StoreError> {
        self.with(|c| {
            let n = c.execute(
                "UPDATE users SET failed_logins = 0, locked_until = NULL WHERE name = ?1",
                [name],
            )?;
            Ok(n == 1)
        })
    }

    pub(super) fn tokens(&self, name: &str, now: i64) -> Result<Vec<TokenRecord>, StoreError> {
        self.with(|c| {
            let mut stmt = c.prepare(
                "SELECT hash, created_at, expires_at, last_used_at FROM tokens
                 WHERE user_name = ?1 AND expires_at > ?2 ORDER BY created_at",
            )?;
            let rows = stmt
                .query_map(params![name, now], |r| {
                    let hash: Vec<u8> = r.get(0)?;
                    Ok(TokenRecord {
                        id: token_id(&hash),
                        created_at: r.get(1)?,
                        expires_at: r.get(2)?,
                        last_used_at: r.get(3)?,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
    }

    pub(super) fn revoke_tokens(&self, name: &str, id: &str) -> Result<usize, StoreError> {
        self.with(|c| {
            let mut stmt = c.prepare("SELECT hash FROM tokens WHERE user_name = ?1")?;
            let hashes = stmt
                .query_map([name], |r| r.get::<_, Vec<u8>>(0))?
                .collect::<Result<Vec<_>, _>>()?;
            let mut revoked = 0;
            for hash in hashes.iter().filter(|h| token_id(h).starts_with(id)) {
                revoked += c.execute("DELETE FROM tokens WHERE hash = ?1", [hash])?;
            }
            Ok(revoked)
        })
    }

    pub(super) fn revoke_token_hash(&self, hash: &[u8]) -> Result<bool, StoreError> {
        self.with(|c| Ok(c.execute("DELETE FROM tokens WHERE hash = ?1", [hash])? == 1))
    }

    pub(super) fn account_changes(&self) -> Result<i64, StoreError> {
        self.with(|c| {
            Ok(c.query_row("SELECT COALESCE(MAX(id), 0) FROM account_changes", [], |r| r.get(0))?)
        })
    }
}

/// Notes that `name` changed in a way open connections must follow.
fn changed(c: &rusqlite::Connection, name: &str) -> rusqlite::Result<()> {
    c.execute(
        "INSERT INTO account_changes (user_name, at) VALUES (?1, strftime('%s', 'now'))",
        [name],
    )?;
    Ok(())
}

/// A token's public name: the first 12 hex digits of its hash.
fn token_id(hash: &[u8]) -> String {
    tether_protocol::hex(&hash[..hash.len().min(6)])
}

#[async_trait]
impl Accounts for SqliteStore {
    async fn add_user(&self, user: &UserRecord) -> Result<(), StoreError> {
        let user = user.to_owned();
        self.run(move |db| db.add_user(&user)).await
    }

    async fn users(&self) -> Result<Vec<UserRecord>, StoreError> {
        self.run(move |db| db.users()).await
    }

    async fn user(&self, name: &str) -> Result<Option<UserRecord>, StoreError> {
        let name = name.to_owned();
        self.run(move |db| db.user(&name)).await
    }

    async fn set_disabled(&self, name: &str, disabled: bool) -> Result<bool, StoreError> {
        let name = name.to_owned();
        self.run(move |db| db.set_disabled(&name, disabled)).await
    }

    async fn add_token(
        &self,
        hash: &[u8],
        user: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        let hash = hash.to_owned();
        let user = user.to_owned();
        self.run(move |db| db.add_token(&hash, &user, now, expires_at)).await
    }

    async fn token_user(&self, hash: &[u8], now: i64) -> Result<Option<UserRecord>, StoreError> {
        let hash = hash.to_owned();
        self.run(move |db| db.token_user(&hash, now)).await
    }

    async fn set_availability(
        &self,
        name: &str,
        availability: Availability,
    ) -> Result<(), StoreError> {
        let name = name.to_owned();
        self.run(move |db| db.set_availability(&name, availability)).await
    }

    async fn set_location(&self, name: &str, lat: f64, lon: f64) -> Result<(), StoreError> {
        let name = name.to_owned();
        self.run(move |db| db.set_location(&name, lat, lon)).await
    }

    async fn set_role(&self, name: &str, role: UserRole) -> Result<bool, StoreError> {
        let name = name.to_owned();
        self.run(move |db| db.set_role(&name, role)).await
    }

    async fn set_skills(&self, name: &str, skills: &[String]) -> Result<bool, StoreError> {
        let (name, skills) = (name.to_owned(), skills.to_vec());
        self.run(move |db| db.set_skills(&name, &skills)).await
    }

    async fn login_failed(&self, name: &str, at: i64, from: &str) -> Result<u32, StoreError> {
        let (name, from) = (name.to_owned(), from.to_owned());
        self.run(move |db| db.login_failed(&name, at, &from)).await
    }

    async fn lock_account(&self, name: &str, until: i64) -> Result<(), StoreError> {
        let name = name.to_owned();
        self.run(move |db| db.lock_account(&name, until)).await
    }

    async fn login_succeeded(&self, name: &str) -> Result<FailedLogins, StoreError> {
        let name = name.to_owned();
        self.run(move |db| db.login_succeeded(&name)).await
    }

    async fn unlock_account(&self, name: &str) -> Result<bool, StoreError> {
        let name = name.to_owned();
        self.run(move |db| db.unlock_account(&name)).await
    }

    async fn tokens(&self, name: &str, now: i64) -> Result<Vec<TokenRecord>, StoreError> {
        let name = name.to_owned();
        self.run(move |db| db.tokens(&name, now)).await
    }

    async fn revoke_tokens(&self, name: &str, id: &str) -> Result<usize, StoreError> {
        let (name, id) = (name.to_owned(), id.to_owned());
        self.run(move |db| db.revoke_tokens(&name, &id)).await
    }

    async fn revoke_token_hash(&self, hash: &[u8]) -> Result<bool, StoreError> {
        let hash = hash.to_owned();
        self.run(move |db| db.revoke_token_hash(&hash)).await
    }

    async fn account_changes(&self) -> Result<i64, StoreError> {
        self.run(|db| db.account_changes()).await
    }
}
