//! Sessions and their transcript seals in SQLite.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, Row, params};
use tether_protocol::TicketId;

use super::{Db, SqliteStore};
use crate::{SessionFilter, SessionRecord, SessionRow, Sessions, StoreError};

fn session_from_row(row: &Row<'_>) -> rusqlite::Result<SessionRow> {
    let ticket: i64 = row.get("ticket_id")?;
    let sealed: Option<i64> = row.get("sealed_records")?;
    Ok(SessionRow {
        start: SessionRecord {
            id: row.get("id")?,
            ticket: TicketId(ticket as u64),
            technician: row.get("technician")?,
            customer: row.get("customer")?,
            started_at: row.get("started_at")?,
            transcript: row.get("transcript")?,
        },
        ended_at: row.get("ended_at")?,
        end_reason: row.get("end_reason")?,
        sealed_records: sealed.map(|n| n as u64),
        sealed_hash: row.get("sealed_hash")?,
    })
}

impl Db {
    pub(super) fn start_session(&self, s: &SessionRecord) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO sessions (id, ticket_id, technician, customer, started_at, transcript)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    s.id,
                    s.ticket.0 as i64,
                    s.technician,
                    s.customer,
                    s.started_at,
                    s.transcript
                ],
            )?;
            Ok(())
        })
    }

    pub(super) fn seal_session(
        &self,
        id: &str,
        records: u64,
        hash: &str,
    ) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "UPDATE sessions SET sealed_records = ?2, sealed_hash = ?3 WHERE id = ?1",
                params![id, records as i64, hash],
            )?;
            Ok(())
        })
    }

    pub(super) fn session(&self, id: &str) -> Result<Option<SessionRow>, StoreError> {
        self.with(|c| {
            Ok(c.query_row("SELECT * FROM sessions WHERE id = ?1", [id], session_from_row)
                .optional()?)
        })
    }

    pub(super) fn sessions(&self, f: &SessionFilter) -> Result<Vec<SessionRow>, StoreError> {
        self.with(|c| {
            let mut stmt = c.prepare(
                "SELECT * FROM sessions
                 WHERE (?1 IS NULL OR started_at >= ?1)
                   AND (?2 IS NULL OR ticket_id = ?2)
                   AND (?3 IS NULL OR technician = ?3)
                 ORDER BY started_at DESC, id DESC",
            )?;
            let ticket = f.ticket.map(|t| t.0 as i64);
            let rows = stmt
                .query_map(params![f.since, ticket, f.technician], session_from_row)?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
    }

    pub(super) fn close_unfinished(
        &self,
        now: i64,
        reason: &str,
    ) -> Result<Vec<SessionRow>, StoreError> {
        self.with(|c| {
            let mut stmt = c.prepare("SELECT * FROM sessions WHERE ended_at IS NULL")?;
            let open = stmt.query_map([], session_from_row)?.collect::<Result<Vec<_>, _>>()?;
            c.execute(
                "UPDATE sessions SET ended_at = ?1, end_reason = ?2 WHERE ended_at IS NULL",
                params![now, reason],
            )?;
            Ok(open)
        })
    }

    pub(super) fn end_session(&self, id: &str, now: i64, reason: &str) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "UPDATE sessions SET ended_at = ?2, end_reason = ?3 WHERE id = ?1 AND ended_at IS NULL",
                params![id, now, reason],
            )?;
            Ok(())
        })
    }
}

#[async_trait]
impl Sessions for SqliteStore {
    async fn start_session(&self, session: &SessionRecord) -> Result<(), StoreError> {
        let session = session.to_owned();
        self.run(move |db| db.start_session(&session)).await
    }

    async fn end_session(&self, id: &str, now: i64, reason: &str) -> Result<(), StoreError> {
        let id = id.to_owned();
        let reason = reason.to_owned();
        self.run(move |db| db.end_session(&id, now, &reason)).await
    }

    async fn seal_session(&self, id: &str, records: u64, hash: &str) -> Result<(), StoreError> {
        let id = id.to_owned();
        let hash = hash.to_owned();
        self.run(move |db| db.seal_session(&id, records, &hash)).await
    }

    async fn session(&self, id: &str) -> Result<Option<SessionRow>, StoreError> {
        let id = id.to_owned();
        self.run(move |db| db.session(&id)).await
    }

    async fn sessions(&self, filter: &SessionFilter) -> Result<Vec<SessionRow>, StoreError> {
        let filter = filter.to_owned();
        self.run(move |db| db.sessions(&filter)).await
    }

    async fn close_unfinished(
        &self,
        now: i64,
        reason: &str,
    ) -> Result<Vec<SessionRow>, StoreError> {
        let reason = reason.to_owned();
        self.run(move |db| db.close_unfinished(now, &reason)).await
    }
}
