//! Accounts and bearer tokens in SQLite.

use rusqlite::{OptionalExtension, params};

use super::{SqliteStore, user_from_row};
use tether_protocol::Availability;

use crate::store::{Accounts, StoreError, UserRecord};

impl Accounts for SqliteStore {
    fn set_availability(&self, name: &str, availability: Availability) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "UPDATE users SET availability = ?2 WHERE name = ?1",
                params![name, availability.name()],
            )?;
            Ok(())
        })
    }

    fn set_location(&self, name: &str, lat: f64, lon: f64) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "UPDATE users SET lat = ?2, lon = ?3 WHERE name = ?1",
                params![name, lat, lon],
            )?;
            Ok(())
        })
    }

    fn add_user(&self, user: &UserRecord) -> Result<(), StoreError> {
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

    fn users(&self) -> Result<Vec<UserRecord>, StoreError> {
        self.with(|c| {
            let mut stmt = c.prepare("SELECT * FROM users ORDER BY name")?;
            let rows = stmt.query_map([], user_from_row)?.collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
    }

    fn user(&self, name: &str) -> Result<Option<UserRecord>, StoreError> {
        self.with(|c| {
            Ok(c.query_row("SELECT * FROM users WHERE name = ?1", [name], user_from_row)
                .optional()?)
        })
    }

    fn set_disabled(&self, name: &str, disabled: bool) -> Result<bool, StoreError> {
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

    fn add_token(
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

    fn token_user(&self, hash: &[u8], now: i64) -> Result<Option<UserRecord>, StoreError> {
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

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use crate::store::{Accounts, StoreError};

    #[test]
    fn users_are_unique_and_disabling_kills_tokens() {
        let (_d, s) = store();
        s.add_user(&alice()).unwrap();
        assert!(matches!(s.add_user(&alice()), Err(StoreError::Conflict(_))));
        assert_eq!(s.user("alice").unwrap().unwrap(), alice());
        s.add_token(b"h1", "alice", 100, 200).unwrap();
        assert_eq!(s.token_user(b"h1", 150).unwrap().unwrap().name, "alice");
        assert!(s.token_user(b"h1", 200).unwrap().is_none(), "expired");
        assert!(s.token_user(b"h2", 150).unwrap().is_none(), "unknown");
        assert!(s.set_disabled("alice", true).unwrap());
        assert!(s.token_user(b"h1", 150).unwrap().is_none(), "disabled");
        assert!(!s.set_disabled("nobody", true).unwrap());
    }
}
