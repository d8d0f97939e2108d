//! Desk requests as they arrive from an entry point (a console's websocket, the HTTP API),
//! each translated into one call on the service and its answer.

use tether_access::Actor;
use tether_protocol::{DeskReply, DeskRequest};

use crate::{Desk, DeskError, Intake, Visit};

impl Desk {
    /// Answers one desk request for `actor`: what a console sends over its websocket and
    /// what the HTTP API translates its routes into, so that both are one code path.
    pub async fn request(&self, actor: &Actor, req: DeskRequest) -> Result<DeskReply, DeskError> {
        let desk = self;
        let done = |message: String| Ok(DeskReply::Done { message });
        match req {
            DeskRequest::TicketNew { channel, client, contact, issue, priority, skills } => {
                let intake = Intake { channel, client, contact, issue, priority, skills };
                Ok(DeskReply::Ticket(Box::new(desk.log_ticket(actor, intake).await?)))
            }
            DeskRequest::TicketShow { ticket } => {
                Ok(DeskReply::Ticket(Box::new(desk.show(actor, ticket).await?)))
            }
            DeskRequest::TicketList { filter } => {
                Ok(DeskReply::Tickets { tickets: desk.list(actor, &filter).await? })
            }
            DeskRequest::Assign { ticket, to } => {
                desk.assign(actor, ticket, &to).await?;
                done(format!("{ticket} assigned to {to}"))
            }
            DeskRequest::Claim { ticket } => {
                desk.claim(actor, ticket).await?;
                done(format!("{ticket} is yours"))
            }
            DeskRequest::Ack { ticket } => done(if desk.acknowledge(actor, ticket).await? {
                format!("{ticket} acknowledged")
            } else {
                format!("{ticket} was already answered")
            }),
            DeskRequest::SetPriority { ticket, priority, reason } => {
                let deadline = desk.set_priority(actor, ticket, priority, &reason).await?;
                done(format!("{ticket} is now {}; due {deadline}", priority.name()))
            }
            DeskRequest::Escalate { ticket, to, reason } => {
                let manager = desk.escalate(actor, ticket, to.as_deref(), &reason).await?;
                done(format!("{ticket} escalated to {manager}"))
            }
            DeskRequest::Close { ticket, reason } => {
                desk.close(actor, ticket, &reason).await?;
                done(format!("{ticket} closed"))
            }
            DeskRequest::FollowUp { ticket, due, note } => {
                desk.follow_up(actor, ticket, due, &note).await?;
                done(format!("{ticket} marked for follow-up"))
            }
            DeskRequest::SetAvailability { availability } => {
                desk.set_availability(actor, availability).await?;
                done(format!("you are {}", availability.name()))
            }
            DeskRequest::SetLocation { lat, lon } => {
                desk.set_location(actor, lat, lon).await?;
                done(format!("location set to {lat:.5}, {lon:.5}"))
            }
            DeskRequest::Report { from, to } => {
                Ok(DeskReply::Report(desk.sla_report(actor, from, to).await?))
            }
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
                let visit = Visit {
                    window_start,
                    window_end,
                    address,
                    lat,
                    lon,
                    access,
                    contact_confirmed,
                };
                desk.schedule_visit(actor, ticket, visit).await?;
                done(format!("{ticket} scheduled for an onsite visit"))
            }
            DeskRequest::Dispatch { ticket, to } => {
                let (name, how) = desk.dispatch(actor, ticket, to.as_deref()).await?;
                done(format!("{name} goes to {ticket} ({how})"))
            }
            DeskRequest::Eta { ticket, eta, delay_reason } => {
                desk.set_eta(actor, ticket, eta, delay_reason.as_deref()).await?;
                done(format!("{ticket} arrival set"))
            }
            DeskRequest::OnsiteLog { ticket, kind, text, attachment } => {
                let kind = desk.log_onsite(actor, ticket, kind, &text, attachment).await?;
                done(format!("{kind} recorded on {ticket}"))
            }
            DeskRequest::SignOff { ticket, name, solved } => {
                let name = desk.sign_off(actor, ticket, &name, solved).await?;
                done(format!("{ticket} signed off by {name}"))
            }
            DeskRequest::Spam { tickets, source, since } => {
                let source = source.as_deref().map(|s| (s, since));
                let marked = desk.mark_spam(actor, &tickets, source).await?;
                let list: Vec<String> = marked.iter().map(|t| t.to_string()).collect();
                done(format!("{} marked as spam: {}", marked.len(), list.join(" ")))
            }
            DeskRequest::Watch => {
                Err(DeskError::Invalid("watch is handled by the connection".into()))
            }
        }
    }
}
