//! Customers without an account: a request for help from the portal, and the link that lets a
//! customer follow their own ticket and confirm it solved (or say it is not).
//!
//! A link is a 256-bit random token, kept only as its SHA-256; it opens that one ticket and
//! nothing else, staff who work the ticket can replace or revoke it, and wrong links count
//! against their source address: after [`MAX_LINK_GUESSES`] within [`LINK_WINDOW_SECS`] the
//! address is refused for [`LINK_BLOCK_SECS`], right links included.

use std::net::IpAddr;

use tether_access::credentials::{new_token, token_hash};
use tether_access::limiter::FailureLimiter;
use tether_access::{Action, Actor};
use tether_protocol::{
    CustomerTicket, CustomerUpdate, CustomerVisit, Secret, TicketId, TicketStatus,
};
use tether_store::{Confirmation, TicketRecord, unix_now};

use crate::tickets::CustomerRequest;
use crate::{Desk, DeskError};

/// Wrong links an address may try within the window before it is refused.
pub const MAX_LINK_GUESSES: u32 = 20;
/// The window wrong links are counted in, seconds.
pub const LINK_WINDOW_SECS: u64 = 600;
/// How long an address that guessed too often is refused, seconds.
pub const LINK_BLOCK_SECS: u64 = 900;

/// The longest comment a customer may leave with their answer, in characters.
const MAX_COMMENT: usize = 2000;

/// The history kinds a customer sees, as milestones.
const MILESTONES: [&str; 8] = [
    "created",
    "responded",
    "assigned",
    "eta_changed",
    "onsite_done",
    "resolved",
    "closed",
    "reopened",
];

/// The guess budget of customers' links.
pub(crate) fn link_limiter() -> FailureLimiter {
    // The limiter blocks on the failure past its maximum: the last guess of the budget blocks.
    FailureLimiter::new(MAX_LINK_GUESSES - 1, LINK_WINDOW_SECS, LINK_BLOCK_SECS)
}

/// A customer's answer to their ticket's resolution.
#[derive(Debug, Clone)]
pub struct CustomerAnswer {
    /// Whether the problem is solved.
    pub solved: bool,
    /// 1 to 5.
    pub rating: Option<u8>,
    /// In their words.
    pub comment: Option<String>,
}

impl Desk {
    /// Logs a request for help from the portal (at `source`), with the same checks and
    /// budgets as a request from the agent, and makes the customer's link to it: the ticket
    /// and the link's token, shown to the customer once.
    pub async fn portal_request(
        &self,
        req: CustomerRequest,
        source: IpAddr,
    ) -> Result<(TicketRecord, Secret<String>), DeskError> {
        self.check_request(&req)?;
        self.admit_request(source)?;
        let t = self.log_customer(req, source, "portal").await?;
        let link = self.make_link(t.id).await?;
        Ok((t, link))
    }

    /// A new link to `ticket` for its customer, replacing the one they had (staff who may
    /// work the ticket).
    pub async fn new_link(
        &self,
        actor: &Actor,
        ticket: TicketId,
    ) -> Result<Secret<String>, DeskError> {
        let t = self.open_ticket(ticket).await?;
        self.check(actor, Action::WorkTicket(&t))?;
        let link = self.make_link(t.id).await?;
        self.bus.note(
            t.id,
            actor.name(),
            "link",
            "a new link for the customer; older ones revoked",
        );
        Ok(link)
    }

    /// Revokes the customer's link to `ticket`; how many were live.
    pub async fn revoke_links(&self, actor: &Actor, ticket: TicketId) -> Result<usize, DeskError> {
        let t = self.ticket(ticket).await?;
        self.check(actor, Action::WorkTicket(&t))?;
        let n = self.store.revoke_ticket_links(t.id, unix_now()).await?;
        if n > 0 {
            self.bus.note(t.id, actor.name(), "link", "the customer's link was revoked");
        }
        Ok(n)
    }

    /// What the customer holding `link` sees of their ticket.
    pub async fn customer_ticket(
        &self,
        link: &str,
        source: IpAddr,
    ) -> Result<CustomerTicket, DeskError> {
        let t = self.linked_ticket(link, source).await?;
        self.customer_view(t).await
    }

