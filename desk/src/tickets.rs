//! The ticket lifecycle as the desk's typed API: logging (a customer's request, or staff
//! logging a phone, e-mail or portal request), routing to a technician, claiming, assigning,
//! acknowledging, re-prioritising, closing without confirmation, follow-ups, listing and
//! showing. Every change is authorised by the policy and lands in the ticket's history.

use tether_access::{Action, Actor};
use tether_protocol::{
    HistoryEntry, OnsiteInfo, Priority, TicketDetail, TicketFilter, TicketId, TicketStatus,
    TicketSummary, UserRole,
};
use tether_store::{NewTicket, TicketRecord, unix_now};

use crate::error::required;
use crate::routing::{Candidate, pick};
use crate::{Desk, DeskError};

/// Channels staff may log a ticket for (a customer's agent logs its own).
const CHANNELS: [&str; 3] = ["phone", "email", "portal"];

/// Field limits for a customer's request, in characters.
const MAX_NAME: usize = 200;
const MAX_CONTACT: usize = 200;
const MAX_ISSUE: usize = 4000;

/// A request for help as a customer's agent sends it.
#[derive(Debug, Clone)]
pub struct CustomerRequest {
    /// Their name.
    pub name: String,
    /// How to reach them.
    pub contact: String,
    /// The problem.
    pub issue: String,
    /// How urgent they say it is.
    pub priority: Priority,
}

/// A ticket staff log for a request that came another way.
#[derive(Debug, Clone)]
pub struct Intake {
    /// phone, email or portal.
    pub channel: String,
    /// The customer's name.
    pub client: String,
    /// How to reach them.
    pub contact: String,
    /// The problem.
    pub issue: String,
    /// Priority.
    pub priority: Priority,
    /// Skills needed.
    pub skills: Vec<String>,
}

impl Desk {
    /// Checks a customer's request (from the agent) before it becomes a ticket.
    pub fn check_request(&self, req: &CustomerRequest) -> Result<(), DeskError> {
        field("name", &req.name, MAX_NAME, true)?;
        field("contact", &req.contact, MAX_CONTACT, false)?;
        field("issue", &req.issue, MAX_ISSUE, true)?;
        Ok(())
    }

    /// Logs a customer's own request (from the agent, at `source`) and routes it. The
    /// priority they asked for is their claim: the ticket gets it up to
    /// `desk.max_claimed_priority` until a dispatcher triages it.
    pub async fn log_request(
        &self,
        req: CustomerRequest,
        source: std::net::IpAddr,
    ) -> Result<TicketRecord, DeskError> {
        self.log_customer(req, source, "agent").await
    }

    /// Logs a customer's own request that came by `channel` (their agent, or the portal).
    pub(crate) async fn log_customer(
        &self,
        req: CustomerRequest,
        source: std::net::IpAddr,
        channel: &str,
    ) -> Result<TicketRecord, DeskError> {
        let new = NewTicket {
            channel: channel.into(),
            client: field("name", &req.name, MAX_NAME, true)?,
            contact: field("contact", &req.contact, MAX_CONTACT, false)?,
            issue: field("issue", &req.issue, MAX_ISSUE, true)?,
            priority: req.priority.max(self.settings.max_claimed_priority),
            status: TicketStatus::Queued,
            skills: Vec::new(),
            deadline_at: None,
            claimed_priority: Some(req.priority),
            source: Some(source.to_string()),
        };
        let actor = new.client.clone();
        let t = self.create(new, &actor, true).await?;
        tracing::info!(ticket.id = %t.id, priority = t.priority.name(), channel, "support request logged");
        Ok(t)
    }

    /// Logs a ticket for a request that came by phone, e-mail or the portal, and routes it.
    pub async fn log_ticket(
        &self,
        actor: &Actor,
        intake: Intake,
    ) -> Result<TicketDetail, DeskError> {
        if !CHANNELS.contains(&intake.channel.as_str()) {
            return Err(DeskError::Invalid(format!(
                "channel {:?} is not phone, email or portal",
                intake.channel
            )));
        }
        let new = NewTicket {
            channel: intake.channel,
            client: required(&intake.client, "the client's name", 200)?,
            contact: intake.contact.trim().chars().take(200).collect(),
            issue: required(&intake.issue, "the issue", 4000)?,
            priority: intake.priority,
            status: TicketStatus::Queued,
            skills: intake
                .skills
                .iter()
                .map(|s| s.trim().to_lowercase())
                .filter(|s| !s.is_empty())
                .collect(),
            deadline_at: None,
            claimed_priority: None,
            source: None,
        };
        let t = self.create(new, actor.name(), true).await?;
        self.detail(t).await
    }

