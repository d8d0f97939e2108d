//! Onsite dispatch: an unresolved ticket becomes a visit with a time window, a site and its
//! access requirements; it goes to the nearest available technician with the skills (or one a
//! dispatcher names); the technician reports arrival times and delays (sent on to the client
//! through webhooks), logs actions, parts, equipment and attachments, and records the client's
//! sign-off, which is the client's confirmation: solved closes the ticket, not solved reopens it.

use base64::Engine;
use ring::digest;
use tether_access::{Action, Actor};
use tether_protocol::{Attachment, OnsiteEntryKind, TicketId, TicketStatus, UserRole};
use tether_store::{Confirmation, OnsiteEntry, TicketRecord, VisitRecord, unix_now};

use crate::error::required;
use crate::routing::{Candidate, pick_for_site};
use crate::{Desk, DeskError};

/// The largest attachment kept, in bytes.
const MAX_ATTACHMENT: usize = 512 * 1024;

/// A visit to schedule.
#[derive(Debug, Clone)]
pub struct Visit {
    /// Window start, Unix seconds.
    pub window_start: i64,
    /// Window end, Unix seconds.
    pub window_end: i64,
    /// The site's address.
    pub address: String,
    /// Degrees.
    pub lat: f64,
    /// Degrees.
    pub lon: f64,
    /// Access requirements.
    pub access: String,
    /// Whether the client confirmed the appointment.
    pub contact_confirmed: bool,
}

impl Desk {
    /// Schedules an onsite visit for `ticket`.
    pub async fn schedule_visit(
        &self,
        actor: &Actor,
        ticket: TicketId,
        visit: Visit,
    ) -> Result<(), DeskError> {
        let t = self.open_ticket(ticket).await?;
        self.check(actor, Action::WorkTicket(&t))?;
        if matches!(t.status, TicketStatus::Resolved | TicketStatus::OnsiteDone) {
            return Err(DeskError::Invalid(format!("{ticket} is already resolved")));
        }
        if visit.window_end <= visit.window_start {
            return Err(DeskError::Invalid("the visit window must end after it starts".into()));
        }
        if !(-90.0..=90.0).contains(&visit.lat) || !(-180.0..=180.0).contains(&visit.lon) {
            return Err(DeskError::Invalid("the site's coordinates are out of range".into()));
        }
        let record = VisitRecord {
            ticket,
            window_start: visit.window_start,
            window_end: visit.window_end,
            address: required(&visit.address, "the site address", 500)?,
            lat: visit.lat,
            lon: visit.lon,
            access: visit.access.trim().chars().take(1000).collect(),
            contact_confirmed: visit.contact_confirmed,
            technician: None,
            eta: None,
            signed_off: None,
        };
        let where_ = record.address.clone();
        self.store.set_visit(&record).await?;
        let state = TicketStatus::OnsiteScheduled;
        self.store.set_ticket_state(ticket, state, t.assigned_to.as_deref(), unix_now()).await?;
        let t = self.ticket(ticket).await?;
        let confirmed =
            if visit.contact_confirmed { "contact confirmed" } else { "contact not yet confirmed" };
        let (from, until) = (visit.window_start, visit.window_end);
        self.publish(
            "onsite_scheduled",
            &t,
            actor.name(),
            format!("visit to {where_}, {from}..{until}, {confirmed}"),
        );
        Ok(())
    }

    /// Sends `to` (or the nearest available technician with the skills) to `ticket`'s site;
    /// returns who goes and how they were chosen.
    pub async fn dispatch(
        &self,
        actor: &Actor,
        ticket: TicketId,
        to: Option<&str>,
    ) -> Result<(String, String), DeskError> {
        self.check(actor, Action::Dispatch)?;
        let t = self.open_ticket(ticket).await?;
        let visit = self.store.visit(ticket).await?.ok_or_else(|| {
            DeskError::Invalid(format!("{ticket} has no onsite visit; schedule one first"))
        })?;
        let users = self.store.users().await?;
        let (name, how) = match to {
            Some(name) => {
                if !users.iter().any(|u| u.name == name && !u.disabled) {
                    return Err(DeskError::NotFound(format!("no active user {name}")));
                }
                (name.to_string(), "chosen by the dispatcher".to_string())
            }
            None => {
                let open = self.store.open_tickets().await?;
                let candidates: Vec<Candidate<'_>> = users
                    .iter()
                    .filter(|u| u.role == UserRole::Technician)
                    .map(|u| Candidate {
                        user: u,
                        load: open
                            .iter()
                            .filter(|o| o.assigned_to.as_deref() == Some(&u.name))
                            .count(),
                        sessions: self.live.sessions_of(&u.name),
                    })
                    .collect();
                let site = (visit.lat, visit.lon);
                let (who, km) =
                    pick_for_site(&candidates, &t.skills, self.settings.max_sessions, site)
                        .ok_or_else(|| {
                            DeskError::NotFound(
                                "no available technician with the skills and a known location"
                                    .into(),
                            )
                        })?;
                (who.name.clone(), format!("nearest available, {km:.1} km away"))
            }
        };
        self.store.set_visit_technician(ticket, &name).await?;
        self.assign_to(t, &name, actor.name(), &format!("onsite, {how}")).await?;
        Ok((name, how))
    }

