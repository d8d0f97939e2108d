//! Accounts and bearer tokens in SQLite.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, params};

use super::{Db, SqliteStore, user_from_row};
use tether_protocol::Availability;

use crate::{Accounts, StoreError, UserRecord};

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
            Ok(c.query_row(
                "SELECT users.* FROM tokens JOIN users ON users.name = tokens.user_name
                 WHERE tokens.hash = ?1 AND tokens.expires_at > ?2 AND users.disabled = 0",
                params![hash, now],
                user_from_row,
            )
            .optional()?)
        })
    }
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
}
