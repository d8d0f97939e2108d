//! Sessions and their transcript seals in SQLite.

use rusqlite::{OptionalExtension, Row, params};
use tether_protocol::TicketId;

use super::SqliteStore;
use crate::store::{SessionFilter, SessionRecord, SessionRow, Sessions, StoreError};

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

impl Sessions for SqliteStore {
    fn start_session(&self, s: &SessionRecord) -> Result<(), StoreError> {
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

    fn seal_session(&self, id: &str, records: u64, hash: &str) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "UPDATE sessions SET sealed_records = ?2, sealed_hash = ?3 WHERE id = ?1",
                params![id, records as i64, hash],
            )?;
            Ok(())
        })
    }

    fn session(&self, id: &str) -> Result<Option<SessionRow>, StoreError> {
        self.with(|c| {
            Ok(c.query_row("SELECT * FROM sessions WHERE id = ?1", [id], session_from_row)
                .optional()?)
        })
    }

    fn sessions(&self, f: &SessionFilter) -> Result<Vec<SessionRow>, StoreError> {
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

    fn close_unfinished(&self, now: i64, reason: &str) -> Result<Vec<SessionRow>, StoreError> {
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
    use tether_protocol::Priority;

    use super::super::fixtures::*;
    use crate::store::{Accounts, SessionFilter, SessionRecord, Sessions, Tickets};

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
            transcript: Some("s1.jsonl".into()),
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
    fn sessions_filter_seal_and_recover() {
        let (_d, s) = store();
        s.add_user(&alice()).unwrap();
        let t1 = s.create_ticket(&ticket(Priority::Low), 1).unwrap();
        let t2 = s.create_ticket(&ticket(Priority::Low), 1).unwrap();
        let rec = |id: &str, ticket, at| SessionRecord {
            id: id.into(),
            ticket,
            technician: "alice".into(),
            customer: "Bob".into(),
            started_at: at,
            transcript: None,
        };
        s.start_session(&rec("a", t1.id, 10)).unwrap();
        s.start_session(&rec("b", t2.id, 20)).unwrap();
        s.start_session(&rec("c", t1.id, 30)).unwrap();
        let ids = |f: SessionFilter| -> Vec<String> {
            s.sessions(&f).unwrap().into_iter().map(|r| r.start.id).collect()
        };
        assert_eq!(ids(SessionFilter::default()), ["c", "b", "a"]);
        assert_eq!(ids(SessionFilter { ticket: Some(t1.id), ..Default::default() }), ["c", "a"]);
        assert_eq!(ids(SessionFilter { since: Some(20), ..Default::default() }), ["c", "b"]);
        assert!(
            ids(SessionFilter { technician: Some("bob".into()), ..Default::default() }).is_empty()
        );
        s.end_session("a", 15, "done").unwrap();
        s.seal_session("a", 12, "abcd").unwrap();
        let a = s.session("a").unwrap().unwrap();
        assert_eq!((a.sealed_records, a.sealed_hash.as_deref()), (Some(12), Some("abcd")));
        assert!(a.summary().sealed);
        let open: Vec<_> = s
            .close_unfinished(99, "broker stopped")
            .unwrap()
            .into_iter()
            .map(|r| r.start.id)
            .collect();
        assert_eq!(open.len(), 2);
        assert_eq!(s.session("b").unwrap().unwrap().end_reason.as_deref(), Some("broker stopped"));
        assert!(s.close_unfinished(100, "again").unwrap().is_empty());
    }
}
