//! The desk commands: `ticket`, `status`, `location`, `watch`, `onsite` and `report`. Each
//! sends one desk request (watch keeps listening) and prints the answer for people, or JSON.

use std::path::PathBuf;

use base64::Engine;
use clap::{Args, Subcommand, ValueEnum};
use tether_client::{ClientError, Printer, Sentence, shown};
use tether_protocol::{
    Attachment, Availability, ClientMessage, DeskEvent, DeskReply, DeskRequest, OnsiteEntryKind,
    Priority, ServerMessage, SlaReport, TicketDetail, TicketFilter, TicketId, TicketStatus,
};

use crate::desk::{DeskError, Target, format_time, queue_table};

/// `ticket ...`
#[derive(Debug, Subcommand)]
pub enum TicketCmd {
    /// Log a ticket for a request that came by phone, e-mail or the portal.
    New {
        /// phone, email or portal.
        #[arg(long)]
        channel: String,
        /// The customer's name.
        #[arg(long)]
        client: String,
        /// How to reach them.
        #[arg(long, default_value = "")]
        contact: String,
        /// The problem.
        #[arg(long)]
        issue: String,
        /// critical, high, medium or low.
        #[arg(long, default_value = "medium")]
        priority: Priority,
        /// Skills needed, comma-separated.
        #[arg(long, value_delimiter = ',')]
        skills: Vec<String>,
    },
    /// One ticket with its deadline and history.
    Show {
        /// The ticket.
        ticket: TicketId,
    },
    /// Tickets, most urgent first.
    List {
        /// Only this status.
        #[arg(long)]
        status: Option<TicketStatus>,
        /// Only this priority.
        #[arg(long)]
        priority: Option<Priority>,
        /// Only tickets assigned to this login.
        #[arg(long)]
        assigned: Option<String>,
        /// Only tickets past their response deadline.
        #[arg(long)]
        breached: bool,
        /// Closed tickets too.
        #[arg(long)]
        all: bool,
    },
    /// Give a ticket to a technician (dispatchers and admins).
    Assign {
        /// The ticket.
        ticket: TicketId,
        /// The technician.
        to: String,
    },
    /// Take a ticket.
    Claim {
        /// The ticket.
        ticket: TicketId,
    },
    /// Acknowledge a ticket: your first response.
    Ack {
        /// The ticket.
        ticket: TicketId,
    },
    /// Change the priority (the deadline is recomputed).
    Priority {
        /// The ticket.
        ticket: TicketId,
        /// The new priority.
        priority: Priority,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// Hand a ticket to a manager.
    Escalate {
        /// The ticket.
        ticket: TicketId,
        /// A dispatcher or admin [default: the least loaded].
        #[arg(long)]
        to: Option<String>,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// Close without the customer's confirmation (the reason is recorded).
    Close {
        /// The ticket.
        ticket: TicketId,
        /// Why confirmation could not be had.
        #[arg(long)]
        reason: String,
    },
    /// Mark for follow-up.
    FollowUp {
        /// The ticket.
        ticket: TicketId,
        /// Due: 2026-12-01, 2026-12-01T09:00:00Z or +2d.
        #[arg(long)]
        due: String,
        /// What to follow up.
        #[arg(long)]
        note: String,
    },
    /// Dispatchers: mark tickets as spam (closed, out of loads and the deadline review).
    Spam {
        /// Tickets by number.
        tickets: Vec<TicketId>,
        /// Also every customer request from this address...
        #[arg(long)]
        source: Option<String>,
        /// ...logged within this age (24h, 7d) [default: 24h].
        #[arg(long, default_value = "24h", requires = "source")]
        within: String,
    },
}

/// `onsite ...`
#[derive(Debug, Subcommand)]
pub enum OnsiteCmd {
    /// Turn a ticket into an onsite visit.
    Schedule {
        /// The ticket.
        ticket: TicketId,
        /// Window start: 2026-12-01T09:00:00Z, "2026-12-01 09:00" or +1d.
        #[arg(long)]
        from: String,
        /// Window end.
        #[arg(long)]
        until: String,
        /// Site address.
        #[arg(long)]
        address: String,
        /// Site latitude.
        #[arg(long, allow_negative_numbers = true)]
        lat: f64,
        /// Site longitude.
        #[arg(long, allow_negative_numbers = true)]
        lon: f64,
        /// Access requirements.
        #[arg(long, default_value = "")]
        access: String,
        /// The site contact confirmed the visit.
        #[arg(long)]
        contact_confirmed: bool,
    },
    /// Send a technician: the one named, or the nearest available with the skills.
    Dispatch {
        /// The ticket.
        ticket: TicketId,
        /// The technician.
        #[arg(long)]
        to: Option<String>,
    },
    /// Report the estimated arrival (and why it moved).
    Eta {
        /// The ticket.
        ticket: TicketId,
        /// Arrival time.
        eta: String,
        /// Why it moved.
        #[arg(long)]
        delay: Option<String>,
    },
    /// Record an action, part, equipment or attachment.
    Log {
        /// The ticket.
        ticket: TicketId,
        /// What kind.
        #[arg(value_enum)]
        kind: EntryKind,
        /// Description.
        text: String,
        /// A file to attach (photo, service form).
        #[arg(long)]
        file: Option<PathBuf>,
    },
    /// Record the client's sign-off.
    SignOff {
        /// The ticket.
        ticket: TicketId,
        /// Who signed.
        #[arg(long)]
        name: String,
        /// The problem is not solved (the ticket reopens).
        #[arg(long)]
        unsolved: bool,
    },
}

/// Onsite log entry kinds.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum EntryKind {
    /// Something done.
    Action,
    /// A part used.
    Part,
    /// Equipment used.
    Equipment,
    /// A file.
    Attachment,
}

/// `report sla`
#[derive(Debug, Args)]
pub struct SlaArgs {
    /// From (tickets logged at or after): 2026-11-01, RFC 3339, or an age like 30d.
    #[arg(long, default_value = "30d")]
    from: String,
    /// To (logged before) [default: now].
    #[arg(long)]
    to: Option<String>,
    /// table, csv or html.
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    format: ReportFormat,
}

/// Report formats.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ReportFormat {
    /// Text.
    Table,
    /// CSV.
    Csv,
    /// A self-contained HTML page.
    Html,
}

