//! The `admin` subcommands, defined once for `tether-broker admin` (on the broker's host) and
//! `tether-console admin` (over a signed-in connection): their arguments, the
//! [`AdminRequest`] each becomes, and how its [`AdminAnswer`] is printed, with the exit code.
//! Behind the `cli` feature, so that only the binaries pull in clap.

use std::path::PathBuf;

use crate::{
    AdminAnswer, AdminReply, AdminRequest, ExportFormat, SessionSummary, TicketId, parse_since,
    verify_exit_code,
};

/// Review session transcripts: list, show, verify, export.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum AdminVerb {
    /// List sessions, newest first.
    Sessions {
        /// Only sessions started since a time (2026-11-01, RFC 3339) or within an age (24h, 7d).
        #[arg(long)]
        since: Option<String>,
        /// Only this ticket's sessions.
        #[arg(long)]
        ticket: Option<TicketId>,
        /// Only this technician's sessions.
        #[arg(long)]
        technician: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print a session's transcript as stored (JSON lines).
    Show {
        /// Session id.
        id: String,
    },
    /// Check transcripts' chains and seals. Exit 0: intact; 2: unsealed (a crash); 1: tampered.
    Verify {
        /// Session id.
        #[arg(required_unless_present = "all")]
        id: Option<String>,
        /// Every session you may read.
        #[arg(long, conflicts_with = "id")]
        all: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Write a session's documentation.
    Export {
        /// Session id.
        id: String,
        /// md, json, html, or asciicast (the shell session).
        #[arg(long)]
        format: ExportFormat,
        /// Write here instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
}

/// A verb made into a request, remembering how its answer is to be printed.
#[derive(Debug, Clone)]
pub struct AdminCommand {
    /// What to ask.
    pub request: AdminRequest,
    /// Print lists and reports as JSON.
    pub json: bool,
    /// Write a document here instead of standard output.
    pub output: Option<PathBuf>,
}

/// What an answer comes to: text for standard output, a document for a file, an exit code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Printed {
    /// For standard output.
    pub stdout: String,
    /// A document and the file it goes to.
    pub file: Option<(PathBuf, String)>,
    /// The process's exit code.
    pub exit: u8,
}

impl AdminVerb {
    /// The request this verb makes; `now` (Unix seconds) anchors `--since` ages.
    pub fn command(self, now: i64) -> Result<AdminCommand, String> {
        Ok(match self {
            AdminVerb::Sessions { since, ticket, technician, json } => {
                let since = since.map(|s| parse_since(&s, now)).transpose()?;
                let request = AdminRequest::Sessions { since, ticket, technician };
                AdminCommand { request, json, output: None }
            }
            AdminVerb::Show { id } => AdminCommand {
                request: AdminRequest::Show { session: id },
                json: false,
                output: None,
            },
            AdminVerb::Verify { id, all: _, json } => {
                AdminCommand { request: AdminRequest::Verify { session: id }, json, output: None }
            }
            AdminVerb::Export { id, format, output } => AdminCommand {
                request: AdminRequest::Export { session: id, format },
                json: false,
                output,
            },
        })
    }
}

impl AdminCommand {
    /// How `answer` prints.
    pub fn print(&self, answer: AdminAnswer) -> Printed {
        let (stdout, file, exit) = match answer {
            AdminAnswer::Document(text) => match &self.output {
                Some(path) => (String::new(), Some((path.clone(), text)), 0),
                None => (text, None, 0),
            },
            AdminAnswer::Reply(AdminReply::Sessions { sessions }) if self.json => {
                (pretty(&sessions), None, 0)
            }
            AdminAnswer::Reply(AdminReply::Sessions { sessions }) => {
                let mut out = format!("{}\n", SessionSummary::HEADER);
                for s in &sessions {
                    out.push_str(&s.row());
                    out.push('\n');
                }
                (out, None, 0)
            }
            AdminAnswer::Reply(AdminReply::Verified { reports }) => {
                let out = if self.json {
                    pretty(&reports)
                } else {
                    reports.iter().map(|r| format!("{r}\n")).collect()
                };
                (out, None, verify_exit_code(&reports))
            }
            AdminAnswer::Reply(AdminReply::Document { part, .. }) => (part, None, 0),
        };
        Printed { stdout, file, exit }
    }
}

/// Pretty JSON with a newline.
fn pretty<T: serde::Serialize>(value: &T) -> String {
    // Plain data: serialisation cannot fail.
    format!("{}\n", serde_json::to_string_pretty(value).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{VerifyReport, VerifyStatus};

    #[test]
    fn verbs_become_requests_and_answers_print_with_exit_codes() {
        let cmd = AdminVerb::Sessions {
            since: Some("1h".into()),
            ticket: None,
            technician: None,
            json: false,
        }
        .command(10_000)
        .unwrap();
        assert!(matches!(cmd.request, AdminRequest::Sessions { since: Some(6400), .. }));
        let tampered = VerifyReport {
            session: "s-1".into(),
            status: VerifyStatus::Tampered,
            records: 3,
            record: Some(3),
            message: "record 3 was changed".into(),
        };
        let verify = AdminVerb::Verify { id: None, all: true, json: false }.command(0).unwrap();
        let printed =
            verify.print(AdminAnswer::Reply(AdminReply::Verified { reports: vec![tampered] }));
        assert_eq!(printed.exit, 1);
        assert!(printed.stdout.starts_with("s-1 TAMPERED"), "{}", printed.stdout);
        let export = AdminVerb::Export {
            id: "s-1".into(),
            format: ExportFormat::Md,
            output: Some("out.md".into()),
        }
        .command(0)
        .unwrap();
        let printed = export.print(AdminAnswer::Document("# doc".into()));
        assert_eq!(printed.file, Some(("out.md".into(), "# doc".into())));
        assert!(printed.stdout.is_empty());
        assert!(
            AdminVerb::Sessions {
                since: Some("never".into()),
                ticket: None,
                technician: None,
                json: false
            }
            .command(0)
            .is_err()
        );
    }
}
