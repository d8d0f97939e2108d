//! What sessions tell the desk: a session started or ended (the ticket goes in and out of
//! session), the bandwidth checks kept with the ticket, the technician's resolution and the
//! customer's confirmation, an override of a failed check, a hand-over, a transcript that
//! failed, and sessions a stopped broker left open.
//!
//! Writes that the relay cannot wait for (it calls these under its pairing lock, or on its hot
//! path) go through the store's ordered queue, so a session's end is never stored before its
//! start.

use tether_protocol::TicketId;
use tether_protocol::TicketStatus;
use tether_store::{CheckRecord, Confirmation, SessionRecord, unix_now};

use crate::bus::history;
use crate::{Desk, DeskError};

impl Desk {
    /// A session started: its row, the ticket in session with its technician, the history.
    pub fn session_started(&self, record: SessionRecord) {
        let event = history(record.ticket, &record.technician, "session_started", &record.id);
        self.store.record(move |s| async move {
            s.start_session(&record).await?;
            s.set_ticket_state(
                record.ticket,
                TicketStatus::InSession,
                Some(&record.technician),
                record.started_at,
            )
            .await?;
            s.add_ticket_event(&event).await
        });
    }

    /// Joining a session is the technician's response to the ticket.
    pub async fn session_joined(
        &self,
        ticket: TicketId,
        technician: &str,
    ) -> Result<(), DeskError> {
        let t = self.ticket(ticket).await?;
        self.respond(&t, technician, "joined a session").await?;
        Ok(())
    }

    /// A session ended: its row, and the ticket back to its owner unless the session resolved
    /// or closed it (a hand-over already moved the owner).
    pub fn session_ended(&self, id: &str, ticket: TicketId, technician: &str, reason: &str) {
        let (id, technician, reason) = (id.to_string(), technician.to_string(), reason.to_string());
        let event = history(ticket, "broker", "session_ended", &format!("{id}: {reason}"));
        let now = unix_now();
        self.store.record(move |s| async move {
            s.end_session(&id, now, &reason).await?;
            if let Some(t) = s.ticket(ticket).await?.filter(|t| t.status == TicketStatus::InSession)
            {
                let owner = t.assigned_to.unwrap_or(technician);
                s.set_ticket_state(ticket, TicketStatus::Assigned, Some(&owner), now).await?;
            }
            s.add_ticket_event(&event).await
        });
    }

    /// A session's transcript was sealed: `records` records, the seal's hash.
    pub fn session_sealed(&self, id: &str, records: u64, hash: &str) {
        let (id, hash) = (id.to_string(), hash.to_string());
        self.store.record(move |s| async move { s.seal_session(&id, records, &hash).await });
    }

    /// A session's transcript could not be written or sealed.
    pub fn recording_failed(&self, ticket: TicketId, reason: &str) {
        self.bus.note(ticket, "broker", "recording_failed", reason);
    }

    /// A bandwidth check kept with its ticket and in its history.
    pub fn check_kept(&self, record: CheckRecord) {
        let detail =
            format!("{} {}: {}", record.role.name(), record.name, record.result.verdict.name());
        let event = history(record.ticket, &record.name, "bandwidth_checked", &detail);
        self.store.record(move |s| async move {
            s.add_check(&record).await?;
            s.add_ticket_event(&event).await
        });
    }

    /// The technician recorded the resolution.
    pub fn resolved(&self, ticket: TicketId, technician: &str, text: &str) {
        let event = history(ticket, technician, "resolved", text);
        let text = text.to_string();
        self.store.record(move |s| async move {
            s.set_resolution(ticket, &text, unix_now()).await?;
            s.add_ticket_event(&event).await
        });
    }

    /// The technician let the screen through despite a failed bandwidth check.
    pub fn bandwidth_overridden(&self, ticket: TicketId, technician: &str, reason: &str) {
        self.bus.note(ticket, technician, "bandwidth_override", reason);
    }

    /// The customer answered the resolution: solved closes the ticket, not solved reopens it.
    pub async fn confirmed(
        &self,
        ticket: TicketId,
        customer: &str,
        confirmation: Confirmation,
    ) -> Result<(), DeskError> {
        let (solved, rating) = (confirmation.solved, confirmation.rating);
        self.store.set_confirmed(ticket, &confirmation, unix_now()).await?;
        let t = self.ticket(ticket).await?;
        let stars = rating.map(|r| format!(", rated {r}/5")).unwrap_or_default();
        if solved {
            let detail = format!("the customer confirmed the problem is solved{stars}");
            self.publish("closed", &t, customer, detail);
        } else {
            let detail = format!("the customer said the problem is not solved{stars}");
            self.publish("reopened", &t, customer, detail);
        }
        Ok(())
    }

    /// The customer let `from` hand the session over to `to`, who now owns the ticket.
    pub async fn handed_over(
        &self,
        ticket: TicketId,
        from: &str,
        to: &str,
    ) -> Result<(), DeskError> {
        let t = self.ticket(ticket).await?;
        self.assign_to(t, to, from, &format!("handed over by {from}")).await?;
        Ok(())
    }

    /// Whether `name` is an active account another technician could bring into a session.
    pub async fn is_active_account(&self, name: &str) -> Result<bool, DeskError> {
        Ok(self.store.user(name).await?.is_some_and(|u| !u.disabled))
    }

    /// Sessions a previous run left open (it was killed) are marked ended, and their tickets
    /// given back to their technicians; their transcripts stay unsealed, which `verify`
    /// reports as such.
    pub async fn recover_interrupted(&self) -> Result<(), DeskError> {
        let reason = "the broker stopped before the session ended";
        let now = unix_now();
        for row in self.store.close_unfinished(now, reason).await? {
            let start = row.start;
            tracing::warn!(
                session.id = %start.id, ticket.id = %start.ticket,
                "session was interrupted by a broker stop"
            );
            let event = history(start.ticket, "broker", "session_interrupted", &start.id);
            self.store.record(move |s| async move {
                s.set_ticket_state(
                    start.ticket,
                    TicketStatus::Assigned,
                    Some(&start.technician),
                    now,
                )
                .await?;
                s.add_ticket_event(&event).await
            });
        }
        Ok(())
    }
}
