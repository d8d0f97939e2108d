//! Escalation: a ticket goes to a dispatcher or admin (one named, or the least loaded), with
//! the reason in its history.

use tether_access::{Action, Actor};
use tether_protocol::{TicketId, TicketStatus};
use tether_store::unix_now;

use crate::error::required;
use crate::{Desk, DeskError};

impl Desk {
    /// Escalates `ticket` to `to` (or the least loaded dispatcher or admin); returns who took it.
    pub async fn escalate(
        &self,
        actor: &Actor,
        ticket: TicketId,
        to: Option<&str>,
        reason: &str,
    ) -> Result<String, DeskError> {
        let t = self.open_ticket(ticket).await?;
        self.check(actor, Action::WorkTicket(&t))?;
        if t.status == TicketStatus::Resolved {
            return Err(DeskError::Invalid(format!("{ticket} is resolved; nothing to escalate")));
        }
        let reason = required(reason, "a reason", 1000)?;
        let users = self.store.users().await?;
        let loads = self.store.open_loads().await?;
        let managers = users.iter().filter(|u| {
            matches!(
                u.role,
                tether_protocol::UserRole::Dispatcher | tether_protocol::UserRole::Admin
            ) && !u.disabled
        });
        let manager = match to {
            Some(name) => managers.clone().find(|u| u.name == name).ok_or_else(|| {
                DeskError::NotFound(format!("{name} is not an active dispatcher or admin"))
            })?,
            None => managers
                .min_by_key(|u| (loads.get(&u.name).copied().unwrap_or(0), u.name.clone()))
                .ok_or_else(|| {
                    DeskError::NotFound("there is no dispatcher or admin to escalate to".into())
                })?,
        };
        let name = manager.name.clone();
        self.store
            .set_ticket_state(ticket, TicketStatus::Escalated, Some(&name), unix_now())
            .await?;
        let t = self.ticket(ticket).await?;
        self.publish("escalated", &t, actor.name(), format!("escalated to {name}: {reason}"));
        Ok(name)
    }
}