    /// The ticket a technician invites a customer to: `ticket` if it is open, or a new one
    /// logged for them (the code is read out over the phone, so its channel is `phone`) and
    /// kept by them rather than routed.
    pub async fn invitation_ticket(
        &self,
        actor: &Actor,
        ticket: Option<TicketId>,
    ) -> Result<TicketId, DeskError> {
        if let Some(id) = ticket {
            return match self.store.ticket(id).await? {
                Some(t) if t.status != TicketStatus::Closed => {
                    self.check(actor, Action::WorkTicket(&t))?;
                    Ok(t.id)
                }
                Some(_) => Err(DeskError::NotFound(format!("{id} is closed"))),
                None => Err(DeskError::NotFound(format!("no ticket {id}"))),
            };
        }
        let new = NewTicket {
            channel: "phone".into(),
            client: "invited customer".into(),
            contact: String::new(),
            issue: format!("remote session invited by {}", actor.name()),
            priority: Priority::Medium,
            status: TicketStatus::Queued,
            skills: Vec::new(),
            deadline_at: None,
            claimed_priority: None,
            source: None,
        };
        let t = self.create(new, actor.name(), false).await?;
        let t = self.assign_to(t, actor.name(), actor.name(), "invited the customer").await?;
        Ok(t.id)
    }

    /// The ticket `actor` asks to join, if it may: not resolved or closed, and theirs to join
    /// (`invited` when the customer let them in as a second technician).
    pub async fn join_ticket(
        &self,
        actor: &Actor,
        id: TicketId,
        invited: bool,
    ) -> Result<TicketRecord, DeskError> {
        let t = self.ticket(id).await?;
        if matches!(t.status, TicketStatus::Resolved | TicketStatus::Closed) {
            return Err(DeskError::Denied(tether_access::Denied(format!(
                "{id} is {}",
                t.status.name()
            ))));
        }
        self.check(actor, Action::Join { ticket: &t, invited })?;
        Ok(t)
    }

    /// The open tickets `actor` may read, most urgent first: the queue.
    pub async fn queue(&self, actor: &Actor) -> Result<Vec<TicketSummary>, DeskError> {
        let tickets = self.store.open_tickets().await?;
        Ok(self.readable_tickets(actor, &tickets))
    }

    /// The tickets matching `filter` that `actor` may read, most urgent then soonest due.
    pub async fn list(
        &self,
        actor: &Actor,
        filter: &TicketFilter,
    ) -> Result<Vec<TicketSummary>, DeskError> {
        let list = self.store.list_tickets(filter, unix_now()).await?;
        Ok(self.readable_tickets(actor, &list))
    }

    /// One page (`limit` from `offset`) of the tickets matching `filter` that `actor` may
    /// read, in the queue's order, and how many there are in all: chosen by the store, so a
    /// page costs the same however many tickets are open.
    pub async fn page(
        &self,
        actor: &Actor,
        filter: &TicketFilter,
        offset: usize,
        limit: usize,
    ) -> Result<(Vec<TicketSummary>, usize), DeskError> {
        let scope = self.policy.ticket_scope(actor);
        let (page, total) =
            self.store.ticket_page(filter, &scope, offset, limit, unix_now()).await?;
        Ok((self.readable_tickets(actor, &page), total))
    }

    /// One ticket with its history and visit, if `actor` may read it.
    pub async fn show(&self, actor: &Actor, id: TicketId) -> Result<TicketDetail, DeskError> {
        let t = self.ticket(id).await?;
        self.check(actor, Action::ReadTicket(&t))?;
        self.detail(t).await
    }

    /// The summaries of the tickets of `all` that `actor` may read.
    fn readable_tickets(&self, actor: &Actor, all: &[TicketRecord]) -> Vec<TicketSummary> {
        all.iter()
            .filter(|t| self.policy.check(actor, Action::ReadTicket(t)).is_ok())
            .map(|t| self.summary(t))
            .collect()
    }

