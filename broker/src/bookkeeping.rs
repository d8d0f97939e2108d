//! Session bookkeeping: what the broker writes down when a session starts and ends — the
//! session row and the ticket's state and history in the store, and the transcript, which is
//! opened with the session, sealed at its end, and whose failure ends the session ("recording
//! required").

use std::sync::Arc;
use std::sync::atomic::Ordering;

use serde_json::json;
use tether_protocol::{Channel, ErrorCode, Role, TicketId, TicketStatus};
use tokio::sync::oneshot;

use crate::session::{Session, Sides};
use crate::state::{Broker, lock, unix_now};
use crate::store::{SessionRecord, TicketEvent};
use crate::transcript::{Actor, Entry, Transcript};

impl Broker {
    /// Makes the session for two sides that just met: its id, its transcript (first record:
    /// who is in it), its store row and its ticket's new state. Runs under the rendezvous lock,
    /// before either side can end the session, so the start is always recorded first.
    pub(crate) fn start_session(self: &Arc<Self>, sides: Sides) -> Option<Arc<Session>> {
        let id = Session::new_id().map_err(|err| tracing::error!(%err, "no session id")).ok()?;
        let (transcript, failed, file) = self.open_transcript(&id, &sides);
        let session = Arc::new(Session::new(id, sides, transcript));
        let record = SessionRecord {
            id: session.id.clone(),
            ticket: session.ticket,
            technician: session.technician.clone(),
            customer: session.customer.clone(),
            started_at: unix_now(),
            transcript: file,
        };
        tracing::info!(
            session.id = %session.id, ticket.id = %session.ticket,
            technician = %session.technician, "session paired"
        );
        let event =
            ticket_event(session.ticket, &session.technician, "session_started", &session.id);
        self.store.record(move |s| {
            s.start_session(&record)?;
            s.set_ticket_state(
                record.ticket,
                TicketStatus::InSession,
                Some(&record.technician),
                record.started_at,
            )?;
            s.add_ticket_event(&event)
        });
        // Joining a session is the technician's response to the ticket.
        let (broker, ticket, tech) = (self.clone(), session.ticket, session.technician.clone());
        self.tracker.spawn(async move {
            match broker.ticket(ticket).await {
                Ok(t) => {
                    if let Err(err) = broker.respond(&t, &tech, "joined a session").await {
                        tracing::error!(%err, "could not record the response");
                    }
                }
                Err(err) => tracing::error!(%err, "could not read the ticket"),
            }
        });
        if let Some(failed) = failed {
            let (broker, watched) = (self.clone(), session.clone());
            self.tracker.spawn(async move {
                // Resolves with a reason only if the writer failed; Err once it finished well.
                if let Ok(reason) = failed.await {
                    broker.recording_failed(&watched, &reason);
                }
            });
        }
        Some(session)
    }

    fn open_transcript(
        &self,
        id: &str,
        sides: &Sides,
    ) -> (Transcript, Option<oneshot::Receiver<String>>, Option<String>) {
        let t = &self.transcripts;
        if !t.enabled {
            return (Transcript::disabled(), None, None);
        }
        let file = format!("{id}.jsonl");
        let mut first = vec![Entry::now(
            Actor::broker(),
            "session_started",
            json!({
                "session": id,
                "ticket": sides.ticket.to_string(),
                "technician": sides.technician,
                "customer": sides.customer,
            }),
        )];
        let checks = [
            (Role::Agent, &sides.customer, &sides.checks.agent),
            (Role::Console, &sides.technician, &sides.checks.console),
        ];
        for (role, name, check) in checks {
            if let Some(c) = check {
                let m = &c.measurement;
                first.push(Entry::now(
                    Actor::of(role, name),
                    "bandwidth",
                    json!({
                        "verdict": c.verdict.name(),
                        "reasons": c.reasons,
                        "rtt_ms": round2(m.rtt_ms),
                        "jitter_ms": round2(m.jitter_ms),
                        "download_mbps": round2(m.download_mbps),
                        "upload_mbps": round2(m.upload_mbps),
                    }),
                ));
            }
        }
        if let Some(reason) = sides.checks.failure() {
            first.push(Entry::now(
                Actor::broker(),
                "screen_held_back",
                json!({ "reason": reason }),
            ));
        }
        let (transcript, failed) =
            Transcript::open(t.dir.join(&file), id.to_string(), t.key.clone(), first);
        (transcript, Some(failed), Some(file))
    }

