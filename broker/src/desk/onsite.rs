//! Onsite dispatch: an unresolved ticket becomes a visit with a time window, a site and its
//! access requirements; it goes to the nearest available technician with the skills (or one a
//! dispatcher names); the technician reports arrival times and delays (sent on to the client
//! through webhooks), logs actions, parts, equipment and attachments, and records the client's
//! sign-off, which is the client's confirmation: solved closes the ticket, not solved reopens it.

use std::sync::Arc;

use base64::Engine;
use ring::digest;
use tether_protocol::{DeskReply, DeskRequest, OnsiteEntryKind, TicketStatus, UserRole};

use super::ops::{DeskError, is_manager, required};
use super::routing::{Candidate, pick_for_site};
use crate::state::{Broker, lock, unix_now};
use crate::store::{Confirmation, OnsiteEntry, TicketRecord, UserRecord, VisitRecord};
use crate::transcript::record::hex;

/// The largest attachment kept, in bytes.
const MAX_ATTACHMENT: usize = 512 * 1024;

impl Broker {
    /// Answers the onsite desk requests.
    pub(crate) async fn onsite_request(
        self: &Arc<Self>,
        user: &UserRecord,
        req: DeskRequest,
    ) -> Result<DeskReply, DeskError> {
        let done = |message: String| Ok(DeskReply::Done { message });
        match req {
            DeskRequest::Onsite {
                ticket,
                window_start,
                window_end,
                address,
                lat,
                lon,
                access,
                contact_confirmed,
            } => {
                let t = self.open_ticket(ticket).await?;
                self.may_work(user, &t)?;
                if matches!(t.status, TicketStatus::Resolved | TicketStatus::OnsiteDone) {
                    return Err(DeskError::Invalid(format!("{ticket} is already resolved")));
                }
                if window_end <= window_start {
                    return Err(DeskError::Invalid(
                        "the visit window must end after it starts".into(),
                    ));
                }
                if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) {
                    return Err(DeskError::Invalid(
                        "the site's coordinates are out of range".into(),
                    ));
                }
                let visit = VisitRecord {
                    ticket,
                    window_start,
                    window_end,
                    address: required(&address, "the site address", 500)?,
                    lat,
                    lon,
                    access: access.trim().chars().take(1000).collect(),
                    contact_confirmed,
                    technician: None,
                    eta: None,
                    signed_off: None,
                };
                let owner = t.assigned_to.clone();
                let where_ = visit.address.clone();
                let t = self
                    .store
                    .call(move |s| {
                        s.set_visit(&visit)?;
                        s.set_ticket_state(
                            ticket,
                            TicketStatus::OnsiteScheduled,
                            owner.as_deref(),
                            unix_now(),
                        )?;
                        s.ticket(ticket)
                    })
                    .await?
                    .ok_or_else(|| DeskError::NotFound(ticket.to_string()))?;
                let confirmed = if contact_confirmed {
                    "contact confirmed"
                } else {
                    "contact not yet confirmed"
                };
                self.publish(
                    "onsite_scheduled",
                    &t,
                    &user.name,
                    format!("visit to {where_}, {window_start}..{window_end}, {confirmed}"),
                );
                done(format!("{ticket} scheduled for an onsite visit"))
            }
            DeskRequest::Dispatch { ticket, to } => {
                if !is_manager(user) {
                    return Err(DeskError::Forbidden(
                        "dispatchers and admins send technicians out".into(),
                    ));
                }
                let t = self.open_ticket(ticket).await?;
                let visit = self.store.call(move |s| s.visit(ticket)).await?.ok_or_else(|| {
                    DeskError::Invalid(format!("{ticket} has no onsite visit; schedule one first"))
                })?;
                let users = self.store.call(|s| s.users()).await?;
                let (name, how) = match to {
                    Some(name) => {
                        if !users.iter().any(|u| u.name == name && !u.disabled) {
                            return Err(DeskError::NotFound(format!("no active user {name}")));
                        }
                        (name, "chosen by the dispatcher".to_string())
                    }
                    None => {
                        let open = self.store.call(|s| s.open_tickets()).await?;
                        let rendezvous = lock(&self.rendezvous);
                        let candidates: Vec<Candidate<'_>> = users
                            .iter()
                            .filter(|u| u.role == UserRole::Technician)
                            .map(|u| Candidate {
                                user: u,
                                load: open
                                    .iter()
                                    .filter(|o| o.assigned_to.as_deref() == Some(&u.name))
                                    .count(),
                                sessions: rendezvous.sessions_of(&u.name),
                            })
                            .collect();
                        let (who, km) = pick_for_site(
                            &candidates,
                            &t.skills,
                            self.config.desk.max_sessions,
                            (visit.lat, visit.lon),
                        )
                        .ok_or_else(|| {
                            DeskError::NotFound(
                                "no available technician with the skills and a known location"
                                    .into(),
                            )
                        })?;
                        (who.name.clone(), format!("nearest available, {km:.1} km away"))
                    }
                };
                let going = name.clone();
                self.store.call(move |s| s.set_visit_technician(ticket, &going)).await?;
                self.assign(t, &name, &user.name, &format!("onsite, {how}")).await?;
                done(format!("{name} goes to {ticket} ({how})"))
            }
            DeskRequest::Eta { ticket, eta, delay_reason } => {
                let (t, visit) = self.visit_for(user, ticket).await?;
                self.store.call(move |s| s.set_eta(ticket, eta)).await?;
                let detail = match (visit.eta, delay_reason) {
                    (Some(before), Some(why)) if eta > before => {
                        format!("arrival moved from {before} to {eta}: {why}")
                    }
                    (_, Some(why)) => format!("arrival at {eta}: {why}"),
                    _ => format!("arrival at {eta}"),
                };
                self.publish("eta_changed", &t, &user.name, detail);
                done(format!("{ticket} arrival set"))
            }
            DeskRequest::OnsiteLog { ticket, kind, text, attachment } => {
                let (t, _) = self.visit_for(user, ticket).await?;
                let text = required(&text, "a description", 2000)?;
                let (file, sha256) = match (kind, attachment) {
                    (OnsiteEntryKind::Attachment, Some(a)) => {
                        let data = base64::engine::general_purpose::STANDARD
                            .decode(a.data_base64.as_bytes())
                            .map_err(|_| {
                                DeskError::Invalid("the attachment is not base64".into())
                            })?;
                        if data.is_empty() || data.len() > MAX_ATTACHMENT {
                            return Err(DeskError::Invalid(format!(
                                "attachments must be 1 byte to {MAX_ATTACHMENT} bytes"
                            )));
                        }
                        let (file, sha) = self.keep_attachment(&t, &a.name, &data).await?;
                        (Some(file), Some(sha))
                    }
                    (OnsiteEntryKind::Attachment, None) => {
                        return Err(DeskError::Invalid("an attachment entry needs a file".into()));
                    }
                    (_, Some(_)) => {
                        return Err(DeskError::Invalid(
                            "only attachment entries carry files".into(),
                        ));
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
                    actor: user.name.clone(),
                    kind: kind_name.into(),
                    text: text.clone(),
                    file,
                    sha256: sha256.clone(),
                };
                self.store.call(move |s| s.add_onsite_entry(&entry)).await?;
                let detail = match sha256 {
                    Some(sha) => format!("{kind_name}: {text} (sha256 {sha})"),
                    None => format!("{kind_name}: {text}"),
                };
                self.desk.bus.publish(
                    &self.store,
                    "onsite_log",
                    ticket,
                    &user.name,
                    detail,
                    Some(self.summary(&t)),
                );
                done(format!("{kind_name} recorded on {ticket}"))
            }
            DeskRequest::SignOff { ticket, name, solved } => {
                let (t, _) = self.visit_for(user, ticket).await?;
                let name = required(&name, "the name of who signs", 200)?;
                let now = unix_now();
                let signer = name.clone();
                let owner = t.assigned_to.clone();
                let t = self
                    .store
                    .call(move |s| {
                        s.sign_off(ticket, &signer, now)?;
                        s.set_ticket_state(
                            ticket,
                            TicketStatus::OnsiteDone,
                            owner.as_deref(),
                            now,
                        )?;
                        let confirmation = Confirmation { solved, rating: None, comment: None };
                        s.set_confirmed(ticket, &confirmation, now)?;
                        s.ticket(ticket)
                    })
                    .await?
                    .ok_or_else(|| DeskError::NotFound(ticket.to_string()))?;
                self.publish("onsite_done", &t, &user.name, format!("signed off by {name}"));
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
                done(format!("{ticket} signed off by {name}"))
            }
            other => Err(DeskError::Invalid(format!("unexpected request {other:?}"))),
        }
    }

