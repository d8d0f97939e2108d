//! A session's start and end: the transcript, opened with the session (its first records say
//! who is in it and how their bandwidth checks went), sealed at its end, and whose failure ends
//! the session ("recording required"); and what the desk is told (the session row, the
//! ticket's state and history).

use std::sync::Arc;
use std::sync::atomic::Ordering;

use serde_json::json;
use tether_protocol::{Channel, ErrorCode, Role};

use tether_store::{SessionRecord, unix_now};
use tether_transcript::{Actor, Entry, Opened};

use crate::session::{Session, Sides};
use crate::shared::{Shared, lock};

impl Shared {
    /// Makes the session for two sides that just met: its id, its transcript (first record:
    /// who is in it), its store row and its ticket's new state. Runs under the rendezvous lock,
    /// before either side can end the session, so the start is always recorded first.
    pub(crate) fn start_session(self: &Arc<Self>, sides: Sides) -> Option<Arc<Session>> {
        let id = Session::new_id().map_err(|err| tracing::error!(%err, "no session id")).ok()?;
        let Opened { transcript, failed, file } =
            self.recorder.open(&id, first_records(&id, &sides));
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
        self.desk.session_started(record);
        let (desk, ticket, tech) = (self.desk.clone(), session.ticket, session.technician.clone());
        self.tracker.spawn(async move {
            if let Err(err) = desk.session_joined(ticket, &tech).await {
                tracing::error!(%err, "could not record the response");
            }
        });
        if let Some(failed) = failed {
            let (shared, watched) = (self.clone(), session.clone());
            self.tracker.spawn(async move {
                // Resolves with a reason only if the writer failed; Err once it finished well.
                if let Ok(reason) = failed.await {
                    shared.recording_failed(&watched, &reason);
                }
            });
        }
        Some(session)
    }

    /// The transcript could not be written: record that on the ticket and, when recording is
    /// required, end the session rather than run it unrecorded.
    fn recording_failed(&self, session: &Arc<Session>, reason: &str) {
        tracing::error!(session.id = %session.id, %reason, "transcript failed");
        self.desk.recording_failed(session.ticket, reason);
        if self.recorder.required() {
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
            let (desk, id, ticket) = (self.desk.clone(), session.id.clone(), session.ticket);
            self.tracker.spawn(async move {
                match sealed.await {
                    Ok(Ok(seal)) => desk.session_sealed(&id, seal.records, &seal.hash),
                    Ok(Err(reason)) => {
                        tracing::error!(session.id = %id, %reason, "transcript could not be sealed");
                        desk.recording_failed(ticket, &reason);
                    }
                    // The writer had already failed, and said so.
                    Err(_) => {}
                }
            });
        }
        self.desk.session_ended(&session.id, session.ticket, &session.technician, &reason);
    }
}

/// The transcript's first records: who is in the session, both bandwidth checks, and whether
/// the screen is held back.
fn first_records(id: &str, sides: &Sides) -> Vec<Entry> {
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
        first.push(Entry::now(Actor::broker(), "screen_held_back", json!({ "reason": reason })));
    }
    first
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}
