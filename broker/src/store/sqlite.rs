//! The embedded store: one SQLite file in the data directory, WAL mode, schema versioned with
//! `PRAGMA user_version`.

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, Row, params};
use tether_protocol::{TicketId, TicketStatus};

use super::{
    InvitationRecord, NewTicket, SessionRecord, Store, StoreError, TicketRecord, UserRecord,
};

const SCHEMA_VERSION: i32 = 1;
const SCHEMA: &str = include_str!("schema.sql");

/// SQLite behind a mutex. Every call is short; async callers go through the blocking pool.
#[derive(Debug)]
pub(crate) struct SqliteStore {
    conn: Mutex<Connection>,
}

impl SqliteStore {
    /// Opens (creating and migrating if needed) the database at `path`.
    pub(crate) fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        let version: i32 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        match version {
            0 => {
                conn.execute_batch(&format!(
                    "BEGIN; {SCHEMA} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"
                ))?;
            }
            SCHEMA_VERSION => {}
            other => {
                return Err(StoreError::Corrupt(format!(
                    "database schema version {other} is newer than this broker ({SCHEMA_VERSION})"
                )));
            }
        }
        Ok(SqliteStore { conn: Mutex::new(conn) })
    }

    fn with<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        // A poisoned lock means a panic mid-call; SQLite's own transaction state is still sound.
        let conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        f(&conn)
    }
}

fn corrupt<E: std::fmt::Display>(e: E) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, e.to_string().into())
}

fn user_from_row(row: &Row<'_>) -> rusqlite::Result<UserRecord> {
    let role: String = row.get("role")?;
    let skills: String = row.get("skills")?;
    Ok(UserRecord {
        name: row.get("name")?,
        role: role.parse().map_err(corrupt)?,
        skills: skills.split(',').filter(|s| !s.is_empty()).map(str::to_string).collect(),
        password_hash: row.get("password_hash")?,
        disabled: row.get("disabled")?,
        created_at: row.get("created_at")?,
    })
}

fn ticket_from_row(row: &Row<'_>) -> rusqlite::Result<TicketRecord> {
    let priority: String = row.get("priority")?;
    let status: String = row.get("status")?;
    let id: i64 = row.get("id")?;
    Ok(TicketRecord {
        id: TicketId(id as u64),
        channel: row.get("channel")?,
        client: row.get("client")?,
        contact: row.get("contact")?,
        issue: row.get("issue")?,
        priority: priority.parse().map_err(corrupt)?,
        status: status.parse().map_err(corrupt)?,
        assigned_to: row.get("assigned_to")?,
        created_at: row.get("created_at")?,
        updated_at: row.get("updated_at")?,
    })
}

fn invitation_from_row(row: &Row<'_>) -> rusqlite::Result<InvitationRecord> {
    let ticket: i64 = row.get("ticket_id")?;
    Ok(InvitationRecord {
        id: row.get("id")?,
        code_hash: row.get("code_hash")?,
        ticket: TicketId(ticket as u64),
        issued_by: row.get("issued_by")?,
        expires_at: row.get("expires_at")?,
        used_at: row.get("used_at")?,
    })
}

const PRIORITY_ORDER: &str = "CASE priority WHEN 'critical' THEN 0 WHEN 'high' THEN 1 \
                              WHEN 'medium' THEN 2 ELSE 3 END";

impl Store for SqliteStore {
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