    /// Marks `tickets`, and the customers' own requests from `source` since `since`, as spam:
    /// closed, and out of technicians' loads and the deadline review. Returns those marked.
    pub async fn mark_spam(
        &self,
        actor: &Actor,
        tickets: &[TicketId],
        source: Option<(&str, i64)>,
    ) -> Result<Vec<TicketId>, DeskError> {
        self.check(actor, Action::AssignTicket)?;
        let mut ids = tickets.to_vec();
        if let Some((source, since)) = source {
            ids.extend(self.store.tickets_from(source, since).await?);
        }
        ids.sort();
        ids.dedup();
        let marked = self.store.mark_spam(&ids, unix_now()).await?;
        for id in &marked {
            let t = self.ticket(*id).await?;
            self.publish("closed", &t, actor.name(), "marked as spam".into());
        }
        Ok(marked)
    }

    /// Gives `ticket` to `to`.
    pub async fn assign(&self, actor: &Actor, ticket: TicketId, to: &str) -> Result<(), DeskError> {
        self.check(actor, Action::AssignTicket)?;
        let t = self.open_ticket(ticket).await?;
        if self.store.user(to).await?.is_none_or(|u| u.disabled) {
            return Err(DeskError::NotFound(format!("no active user {to}")));
        }
        self.assign_to(t, to, actor.name(), &format!("by {}", actor.name())).await?;
        Ok(())
    }

    /// Takes `ticket` for `actor`.
    pub async fn claim(&self, actor: &Actor, ticket: TicketId) -> Result<(), DeskError> {
        let t = self.open_ticket(ticket).await?;
        self.check(actor, Action::ClaimTicket(&t))?;
        self.assign_to(t, actor.name(), actor.name(), "claimed").await?;
        Ok(())
    }

    /// Acknowledges `ticket`; false if it had already been answered.
    pub async fn acknowledge(&self, actor: &Actor, ticket: TicketId) -> Result<bool, DeskError> {
        let t = self.open_ticket(ticket).await?;
        self.check(actor, Action::WorkTicket(&t))?;
        self.respond(&t, actor.name(), "acknowledged").await
    }

    /// Changes the priority (and so the deadline) of `ticket`; returns the new deadline.
    pub async fn set_priority(
        &self,
        actor: &Actor,
        ticket: TicketId,
        priority: Priority,
        reason: &str,
    ) -> Result<i64, DeskError> {
        let t = self.open_ticket(ticket).await?;
        self.check(actor, Action::WorkTicket(&t))?;
        let reason = required(reason, "a reason", 500)?;
        let deadline = self.deadline(priority, t.created_at);
        self.store.set_priority(ticket, priority, Some(deadline), unix_now()).await?;
        let t = self.ticket(ticket).await?;
        self.publish(
            "priority_changed",
            &t,
            actor.name(),
            format!("now {}: {reason}", priority.name()),
        );
        Ok(deadline)
    }

    /// Closes `ticket` without the customer's confirmation, with the reason.
    pub async fn close(
        &self,
        actor: &Actor,
        ticket: TicketId,
        reason: &str,
    ) -> Result<(), DeskError> {
        let t = self.open_ticket(ticket).await?;
        self.check(actor, Action::WorkTicket(&t))?;
        let reason = required(reason, "the reason confirmation could not be had", 1000)?;
        self.store.close_unconfirmed(ticket, &reason, unix_now()).await?;
        let t = self.ticket(ticket).await?;
        self.publish("closed", &t, actor.name(), format!("closed without confirmation: {reason}"));
        Ok(())
    }

    /// Marks `ticket` for follow-up by `due` (Unix seconds).
    pub async fn follow_up(
        &self,
        actor: &Actor,
        ticket: TicketId,
        due: i64,
        note: &str,
    ) -> Result<(), DeskError> {
        let t = self.ticket(ticket).await?;
        self.check(actor, Action::WorkTicket(&t))?;
        let note = required(note, "what to follow up", 1000)?;
        self.store.set_follow_up(ticket, due, &note, unix_now()).await?;
        self.publish("follow_up", &t, actor.name(), format!("follow up by {due}: {note}"));
        Ok(())
    }