    async fn visit_for(
        &self,
        user: &UserRecord,
        ticket: tether_protocol::TicketId,
    ) -> Result<(TicketRecord, VisitRecord), DeskError> {
        let t = self.open_ticket(ticket).await?;
        let visit = self
            .store
            .call(move |s| s.visit(ticket))
            .await?
            .ok_or_else(|| DeskError::Invalid(format!("{ticket} has no onsite visit")))?;
        if visit.technician.as_deref() != Some(user.name.as_str()) && !is_manager(user) {
            return Err(DeskError::Forbidden(format!("{ticket}'s visit is not yours")));
        }
        Ok((t, visit))
    }

    /// Stores an attachment under `DATA/attachments/T<id>/`, named safely; returns its file
    /// name and SHA-256.
    async fn keep_attachment(
        &self,
        t: &TicketRecord,
        name: &str,
        data: &[u8],
    ) -> Result<(String, String), DeskError> {
        let sha = hex(digest::digest(&digest::SHA256, data).as_ref());
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
        let data = data.to_vec();
        tokio::task::spawn_blocking(move || {
            std::fs::create_dir_all(&dir)?;
            std::fs::write(&path, data)
        })
        .await
        .map_err(|e| DeskError::Invalid(e.to_string()))?
        .map_err(|e| DeskError::Invalid(format!("cannot store the attachment: {e}")))?;
        Ok((format!("{}/{file}", t.id), sha))
    }
}
