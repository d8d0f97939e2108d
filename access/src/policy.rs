//! Authorization, decided here and nowhere else: who is asking ([`Actor`]), what they want to
//! do ([`Action`]), and the one [`Policy`] every entry point asks (the websocket handlers, the
//! host's admin commands, and the services behind them). Each rule is one arm of
//! [`Policy::check`], so the whole of it reads in one screen.
//!
//! The rules: the host (someone with the data directory) and the broker itself may do
//! anything; dispatchers and admins may do anything on the desk; technicians read and work
//! (acknowledge, follow up, invite to, re-prioritise, close, escalate) their own tickets and
//! unassigned ones, join only those (unless the customer let them in as a second technician),
//! read their own sessions only, and see desk events about their own tickets and new
//! unassigned ones.

use tether_protocol::{DeskEvent, UserRole};
use tether_store::{SessionRow, TicketRecord, TicketScope, UserRecord};

/// Who is asking.
#[derive(Debug, Clone)]
pub enum Actor {
    /// Someone at the broker's host with its data directory (`tether-broker admin`, `user`).
    Host,
    /// The broker itself: automatic routing, deadline alerts, session bookkeeping.
    System,
    /// A signed-in staff account.
    Staff(UserRecord),
}

impl Actor {
    /// The name a ticket's history records for this actor.
    pub fn name(&self) -> &str {
        match self {
            Actor::Host => "host",
            Actor::System => "broker",
            Actor::Staff(u) => &u.name,
        }
    }

    /// The account, for a staff member.
    pub fn user(&self) -> Option<&UserRecord> {
        match self {
            Actor::Staff(u) => Some(u),
            _ => None,
        }
    }

    /// Dispatchers, admins, the host and the broker: everyone who may act on any ticket.
    pub fn is_manager(&self) -> bool {
        match self {
            Actor::Host | Actor::System => true,
            Actor::Staff(u) => matches!(u.role, UserRole::Dispatcher | UserRole::Admin),
        }
    }

    /// The technician this actor's reading is limited to, if it is one.
    fn technician(&self) -> Option<&str> {
        match self {
            Actor::Staff(u) if u.role == UserRole::Technician => Some(&u.name),
            _ => None,
        }
    }
}