    /// Sets the visit's estimated arrival, with the reason when it is a delay.
    pub async fn set_eta(
        &self,
        actor: &Actor,
        ticket: TicketId,
        eta: i64,
        delay_reason: Option<&str>,
    ) -> Result<(), DeskError> {
        let (t, visit) = self.visit_for(actor, ticket).await?;
        self.store.set_eta(ticket, eta).await?;
        let detail = match (visit.eta, delay_reason) {
            (Some(before), Some(why)) if eta > before => {
                format!("arrival moved from {before} to {eta}: {why}")
            }
            (_, Some(why)) => format!("arrival at {eta}: {why}"),
            _ => format!("arrival at {eta}"),
        };
        self.publish("eta_changed", &t, actor.name(), detail);
        Ok(())
    }

    /// Logs an action, part, equipment or attachment on the visit; returns the kind's name.
    pub async fn log_onsite(
        &self,
        actor: &Actor,
        ticket: TicketId,
        kind: OnsiteEntryKind,
        text: &str,
        attachment: Option<Attachment>,
    ) -> Result<&'static str, DeskError> {
        let (t, _) = self.visit_for(actor, ticket).await?;
        let text = required(text, "a description", 2000)?;
        let (file, sha256) = match (kind, attachment) {
            (OnsiteEntryKind::Attachment, Some(a)) => {
                let data = base64::engine::general_purpose::STANDARD
                    .decode(a.data_base64.as_bytes())
                    .map_err(|_| DeskError::Invalid("the attachment is not base64".into()))?;
                if data.is_empty() || data.len() > MAX_ATTACHMENT {
                    return Err(DeskError::Invalid(format!(
                        "attachments must be 1 byte to {MAX_ATTACHMENT} bytes"
                    )));
                }
                let (file, sha) = self.keep_attachment(&t, &a.name, data).await?;
                (Some(file), Some(sha))
            }
            (OnsiteEntryKind::Attachment, None) => {
                return Err(DeskError::Invalid("an attachment entry needs a file".into()));
            }
            (_, Some(_)) => {
                return Err(DeskError::Invalid("only attachment entries carry files".into()));
            }
            (_, None) => (None, None),
        };
        let kind_name = match kind {
            OnsiteEntryKind::Action => "action",
            OnsiteEntryKind::Part => "part",
            OnsiteEntryKind::Equipment => "equipment",
            OnsiteEntryKind::Attachment => "attachment",
        };
        let entry = OnsiteEntry {
            ticket,
            at: unix_now(),
            actor: actor.name().into(),
            kind: kind_name.into(),
            text: text.clone(),
            file,
            sha256: sha256.clone(),
        };
        self.store.add_onsite_entry(&entry).await?;
        let detail = match sha256 {
            Some(sha) => format!("{kind_name}: {text} (sha256 {sha})"),
            None => format!("{kind_name}: {text}"),
        };
        self.publish("onsite_log", &t, actor.name(), detail);
        Ok(kind_name)
    }

    /// Records the client's sign-off of the visit (`name` signs), which is their confirmation.
    pub async fn sign_off(
        &self,
        actor: &Actor,
        ticket: TicketId,
        name: &str,
        solved: bool,
    ) -> Result<String, DeskError> {
        let (t, _) = self.visit_for(actor, ticket).await?;
        let name = required(name, "the name of who signs", 200)?;
        let now = unix_now();
        self.store.sign_off(ticket, &name, now).await?;
        let state = TicketStatus::OnsiteDone;
        self.store.set_ticket_state(ticket, state, t.assigned_to.as_deref(), now).await?;
        let confirmation = Confirmation { solved, rating: None, comment: None };
        self.store.set_confirmed(ticket, &confirmation, now).await?;
        let t = self.ticket(ticket).await?;
        self.publish("onsite_done", &t, actor.name(), format!("signed off by {name}"));
        if solved {
            self.publish("closed", &t, &name, "the client confirmed at sign-off".into());
        } else {
            self.publish(
                "reopened",
                &t,
                &name,
                "the client signed off the visit but the problem is not solved".into(),
            );
        }
        Ok(name)
    }

    /// The open ticket and its visit, if `actor` is the visit's technician (or a manager).
    async fn visit_for(
        &self,
        actor: &Actor,
        ticket: TicketId,
    ) -> Result<(TicketRecord, VisitRecord), DeskError> {
        let t = self.open_ticket(ticket).await?;
        let visit = self
            .store
            .visit(ticket)
            .await?
            .ok_or_else(|| DeskError::Invalid(format!("{ticket} has no onsite visit")))?;
        let technician = visit.technician.as_deref();
        self.check(actor, Action::WorkVisit { ticket: &t, technician })?;
        Ok((t, visit))
    }

    /// Stores an attachment under `attachments/T<id>/`, named safely; returns its file name
    /// and SHA-256.
    async fn keep_attachment(
        &self,
        t: &TicketRecord,
        name: &str,
        data: Vec<u8>,
    ) -> Result<(String, String), DeskError> {
        let sha = tether_protocol::hex(digest::digest(&digest::SHA256, &data).as_ref());
        let safe: String = name
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
            .collect::<String>()
            .trim_start_matches('.')
            .chars()
            .take(80)
            .collect();
        let safe = if safe.is_empty() { "attachment".to_string() } else { safe };
        let file = format!("{}-{}", &sha[..12], safe);
        let dir = self.attachments.join(t.id.to_string());
        let path = dir.join(&file);
        tokio::task::spawn_blocking(move || {
            use std::io::Write;
            use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
            // Photos and service forms of clients' sites: the broker's user only.
            std::fs::DirBuilder::new().recursive(true).mode(0o700).create(&dir)?;
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&path)?;
            file.write_all(&data)
        })
        .await
        .map_err(|e| DeskError::Io(e.to_string()))?
        .map_err(|e| DeskError::Io(format!("cannot store the attachment: {e}")))?;
        Ok((format!("{}/{file}", t.id), sha))
    }
}
