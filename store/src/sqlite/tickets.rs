//! Tickets and their history in SQLite.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, params};
use tether_protocol::{TicketId, TicketStatus};

use super::{Db, QUEUE_ORDER, SqliteStore, ticket_from_row};
use tether_protocol::TicketFilter;

use crate::{
    CheckRecord, Confirmation, NewTicket, StoreError, TicketEvent, TicketRecord, TicketScope,
    Tickets,
};

/// A filter and a scope as SQL over `tickets` (or `tickets_v`), with [`matching`]'s parameters.
const MATCHING: &str = "(?1 OR status != 'closed')
    AND (?2 IS NULL OR status = ?2)
    AND (?3 IS NULL OR priority = ?3)
    AND (?4 IS NULL OR assigned_to = ?4)
    AND (NOT ?5 OR (responded_at IS NULL AND deadline_at <= ?6) OR responded_at > deadline_at)
    AND (?7 IS NULL OR assigned_to IS NULL OR assigned_to = ?7)";

/// The parameters of [`MATCHING`].
fn matching(f: &TicketFilter, scope: &TicketScope, now: i64) -> impl rusqlite::Params {
    let own = match scope {
        TicketScope::All => None,
        TicketScope::OwnOrUnassigned(name) => Some(name.clone()),
    };
    (
        f.include_closed,
        f.status.map(|s| s.name()),
        f.priority.map(|p| p.name()),
        f.assigned_to.clone(),
        f.breached,
        now,
        own,
    )
}