    fn create_ticket(&self, t: &NewTicket, now: i64) -> Result<TicketRecord, StoreError> {
        self.with(|c| {
            let row = c.query_row(
                "INSERT INTO tickets (channel, client, contact, issue, priority, status,
                                      created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7) RETURNING *",
                params![
                    t.channel,
                    t.client,
                    t.contact,
                    t.issue,
                    t.priority.name(),
                    t.status.name(),
                    now
                ],
                ticket_from_row,
            )?;
            Ok(row)
        })
    }

    fn ticket(&self, id: TicketId) -> Result<Option<TicketRecord>, StoreError> {
        self.with(|c| {
            Ok(c.query_row("SELECT * FROM tickets WHERE id = ?1", [id.0 as i64], ticket_from_row)
                .optional()?)
        })
    }

    fn open_tickets(&self) -> Result<Vec<TicketRecord>, StoreError> {
        self.with(|c| {
            let mut stmt = c.prepare(&format!(
                "SELECT * FROM tickets WHERE status NOT IN ('resolved', 'closed')
                 ORDER BY {PRIORITY_ORDER}, created_at, id"
            ))?;
            let rows = stmt.query_map([], ticket_from_row)?.collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
    }

    fn set_ticket_state(
        &self,
        id: TicketId,
        status: TicketStatus,
        assigned_to: Option<&str>,
        now: i64,
    ) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "UPDATE tickets SET status = ?2, assigned_to = ?3, updated_at = ?4 WHERE id = ?1",
                params![id.0 as i64, status.name(), assigned_to, now],
            )?;
            Ok(())
        })
    }

    fn add_invitation(&self, inv: &InvitationRecord, now: i64) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO invitations (code_hash, ticket_id, issued_by, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![inv.code_hash, inv.ticket.0 as i64, inv.issued_by, now, inv.expires_at],
            )?;
            Ok(())
        })
    }

    fn invitation_candidates(
        &self,
        now: i64,
        grace: i64,
    ) -> Result<Vec<InvitationRecord>, StoreError> {
        self.with(|c| {
            let mut stmt = c.prepare(
                "SELECT * FROM invitations WHERE used_at IS NULL AND burned_at IS NULL
                 AND expires_at > ?1",
            )?;
            let rows = stmt
                .query_map([now - grace], invitation_from_row)?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
    }

    fn invitations_issued_by(
        &self,
        user: &str,
        now: i64,
    ) -> Result<Vec<InvitationRecord>, StoreError> {
        self.with(|c| {
            let mut stmt = c.prepare(
                "SELECT * FROM invitations WHERE issued_by = ?1 AND expires_at > ?2
                 AND burned_at IS NULL",
            )?;
            let rows = stmt
                .query_map(params![user, now], invitation_from_row)?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
    }

    fn use_invitation(&self, id: i64, now: i64) -> Result<bool, StoreError> {
        self.with(|c| {
            let n = c.execute(
                "UPDATE invitations SET used_at = ?2 WHERE id = ?1 AND used_at IS NULL
                 AND burned_at IS NULL",
                params![id, now],
            )?;
            Ok(n == 1)
        })
    }

    fn record_failed_guess(&self, now: i64, burn_after: u32) -> Result<usize, StoreError> {
        self.with(|c| {
            let tx = c.unchecked_transaction()?;
            tx.execute(
                "UPDATE invitations SET failures = failures + 1
                 WHERE used_at IS NULL AND burned_at IS NULL AND expires_at > ?1",
                [now],
            )?;
            let burned = tx.execute(
                "UPDATE invitations SET burned_at = ?1
                 WHERE used_at IS NULL AND burned_at IS NULL AND failures >= ?2",
                params![now, burn_after],
            )?;
            tx.commit()?;
            Ok(burned)
        })
    }

    fn start_session(&self, s: &SessionRecord) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO sessions (id, ticket_id, technician, customer, started_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![s.id, s.ticket.0 as i64, s.technician, s.customer, s.started_at],
            )?;
            Ok(())
        })
    }

    fn end_session(&self, id: &str, now: i64, reason: &str) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "UPDATE sessions SET ended_at = ?2, end_reason = ?3 WHERE id = ?1 AND ended_at IS NULL",
                params![id, now, reason],
            )?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use tether_protocol::{Priority, UserRole};

    use super::*;

    fn store() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let s = SqliteStore::open(&dir.path().join("tether.db")).unwrap();
        (dir, s)
    }

    fn alice() -> UserRecord {
        UserRecord {
            name: "alice".into(),
            role: UserRole::Technician,
            skills: vec!["printers".into(), "vpn".into()],
            password_hash: "$argon2id$x".into(),
            disabled: false,
            created_at: 10,
        }
    }

    fn ticket(priority: Priority) -> NewTicket {
        NewTicket {
            channel: "agent".into(),
            client: "Bob".into(),
            contact: "bob@example.com".into(),
            issue: "printer on fire".into(),
            priority,
            status: TicketStatus::Queued,
        }
    }

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

    #[test]
    fn open_tickets_are_ordered_by_priority_then_age() {
        let (_d, s) = store();
        let low = s.create_ticket(&ticket(Priority::Low), 1).unwrap();
        let crit = s.create_ticket(&ticket(Priority::Critical), 2).unwrap();
        let high = s.create_ticket(&ticket(Priority::High), 3).unwrap();
        let ids: Vec<_> = s.open_tickets().unwrap().into_iter().map(|t| t.id).collect();
        assert_eq!(ids, vec![crit.id, high.id, low.id]);
        s.set_ticket_state(crit.id, TicketStatus::Closed, Some("alice"), 4).ok();
        // Foreign key: alice does not exist yet, so the update must fail and change nothing.
        assert_eq!(s.ticket(crit.id).unwrap().unwrap().status, TicketStatus::Queued);
        s.add_user(&alice()).unwrap();
        s.set_ticket_state(crit.id, TicketStatus::Closed, Some("alice"), 4).unwrap();
        assert_eq!(s.open_tickets().unwrap().len(), 2);
    }

    #[test]
    fn invitations_are_single_use_and_burn_after_failures() {
        let (_d, s) = store();
        s.add_user(&alice()).unwrap();
        let t = s.create_ticket(&ticket(Priority::Low), 1).unwrap();
        let inv = |hash: &[u8]| InvitationRecord {
            id: 0,
            code_hash: hash.to_vec(),
            ticket: t.id,
            issued_by: "alice".into(),
            expires_at: 1000,
            used_at: None,
        };
        s.add_invitation(&inv(b"a"), 1).unwrap();
        s.add_invitation(&inv(b"b"), 1).unwrap();
        let c = s.invitation_candidates(10, 0).unwrap();
        assert_eq!(c.len(), 2);
        assert!(s.use_invitation(c[0].id, 11).unwrap());
        assert!(!s.use_invitation(c[0].id, 12).unwrap(), "single use");
        assert_eq!(s.invitation_candidates(10, 0).unwrap().len(), 1);
        assert_eq!(s.invitations_issued_by("alice", 10).unwrap().len(), 2);
        for _ in 0..2 {
            assert_eq!(s.record_failed_guess(20, 3).unwrap(), 0);
        }
        assert_eq!(s.record_failed_guess(20, 3).unwrap(), 1, "third failure burns b");
        assert!(s.invitation_candidates(20, 0).unwrap().is_empty());
        assert!(!s.use_invitation(c[1].id, 21).unwrap(), "burned codes cannot be used");
        // Expiry with grace: still a candidate 50 s after expiry with a 60 s grace.
        s.add_invitation(&inv(b"c"), 1).unwrap();
        assert_eq!(s.invitation_candidates(1050, 60).unwrap().len(), 1);
        assert!(s.invitation_candidates(1050, 0).unwrap().is_empty());
    }

    #[test]
    fn sessions_start_and_end_once() {
        let (_d, s) = store();
        s.add_user(&alice()).unwrap();
        let t = s.create_ticket(&ticket(Priority::Low), 1).unwrap();
        let rec = SessionRecord {
            id: "s1".into(),
            ticket: t.id,
            technician: "alice".into(),
            customer: "Bob".into(),
            started_at: 5,
        };
        s.start_session(&rec).unwrap();
        assert!(s.start_session(&rec).is_err(), "ids are unique");
        s.end_session("s1", 9, "done").unwrap();
        s.end_session("s1", 10, "again").unwrap();
        let (ended, reason): (i64, String) = s
            .with(|c| {
                Ok(c.query_row("SELECT ended_at, end_reason FROM sessions", [], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })?)
            })
            .unwrap();
        assert_eq!((ended, reason.as_str()), (9, "done"));
    }

    #[test]
    fn reopening_keeps_data() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tether.db");
        SqliteStore::open(&path).unwrap().add_user(&alice()).unwrap();
        assert!(SqliteStore::open(&path).unwrap().user("alice").unwrap().is_some());
    }
}