/// What an actor wants to do.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Action<'a> {
    /// Read a ticket: its client's contact, its history, its visit's address and access.
    ReadTicket(&'a TicketRecord),
    /// Work a ticket: acknowledge it, follow it up, invite its customer, change its priority,
    /// close or escalate it, schedule its visit.
    WorkTicket(&'a TicketRecord),
    /// Take a ticket for oneself.
    ClaimTicket(&'a TicketRecord),
    /// Give a ticket to someone else.
    AssignTicket,
    /// Send a technician on an onsite visit.
    Dispatch,
    /// Report on an onsite visit (arrival, log, sign-off): the visit's technician's work.
    WorkVisit { ticket: &'a TicketRecord, technician: Option<&'a str> },
    /// Join a ticket's session; `invited` when the customer let this technician in as a
    /// second technician.
    Join { ticket: &'a TicketRecord, invited: bool },
    /// See a desk event as it happens.
    SeeEvent(&'a DeskEvent),
    /// Read the deadline review.
    ReadReport,
    /// Read a session's transcript.
    ReadSession(&'a SessionRow),
    /// Add accounts, disable or enable them, change their roles.
    ManageUsers,
    /// List or revoke the bearer tokens of the account `owner`.
    ManageTokens {
        /// Whose tokens.
        owner: &'a str,
    },
}

/// Why an action was refused, in words for the one refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Denied(pub String);

/// Which sessions a listing may include.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionScope {
    /// Every session.
    All,
    /// Only this technician's.
    Technician(String),
}

/// The one authorization policy.
#[derive(Debug, Clone, Copy, Default)]
pub struct Policy;

impl Policy {
    /// Whether `actor` may do `action`; if not, why.
    pub fn check(&self, actor: &Actor, action: Action<'_>) -> Result<(), Denied> {
        let manager = actor.is_manager();
        let deny = |why: String| Err(Denied(why));
        match action {
            _ if matches!(actor, Actor::Host | Actor::System) => Ok(()),
            Action::ReadTicket(t) | Action::WorkTicket(t) | Action::ClaimTicket(t) => {
                match t.assigned_to.as_deref() {
                    Some(owner) if owner != actor.name() && !manager => {
                        deny(format!("{} is assigned to {owner}", t.id))
                    }
                    _ => Ok(()),
                }
            }
            Action::AssignTicket if !manager => {
                deny("only dispatchers and admins assign tickets; technicians claim them".into())
            }
            Action::Dispatch if !manager => {
                deny("dispatchers and admins send technicians out".into())
            }
            Action::WorkVisit { ticket, technician } => {
                if technician != Some(actor.name()) && !manager {
                    deny(format!("{}'s visit is not yours", ticket.id))
                } else {
                    Ok(())
                }
            }
            Action::Join { ticket, invited } => match ticket.assigned_to.as_deref() {
                Some(owner)
                    if owner != actor.name() && actor.technician().is_some() && !invited =>
                {
                    deny(format!("{} is assigned to {owner}", ticket.id))
                }
                _ => Ok(()),
            },
            Action::SeeEvent(e) => match actor.technician() {
                None => Ok(()),
                Some(me) => {
                    let owner = e.summary.as_ref().and_then(|s| s.assigned_to.as_deref());
                    if owner == Some(me) || (owner.is_none() && e.kind == "created") {
                        Ok(())
                    } else {
                        deny("another technician's ticket".into())
                    }
                }
            },
            Action::ManageUsers => match actor.user() {
                Some(u) if u.role == UserRole::Admin => Ok(()),
                _ => deny("only admins manage accounts".into()),
            },
            Action::ReadReport if !manager => {
                deny("the deadline review is for dispatchers and admins".into())
            }
            Action::ReadSession(row) => match actor.technician() {
                Some(me) if me != row.start.technician => deny(format!(
                    "session {} is another technician's; technicians may read their own \
                     sessions only",
                    row.start.id
                )),
                _ => Ok(()),
            },
            Action::ManageTokens { owner } => match actor.user() {
                Some(u) if u.name == owner || u.role == UserRole::Admin => Ok(()),
                _ => deny(format!("only {owner} and admins manage {owner}'s tokens")),
            },
            Action::AssignTicket | Action::Dispatch | Action::ReadReport => Ok(()),
        }
    }

    /// Which tickets `actor` may list: technicians their own and unassigned ones (as
    /// [`Action::ReadTicket`] decides one by one), everyone else all.
    pub fn ticket_scope(&self, actor: &Actor) -> TicketScope {
        match actor {
            Actor::Staff(u) if !actor.is_manager() => TicketScope::OwnOrUnassigned(u.name.clone()),
            _ => TicketScope::All,
        }
    }

    /// Which sessions `actor` may list.
    pub fn session_scope(&self, actor: &Actor) -> SessionScope {
        match actor.technician() {
            Some(me) => SessionScope::Technician(me.to_string()),
            None => SessionScope::All,
        }
    }
}

#[cfg(test)]
mod tests {
    use tether_protocol::{Availability, Priority, TicketId, TicketStatus};
    use tether_store::SessionRecord;

    use super::*;

    fn user(name: &str, role: UserRole) -> Actor {
        Actor::Staff(UserRecord {
            name: name.into(),
            role,
            skills: vec![],
            password_hash: String::new(),
            disabled: false,
            created_at: 0,
            availability: Availability::Available,
            location: None,
            failed_logins: 0,
            locked_until: None,
        })
    }

    fn ticket(owner: Option<&str>) -> TicketRecord {
        TicketRecord {
            id: TicketId(7),
            channel: "phone".into(),
            client: "c".into(),
            contact: String::new(),
            issue: "i".into(),
            priority: Priority::High,
            status: TicketStatus::Assigned,
            assigned_to: owner.map(str::to_string),
            created_at: 0,
            updated_at: 0,
            resolution: None,
            confirmed: None,
            bandwidth: None,
            skills: vec![],
            deadline_at: None,
            responded_at: None,
            resolved_at: None,
            closed_at: None,
            close_reason: None,
            rating: None,
            comment: None,
            follow_up: None,
            warned_at: None,
            breached_at: None,
            claimed_priority: None,
            source: None,
            spam: false,
        }
    }

    #[test]
    fn technicians_work_their_own_and_unassigned_tickets_managers_any() {
        let p = Policy;
        let (ann, ben) = (user("ann", UserRole::Technician), user("ben", UserRole::Dispatcher));
        let theirs = ticket(Some("cat"));
        assert!(p.check(&ann, Action::WorkTicket(&ticket(Some("ann")))).is_ok());
        assert!(p.check(&ann, Action::WorkTicket(&ticket(None))).is_ok());
        let refused = p.check(&ann, Action::WorkTicket(&theirs)).unwrap_err();
        assert_eq!(refused.0, "T7 is assigned to cat");
        assert!(p.check(&ben, Action::WorkTicket(&theirs)).is_ok());
        assert!(p.check(&ann, Action::AssignTicket).is_err());
        assert!(p.check(&ben, Action::AssignTicket).is_ok());
        assert!(p.check(&Actor::Host, Action::AssignTicket).is_ok());
        assert!(p.check(&ann, Action::ReadReport).is_err());
        assert!(p.check(&ann, Action::ReadTicket(&theirs)).is_err(), "another's ticket");
        assert!(p.check(&ann, Action::ReadTicket(&ticket(None))).is_ok(), "an unassigned one");
        assert!(p.check(&ben, Action::ReadTicket(&theirs)).is_ok());
        assert!(p.check(&ann, Action::ManageTokens { owner: "ann" }).is_ok());
        assert!(p.check(&ann, Action::ManageTokens { owner: "cat" }).is_err());
        assert!(p.check(&ben, Action::ManageTokens { owner: "cat" }).is_err(), "dispatchers too");
        let root = user("root", UserRole::Admin);
        assert!(p.check(&root, Action::ManageTokens { owner: "cat" }).is_ok());
    }

    #[test]
    fn technicians_join_their_own_tickets_unless_the_customer_invited_them() {
        let p = Policy;
        let ann = user("ann", UserRole::Technician);
        let theirs = ticket(Some("cat"));
        assert!(p.check(&ann, Action::Join { ticket: &theirs, invited: false }).is_err());
        assert!(p.check(&ann, Action::Join { ticket: &theirs, invited: true }).is_ok());
        let admin = user("root", UserRole::Admin);
        assert!(p.check(&admin, Action::Join { ticket: &theirs, invited: false }).is_ok());
    }

    #[test]
    fn technicians_read_only_their_own_sessions() {
        let p = Policy;
        let row = SessionRow {
            start: SessionRecord {
                id: "s-1".into(),
                ticket: TicketId(7),
                technician: "cat".into(),
                customer: "c".into(),
                started_at: 0,
                transcript: None,
            },
            ended_at: None,
            end_reason: None,
            sealed_records: None,
            sealed_hash: None,
        };
        let ann = user("ann", UserRole::Technician);
        assert!(p.check(&ann, Action::ReadSession(&row)).is_err());
        assert!(p.check(&user("cat", UserRole::Technician), Action::ReadSession(&row)).is_ok());
        assert_eq!(p.session_scope(&ann), SessionScope::Technician("ann".into()));
        assert_eq!(p.session_scope(&Actor::Host), SessionScope::All);
        assert_eq!(p.ticket_scope(&ann), TicketScope::OwnOrUnassigned("ann".into()));
        assert_eq!(p.ticket_scope(&Actor::Host), TicketScope::All);
    }
}