/// Sends one desk request and returns the reply.
pub async fn ask(target: &Target, request: DeskRequest) -> Result<DeskReply, DeskError> {
    let (mut conn, _) = target.connect().await?;
    conn.send(&ClientMessage::Desk(request)).await?;
    let reply = loop {
        match conn.recv_control().await? {
            ServerMessage::Desk(reply) => break reply,
            ServerMessage::Event(_) => {}
            other => return Err(ClientError::Unexpected(format!("{other:?}")).into()),
        }
    };
    conn.close().await;
    Ok(reply)
}

fn now() -> i64 {
    tether_protocol::unix_seconds(std::time::SystemTime::now())
}

/// A time as typed: RFC 3339, `YYYY-MM-DD[ HH:MM[:SS]]` (UTC), or `+2h`/`+3d` from now.
pub fn parse_time(s: &str) -> Result<i64, String> {
    if let Some(rel) = s.strip_prefix('+') {
        return humantime::parse_duration(rel)
            .map(|d| now() + d.as_secs() as i64)
            .map_err(|e| e.to_string());
    }
    let padded = match s.len() {
        10 => format!("{s} 00:00:00"),
        16 => format!("{s}:00"),
        _ => s.to_string(),
    };
    humantime::parse_rfc3339_weak(&padded)
        .map(tether_protocol::unix_seconds)
        .map_err(|_| format!("{s:?} is not a time (2026-12-01, 2026-12-01 09:00, RFC 3339 or +2h)"))
}

