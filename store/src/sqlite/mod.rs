//! The embedded store: one SQLite file in the data directory, WAL mode, schema versioned with
//! `PRAGMA user_version` and refused when newer than this code.
//!
//! [`SqliteStore`] implements the async traits by running each call on tokio's blocking pool
//! against [`Db`], the connection behind a mutex, whose plain methods (one file per area) hold
//! the SQL.

use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, Row};
use tether_protocol::TicketId;

use crate::{InvitationRecord, StoreError, TicketRecord, UserRecord};

mod accounts;
mod codes;
mod links;
mod onsite;
mod sessions;
mod tickets;

/// Migrations in order; the database's `user_version` counts how many have run.
const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/001_initial.sql"),
    include_str!("../../migrations/002_transcripts.sql"),
    include_str!("../../migrations/003_bandwidth.sql"),
    include_str!("../../migrations/004_desk.sql"),
    include_str!("../../migrations/005_access.sql"),
    include_str!("../../migrations/006_intake.sql"),
    include_str!("../../migrations/007_links.sql"),
];

/// The embedded store.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    db: Arc<Db>,
}

impl SqliteStore {
    /// Opens (creating and migrating if needed) the database at `path`.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        Ok(SqliteStore { db: Arc::new(Db::open(path)?) })
    }

    /// Runs `f` against the database on the blocking pool, so that no store call ever stalls
    /// an async task.
    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Db) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || f(&db))
            .await
            .map_err(|e| StoreError::Task(e.to_string()))?
    }
}

/// SQLite behind a mutex. Every call is short.
#[derive(Debug)]
pub(crate) struct Db {
    conn: Mutex<Connection>,
}

impl Db {
    fn open(path: &Path) -> Result<Db, StoreError> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        let version: usize = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if version > MIGRATIONS.len() {
            return Err(StoreError::Corrupt(format!(
                "database schema version {version} is newer than this broker ({})",
                MIGRATIONS.len()
            )));
        }
        for (i, migration) in MIGRATIONS.iter().enumerate().skip(version) {
            conn.execute_batch(&format!(
                "BEGIN; {migration} PRAGMA user_version = {}; COMMIT;",
                i + 1
            ))?;
        }
        Ok(Db { conn: Mutex::new(conn) })
    }

    pub(super) fn with<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        // A poisoned lock means a panic mid-call; SQLite's own transaction state is still sound.
        let conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        f(&conn)
    }
}

pub(super) fn corrupt<E: std::fmt::Display>(e: E) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, e.to_string().into())
}

pub(super) fn user_from_row(row: &Row<'_>) -> rusqlite::Result<UserRecord> {
    let role: String = row.get("role")?;
    let skills: String = row.get("skills")?;
    Ok(UserRecord {
        name: row.get("name")?,
        role: role.parse().map_err(corrupt)?,
        skills: split_tags(&skills),
        password_hash: row.get("password_hash")?,
        disabled: row.get("disabled")?,
        created_at: row.get("created_at")?,
        availability: {
            let a: String = row.get("availability")?;
            a.parse().map_err(corrupt)?
        },
        location: match (row.get::<_, Option<f64>>("lat")?, row.get::<_, Option<f64>>("lon")?) {
            (Some(lat), Some(lon)) => Some((lat, lon)),
            _ => None,
        },
        failed_logins: row.get("failed_logins")?,
        locked_until: row.get("locked_until")?,
    })
}

/// Skill tags as stored: comma-separated.
pub(super) fn split_tags(s: &str) -> Vec<String> {
    s.split(',').filter(|s| !s.is_empty()).map(str::to_string).collect()
}

pub(super) fn ticket_from_row(row: &Row<'_>) -> rusqlite::Result<TicketRecord> {
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
        resolution: row.get("resolution")?,
        confirmed: row.get("confirmed")?,
        bandwidth: {
            let v: Option<String> = row.get("bandwidth")?;
            v.map(|v| parse_verdict(&v)).transpose().map_err(corrupt)?
        },
        skills: split_tags(&row.get::<_, String>("skills")?),
        deadline_at: row.get("deadline_at")?,
        responded_at: row.get("responded_at")?,
        resolved_at: row.get("resolved_at")?,
        closed_at: row.get("closed_at")?,
        close_reason: row.get("close_reason")?,
        rating: row.get("rating")?,
        comment: row.get("comment")?,
        follow_up: match (
            row.get::<_, Option<i64>>("follow_up_at")?,
            row.get::<_, Option<String>>("follow_up_note")?,
        ) {
            (Some(at), note) => Some((at, note.unwrap_or_default())),
            _ => None,
        },
        warned_at: row.get("warned_at")?,
        breached_at: row.get("breached_at")?,
        claimed_priority: {
            let p: Option<String> = row.get("claimed_priority")?;
            p.map(|p| p.parse()).transpose().map_err(corrupt)?
        },
        source: row.get("source")?,
        spam: row.get("spam")?,
    })
}

pub(super) fn invitation_from_row(row: &Row<'_>) -> rusqlite::Result<InvitationRecord> {
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

/// A stored verdict name.
pub(super) fn parse_verdict(s: &str) -> Result<tether_protocol::Verdict, String> {
    match s {
        "pass" => Ok(tether_protocol::Verdict::Pass),
        "warn" => Ok(tether_protocol::Verdict::Warn),
        "fail" => Ok(tether_protocol::Verdict::Fail),
        other => Err(format!("unknown verdict {other:?}")),
    }
}

/// The queue's order: most urgent priority, then the soonest deadline, then the oldest.
pub(super) const QUEUE_ORDER: &str = "CASE priority WHEN 'critical' THEN 0 WHEN 'high' THEN 1 \
                                      WHEN 'medium' THEN 2 ELSE 3 END, \
                                      deadline_at IS NULL, deadline_at, created_at, id";