    /// The customer holding `link` says whether the problem is solved: solved closes the
    /// ticket (with their rating and comment), not solved reopens it. "Not solved" needs a
    /// resolution to answer; "solved" may come at any time while the ticket is open.
    pub async fn customer_answer(
        &self,
        link: &str,
        source: IpAddr,
        answer: CustomerAnswer,
    ) -> Result<CustomerTicket, DeskError> {
        let t = self.linked_ticket(link, source).await?;
        if t.status == TicketStatus::Closed {
            return Err(DeskError::Invalid(format!("{} is already closed", t.id)));
        }
        if !answer.solved && t.status != TicketStatus::Resolved {
            return Err(DeskError::Invalid(format!(
                "{} is still being worked on; you can say whether it is solved once the \
                 technician says it is",
                t.id
            )));
        }
        if answer.rating.is_some_and(|r| !(1..=5).contains(&r)) {
            return Err(DeskError::Invalid("a rating is 1 to 5".into()));
        }
        let comment = match answer.comment.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(c) if c.chars().count() > MAX_COMMENT => {
                return Err(DeskError::Invalid(format!(
                    "the comment is longer than {MAX_COMMENT} characters"
                )));
            }
            Some(c) if c.chars().any(|ch| ch.is_control() && ch != '\n') => {
                return Err(DeskError::Invalid("the comment contains control characters".into()));
            }
            Some(c) => Some(c.to_string()),
        };
        let confirmation = Confirmation { solved: answer.solved, rating: answer.rating, comment };
        self.confirmed(t.id, &t.client, confirmation).await?;
        self.customer_view(self.ticket(t.id).await?).await
    }

    /// A new link to `ticket`, replacing its older ones.
    async fn make_link(&self, ticket: TicketId) -> Result<Secret<String>, DeskError> {
        let (token, hash) = new_token().map_err(|e| DeskError::Io(e.to_string()))?;
        self.store.add_ticket_link(ticket, &hash, unix_now()).await?;
        Ok(token)
    }

    /// The ticket a live `link` opens; wrong and revoked links count against `source`.
    async fn linked_ticket(&self, link: &str, source: IpAddr) -> Result<TicketRecord, DeskError> {
        let now = unix_now();
        self.links.lock().unwrap_or_else(|p| p.into_inner()).reserve(source, now).map_err(|b| {
            tracing::info!(%source, "customer link refused: too many wrong links");
            DeskError::RateLimited(format!(
                "too many wrong links from this address; try again in {} s",
                (b.until - now).max(1)
            ))
        })?;
        // Only a well-formed token is looked up; the rest is wrong without a store call.
        let found =
            if is_token(link) { self.store.ticket_link(&token_hash(link)).await } else { Ok(None) };
        let outcome = match found {
            Ok(Some(l)) if l.revoked_at.is_none() => Ok(l.ticket),
            Ok(Some(_)) => Err(DeskError::NotFound(
                "this link was revoked; ask the help desk for a new one".into(),
            )),
            Ok(None) => Err(DeskError::NotFound("no ticket has this link".into())),
            Err(e) => Err(e.into()),
        };
        let wrong = matches!(outcome, Err(DeskError::NotFound(_)));
        self.links.lock().unwrap_or_else(|p| p.into_inner()).settle(source, wrong, now);
        self.ticket(outcome?).await
    }

    /// The customer's view of `t`.
    async fn customer_view(&self, t: TicketRecord) -> Result<CustomerTicket, DeskError> {
        self.store.flush().await;
        let history = self.store.ticket_events(t.id).await?;
        let visit = self.store.visit(t.id).await?;
        Ok(CustomerTicket {
            id: t.id,
            client: t.client,
            issue: t.issue,
            awaiting_answer: t.status == TicketStatus::Resolved,
            status: t.status,
            priority: t.priority,
            claimed_priority: t.claimed_priority,
            technician: t.assigned_to,
            created_at: t.created_at,
            deadline_at: t.deadline_at,
            responded_at: t.responded_at,
            resolution: t.resolution,
            closed_at: t.closed_at,
            rating: t.rating,
            visit: visit.map(|v| CustomerVisit {
                window_start: v.window_start,
                window_end: v.window_end,
                address: v.address,
                technician: v.technician,
                eta: v.eta,
            }),
            updates: milestones(history),
        })
    }
}

/// The milestones of a ticket's history, a run of one kind told once (routing and then a
/// dispatcher assigning it is one "a technician took it" to the customer).
fn milestones(history: Vec<tether_store::TicketEvent>) -> Vec<CustomerUpdate> {
    let mut updates: Vec<CustomerUpdate> = history
        .into_iter()
        .filter(|e| MILESTONES.contains(&e.kind.as_str()))
        .map(|e| CustomerUpdate { at: e.at, kind: e.kind })
        .collect();
    updates.dedup_by(|later, earlier| later.kind == earlier.kind);
    updates
}

/// Whether `link` has the shape of a link token (64 lowercase hex digits).
fn is_token(link: &str) -> bool {
    link.len() == 64 && link.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_shape_of_a_token_is_looked_up() {
        assert!(is_token(&"ab".repeat(32)));
        assert!(!is_token(&"AB".repeat(32)), "tokens are lowercase hex");
        assert!(!is_token(&"ab".repeat(31)));
        assert!(!is_token("../../etc/passwd"));
    }

    #[test]
    fn customers_see_milestones_once_per_run_and_nothing_internal() {
        let event = |at, kind: &str| tether_store::TicketEvent {
            ticket: TicketId(1),
            at,
            actor: "dana".into(),
            kind: kind.into(),
            detail: "internal words".into(),
        };
        let history = vec![
            event(1, "created"),
            event(2, "assigned"),
            event(3, "assigned"),
            event(4, "escalated"),
            event(5, "link"),
            event(6, "assigned"),
            event(7, "closed"),
        ];
        let kinds: Vec<_> = milestones(history).into_iter().map(|u| (u.at, u.kind)).collect();
        let expected = [(1, "created"), (2, "assigned"), (7, "closed")];
        assert_eq!(kinds, expected.map(|(at, k)| (at, k.to_string())));
    }
}
