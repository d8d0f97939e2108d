//! [`Library`]: transcripts at rest — where they are, reading one, checking its chain and seal
//! against what the store remembers of it, and turning it with its ticket into the ticket's
//! documentation. It reads files and never writes; who may read which session is the
//! caller's question (the desk asks the access policy first).

use std::path::{Path, PathBuf};

use tether_protocol::{ExportFormat, VerifyReport, VerifyStatus};
use tether_store::{SessionRow, TicketRecord};

use crate::export::{Documentation, export};
use crate::{Expected, Record, Verdict, VerifyingKey, verify};

/// Why a transcript could not be read or exported.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LibraryError {
    /// The session was never recorded.
    #[error("session {0} has no transcript (recording was disabled)")]
    Unrecorded(String),
    /// The file could not be read.
    #[error("{0}")]
    Io(String),
    /// An asciicast was asked of a session without a shell.
    #[error("session {0} had no shell to play back")]
    NoShell(String),
}

/// The transcript directory and the key seals are checked with.
#[derive(Debug, Clone)]
pub struct Library {
    dir: PathBuf,
    key: VerifyingKey,
}

impl Library {
    /// Transcripts in `dir`, seals checked with `key`.
    pub fn new(dir: &Path, key: VerifyingKey) -> Library {
        Library { dir: dir.to_path_buf(), key }
    }

    /// The transcript's bytes as stored.
    pub fn read(&self, row: &SessionRow) -> Result<Vec<u8>, LibraryError> {
        let path = self.path(row)?;
        std::fs::read(&path).map_err(|e| LibraryError::Io(format!("{}: {e}", path.display())))
    }

    /// Checks the transcript's chain and seal, and that it ends where the store says it was
    /// sealed.
    pub fn verify(&self, row: &SessionRow) -> VerifyReport {
        let session = row.start.id.clone();
        let bytes = match self.read(row) {
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

    /// The session's documentation in `format`, with its ticket.
    pub fn export(
        &self,
        row: &SessionRow,
        ticket: &TicketRecord,
        format: ExportFormat,
    ) -> Result<String, LibraryError> {
        let bytes = self.read(row)?;
        let report = self.verify(row);
        let verdict = Verdict {
            status: report.status,
            records: report.records,
            record: report.record,
            message: report.message,
        };
        // Records that do not parse are left out of the documentation; the verdict says why.
        let records: Vec<Record> =
            bytes.split(|b| *b == b'\n').filter_map(|l| serde_json::from_slice(l).ok()).collect();
        if format == ExportFormat::Asciicast && !crate::asciicast::has_shell(&records) {
            return Err(LibraryError::NoShell(row.start.id.clone()));
        }
        let doc = Documentation {
            ticket,
            session: row,
            records: &records,
            verdict: &verdict,
            // Met if answered by the deadline; missed if answered late or not at all.
            deadline: ticket.deadline_at.map(|d| (d, ticket.responded_at.is_some_and(|r| r <= d))),
        };
        Ok(export(&doc, format))
    }

    fn path(&self, row: &SessionRow) -> Result<PathBuf, LibraryError> {
        let file = row
            .start
            .transcript
            .as_deref()
            .ok_or_else(|| LibraryError::Unrecorded(row.start.id.clone()))?;
        Ok(self.dir.join(file))
    }
}
