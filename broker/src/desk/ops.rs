//! Desk operations: what each desk request does to the store, who may do it, and the event it
//! publishes. Every change lands in the ticket's history through [`crate::desk::events`].

use std::sync::Arc;

use tether_protocol::{
    DeskReply, DeskRequest, HistoryEntry, OnsiteInfo, Priority, TicketDetail, TicketId,
    TicketStatus, TicketSummary, UserRole,
};

use super::calendar::Calendar;
use super::events::Bus;
use super::routing::{Candidate, pick};
use crate::state::{Broker, lock, unix_now};
use crate::store::{NewTicket, StoreError, TicketRecord, UserRecord};

/// The desk's parts the broker holds.
#[derive(Debug)]
pub(crate) struct Desk {
    pub(crate) calendar: Calendar,
    pub(crate) bus: Bus,
}

/// Why a desk request was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum DeskError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Channels a ticket may come by besides the agent.
const CHANNELS: [&str; 3] = ["phone", "email", "portal"];

pub(crate) fn is_manager(u: &UserRecord) -> bool {
    matches!(u.role, UserRole::Dispatcher | UserRole::Admin)
}

pub(crate) fn required(text: &str, what: &str, max: usize) -> Result<String, DeskError> {
    let t = text.trim();
    if t.is_empty() || t.chars().count() > max || t.chars().any(|c| c.is_control() && c != '\n') {
        return Err(DeskError::Invalid(format!("{what} must be 1 to {max} characters of text")));
    }
    Ok(t.to_string())
}

impl Broker {
    /// The response deadline for a ticket of `priority` logged now.
    pub(crate) fn deadline(&self, priority: Priority, now: i64) -> i64 {
        self.desk.calendar.deadline(priority, now)
    }

    /// The queue's view of `t`.
    pub(crate) fn summary(&self, t: &TicketRecord) -> TicketSummary {
        t.summary(lock(&self.rendezvous).customer_waiting(t.id))
    }

    /// Publishes a desk event about `t`.
    pub(crate) fn publish(&self, kind: &str, t: &TicketRecord, actor: &str, detail: String) {
        let summary = self.summary(t);
        self.desk.bus.publish(&self.store, kind, t.id, actor, detail, Some(summary));
    }

    pub(crate) async fn ticket(&self, id: TicketId) -> Result<TicketRecord, DeskError> {
        self.store
            .call(move |s| s.ticket(id))
            .await?
            .ok_or_else(|| DeskError::NotFound(format!("no ticket {id}")))
    }

    /// Logs a new ticket, computes its deadline and publishes `created`; then routes it (when
    /// `route`; a technician inviting a customer keeps the ticket instead).
    pub(crate) async fn create_ticket(
        self: &Arc<Self>,
        mut new: NewTicket,
        actor: &str,
        route: bool,
    ) -> Result<TicketRecord, DeskError> {
        let now = unix_now();
        new.deadline_at = Some(self.deadline(new.priority, now));
        let t = self.store.call(move |s| s.create_ticket(&new, now)).await?;
        self.publish(
            "created",
            &t,
            actor,
            format!("{} ticket from {} by {}", t.priority.name(), t.client, t.channel),
        );
        if route { self.route(t).await } else { Ok(t) }
    }

    /// Offers an unassigned ticket to the best available technician, when auto-assignment is on.
    async fn route(self: &Arc<Self>, t: TicketRecord) -> Result<TicketRecord, DeskError> {
        if !self.config.desk.auto_assign || t.assigned_to.is_some() {
            return Ok(t);
        }
        let users = self.store.call(|s| s.users()).await?;
        let loads = self.store.call(|s| s.open_loads()).await?;
        let max = self.config.desk.max_sessions;
        let chosen = {
            let rendezvous = lock(&self.rendezvous);
            let candidates: Vec<Candidate<'_>> = users
                .iter()
                .filter(|u| u.role == UserRole::Technician)
                .map(|u| Candidate {
                    user: u,
                    load: loads.get(&u.name).copied().unwrap_or(0),
                    sessions: rendezvous.sessions_of(&u.name),
                })
                .collect();
            pick(&candidates, &t.skills, max).map(|u| u.name.clone())
        };
        match chosen {
            Some(name) => self.assign(t, &name, "broker", "offered automatically").await,
            None => Ok(t),
        }
    }

