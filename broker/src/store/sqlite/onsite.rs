//! Onsite visits and their logs in SQLite.

use rusqlite::{OptionalExtension, Row, params};
use tether_protocol::TicketId;

use super::SqliteStore;
use crate::store::{Onsite, OnsiteEntry, StoreError, VisitRecord};

fn visit_from_row(row: &Row<'_>) -> rusqlite::Result<VisitRecord> {
    let ticket: i64 = row.get("ticket_id")?;
    Ok(VisitRecord {
        ticket: TicketId(ticket as u64),
        window_start: row.get("window_start")?,
        window_end: row.get("window_end")?,
        address: row.get("address")?,
        lat: row.get("lat")?,
        lon: row.get("lon")?,
        access: row.get("access")?,
        contact_confirmed: row.get("contact_confirmed")?,
        technician: row.get("technician")?,
        eta: row.get("eta")?,
        signed_off: match (
            row.get::<_, Option<String>>("signed_by")?,
            row.get::<_, Option<i64>>("signed_at")?,
        ) {
            (Some(name), Some(at)) => Some((name, at)),
            _ => None,
        },
    })
}

impl Onsite for SqliteStore {
    fn set_visit(&self, v: &VisitRecord) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO onsite_visits (ticket_id, window_start, window_end, address, lat, lon,
                 access, contact_confirmed) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT(ticket_id) DO UPDATE SET window_start = ?2, window_end = ?3,
                 address = ?4, lat = ?5, lon = ?6, access = ?7, contact_confirmed = ?8",
                params![
                    v.ticket.0 as i64,
                    v.window_start,
                    v.window_end,
                    v.address,
                    v.lat,
                    v.lon,
                    v.access,
                    v.contact_confirmed
                ],
            )?;
            Ok(())
        })
    }

    fn visit(&self, ticket: TicketId) -> Result<Option<VisitRecord>, StoreError> {
        self.with(|c| {
            Ok(c.query_row(
                "SELECT * FROM onsite_visits WHERE ticket_id = ?1",
                [ticket.0 as i64],
                visit_from_row,
            )
            .optional()?)
        })
    }

    fn set_visit_technician(&self, ticket: TicketId, name: &str) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "UPDATE onsite_visits SET technician = ?2 WHERE ticket_id = ?1",
                params![ticket.0 as i64, name],
            )?;
            Ok(())
        })
    }

    fn set_eta(&self, ticket: TicketId, eta: i64) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "UPDATE onsite_visits SET eta = ?2 WHERE ticket_id = ?1",
                params![ticket.0 as i64, eta],
            )?;
            Ok(())
        })
    }

    fn sign_off(&self, ticket: TicketId, name: &str, at: i64) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "UPDATE onsite_visits SET signed_by = ?2, signed_at = ?3 WHERE ticket_id = ?1",
                params![ticket.0 as i64, name, at],
            )?;
            Ok(())
        })
    }

    fn add_onsite_entry(&self, e: &OnsiteEntry) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO onsite_entries (ticket_id, at, actor, kind, text, file, sha256)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![e.ticket.0 as i64, e.at, e.actor, e.kind, e.text, e.file, e.sha256],
            )?;
            Ok(())
        })
    }

    fn onsite_entries(&self, ticket: TicketId) -> Result<Vec<OnsiteEntry>, StoreError> {
        self.with(|c| {
            let mut stmt = c.prepare(
                "SELECT at, actor, kind, text, file, sha256 FROM onsite_entries WHERE ticket_id = ?1 ORDER BY id",
            )?;
            let rows = stmt
                .query_map([ticket.0 as i64], |r| {
                    Ok(OnsiteEntry {
                        ticket,
                        at: r.get(0)?,
                        actor: r.get(1)?,
                        kind: r.get(2)?,
                        text: r.get(3)?,
                        file: r.get(4)?,
                        sha256: r.get(5)?,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
    }
}

#[cfg(test)]
mod tests {
    use tether_protocol::Priority;

    use super::super::fixtures::*;
    use crate::store::{Accounts, Onsite, OnsiteEntry, Tickets, VisitRecord};

    #[test]
    fn a_visit_is_scheduled_dispatched_logged_and_signed() {
        let (_d, s) = store();
        s.add_user(&alice()).unwrap();
        let t = s.create_ticket(&ticket(Priority::High), 1).unwrap();
        let visit = VisitRecord {
            ticket: t.id,
            window_start: 100,
            window_end: 200,
            address: "1 Main St".into(),
            lat: 52.5,
            lon: 13.4,
            access: "badge at reception".into(),
            contact_confirmed: true,
            technician: None,
            eta: None,
            signed_off: None,
        };
        s.set_visit(&visit).unwrap();
        s.set_visit_technician(t.id, "alice").unwrap();
        s.set_eta(t.id, 150).unwrap();
        s.add_onsite_entry(&OnsiteEntry {
            ticket: t.id,
            at: 160,
            actor: "alice".into(),
            kind: "part".into(),
            text: "fuser unit".into(),
            file: None,
            sha256: None,
        })
        .unwrap();
        s.sign_off(t.id, "Bob", 170).unwrap();
        let v = s.visit(t.id).unwrap().unwrap();
        assert_eq!((v.technician.as_deref(), v.eta), (Some("alice"), Some(150)));
        assert_eq!(v.signed_off, Some(("Bob".into(), 170)));
        assert_eq!(s.onsite_entries(t.id).unwrap()[0].text, "fuser unit");
    }
}