    /// The transcript could not be written: record that on the ticket and, when recording is
    /// required, end the session rather than run it unrecorded.
    fn recording_failed(&self, session: &Arc<Session>, reason: &str) {
        tracing::error!(session.id = %session.id, %reason, "transcript failed");
        let event = ticket_event(session.ticket, "broker", "recording_failed", reason);
        self.store.record(move |s| s.add_ticket_event(&event));
        if self.transcripts.required {
            self.end_session(
                session,
                format!(
                    "the session could not be recorded ({reason}); sessions are not run unrecorded"
                ),
                Some(ErrorCode::RecordingFailed),
            );
        }
    }

    /// Ends `session` (once) with `reason`: tells both sides, frees the ticket, writes the
    /// closing summaries and seals the transcript, and records the end.
    pub(crate) fn end_session(
        &self,
        session: &Arc<Session>,
        reason: impl Into<String>,
        code: Option<ErrorCode>,
    ) {
        let reason = reason.into();
        if !session.end(reason.clone(), code) {
            return;
        }
        lock(&self.rendezvous).finish(session.ticket, &session.id);
        let c = &session.counters;
        let replaced = session.outbox(Role::Console).screen_replaced();
        tracing::info!(
            session.id = %session.id, ticket.id = %session.ticket, %reason,
            code = code.map(|c| c.name()),
            chat = c.frames(Channel::Chat), screen = c.frames(Channel::Screen),
            input = c.frames(Channel::Input), refused = c.refused.load(Ordering::Relaxed),
            screen_replaced = replaced, "session ended"
        );
        let mut closing = c.summaries(replaced);
        closing.push(Entry::now(
            Actor::broker(),
            "session_ended",
            json!({"reason": reason, "code": code.map(|c| c.name())}),
        ));
        if let Some(sealed) = session.transcript.finish(closing) {
            let (store, id, ticket) = (self.store.clone(), session.id.clone(), session.ticket);
            self.tracker.spawn(async move {
                match sealed.await {
                    Ok(Ok(seal)) => store.record(move |s| s.seal_session(&id, seal.records, &seal.hash)),
                    Ok(Err(reason)) => {
                        tracing::error!(session.id = %id, %reason, "transcript could not be sealed");
                        let event = ticket_event(ticket, "broker", "recording_failed", &reason);
                        store.record(move |s| s.add_ticket_event(&event));
                    }
                    // The writer had already failed, and said so.
                    Err(_) => {}
                }
            });
        }
        let (id, ticket, tech) = (session.id.clone(), session.ticket, session.technician.clone());
        let now = unix_now();
        let event = ticket_event(ticket, "broker", "session_ended", &format!("{id}: {reason}"));
        self.store.record(move |s| {
            s.end_session(&id, now, &reason)?;
            // A session that ended with the ticket resolved or closed leaves it so; the owner
            // stays whoever it is now (a hand-over already moved it).
            if let Some(t) = s.ticket(ticket)?.filter(|t| t.status == TicketStatus::InSession) {
                let owner = t.assigned_to.unwrap_or(tech);
                s.set_ticket_state(ticket, TicketStatus::Assigned, Some(&owner), now)?;
            }
            s.add_ticket_event(&event)
        });
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// A history entry for `ticket`, now.
pub(crate) fn ticket_event(ticket: TicketId, actor: &str, kind: &str, detail: &str) -> TicketEvent {
    TicketEvent {
        ticket,
        at: unix_now(),
        actor: actor.into(),
        kind: kind.into(),
        detail: detail.into(),
    }
}