    pub(crate) async fn assign(
        &self,
        t: TicketRecord,
        to: &str,
        actor: &str,
        how: &str,
    ) -> Result<TicketRecord, DeskError> {
        let (id, status) = (t.id, t.status);
        let name = to.to_string();
        let keep = matches!(
            status,
            TicketStatus::InSession | TicketStatus::OnsiteScheduled | TicketStatus::Escalated
        );
        let new_status = if keep { status } else { TicketStatus::Assigned };
        let t = self
            .store
            .call(move |s| {
                s.set_ticket_state(id, new_status, Some(&name), unix_now())?;
                s.ticket(id)
            })
            .await?
            .ok_or_else(|| DeskError::NotFound(format!("no ticket {id}")))?;
        self.publish("assigned", &t, actor, format!("assigned to {to} ({how})"));
        Ok(t)
    }

    /// Answers one desk request for `user`.
    pub(crate) async fn desk_request(
        self: &Arc<Self>,
        user: &UserRecord,
        req: DeskRequest,
    ) -> Result<DeskReply, DeskError> {
        let done = |message: String| Ok(DeskReply::Done { message });
        match req {
            DeskRequest::TicketNew { channel, client, contact, issue, priority, skills } => {
                if !CHANNELS.contains(&channel.as_str()) {
                    return Err(DeskError::Invalid(format!(
                        "channel {channel:?} is not phone, email or portal"
                    )));
                }
                let new = NewTicket {
                    channel,
                    client: required(&client, "the client's name", 200)?,
                    contact: contact.trim().chars().take(200).collect(),
                    issue: required(&issue, "the issue", 4000)?,
                    priority,
                    status: TicketStatus::Queued,
                    skills: skills
                        .iter()
                        .map(|s| s.trim().to_lowercase())
                        .filter(|s| !s.is_empty())
                        .collect(),
                    deadline_at: None,
                };
                let t = self.create_ticket(new, &user.name, true).await?;
                Ok(DeskReply::Ticket(Box::new(self.detail(t).await?)))
            }
            DeskRequest::TicketShow { ticket } => {
                let t = self.ticket(ticket).await?;
                Ok(DeskReply::Ticket(Box::new(self.detail(t).await?)))
            }
            DeskRequest::TicketList { filter } => {
                let now = unix_now();
                let list = self.store.call(move |s| s.list_tickets(&filter, now)).await?;
                Ok(DeskReply::Tickets { tickets: list.iter().map(|t| self.summary(t)).collect() })
            }
            DeskRequest::Assign { ticket, to } => {
                if !is_manager(user) {
                    return Err(DeskError::Forbidden(
                        "only dispatchers and admins assign tickets; technicians claim them".into(),
                    ));
                }
                let t = self.open_ticket(ticket).await?;
                let target = to.clone();
                let who = self.store.call(move |s| s.user(&target)).await?;
                if who.is_none_or(|u| u.disabled) {
                    return Err(DeskError::NotFound(format!("no active user {to}")));
                }
                self.assign(t, &to, &user.name, &format!("by {}", user.name)).await?;
                done(format!("{ticket} assigned to {to}"))
            }
            DeskRequest::Claim { ticket } => {
                let t = self.open_ticket(ticket).await?;
                if let Some(owner) = t.assigned_to.as_deref().filter(|o| *o != user.name) {
                    if !is_manager(user) {
                        return Err(DeskError::Forbidden(format!(
                            "{ticket} is assigned to {owner}"
                        )));
                    }
                }
                self.assign(t, &user.name, &user.name, "claimed").await?;
                done(format!("{ticket} is yours"))
            }
            DeskRequest::Ack { ticket } => {
                let t = self.open_ticket(ticket).await?;
                let first = self.respond(&t, &user.name, "acknowledged").await?;
                done(if first {
                    format!("{ticket} acknowledged")
                } else {
                    format!("{ticket} was already answered")
                })
            }
            DeskRequest::SetPriority { ticket, priority, reason } => {
                let t = self.open_ticket(ticket).await?;
                self.may_work(user, &t)?;
                let reason = required(&reason, "a reason", 500)?;
                let deadline = self.deadline(priority, t.created_at);
                let t = self
                    .store
                    .call(move |s| {
                        s.set_priority(ticket, priority, Some(deadline), unix_now())?;
                        s.ticket(ticket)
                    })
                    .await?
                    .ok_or_else(|| DeskError::NotFound(ticket.to_string()))?;
                self.publish(
                    "priority_changed",
                    &t,
                    &user.name,
                    format!("now {}: {reason}", priority.name()),
                );
                done(format!("{ticket} is now {}; due {}", priority.name(), deadline))
            }
            DeskRequest::Escalate { ticket, to, reason } => {
                self.escalate(user, ticket, to, reason).await
            }
            DeskRequest::Close { ticket, reason } => {
                let t = self.open_ticket(ticket).await?;
                self.may_work(user, &t)?;
                let reason = required(&reason, "the reason confirmation could not be had", 1000)?;
                let why = reason.clone();
                let t = self
                    .store
                    .call(move |s| {
                        s.close_unconfirmed(ticket, &why, unix_now())?;
                        s.ticket(ticket)
                    })
                    .await?
                    .ok_or_else(|| DeskError::NotFound(ticket.to_string()))?;
                self.publish(
                    "closed",
                    &t,
                    &user.name,
                    format!("closed without confirmation: {reason}"),
                );
                done(format!("{ticket} closed"))
            }
            DeskRequest::FollowUp { ticket, due, note } => {
                let t = self.ticket(ticket).await?;
                let note = required(&note, "what to follow up", 1000)?;
                let what = note.clone();
                self.store.call(move |s| s.set_follow_up(ticket, due, &what, unix_now())).await?;
                self.publish("follow_up", &t, &user.name, format!("follow up by {due}: {note}"));
                done(format!("{ticket} marked for follow-up"))
            }
            DeskRequest::SetAvailability { availability } => {
                let name = user.name.clone();
                self.store.call(move |s| s.set_availability(&name, availability)).await?;
                done(format!("you are {}", availability.name()))
            }
            DeskRequest::SetLocation { lat, lon } => {
                if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) {
                    return Err(DeskError::Invalid(
                        "latitude must be -90..90 and longitude -180..180".into(),
                    ));
                }
                let name = user.name.clone();
                self.store.call(move |s| s.set_location(&name, lat, lon)).await?;
                done(format!("location set to {lat:.5}, {lon:.5}"))
            }
            DeskRequest::Report { from, to } => {
                if !is_manager(user) {
                    return Err(DeskError::Forbidden(
                        "the deadline review is for dispatchers and admins".into(),
                    ));
                }
                let tickets = self.store.call(move |s| s.tickets_logged(from, to)).await?;
                Ok(DeskReply::Report(super::report::compute(&tickets, from, to, unix_now())))
            }
            DeskRequest::Watch => {
                Err(DeskError::Invalid("watch is handled by the connection".into()))
            }
            onsite => self.onsite_request(user, onsite).await,
        }
    }

    /// Records the first response to `t` (a join or an acknowledgement).
    pub(crate) async fn respond(
        &self,
        t: &TicketRecord,
        actor: &str,
        how: &str,
    ) -> Result<bool, DeskError> {
        let (id, now) = (t.id, unix_now());
        let first = self.store.call(move |s| s.mark_responded(id, now)).await?;
        if first {
            let late = t.deadline_at.is_some_and(|d| now > d);
            let detail =
                format!("{how} by {actor}{}", if late { " (after the deadline)" } else { "" });
            self.desk.bus.publish(
                &self.store,
                "responded",
                id,
                actor,
                detail,
                Some(self.summary(t)),
            );
        }
        Ok(first)
    }

    pub(crate) async fn open_ticket(&self, id: TicketId) -> Result<TicketRecord, DeskError> {
        let t = self.ticket(id).await?;
        if t.status == TicketStatus::Closed {
            return Err(DeskError::Invalid(format!("{id} is closed")));
        }
        Ok(t)
    }

    /// Technicians work their own tickets (or unassigned ones); managers any.
    pub(crate) fn may_work(&self, user: &UserRecord, t: &TicketRecord) -> Result<(), DeskError> {
        match t.assigned_to.as_deref() {
            Some(owner) if owner != user.name && !is_manager(user) => {
                Err(DeskError::Forbidden(format!("{} is assigned to {owner}", t.id)))
            }
            _ => Ok(()),
        }
    }

    async fn escalate(
        &self,
        user: &UserRecord,
        ticket: TicketId,
        to: Option<String>,
        reason: String,
    ) -> Result<DeskReply, DeskError> {
        let t = self.open_ticket(ticket).await?;
        self.may_work(user, &t)?;
        if matches!(t.status, TicketStatus::Resolved) {
            return Err(DeskError::Invalid(format!("{ticket} is resolved; nothing to escalate")));
        }
        let reason = required(&reason, "a reason", 1000)?;
        let users = self.store.call(|s| s.users()).await?;
        let loads = self.store.call(|s| s.open_loads()).await?;
        let manager = match to {
            Some(name) => {
                users.iter().find(|u| u.name == name && is_manager(u) && !u.disabled).ok_or_else(
                    || DeskError::NotFound(format!("{name} is not an active dispatcher or admin")),
                )?
            }
            None => users
                .iter()
                .filter(|u| is_manager(u) && !u.disabled)
                .min_by_key(|u| (loads.get(&u.name).copied().unwrap_or(0), u.name.clone()))
                .ok_or_else(|| {
                    DeskError::NotFound("there is no dispatcher or admin to escalate to".into())
                })?,
        };
        let name = manager.name.clone();
        let t = self
            .store
            .call(move |s| {
                s.set_ticket_state(ticket, TicketStatus::Escalated, Some(&name), unix_now())?;
                s.ticket(ticket)
            })
            .await?
            .ok_or_else(|| DeskError::NotFound(ticket.to_string()))?;
        self.publish(
            "escalated",
            &t,
            &user.name,
            format!("escalated to {}: {reason}", manager.name),
        );
        Ok(DeskReply::Done { message: format!("{ticket} escalated to {}", manager.name) })
    }

    async fn detail(&self, t: TicketRecord) -> Result<TicketDetail, DeskError> {
        let id = t.id;
        // History is written by the store's writer; let everything queued so far land first,
        // so a reply always shows the change that caused it.
        self.store.flush().await;
        let (history, visit) =
            self.store.call(move |s| Ok((s.ticket_events(id)?, s.visit(id)?))).await?;
        Ok(TicketDetail {
            summary: self.summary(&t),
            skills: t.skills.clone(),
            responded_at: t.responded_at,
            resolved_at: t.resolved_at,
            closed_at: t.closed_at,
            close_reason: t.close_reason.clone(),
            resolution: t.resolution.clone(),
            rating: t.rating,
            comment: t.comment.clone(),
            follow_up: t.follow_up.clone(),
            onsite: visit.map(|v| OnsiteInfo {
                window_start: v.window_start,
                window_end: v.window_end,
                address: v.address,
                lat: v.lat,
                lon: v.lon,
                access: v.access,
                contact_confirmed: v.contact_confirmed,
                technician: v.technician,
                eta: v.eta,
                signed_off: v.signed_off,
            }),
            history: history
                .into_iter()
                .map(|e| HistoryEntry { at: e.at, actor: e.actor, kind: e.kind, detail: e.detail })
                .collect(),
        })
    }
}