impl Db {
    pub(super) fn set_resolution(
        &self,
        id: TicketId,
        text: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "UPDATE tickets SET resolution = ?2, status = 'resolved', confirmed = NULL,
                 updated_at = ?3 WHERE id = ?1",
                params![id.0 as i64, text, now],
            )?;
            Ok(())
        })
    }

    pub(super) fn set_confirmed(
        &self,
        id: TicketId,
        c: &Confirmation,
        now: i64,
    ) -> Result<(), StoreError> {
        let (status, done) = if c.solved {
            (TicketStatus::Closed, Some(now))
        } else {
            (TicketStatus::Assigned, None)
        };
        self.with(|db| {
            db.execute(
                "UPDATE tickets SET confirmed = ?2, status = ?3, updated_at = ?4,
                 resolved_at = ?5, closed_at = ?5, rating = ?6, comment = ?7 WHERE id = ?1",
                params![id.0 as i64, c.solved, status.name(), now, done, c.rating, c.comment],
            )?;
            Ok(())
        })
    }

    pub(super) fn close_unconfirmed(
        &self,
        id: TicketId,
        reason: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "UPDATE tickets SET status = 'closed', closed_at = ?2, close_reason = ?3, updated_at = ?2
                 WHERE id = ?1",
                params![id.0 as i64, now, reason],
            )?;
            Ok(())
        })
    }

    pub(super) fn set_priority(
        &self,
        id: TicketId,
        priority: tether_protocol::Priority,
        deadline_at: Option<i64>,
        now: i64,
    ) -> Result<(), StoreError> {
        self.with(|c| {
            // A new deadline may be warned about and breached afresh.
            c.execute(
                "UPDATE tickets SET priority = ?2, deadline_at = ?3, warned_at = NULL,
                 breached_at = NULL, updated_at = ?4 WHERE id = ?1",
                params![id.0 as i64, priority.name(), deadline_at, now],
            )?;
            Ok(())
        })
    }

    pub(super) fn mark_responded(&self, id: TicketId, at: i64) -> Result<bool, StoreError> {
        self.with(|c| {
            let n = c.execute(
                "UPDATE tickets SET responded_at = ?2 WHERE id = ?1 AND responded_at IS NULL",
                params![id.0 as i64, at],
            )?;
            Ok(n == 1)
        })
    }

    pub(super) fn mark_alerted(
        &self,
        id: TicketId,
        breached: bool,
        at: i64,
    ) -> Result<(), StoreError> {
        let column = if breached { "breached_at" } else { "warned_at" };
        self.with(|c| {
            c.execute(
                &format!("UPDATE tickets SET {column} = ?2 WHERE id = ?1"),
                params![id.0 as i64, at],
            )?;
            Ok(())
        })
    }

    pub(super) fn set_follow_up(
        &self,
        id: TicketId,
        due: i64,
        note: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "UPDATE tickets SET follow_up_at = ?2, follow_up_note = ?3, updated_at = ?4 WHERE id = ?1",
                params![id.0 as i64, due, note, now],
            )?;
            Ok(())
        })
    }

    pub(super) fn list_tickets(
        &self,
        f: &TicketFilter,
        now: i64,
    ) -> Result<Vec<TicketRecord>, StoreError> {
        self.with(|c| {
            let mut stmt = c.prepare(&format!(
                "SELECT * FROM tickets_v WHERE {MATCHING} ORDER BY {QUEUE_ORDER}"
            ))?;
            let rows = stmt
                .query_map(matching(f, &TicketScope::All, now), ticket_from_row)?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
    }

    pub(super) fn ticket_page(
        &self,
        f: &TicketFilter,
        scope: &TicketScope,
        offset: usize,
        limit: usize,
        now: i64,
    ) -> Result<(Vec<TicketRecord>, usize), StoreError> {
        self.with(|c| {
            let tx = c.unchecked_transaction()?;
            let total: i64 = tx.query_row(
                &format!("SELECT COUNT(*) FROM tickets WHERE {MATCHING}"),
                matching(f, scope, now),
                |r| r.get(0),
            )?;
            // The page is chosen on the table; only its rows go through the view, whose
            // bandwidth verdict is a subquery a row.
            let mut stmt = tx.prepare(&format!(
                "SELECT * FROM tickets_v WHERE id IN
                   (SELECT id FROM tickets WHERE {MATCHING} ORDER BY {QUEUE_ORDER}
                    LIMIT {limit} OFFSET {offset})
                 ORDER BY {QUEUE_ORDER}"
            ))?;
            let rows = stmt
                .query_map(matching(f, scope, now), ticket_from_row)?
                .collect::<Result<Vec<_>, _>>()?;
            drop(stmt);
            tx.commit()?;
            Ok((rows, usize::try_from(total).unwrap_or(0)))
        })
    }

    pub(super) fn tickets_logged(
        &self,
        from: i64,
        to: i64,
    ) -> Result<Vec<TicketRecord>, StoreError> {
        self.with(|c| {
            let mut stmt = c.prepare(
                "SELECT * FROM tickets_v WHERE created_at >= ?1 AND created_at < ?2 AND spam = 0
                 ORDER BY id",
            )?;
            let rows = stmt
                .query_map(params![from, to], ticket_from_row)?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
    }

    pub(super) fn add_ticket_event(&self, e: &TicketEvent) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO ticket_events (ticket_id, at, actor, kind, detail)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![e.ticket.0 as i64, e.at, e.actor, e.kind, e.detail],
            )?;
            Ok(())
        })
    }

    pub(super) fn ticket_events(&self, id: TicketId) -> Result<Vec<TicketEvent>, StoreError> {
        self.with(|c| {
            let mut stmt = c.prepare(
                "SELECT at, actor, kind, detail FROM ticket_events WHERE ticket_id = ?1 ORDER BY id",
            )?;
            let rows = stmt
                .query_map([id.0 as i64], |r| {
                    Ok(TicketEvent {
                        ticket: id,
                        at: r.get(0)?,
                        actor: r.get(1)?,
                        kind: r.get(2)?,
                        detail: r.get(3)?,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
    }

    pub(super) fn create_ticket(
        &self,
        t: &NewTicket,
        now: i64,
    ) -> Result<TicketRecord, StoreError> {
        self.with(|c| {
            let row = c.query_row(
                "INSERT INTO tickets (channel, client, contact, issue, priority, status,
                                      created_at, updated_at, skills, deadline_at,
                                      claimed_priority, source)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?8, ?9, ?10, ?11) RETURNING id",
                params![
                    t.channel,
                    t.client,
                    t.contact,
                    t.issue,
                    t.priority.name(),
                    t.status.name(),
                    now,
                    t.skills.join(","),
                    t.deadline_at,
                    t.claimed_priority.map(|p| p.name()),
                    t.source,
                ],
                |r| r.get::<_, i64>(0),
            )?;
            Ok(c.query_row("SELECT * FROM tickets_v WHERE id = ?1", [row], ticket_from_row)?)
        })
    }

    pub(super) fn add_check(&self, check: &CheckRecord) -> Result<(), StoreError> {
        let m = &check.result.measurement;
        self.with(|c| {
            c.execute(
                "INSERT INTO bandwidth_checks (ticket_id, role, name, at, rtt_ms, jitter_ms,
                 download_mbps, upload_mbps, verdict, reasons)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![
                    check.ticket.0 as i64,
                    check.role.name(),
                    check.name,
                    check.at,
                    m.rtt_ms,
                    m.jitter_ms,
                    m.download_mbps,
                    m.upload_mbps,
                    check.result.verdict.name(),
                    check.result.reasons.join("; "),
                ],
            )?;
            Ok(())
        })
    }

    pub(super) fn ticket(&self, id: TicketId) -> Result<Option<TicketRecord>, StoreError> {
        self.with(|c| {
            Ok(c.query_row("SELECT * FROM tickets_v WHERE id = ?1", [id.0 as i64], ticket_from_row)
                .optional()?)
        })
    }

    pub(super) fn open_tickets(&self) -> Result<Vec<TicketRecord>, StoreError> {
        self.with(|c| {
            let mut stmt = c.prepare(&format!(
                "SELECT * FROM tickets_v WHERE status NOT IN ('resolved', 'closed')
                 ORDER BY {QUEUE_ORDER}"
            ))?;
            let rows = stmt.query_map([], ticket_from_row)?.collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
    }

    pub(super) fn open_loads(
        &self,
    ) -> Result<std::collections::HashMap<String, usize>, StoreError> {
        self.with(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT assigned_to, COUNT(*) FROM tickets
                 WHERE status NOT IN ('resolved', 'closed') AND assigned_to IS NOT NULL
                 GROUP BY assigned_to",
            )?;
            let rows = stmt
                .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as usize)))?
                .collect::<Result<_, _>>()?;
            Ok(rows)
        })
    }

    pub(super) fn set_ticket_state(
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

    pub(super) fn mark_spam(
        &self,
        ids: &[TicketId],
        now: i64,
    ) -> Result<Vec<TicketId>, StoreError> {
        self.with(|c| {
            let tx = c.unchecked_transaction()?;
            let mut marked = Vec::new();
            for id in ids {
                let n = tx.execute(
                    "UPDATE tickets SET spam = 1, status = 'closed', closed_at = ?2,
                     close_reason = 'spam', updated_at = ?2 WHERE id = ?1 AND status != 'closed'",
                    params![id.0 as i64, now],
                )?;
                if n == 1 {
                    marked.push(*id);
                }
            }
            tx.commit()?;
            Ok(marked)
        })
    }

    pub(super) fn tickets_from(
        &self,
        source: &str,
        since: i64,
    ) -> Result<Vec<TicketId>, StoreError> {
        self.with(|c| {
            let mut stmt = c.prepare(
                "SELECT id FROM tickets WHERE source = ?1 AND created_at >= ?2 ORDER BY id",
            )?;
            let rows = stmt
                .query_map(params![source, since], |r| Ok(TicketId(r.get::<_, i64>(0)? as u64)))?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
    }
}

#[async_trait]
impl Tickets for SqliteStore {
    async fn create_ticket(
        &self,
        ticket: &NewTicket,
        now: i64,
    ) -> Result<TicketRecord, StoreError> {
        let ticket = ticket.to_owned();
        self.run(move |db| db.create_ticket(&ticket, now)).await
    }

    async fn ticket(&self, id: TicketId) -> Result<Option<TicketRecord>, StoreError> {
        self.run(move |db| db.ticket(id)).await
    }

    async fn open_tickets(&self) -> Result<Vec<TicketRecord>, StoreError> {
        self.run(move |db| db.open_tickets()).await
    }

    async fn open_loads(&self) -> Result<std::collections::HashMap<String, usize>, StoreError> {
        self.run(move |db| db.open_loads()).await
    }

    async fn set_ticket_state(
        &self,
        id: TicketId,
        status: TicketStatus,
        assigned_to: Option<&str>,
        now: i64,
    ) -> Result<(), StoreError> {
        let assigned_to = assigned_to.map(str::to_owned);
        self.run(move |db| db.set_ticket_state(id, status, assigned_to.as_deref(), now)).await
    }

    async fn set_resolution(&self, id: TicketId, text: &str, now: i64) -> Result<(), StoreError> {
        let text = text.to_owned();
        self.run(move |db| db.set_resolution(id, &text, now)).await
    }

    async fn set_confirmed(
        &self,
        id: TicketId,
        confirmation: &Confirmation,
        now: i64,
    ) -> Result<(), StoreError> {
        let confirmation = confirmation.to_owned();
        self.run(move |db| db.set_confirmed(id, &confirmation, now)).await
    }

    async fn close_unconfirmed(
        &self,
        id: TicketId,
        reason: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        let reason = reason.to_owned();
        self.run(move |db| db.close_unconfirmed(id, &reason, now)).await
    }

    async fn set_priority(
        &self,
        id: TicketId,
        priority: tether_protocol::Priority,
        deadline_at: Option<i64>,
        now: i64,
    ) -> Result<(), StoreError> {
        self.run(move |db| db.set_priority(id, priority, deadline_at, now)).await
    }

    async fn mark_responded(&self, id: TicketId, at: i64) -> Result<bool, StoreError> {
        self.run(move |db| db.mark_responded(id, at)).await
    }

    async fn mark_alerted(&self, id: TicketId, breached: bool, at: i64) -> Result<(), StoreError> {
        self.run(move |db| db.mark_alerted(id, breached, at)).await
    }

    async fn set_follow_up(
        &self,
        id: TicketId,
        due: i64,
        note: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        let note = note.to_owned();
        self.run(move |db| db.set_follow_up(id, due, &note, now)).await
    }

    async fn list_tickets(
        &self,
        filter: &TicketFilter,
        now: i64,
    ) -> Result<Vec<TicketRecord>, StoreError> {
        let filter = filter.to_owned();
        self.run(move |db| db.list_tickets(&filter, now)).await
    }

    async fn ticket_page(
        &self,
        filter: &TicketFilter,
        scope: &TicketScope,
        offset: usize,
        limit: usize,
        now: i64,
    ) -> Result<(Vec<TicketRecord>, usize), StoreError> {
        let (filter, scope) = (filter.to_owned(), scope.to_owned());
        self.run(move |db| db.ticket_page(&filter, &scope, offset, limit, now)).await
    }

    async fn tickets_logged(&self, from: i64, to: i64) -> Result<Vec<TicketRecord>, StoreError> {
        self.run(move |db| db.tickets_logged(from, to)).await
    }

    async fn add_check(&self, check: &CheckRecord) -> Result<(), StoreError> {
        let check = check.to_owned();
        self.run(move |db| db.add_check(&check)).await
    }

    async fn add_ticket_event(&self, event: &TicketEvent) -> Result<(), StoreError> {
        let event = event.to_owned();
        self.run(move |db| db.add_ticket_event(&event)).await
    }

    async fn ticket_events(&self, id: TicketId) -> Result<Vec<TicketEvent>, StoreError> {
        self.run(move |db| db.ticket_events(id)).await
    }

    async fn mark_spam(&self, ids: &[TicketId], now: i64) -> Result<Vec<TicketId>, StoreError> {
        let ids = ids.to_owned();
        self.run(move |db| db.mark_spam(&ids, now)).await
    }

    async fn tickets_from(&self, source: &str, since: i64) -> Result<Vec<TicketId>, StoreError> {
        let source = source.to_owned();
        self.run(move |db| db.tickets_from(&source, since)).await
    }
}
