//! Onsite visits and their logs in SQLite.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, Row, params};
use tether_protocol::TicketId;

use super::{Db, SqliteStore};
use crate::{Onsite, OnsiteEntry, StoreError, VisitRecord};

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

impl Db {
    pub(super) fn set_visit(&self, v: &VisitRecord) -> Result<(), StoreError> {
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

    pub(super) fn visit(&self, ticket: TicketId) -> Result<Option<VisitRecord>, StoreError> {
        self.with(|c| {
            Ok(c.query_row(
                "SELECT * FROM onsite_visits WHERE ticket_id = ?1",
                [ticket.0 as i64],
                visit_from_row,
            )
            .optional()?)
        })
    }

    pub(super) fn set_visit_technician(
        &self,
        ticket: TicketId,
        name: &str,
    ) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "UPDATE onsite_visits SET technician = ?2 WHERE ticket_id = ?1",
                params![ticket.0 as i64, name],
            )?;
            Ok(())
        })
    }

    pub(super) fn set_eta(&self, ticket: TicketId, eta: i64) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "UPDATE onsite_visits SET eta = ?2 WHERE ticket_id = ?1",
                params![ticket.0 as i64, eta],
            )?;
            Ok(())
        })
    }

    pub(super) fn sign_off(&self, ticket: TicketId, name: &str, at: i64) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "UPDATE onsite_visits SET signed_by = ?2, signed_at = ?3 WHERE ticket_id = ?1",
                params![ticket.0 as i64, name, at],
            )?;
            Ok(())
        })
    }

    pub(super) fn add_onsite_entry(&self, e: &OnsiteEntry) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO onsite_entries (ticket_id, at, actor, kind, text, file, sha256)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![e.ticket.0 as i64, e.at, e.actor, e.kind, e.text, e.file, e.sha256],
            )?;
            Ok(())
        })
    }

    pub(super) fn onsite_entries(&self, ticket: TicketId) -> Result<Vec<OnsiteEntry>, StoreError> {
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

#[async_trait]
impl Onsite for SqliteStore {
    async fn set_visit(&self, visit: &VisitRecord) -> Result<(), StoreError> {
        let visit = visit.to_owned();
        self.run(move |db| db.set_visit(&visit)).await
    }

    async fn visit(&self, ticket: TicketId) -> Result<Option<VisitRecord>, StoreError> {
        self.run(move |db| db.visit(ticket)).await
    }

    async fn set_visit_technician(&self, ticket: TicketId, name: &str) -> Result<(), StoreError> {
        let name = name.to_owned();
        self.run(move |db| db.set_visit_technician(ticket, &name)).await
    }

    async fn set_eta(&self, ticket: TicketId, eta: i64) -> Result<(), StoreError> {
        self.run(move |db| db.set_eta(ticket, eta)).await
    }

    async fn sign_off(&self, ticket: TicketId, name: &str, at: i64) -> Result<(), StoreError> {
        let name = name.to_owned();
        self.run(move |db| db.sign_off(ticket, &name, at)).await
    }

    async fn add_onsite_entry(&self, entry: &OnsiteEntry) -> Result<(), StoreError> {
        let entry = entry.to_owned();
        self.run(move |db| db.add_onsite_entry(&entry)).await
    }

    async fn onsite_entries(&self, ticket: TicketId) -> Result<Vec<OnsiteEntry>, StoreError> {
        self.run(move |db| db.onsite_entries(ticket)).await
    }
}