/// Runs a `ticket` command.
pub async fn ticket(target: &Target, cmd: TicketCmd, json: bool) -> anyhow::Result<()> {
    let request = match cmd {
        TicketCmd::New { channel, client, contact, issue, priority, skills } => {
            DeskRequest::TicketNew { channel, client, contact, issue, priority, skills }
        }
        TicketCmd::Show { ticket } => DeskRequest::TicketShow { ticket },
        TicketCmd::List { status, priority, assigned, breached, all } => DeskRequest::TicketList {
            filter: TicketFilter {
                status,
                priority,
                assigned_to: assigned,
                breached,
                include_closed: all,
            },
        },
        TicketCmd::Assign { ticket, to } => DeskRequest::Assign { ticket, to },
        TicketCmd::Claim { ticket } => DeskRequest::Claim { ticket },
        TicketCmd::Ack { ticket } => DeskRequest::Ack { ticket },
        TicketCmd::Priority { ticket, priority, reason } => {
            DeskRequest::SetPriority { ticket, priority, reason }
        }
        TicketCmd::Escalate { ticket, to, reason } => DeskRequest::Escalate { ticket, to, reason },
        TicketCmd::Close { ticket, reason } => DeskRequest::Close { ticket, reason },
        TicketCmd::FollowUp { ticket, due, note } => DeskRequest::FollowUp {
            ticket,
            due: parse_time(&due).map_err(anyhow::Error::msg)?,
            note,
        },
        TicketCmd::Spam { tickets, source, within } => {
            if tickets.is_empty() && source.is_none() {
                anyhow::bail!("name tickets, or an address with --source");
            }
            let age = humantime::parse_duration(&within).map_err(anyhow::Error::msg)?;
            DeskRequest::Spam { tickets, source, since: now() - age.as_secs() as i64 }
        }
    };
    print_reply(ask(target, request).await?, json)
}

/// Runs an `onsite` command.
pub async fn onsite(target: &Target, cmd: OnsiteCmd, json: bool) -> anyhow::Result<()> {
    let time = |s: &str| parse_time(s).map_err(anyhow::Error::msg);
    let request = match cmd {
        OnsiteCmd::Schedule {
            ticket,
            from,
            until,
            address,
            lat,
            lon,
            access,
            contact_confirmed,
        } => DeskRequest::Onsite {
            ticket,
            window_start: time(&from)?,
            window_end: time(&until)?,
            address,
            lat,
            lon,
            access,
            contact_confirmed,
        },
        OnsiteCmd::Dispatch { ticket, to } => DeskRequest::Dispatch { ticket, to },
        OnsiteCmd::Eta { ticket, eta, delay } => {
            DeskRequest::Eta { ticket, eta: time(&eta)?, delay_reason: delay }
        }
        OnsiteCmd::Log { ticket, kind, text, file } => {
            let attachment = match &file {
                Some(path) => Some(Attachment {
                    name: path
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                    data_base64: base64::engine::general_purpose::STANDARD
                        .encode(std::fs::read(path)?),
                }),
                None => None,
            };
            let kind = match kind {
                EntryKind::Action => OnsiteEntryKind::Action,
                EntryKind::Part => OnsiteEntryKind::Part,
                EntryKind::Equipment => OnsiteEntryKind::Equipment,
                EntryKind::Attachment => OnsiteEntryKind::Attachment,
            };
            DeskRequest::OnsiteLog { ticket, kind, text, attachment }
        }
        OnsiteCmd::SignOff { ticket, name, unsolved } => {
            DeskRequest::SignOff { ticket, name, solved: !unsolved }
        }
    };
    print_reply(ask(target, request).await?, json)
}

/// Sets availability.
pub async fn status(target: &Target, availability: Availability, json: bool) -> anyhow::Result<()> {
    print_reply(ask(target, DeskRequest::SetAvailability { availability }).await?, json)
}

/// Sets location.
pub async fn location(target: &Target, lat: f64, lon: f64, json: bool) -> anyhow::Result<()> {
    print_reply(ask(target, DeskRequest::SetLocation { lat, lon }).await?, json)
}

/// `report sla`.
pub async fn report(target: &Target, args: SlaArgs) -> anyhow::Result<()> {
    let from = tether_protocol::parse_since(&args.from, now()).map_err(anyhow::Error::msg)?;
    let to = match &args.to {
        Some(t) => parse_time(t).map_err(anyhow::Error::msg)?,
        None => now() + 1,
    };
    match ask(target, DeskRequest::Report { from, to }).await? {
        DeskReply::Report(r) => {
            print!("{}", render(&r, args.format));
            Ok(())
        }
        other => anyhow::bail!("unexpected answer {other:?}"),
    }
}

fn render(r: &SlaReport, format: ReportFormat) -> String {
    match format {
        ReportFormat::Table => tether_client::report::table(r),
        ReportFormat::Csv => tether_client::report::csv(r),
        ReportFormat::Html => tether_client::report::html(r),
    }
}

