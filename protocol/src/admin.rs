//! Admin review over the wire: listing, reading, verifying and exporting session transcripts.
//! The broker authorises every request: admins and dispatchers see every session, technicians
//! only their own, customers none.

use serde::{Deserialize, Serialize};

use crate::TicketId;

/// What an admin asks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verb", rename_all = "snake_case")]
pub enum AdminRequest {
    /// Sessions, newest first, filtered.
    Sessions {
        /// Only sessions started at or after this time, Unix seconds.
        since: Option<i64>,
        /// Only this ticket's sessions.
        ticket: Option<TicketId>,
        /// Only this technician's sessions.
        technician: Option<String>,
    },
    /// One transcript, as stored (JSON lines).
    Show {
        /// Session id.
        session: String,
    },
    /// Check transcripts' chains and seals.
    Verify {
        /// One session, or every session the asker may read.
        session: Option<String>,
    },
    /// A session's documentation.
    Export {
        /// Session id.
        session: String,
        /// Output format.
        format: ExportFormat,
    },
}

/// Documentation formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ExportFormat {
    /// Markdown.
    Md,
    /// JSON.
    Json,
    /// One self-contained HTML page.
    Html,
    /// The session's shell, as an asciicast v2 recording.
    Asciicast,
}

impl std::str::FromStr for ExportFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "md" | "markdown" => Ok(ExportFormat::Md),
            "json" => Ok(ExportFormat::Json),
            "html" => Ok(ExportFormat::Html),
            "asciicast" | "cast" => Ok(ExportFormat::Asciicast),
            _ => Err(format!("unknown format {s:?}; expected md, json, html or asciicast")),
        }
    }
}

/// A session as the list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionSummary {
    /// Session id.
    pub id: String,
    /// Ticket.
    pub ticket: TicketId,
    /// Technician's login.
    pub technician: String,
    /// Customer's name.
    pub customer: String,
    /// Unix seconds.
    pub started_at: i64,
    /// Unix seconds, once ended.
    pub ended_at: Option<i64>,
    /// Why it ended.
    pub end_reason: Option<String>,
    /// Whether the transcript was sealed at the end.
    pub sealed: bool,
}

/// The outcome of verifying one transcript.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum VerifyStatus {
    /// Chain intact and seal valid.
    Ok,
    /// Chain intact up to its end, but never sealed: the broker stopped mid-session.
    Unsealed,
    /// Something was changed, removed, inserted, reordered or cut off.
    Tampered,
    /// No transcript file.
    Missing,
}

/// One transcript's verification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VerifyReport {
    /// Session id.
    pub session: String,
    /// Outcome.
    pub status: VerifyStatus,
    /// Records read intact.
    pub records: u64,
    /// The first record at fault, when tampered.
    pub record: Option<u64>,
    /// In words.
    pub message: String,
}

/// What an [`AdminRequest`] comes to, whole: a list or report, or a document (which goes over
/// the wire in [`AdminReply::Document`] parts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminAnswer {
    /// A list of sessions or verification results.
    Reply(AdminReply),
    /// A whole transcript or export.
    Document(String),
}

/// The broker's answer to an [`AdminRequest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum AdminReply {
    /// Matching sessions.
    Sessions {
        /// Newest first.
        sessions: Vec<SessionSummary>,
    },
    /// A part of a document (a transcript or an export); documents longer than one message
    /// arrive in several parts, the last with `last` set.
    Document {
        /// The text.
        part: String,
        /// Whether this is the final part.
        last: bool,
    },
    /// Verification results.
    Verified {
        /// One per transcript.
        reports: Vec<VerifyReport>,
    },
}

impl std::fmt::Display for VerifyReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let status = match self.status {
            VerifyStatus::Ok => "OK",
            VerifyStatus::Unsealed => "UNSEALED",
            VerifyStatus::Tampered => "TAMPERED",
            VerifyStatus::Missing => "MISSING",
        };
        write!(f, "{} {status}: {}", self.session, self.message)
    }
}

/// The exit status for a set of verifications: 0 when all are intact and sealed, 2 when the
/// worst is an unsealed transcript (a crash), 1 when anything was tampered with or is missing.
pub fn verify_exit_code(reports: &[VerifyReport]) -> u8 {
    if reports.iter().any(|r| matches!(r.status, VerifyStatus::Tampered | VerifyStatus::Missing)) {
        1
    } else if reports.iter().any(|r| r.status == VerifyStatus::Unsealed) {
        2
    } else {
        0
    }
}

impl SessionSummary {
    /// The header for [`SessionSummary::row`].
    pub const HEADER: &'static str = "session              ticket  technician   customer             started               sealed  ended";

    /// One row of a session list.
    pub fn row(&self) -> String {
        let time = crate::encoding::rfc3339;
        format!(
            "{:<20} {:<7} {:<12} {:<20} {:<21} {:<7} {}",
            self.id,
            self.ticket.to_string(),
            self.technician,
            self.customer.chars().take(20).collect::<String>(),
            time(self.started_at),
            if self.sealed { "yes" } else { "no" },
            self.end_reason.as_deref().unwrap_or("(running)"),
        )
    }
}

/// Parses a `--since` value: an RFC 3339 time, a date (`2026-11-01`), or an age (`24h`, `7d`)
/// counted back from `now` (Unix seconds).
pub fn parse_since(s: &str, now: i64) -> Result<i64, String> {
    let unix = crate::encoding::unix_seconds;
    if let Ok(age) = humantime::parse_duration(s) {
        return Ok(now - age.as_secs() as i64);
    }
    if let Ok(t) = humantime::parse_rfc3339_weak(s) {
        return Ok(unix(t));
    }
    humantime::parse_rfc3339_weak(&format!("{s} 00:00:00")).map(unix).map_err(|_| {
        format!("{s:?} is not a time (2026-11-01, 2026-11-01T08:00:00Z) or an age (24h, 7d)")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_times_dates_and_ages() {
        assert_eq!(parse_since("1970-01-02", 0), Ok(86_400));
        assert_eq!(parse_since("1970-01-01T00:01:00Z", 0), Ok(60));
        assert_eq!(parse_since("2h", 10_000), Ok(10_000 - 7200));
        assert!(parse_since("yesterday", 0).is_err());
    }

    #[test]
    fn exit_codes_rank_tampering_over_crashes() {
        let r = |status| VerifyReport {
            session: "s".into(),
            status,
            records: 1,
            record: None,
            message: String::new(),
        };
        assert_eq!(verify_exit_code(&[r(VerifyStatus::Ok)]), 0);
        assert_eq!(verify_exit_code(&[r(VerifyStatus::Ok), r(VerifyStatus::Unsealed)]), 2);
        assert_eq!(verify_exit_code(&[r(VerifyStatus::Unsealed), r(VerifyStatus::Tampered)]), 1);
        assert_eq!(verify_exit_code(&[r(VerifyStatus::Missing)]), 1);
        assert_eq!(verify_exit_code(&[]), 0);
    }
}