    /// Logs a ticket, computes its deadline and publishes `created`; then routes it (when
    /// `route`; a technician inviting a customer keeps the ticket instead).
    pub(crate) async fn create(
        &self,
        mut new: NewTicket,
        actor: &str,
        route: bool,
    ) -> Result<TicketRecord, DeskError> {
        let now = unix_now();
        new.deadline_at = Some(self.deadline(new.priority, now));
        let t = self.store.create_ticket(&new, now).await?;
        let claim = match t.claimed_priority {
            Some(claim) if claim != t.priority => {
                format!(" (claimed {}, until a dispatcher triages it)", claim.name())
            }
            _ => String::new(),
        };
        self.publish(
            "created",
            &t,
            actor,
            format!("{} ticket from {} by {}{claim}", t.priority.name(), t.client, t.channel),
        );
        if route { self.route(t).await } else { Ok(t) }
    }

    /// Offers an unassigned ticket to the best available technician, when auto-assignment is on.
    async fn route(&self, t: TicketRecord) -> Result<TicketRecord, DeskError> {
        if !self.settings.auto_assign || t.assigned_to.is_some() {
            return Ok(t);
        }
        let users = self.store.users().await?;
        let loads = self.store.open_loads().await?;
        let candidates: Vec<Candidate<'_>> = users
            .iter()
            .filter(|u| u.role == UserRole::Technician)
            .map(|u| Candidate {
                user: u,
                load: loads.get(&u.name).copied().unwrap_or(0),
                sessions: self.live.sessions_of(&u.name),
            })
            .collect();
        let chosen =
            pick(&candidates, &t.skills, self.settings.max_sessions).map(|u| u.name.clone());
        match chosen {
            Some(name) => self.assign_to(t, &name, "broker", "offered automatically").await,
            None => Ok(t),
        }
    }

    /// Gives `t` to `to`, keeping a status that means more than "assigned".
    pub(crate) async fn assign_to(
        &self,
        t: TicketRecord,
        to: &str,
        actor: &str,
        how: &str,
    ) -> Result<TicketRecord, DeskError> {
        let keep = matches!(
            t.status,
            TicketStatus::InSession | TicketStatus::OnsiteScheduled | TicketStatus::Escalated
        );
        let status = if keep { t.status } else { TicketStatus::Assigned };
        self.store.set_ticket_state(t.id, status, Some(to), unix_now()).await?;
        self.live.ticket_assigned(t.id, to);
        let t = self.ticket(t.id).await?;
        self.publish("assigned", &t, actor, format!("assigned to {to} ({how})"));
        Ok(t)
    }

    /// Records the first response to `t` (a join or an acknowledgement); false if there
    /// already was one.
    pub(crate) async fn respond(
        &self,
        t: &TicketRecord,
        actor: &str,
        how: &str,
    ) -> Result<bool, DeskError> {
        let now = unix_now();
        let first = self.store.mark_responded(t.id, now).await?;
        if first {
            let late = t.deadline_at.is_some_and(|d| now > d);
            let detail =
                format!("{how} by {actor}{}", if late { " (after the deadline)" } else { "" });
            self.publish("responded", t, actor, detail);
        }
        Ok(first)
    }

    /// The full view of `t`.
    pub(crate) async fn detail(&self, t: TicketRecord) -> Result<TicketDetail, DeskError> {
        // History is written by the store's writer; let everything queued so far land first,
        // so a reply always shows the change that caused it.
        self.store.flush().await;
        let history = self.store.ticket_events(t.id).await?;
        let visit = self.store.visit(t.id).await?;
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

/// A trimmed text field of a customer's request within its limit.
fn field(name: &str, value: &str, max: usize, required: bool) -> Result<String, DeskError> {
    let value = value.trim();
    if required && value.is_empty() {
        return Err(DeskError::Invalid(format!("the {name} may not be empty")));
    }
    if value.chars().count() > max {
        return Err(DeskError::Invalid(format!("the {name} is longer than {max} characters")));
    }
    if value.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(DeskError::Invalid(format!("the {name} contains control characters")));
    }
    Ok(value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_fields_are_trimmed_and_bounded() {
        assert_eq!(field("name", "  Bob ", 10, true).unwrap(), "Bob");
        assert!(field("name", "   ", 10, true).is_err());
        assert_eq!(field("contact", "", 10, false).unwrap(), "");
        assert!(field("name", &"x".repeat(11), 10, true).is_err());
        assert!(field("name", "a\u{1b}[31m", 10, true).is_err(), "no terminal escapes");
        assert!(field("issue", "line 1\nline 2", 100, true).is_ok());
    }
}