/// `watch`: prints desk events as they happen until interrupted.
pub async fn watch(target: &Target, printer: Printer) -> anyhow::Result<()> {
    let (mut conn, _) = target.connect().await?;
    conn.send(&ClientMessage::Desk(DeskRequest::Watch)).await?;
    loop {
        tokio::select! {
            msg = conn.recv_control() => match msg? {
                ServerMessage::Event(e) => printer.emit(&Watched(*e)),
                ServerMessage::Desk(DeskReply::Watching) => {
                    if printer.is_json() {
                        // Scripts learn that events from now on will reach them.
                        println!(r#"{{"event":"watching"}}"#);
                    } else {
                        println!("Watching desk events (Ctrl-C to stop)...");
                    }
                }
                other => tracing::debug!(?other, "ignored"),
            },
            _ = tokio::signal::ctrl_c() => return Ok(()),
        }
    }
}

/// A desk event as printed by `watch`.
#[derive(serde::Serialize)]
#[serde(transparent)]
struct Watched(DeskEvent);

impl Sentence for Watched {
    fn sentence(&self) -> String {
        let e = &self.0;
        format!(
            "{} {} {} ({}): {}",
            format_time(e.at),
            e.ticket,
            shown(&e.kind),
            shown(&e.actor),
            shown(&e.detail)
        )
    }
}

fn print_reply(reply: DeskReply, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(&reply)?);
        return Ok(());
    }
    // Whatever a customer wrote is in these; none of its control characters reach the
    // terminal as they are.
    let text = match reply {
        DeskReply::Done { message } => format!("{message}\n"),
        DeskReply::Tickets { tickets } => queue_table(&tickets, now()),
        DeskReply::Ticket(detail) => show(&detail),
        DeskReply::Report(r) => tether_client::report::table(&r),
        DeskReply::Watching => String::new(),
    };
    print!("{}", tether_protocol::visible(&text, true));
    Ok(())
}

fn show(d: &TicketDetail) -> String {
    let s = &d.summary;
    let mut out = format!(
        "{} [{}] {} — {}\n  client     {} ({})\n  channel    {}\n  assigned   {}\n",
        s.id,
        s.priority.name(),
        s.status.name(),
        shown(&s.issue),
        shown(&s.client),
        if s.contact.is_empty() { "no contact".into() } else { shown(&s.contact) },
        shown(&s.channel),
        shown(s.assigned_to.as_deref().unwrap_or("nobody")),
    );
    let t = |v: Option<i64>| v.map(format_time).unwrap_or_else(|| "-".into());
    out.push_str(&format!(
        "  logged     {}\n  deadline   {}\n  responded  {}\n",
        format_time(s.created_at),
        t(s.deadline_at),
        t(d.responded_at)
    ));
    if let Some(claim) = s.claimed_priority.filter(|c| *c != s.priority) {
        out.push_str(&format!("  claimed    {} (by the customer)\n", claim.name()));
    }
    if !d.skills.is_empty() {
        out.push_str(&format!("  skills     {}\n", shown(&d.skills.join(", "))));
    }
    if let Some(r) = &d.resolution {
        out.push_str(&format!("  resolution {}\n", shown(r)));
    }
    if let Some(rating) = d.rating {
        out.push_str(&format!(
            "  rating     {rating}/5 {}\n",
            shown(d.comment.as_deref().unwrap_or(""))
        ));
    }
    if let Some(reason) = &d.close_reason {
        out.push_str(&format!("  closed     without confirmation: {}\n", shown(reason)));
    }
    if let Some((due, note)) = &d.follow_up {
        out.push_str(&format!("  follow up  {} — {}\n", format_time(*due), shown(note)));
    }
    if let Some(v) = &d.onsite {
        out.push_str(&format!(
            "  onsite     {} ({:.5}, {:.5}), {}..{}, technician {}, eta {}{}\n",
            shown(&v.address),
            v.lat,
            v.lon,
            format_time(v.window_start),
            format_time(v.window_end),
            shown(v.technician.as_deref().unwrap_or("-")),
            t(v.eta),
            v.signed_off
                .as_ref()
                .map(|(n, at)| format!(", signed off by {} at {}", shown(n), format_time(*at)))
                .unwrap_or_default(),
        ));
    }
    out.push_str("  history\n");
    for h in &d.history {
        out.push_str(&format!(
            "    {} {:<18} {:<12} {}\n",
            format_time(h.at),
            shown(&h.kind),
            shown(&h.actor),
            shown(&h.detail)
        ));
    }
    out
}
