//! Session review: listing sessions, reading, verifying and exporting their transcripts, for
//! the host's `tether-broker admin` and consoles' `admin` requests alike (and the web desk
//! after them). Who may read which session is the access policy's answer; reading the files
//! is the transcript library's work, done on the blocking pool.

use tether_access::{Action, Actor, SessionScope};
use tether_protocol::{
    AdminAnswer, AdminReply, AdminRequest, ExportFormat, SessionSummary, VerifyReport,
};
use tether_store::{SessionFilter, SessionRow};
use tether_transcript::Library;

use crate::{Desk, DeskError};

impl Desk {
    /// Answers one admin request for `actor`: the one translation of [`AdminRequest`] that the
    /// host's commands and consoles' requests share.
    pub async fn admin(&self, actor: &Actor, req: AdminRequest) -> Result<AdminAnswer, DeskError> {
        Ok(match req {
            AdminRequest::Sessions { since, ticket, technician } => {
                let filter = SessionFilter { since, ticket, technician };
                AdminAnswer::Reply(AdminReply::Sessions {
                    sessions: self.sessions(actor, filter).await?,
                })
            }
            AdminRequest::Show { session } => {
                AdminAnswer::Document(self.transcript(actor, &session).await?)
            }
            AdminRequest::Verify { session } => AdminAnswer::Reply(AdminReply::Verified {
                reports: self.verify(actor, session.as_deref()).await?,
            }),
            AdminRequest::Export { session, format } => {
                AdminAnswer::Document(self.export(actor, &session, format).await?)
            }
        })
    }

    /// Sessions matching `filter` that `actor` may read, newest first.
    pub async fn sessions(
        &self,
        actor: &Actor,
        mut filter: SessionFilter,
    ) -> Result<Vec<SessionSummary>, DeskError> {
        if let SessionScope::Technician(me) = self.policy.session_scope(actor) {
            if filter.technician.as_deref().is_some_and(|t| t != me) {
                return Ok(Vec::new());
            }
            filter.technician = Some(me);
        }
        Ok(self.store.sessions(&filter).await?.iter().map(SessionRow::summary).collect())
    }

    /// The transcript as stored.
    pub async fn transcript(&self, actor: &Actor, id: &str) -> Result<String, DeskError> {
        let row = self.readable_session(actor, id).await?;
        let bytes = self.blocking(move |l| l.read(&row)).await??;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// Verifies one session, or every recorded one `actor` may read.
    pub async fn verify(
        &self,
        actor: &Actor,
        id: Option<&str>,
    ) -> Result<Vec<VerifyReport>, DeskError> {
        let rows = match id {
            Some(id) => vec![self.readable_session(actor, id).await?],
            None => {
                let technician = match self.policy.session_scope(actor) {
                    SessionScope::Technician(me) => Some(me),
                    SessionScope::All => None,
                };
                self.store.sessions(&SessionFilter { technician, ..Default::default() }).await?
            }
        };
        self.blocking(move |l| {
            rows.iter().filter(|r| r.start.transcript.is_some()).map(|r| l.verify(r)).collect()
        })
        .await
    }

    /// The session's documentation in `format`.
    pub async fn export(
        &self,
        actor: &Actor,
        id: &str,
        format: ExportFormat,
    ) -> Result<String, DeskError> {
        let row = self.readable_session(actor, id).await?;
        let ticket = self
            .store
            .ticket(row.start.ticket)
            .await?
            .ok_or_else(|| DeskError::NotFound(row.start.ticket.to_string()))?;
        Ok(self.blocking(move |l| l.export(&row, &ticket, format)).await??)
    }

    /// The session `id`, if `actor` may read it.
    async fn readable_session(&self, actor: &Actor, id: &str) -> Result<SessionRow, DeskError> {
        let row = self
            .store
            .session(id)
            .await?
            .ok_or_else(|| DeskError::NotFound(format!("no session {id}")))?;
        self.check(actor, Action::ReadSession(&row))?;
        Ok(row)
    }

    /// Runs file work against the library on the blocking pool.
    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Library) -> T + Send + 'static,
    ) -> Result<T, DeskError> {
        let library = self.library.clone();
        tokio::task::spawn_blocking(move || f(&library))
            .await
            .map_err(|e| DeskError::Io(format!("transcript task failed: {e}")))
    }
}
