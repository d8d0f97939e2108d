//! Tickets and their history in SQLite.

use rusqlite::{OptionalExtension, params};
use tether_protocol::{TicketId, TicketStatus};

use super::{QUEUE_ORDER, SqliteStore, ticket_from_row};
use tether_protocol::TicketFilter;

use crate::store::{
    CheckRecord, Confirmation, NewTicket, StoreError, TicketEvent, TicketRecord, Tickets,
};

impl Tickets for SqliteStore {
    fn set_resolution(&self, id: TicketId, text: &str, now: i64) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "UPDATE tickets SET resolution = ?2, status = 'resolved', confirmed = NULL,
                 updated_at = ?3 WHERE id = ?1",
                params![id.0 as i64, text, now],
            )?;
            Ok(())
        })
    }

    fn set_confirmed(&self, id: TicketId, c: &Confirmation, now: i64) -> Result<(), StoreError> {
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

    fn close_unconfirmed(&self, id: TicketId, reason: &str, now: i64) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "UPDATE tickets SET status = 'closed', closed_at = ?2, close_reason = ?3, updated_at = ?2
                 WHERE id = ?1",
                params![id.0 as i64, now, reason],
            )?;
            Ok(())
        })
    }

    fn set_priority(
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

    fn mark_responded(&self, id: TicketId, at: i64) -> Result<bool, StoreError> {
        self.with(|c| {
            let n = c.execute(
                "UPDATE tickets SET responded_at = ?2 WHERE id = ?1 AND responded_at IS NULL",
                params![id.0 as i64, at],
            )?;
            Ok(n == 1)
        })
    }

    fn mark_alerted(&self, id: TicketId, breached: bool, at: i64) -> Result<(), StoreError> {
        let column = if breached { "breached_at" } else { "warned_at" };
        self.with(|c| {
            c.execute(
                &format!("UPDATE tickets SET {column} = ?2 WHERE id = ?1"),
                params![id.0 as i64, at],
            )?;
            Ok(())
        })
    }

    fn set_follow_up(
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

    fn list_tickets(&self, f: &TicketFilter, now: i64) -> Result<Vec<TicketRecord>, StoreError> {
        self.with(|c| {
            let mut stmt = c.prepare(&format!(
                "SELECT * FROM tickets_v
                 WHERE (?1 OR status != 'closed')
                   AND (?2 IS NULL OR status = ?2)
                   AND (?3 IS NULL OR priority = ?3)
                   AND (?4 IS NULL OR assigned_to = ?4)
                   AND (NOT ?5 OR (responded_at IS NULL AND deadline_at <= ?6)
                        OR responded_at > deadline_at)
                 ORDER BY {QUEUE_ORDER}"
            ))?;
            let rows = stmt
                .query_map(
                    params![
                        f.include_closed,
                        f.status.map(|s| s.name()),
                        f.priority.map(|p| p.name()),
                        f.assigned_to,
                        f.breached,
                        now
                    ],
                    ticket_from_row,
                )?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
    }

    fn tickets_logged(&self, from: i64, to: i64) -> Result<Vec<TicketRecord>, StoreError> {
        self.with(|c| {
            let mut stmt = c.prepare(
                "SELECT * FROM tickets_v WHERE created_at >= ?1 AND created_at < ?2 ORDER BY id",
            )?;
            let rows = stmt
                .query_map(params![from, to], ticket_from_row)?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
    }

    fn add_ticket_event(&self, e: &TicketEvent) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO ticket_events (ticket_id, at, actor, kind, detail)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![e.ticket.0 as i64, e.at, e.actor, e.kind, e.detail],
            )?;
            Ok(())
        })
    }

    fn ticket_events(&self, id: TicketId) -> Result<Vec<TicketEvent>, StoreError> {
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

    fn create_ticket(&self, t: &NewTicket, now: i64) -> Result<TicketRecord, StoreError> {
        self.with(|c| {
            let row = c.query_row(
                "INSERT INTO tickets (channel, client, contact, issue, priority, status,
                                      created_at, updated_at, skills, deadline_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?8, ?9) RETURNING id",
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
                ],
                |r| r.get::<_, i64>(0),
            )?;
            Ok(c.query_row("SELECT * FROM tickets_v WHERE id = ?1", [row], ticket_from_row)?)
        })
    }

    fn add_check(&self, check: &CheckRecord) -> Result<(), StoreError> {
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

    fn ticket(&self, id: TicketId) -> Result<Option<TicketRecord>, StoreError> {
        self.with(|c| {
            Ok(c.query_row("SELECT * FROM tickets_v WHERE id = ?1", [id.0 as i64], ticket_from_row)
                .optional()?)
        })
    }

    fn open_tickets(&self) -> Result<Vec<TicketRecord>, StoreError> {
        self.with(|c| {
            let mut stmt = c.prepare(&format!(
                "SELECT * FROM tickets_v WHERE status NOT IN ('resolved', 'closed')
                 ORDER BY {QUEUE_ORDER}"
            ))?;
            let rows = stmt.query_map([], ticket_from_row)?.collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
    }

    fn open_loads(&self) -> Result<std::collections::HashMap<String, usize>, StoreError> {
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
}

#[cfg(test)]
mod tests {
    use tether_protocol::{
        CheckResult, Measurement, Priority, Role, TicketFilter, TicketId, TicketStatus, Verdict,
    };

    use super::super::fixtures::*;
    use crate::store::{Accounts, CheckRecord, Confirmation, TicketEvent, Tickets};

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
        // Loads count only open tickets, per owner.
        assert!(s.open_loads().unwrap().is_empty(), "the closed one does not count");
        s.set_ticket_state(low.id, TicketStatus::Assigned, Some("alice"), 5).unwrap();
        s.set_ticket_state(high.id, TicketStatus::Assigned, Some("alice"), 5).unwrap();
        assert_eq!(s.open_loads().unwrap().get("alice"), Some(&2));
    }

    #[test]
    fn the_latest_agent_check_is_the_tickets_bandwidth_verdict() {
        let (_d, s) = store();
        let t = s.create_ticket(&ticket(Priority::High), 1).unwrap();
        assert_eq!(t.bandwidth, None);
        let check = |role, verdict| CheckRecord {
            ticket: t.id,
            role,
            name: "x".into(),
            at: 2,
            result: CheckResult {
                measurement: Measurement {
                    rtt_ms: 1.0,
                    jitter_ms: 0.0,
                    download_mbps: 9.0,
                    upload_mbps: 9.0,
                },
                verdict,
                reasons: vec![],
            },
        };
        s.add_check(&check(Role::Agent, Verdict::Fail)).unwrap();
        s.add_check(&check(Role::Agent, Verdict::Pass)).unwrap();
        s.add_check(&check(Role::Console, Verdict::Fail)).unwrap();
        assert_eq!(s.ticket(t.id).unwrap().unwrap().bandwidth, Some(Verdict::Pass));
        assert_eq!(s.open_tickets().unwrap()[0].bandwidth, Some(Verdict::Pass));
    }

    #[test]
    fn lists_filter_by_breach_owner_and_closure() {
        let (_d, s) = store();
        s.add_user(&alice()).unwrap();
        let mut late = ticket(Priority::Critical);
        late.deadline_at = Some(100);
        let late = s.create_ticket(&late, 1).unwrap();
        let mut fine = ticket(Priority::Low);
        fine.deadline_at = Some(10_000);
        let fine = s.create_ticket(&fine, 1).unwrap();
        s.set_ticket_state(fine.id, TicketStatus::Assigned, Some("alice"), 2).unwrap();
        let ids = |f: TicketFilter, now| -> Vec<TicketId> {
            s.list_tickets(&f, now).unwrap().into_iter().map(|t| t.id).collect()
        };
        assert_eq!(ids(TicketFilter { breached: true, ..Default::default() }, 200), vec![late.id]);
        assert!(ids(TicketFilter { breached: true, ..Default::default() }, 50).is_empty());
        assert_eq!(
            ids(TicketFilter { assigned_to: Some("alice".into()), ..Default::default() }, 200),
            vec![fine.id]
        );
        s.mark_responded(late.id, 300).unwrap();
        assert_eq!(
            ids(TicketFilter { breached: true, ..Default::default() }, 400),
            vec![late.id],
            "answered late"
        );
        s.close_unconfirmed(late.id, "gone", 500).unwrap();
        assert_eq!(ids(TicketFilter::default(), 600), vec![fine.id]);
        assert_eq!(ids(TicketFilter { include_closed: true, ..Default::default() }, 600).len(), 2);
    }

    #[test]
    fn resolution_then_confirmation_closes_and_history_is_kept() {
        let (_d, s) = store();
        let t = s.create_ticket(&ticket(Priority::High), 1).unwrap();
        s.set_resolution(t.id, "replaced the toner", 5).unwrap();
        let r = s.ticket(t.id).unwrap().unwrap();
        assert_eq!(
            (r.status, r.resolution.as_deref(), r.confirmed),
            (TicketStatus::Resolved, Some("replaced the toner"), None)
        );
        s.set_confirmed(t.id, &Confirmation { solved: false, rating: None, comment: None }, 6)
            .unwrap();
        assert_eq!(
            s.ticket(t.id).unwrap().unwrap().status,
            TicketStatus::Assigned,
            "not solved reopens"
        );
        let yes = Confirmation { solved: true, rating: Some(4), comment: Some("quick".into()) };
        s.set_confirmed(t.id, &yes, 7).unwrap();
        let r = s.ticket(t.id).unwrap().unwrap();
        assert_eq!((r.status, r.confirmed), (TicketStatus::Closed, Some(true)));
        for (at, kind) in [(1, "created"), (7, "closed")] {
            s.add_ticket_event(&TicketEvent {
                ticket: t.id,
                at,
                actor: "alice".into(),
                kind: kind.into(),
                detail: String::new(),
            })
            .unwrap();
        }
        let kinds: Vec<_> = s.ticket_events(t.id).unwrap().into_iter().map(|e| e.kind).collect();
        assert_eq!(kinds, ["created", "closed"]);
    }
}
