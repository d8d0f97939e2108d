//! Resume: a customer whose connection drops mid-session (Wi-Fi roaming, a sleeping laptop, a
//! relay restart) gets the session back by reconnecting within the grace period with the token
//! the broker gave it. Meanwhile the technician is told the customer is away, what is sent to
//! the customer waits (within the queue bounds), and the transcript records both the loss and
//! the return. A token works once; every attachment brings a fresh one.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tether_protocol::{ErrorCode, Role, Secret, ServerMessage};

use tether_transcript::Entry;

use super::{Conn, Phase, Refusal};
use crate::session::{Attachment, Session};
use crate::shared::lock;

impl Conn {
    /// Gives the customer's connection a token to resume `session` with, if resuming is on.
    pub(super) fn offer_resume(&self, session: &Arc<Session>) -> Result<(), Refusal> {
        let grace_secs = self.shared.config.limits.resume_grace_secs;
        if grace_secs == 0 {
            return Ok(());
        }
        let (token, digest) = tether_access::credentials::new_token()
            .map_err(|e| Refusal::new(ErrorCode::Internal, e.to_string()))?;
        let digest: [u8; 32] = digest.try_into().expect("SHA-256 is 32 bytes");
        lock(&self.shared.rendezvous).offer_resume(digest, session.ticket);
        self.outbox.control(&ServerMessage::Resumable { token, grace_secs })?;
        Ok(())
    }

    /// The customer's connection `attached` was lost for `why`: keep the session for the grace
    /// period and tell the technician. Returns false if the session cannot wait (resuming is
    /// off, or the session is over), so the caller ends it.
    pub(super) async fn await_resume(
        &self,
        session: &Arc<Session>,
        attached: Attachment,
        why: &str,
    ) -> bool {
        let grace_secs = self.shared.config.limits.resume_grace_secs;
        if grace_secs == 0 || session.is_over() {
            return false;
        }
        let Some(away) = session.detach(attached.generation, self.shared.queue_limits()) else {
            // A resumed connection already took this one's place: nothing to do.
            return true;
        };
        tracing::info!(reason = why, grace_secs, "customer connection lost; holding the session");
        let data = json!({ "reason": why, "grace_secs": grace_secs });
        let entry = Entry::now(session.actor(Role::Agent), "connection_lost", data);
        session.transcript.record(entry).await;
        session.outbox(Role::Console).notice(&ServerMessage::PeerAway { grace_secs });
        let (shared, session) = (self.shared.clone(), session.clone());
        self.shared.tracker.spawn(async move {
            let mut watch = session.watch_attachment();
            let gone = async {
                // Wait the grace period out unless the customer comes back first.
                let _ = watch.wait_for(|a| *a != away).await;
            };
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(grace_secs)) => {}
                _ = gone => return,
                _ = session.ended() => return,
            }
            if session.attachment() == away {
                let reason = format!(
                    "the customer's connection was lost and did not come back within {grace_secs} s"
                );
                shared.end_session(&session, reason, Some(ErrorCode::PeerGone));
            }
        });
        true
    }

    /// An agent presenting a resume token: the session it takes back, or a refusal. Nothing
    /// is attached yet: the connection is welcomed first, then [`Conn::resume`] attaches it.
    pub(super) fn take_resume(&mut self, token: &Secret<String>) -> Result<Arc<Session>, Refusal> {
        let source = self.peer.ip();
        self.shared.access.may_try_resume(source)?;
        let digest: [u8; 32] = tether_access::credentials::token_hash(token.expose())
            .try_into()
            .expect("SHA-256 is 32 bytes");
        let session = lock(&self.shared.rendezvous).take_resume(&digest);
        let session = session.filter(|s| !s.is_over());
        self.shared.access.resume_settled(source, session.is_none());
        let Some(session) = session else {
            tracing::info!("resume refused: no such session");
            return Err(Refusal::new(
                ErrorCode::Unauthenticated,
                "that session can no longer be resumed; ask for help again",
            ));
        };
        tracing::Span::current().record("ticket.id", tracing::field::display(session.ticket));
        Ok(session)
    }

    /// The `resume` phase: attaches this (welcomed) connection to `session` as the
    /// customer's; it hears whatever waited for it, gets a fresh resume token, and relays.
    pub(super) async fn resume(&mut self, session: Arc<Session>) -> Result<Phase, Refusal> {
        self.trusted();
        self.rejoin(&session).await?;
        Ok(Phase::Relay { role: Role::Agent, session })
    }

    async fn rejoin(&mut self, session: &Arc<Session>) -> Result<(), Refusal> {
        tracing::Span::current().record("session.id", session.id.as_str());
        let was_away = session.attachment().away;
        session.attach(self.outbox.clone());
        tracing::info!(was_away, "customer resumed the session");
        let entry = Entry::now(session.actor(Role::Agent), "resumed", json!({}));
        session.transcript.record(entry).await;
        session.outbox(Role::Console).notice(&ServerMessage::PeerBack);
        self.offer_resume(session)
    }
}
