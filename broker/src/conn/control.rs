//! Control messages during a session: consent asked, granted, refused, revoked and released;
//! notes, the resolution and the customer's confirmation; leaving. Each is relayed where it
//! must go, written to the transcript, and (for the ticket's outcome) to the store.

use std::sync::Arc;

use serde_json::json;
use tether_protocol::{Approval, ClientMessage, ErrorCode, Role, ServerMessage};

use tether_store::Confirmation;
use tether_transcript::{Actor, Entry};

use super::{Conn, Refusal};
use crate::session::Session;

/// The longest note or resolution, in characters.
const MAX_TEXT: usize = 8000;

impl Conn {
    /// Handles a control message during a session. Returns why the session ends, if it does.
    pub(super) async fn session_control(
        &mut self,
        session: &Arc<Session>,
        role: Role,
        msg: ClientMessage,
    ) -> Result<Option<String>, Refusal> {
        let actor = session.actor(role);
        match (role, msg) {
            (Role::Agent, ClientMessage::Consent { capability, granted }) => {
                tracing::info!(capability = capability.name(), granted, "consent decision");
                for change in session.set_consent(capability, granted)? {
                    let event = match (change.granted, change.was_held) {
                        (true, _) => "consent_granted",
                        (false, true) => "consent_revoked",
                        (false, false) => "consent_refused",
                    };
                    let data = json!({ "capability": change.capability.name() });
                    session.transcript.record(Entry::now(actor.clone(), event, data)).await;
                }
            }
            (Role::Console, ClientMessage::ConsentRequest { capability }) => {
                tracing::info!(capability = capability.name(), "consent requested");
                let data = json!({ "capability": capability.name() });
                session.transcript.record(Entry::now(actor, "consent_requested", data)).await;
                if session.consent().holds(capability) {
                    self.outbox
                        .control(&ServerMessage::ConsentChanged { capability, granted: true })?;
                } else {
                    session
                        .outbox(Role::Agent)
                        .control(&ServerMessage::ConsentRequested { capability })?;
                }
            }
            (Role::Console, ClientMessage::ConsentRelease { capability }) => {
                tracing::info!(capability = capability.name(), "consent released");
                session.set_consent(capability, false)?;
                let data = json!({ "capability": capability.name() });
                session.transcript.record(Entry::now(actor, "consent_released", data)).await;
            }
            (Role::Console, ClientMessage::Note { text }) => {
                let Some(text) = self.bounded(text, "note") else { return Ok(None) };
                session.transcript.record(Entry::now(actor, "note", json!({ "text": text }))).await;
                self.outbox.control(&ServerMessage::Recorded { what: "note".into() })?;
            }
            (Role::Console, ClientMessage::Resolve { text }) => {
                let Some(text) = self.bounded(text, "resolution") else { return Ok(None) };
                tracing::info!("resolution recorded");
                let data = json!({ "text": text });
                session.transcript.record(Entry::now(actor, "resolution", data)).await;
                self.shared.desk.resolved(session.ticket, &session.technician, &text);
                self.outbox.control(&ServerMessage::Recorded { what: "resolution".into() })?;
                session.outbox(Role::Agent).control(&ServerMessage::ResolutionProposed { text })?;
            }
            (Role::Console, ClientMessage::OverrideBandwidth { reason }) => {
                let Some(reason) = self.bounded(reason, "reason") else { return Ok(None) };
                if !session.override_gate() {
                    self.complain(
                        ErrorCode::Malformed,
                        "screen sharing is not held back; nothing to override",
                    );
                    return Ok(None);
                }
                tracing::info!(%reason, "bandwidth check overridden");
                let data = json!({ "reason": reason });
                session.transcript.record(Entry::now(actor, "bandwidth_override", data)).await;
                self.shared.desk.bandwidth_overridden(session.ticket, &session.technician, &reason);
                let gate = session.gate(Some(format!(
                    "{} overrode the bandwidth check: {reason}",
                    session.technician
                )));
                session.outbox(Role::Agent).control(&gate)?;
                session.outbox(Role::Console).control(&gate)?;
            }
            (Role::Agent, ClientMessage::Confirm { solved, rating, comment }) => {
                tracing::info!(solved, "customer confirmation");
                let rating = rating.filter(|r| (1..=5).contains(r));
                let comment = comment
                    .map(|c| c.trim().chars().take(2000).collect::<String>())
                    .filter(|c| !c.is_empty());
                let data = json!({ "solved": solved, "rating": rating, "comment": comment });
                session.transcript.record(Entry::now(actor, "customer_confirmation", data)).await;
                let confirmation = Confirmation { solved, rating, comment };
                self.shared.desk.confirmed(session.ticket, &session.customer, confirmation).await?;
                session.outbox(Role::Console).control(&ServerMessage::Confirmed { solved })?;
            }
            (Role::Console, ClientMessage::InviteTechnician { name, mode }) => {
                let known = self.technician(&name).await?;
                if !known || name == session.technician {
                    self.complain(
                        ErrorCode::NotFound,
                        format!("{name} is not another active technician"),
                    );
                    return Ok(None);
                }
                self.ask_customer(session, &actor, Approval::SecondTechnician { name, mode })
                    .await?;
            }
            (Role::Console, ClientMessage::Transfer { to }) => {
                let known = self.technician(&to).await?;
                if !known || to == session.technician {
                    self.complain(
                        ErrorCode::NotFound,
                        format!("{to} is not another active technician"),
                    );
                    return Ok(None);
                }
                self.ask_customer(session, &actor, Approval::Transfer { to }).await?;
            }
            (Role::Agent, ClientMessage::Approve { id, allowed }) => {
                let Some(what) = session.helpers.decide(id, allowed) else {
                    self.complain(ErrorCode::NotFound, "no such question is waiting for an answer");
                    return Ok(None);
                };
                let event = if allowed { "approved" } else { "refused" };
                let data = json!({ "what": what });
                session.transcript.record(Entry::now(actor, event, data)).await;
                let decided = ServerMessage::ApprovalDecided { what: what.clone(), allowed };
                session.outbox(Role::Console).control(&decided)?;
                self.outbox.control(&decided)?;
                if let (Approval::Transfer { to }, true) = (&what, allowed) {
                    let desk = &self.shared.desk;
                    if let Err(err) =
                        desk.handed_over(session.ticket, &session.technician, to).await
                    {
                        tracing::error!(%err, "the hand-over could not be recorded on the ticket");
                    }
                    return Ok(Some(format!("approved handing the session over to {to}")));
                }
            }
            (_, ClientMessage::Signal { signal }) => self.signal(session, role, signal).await?,
            (_, ClientMessage::Leave { reason }) => {
                let reason = reason
                    .map(|r| r.chars().take(200).collect::<String>())
                    .filter(|r| !r.trim().is_empty());
                return Ok(Some(match reason {
                    Some(r) => format!("ended the session: {r}"),
                    None => "ended the session".into(),
                }));
            }
            (Role::Console, ClientMessage::Consent { .. }) => self.complain(
                ErrorCode::Forbidden,
                "only the customer grants consent; use consent_request",
            ),
            (_, ClientMessage::Hello(_)) => {
                return Err(Refusal::new(ErrorCode::Malformed, "hello was already said"));
            }
            (_, other) => self.complain(
                ErrorCode::Malformed,
                format!(
                    "{} is not allowed {} during a session",
                    other.kind(),
                    match role {
                        Role::Agent => "from the customer",
                        Role::Console => "from the technician",
                    }
                ),
            ),
        }
        Ok(None)
    }

    /// Whether `name` is an active console account that can work tickets.
    async fn technician(&self, name: &str) -> Result<bool, Refusal> {
        Ok(self.shared.desk.is_active_account(name).await?)
    }

    /// Asks the customer to approve `what` (recorded).
    async fn ask_customer(
        &self,
        session: &Arc<Session>,
        actor: &Actor,
        what: Approval,
    ) -> Result<(), Refusal> {
        tracing::info!(?what, "customer asked to approve");
        let data = json!({ "what": what });
        session.transcript.record(Entry::now(actor.clone(), "approval_requested", data)).await;
        let id = session.helpers.ask(what.clone());
        session.outbox(Role::Agent).control(&ServerMessage::ApprovalRequested { id, what })?;
        Ok(())
    }

    /// Trimmed text within [`MAX_TEXT`], or a complaint and `None`.
    fn bounded(&self, text: String, what: &str) -> Option<String> {
        let text = text.trim();
        if text.is_empty() || text.chars().count() > MAX_TEXT {
            self.complain(
                ErrorCode::Malformed,
                format!("a {what} must be 1 to {MAX_TEXT} characters"),
            );
            return None;
        }
        Some(text.to_string())
    }
}
