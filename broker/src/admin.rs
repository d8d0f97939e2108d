//! Transcript review: listing, reading, verifying and exporting session transcripts, for the
//! host's `tether-broker admin` and for consoles' `admin` requests alike. Authorisation lives
//! here, once: the host and admins and dispatchers read every session, technicians only
//! their own.

use std::path::{Path, PathBuf};

use tether_protocol::{ExportFormat, SessionSummary, UserRole, VerifyReport, VerifyStatus};

use crate::store::{SessionFilter, SessionRow, Store, StoreError, UserRecord};
use crate::transcript::export::{Documentation, export};
use crate::transcript::{Expected, Record, VerifyingKey, verify};

/// Who is asking.
#[derive(Debug, Clone, Copy)]
pub enum Viewer<'a> {
    /// Someone on the broker's host with access to its data directory.
    Host,
    /// A logged-in console user.
    User(&'a UserRecord),
}

impl Viewer<'_> {
    /// The technician whose sessions alone this viewer may read, if so limited.
    fn only(&self) -> Option<&str> {
        match self {
            Viewer::User(u) if u.role == UserRole::Technician => Some(&u.name),
            _ => None,
        }
    }
}

/// Why a review request failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReviewError {
    /// No such session.
    #[error("no session {0}")]
    NotFound(String),
    /// Not this viewer's to read.
    #[error("session {0} is another technician's; technicians may read their own sessions only")]
    Forbidden(String),
    /// The session was never recorded.
    #[error("session {0} has no transcript (recording was disabled)")]
    Unrecorded(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The transcript file could not be read.
    #[error("{0}")]
    Io(String),
    /// An asciicast was asked of a session without a shell.
    #[error("session {0} had no shell to play back")]
    NoShell(String),
}

/// Transcript review over a store and a transcript directory.
#[derive(Clone)]
pub struct Review<'a> {
    store: &'a dyn Store,
    dir: PathBuf,
    key: VerifyingKey,
}

impl std::fmt::Debug for Review<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Review").field("dir", &self.dir).finish()
    }
}

impl<'a> Review<'a> {
    /// Review over `store`, transcripts in `dir`, seals checked with `key`.
    pub fn new(store: &'a dyn Store, dir: &Path, key: VerifyingKey) -> Review<'a> {
        Review { store, dir: dir.to_path_buf(), key }
    }

    /// Sessions matching `filter` that `viewer` may read, newest first.
    pub fn sessions(
        &self,
        viewer: Viewer<'_>,
        mut filter: SessionFilter,
    ) -> Result<Vec<SessionSummary>, ReviewError> {
        if let Some(me) = viewer.only() {
            if filter.technician.as_deref().is_some_and(|t| t != me) {
                return Ok(Vec::new());
            }
            filter.technician = Some(me.to_string());
        }
        Ok(self.store.sessions(&filter)?.iter().map(SessionRow::summary).collect())
    }

    /// The transcript as stored.
    pub fn show(&self, viewer: Viewer<'_>, id: &str) -> Result<String, ReviewError> {
        let row = self.readable(viewer, id)?;
        let bytes = self.read(&row)?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// Verifies one session, or all `viewer` may read.
    pub fn verify(
        &self,
        viewer: Viewer<'_>,
        id: Option<&str>,
    ) -> Result<Vec<VerifyReport>, ReviewError> {
        let rows = match id {
            Some(id) => vec![self.readable(viewer, id)?],
            None => {
                let filter = SessionFilter {
                    technician: viewer.only().map(str::to_string),
                    ..Default::default()
                };
                self.store.sessions(&filter)?
            }
        };
        Ok(rows.iter().filter(|r| r.start.transcript.is_some()).map(|r| self.check(r)).collect())
    }

    /// The session's documentation in `format`.
    pub fn export(
        &self,
        viewer: Viewer<'_>,
        id: &str,
        format: ExportFormat,
    ) -> Result<String, ReviewError> {
        let row = self.readable(viewer, id)?;
        let bytes = self.read(&row)?;
        let report = self.check(&row);
        let verdict = crate::transcript::Verdict {
            status: report.status,
            records: report.records,
            record: report.record,
            message: report.message,
        };
        // Records that do not parse are left out of the documentation; the verdict says why.
        let records: Vec<Record> =
            bytes.split(|b| *b == b'\n').filter_map(|l| serde_json::from_slice(l).ok()).collect();
        if format == ExportFormat::Asciicast && !crate::transcript::asciicast::has_shell(&records) {
            return Err(ReviewError::NoShell(id.to_string()));
        }
        let ticket = self
            .store
            .ticket(row.start.ticket)?
            .ok_or_else(|| ReviewError::NotFound(row.start.ticket.to_string()))?;
        let doc = Documentation {
            ticket: &ticket,
            session: &row,
            records: &records,
            verdict: &verdict,
            // Met if answered by the deadline; missed if answered late or not at all.
            deadline: ticket.deadline_at.map(|d| (d, ticket.responded_at.is_some_and(|r| r <= d))),
        };
        Ok(export(&doc, format))
    }

    fn readable(&self, viewer: Viewer<'_>, id: &str) -> Result<SessionRow, ReviewError> {
        let row = self.store.session(id)?.ok_or_else(|| ReviewError::NotFound(id.to_string()))?;
        if viewer.only().is_some_and(|me| me != row.start.technician) {
            return Err(ReviewError::Forbidden(id.to_string()));
        }
        Ok(row)
    }

    fn path(&self, row: &SessionRow) -> Result<PathBuf, ReviewError> {
        let file = row
            .start
            .transcript
            .as_deref()
            .ok_or_else(|| ReviewError::Unrecorded(row.start.id.clone()))?;
        Ok(self.dir.join(file))
    }

    fn read(&self, row: &SessionRow) -> Result<Vec<u8>, ReviewError> {
        let path = self.path(row)?;
        std::fs::read(&path).map_err(|e| ReviewError::Io(format!("{}: {e}", path.display())))
    }

    fn check(&self, row: &SessionRow) -> VerifyReport {
        let session = row.start.id.clone();
        let bytes = match self.path(row).and_then(|_| self.read(row)) {
            Ok(b) => b,
            Err(e) => {
                return VerifyReport {
                    session,
                    status: VerifyStatus::Missing,
                    records: 0,
                    record: None,
                    message: e.to_string(),
                };
            }
        };
        let expected = match (row.sealed_records, &row.sealed_hash) {
            (Some(records), Some(hash)) => Some(Expected { records, hash: hash.clone() }),
            _ => None,
        };
        let v = verify(&bytes, &self.key, &session, expected.as_ref());
        VerifyReport {
            session,
            status: v.status,
            records: v.records,
            record: v.record,
            message: v.message,
        }
    }
}
