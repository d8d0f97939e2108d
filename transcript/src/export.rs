//! Export: a transcript and its ticket turned into the ticket's documentation, as Markdown,
//! JSON, or one self-contained HTML page (inline CSS, no external assets, printable); or its
//! shell as an asciicast.

use std::fmt::Write;

use serde_json::{Value, json};
use tether_protocol::ExportFormat;

use crate::record::Record;
use crate::verify::Verdict;
use tether_store::{SessionRow, TicketRecord};

/// Everything the documentation is made from.
#[derive(Debug)]
pub struct Documentation<'a> {
    /// The ticket.
    pub ticket: &'a TicketRecord,
    /// The session.
    pub session: &'a SessionRow,
    /// The transcript's records, in order.
    pub records: &'a [Record],
    /// The transcript's verification.
    pub verdict: &'a Verdict,
    /// The response deadline (Unix seconds) and whether it was met, where tracked.
    pub deadline: Option<(i64, bool)>,
}

/// Renders `doc` in `format`.
pub fn export(doc: &Documentation<'_>, format: ExportFormat) -> String {
    match format {
        ExportFormat::Md => markdown(doc),
        ExportFormat::Json => {
            // Plain data: serialisation cannot fail.
            serde_json::to_string_pretty(&as_json(doc)).unwrap_or_default()
        }
        ExportFormat::Html => html(doc),
        ExportFormat::Asciicast => super::asciicast::asciicast(doc.records),
    }
}

fn time(unix: i64) -> String {
    tether_protocol::rfc3339(unix)
}

fn records<'a>(
    doc: &'a Documentation<'_>,
    events: &'a [&str],
) -> impl Iterator<Item = &'a Record> + 'a {
    doc.records.iter().filter(move |r| events.contains(&r.event.as_str()))
}

const CONSENT: &[&str] = &[
    "consent_requested",
    "consent_granted",
    "consent_refused",
    "consent_revoked",
    "consent_released",
];
/// Clipboard copies, file transfers and the shell's opening and closing (its traffic is in
/// the timeline).
const FILES_AND_SHELL: &[&str] = &[
    "clipboard",
    "file_offered",
    "file_requested",
    "file_accepted",
    "file_refused",
    "file_cancelled",
    "file_transferred",
    "shell_requested",
    "shell_opened",
    "shell_close_requested",
    "shell_closed",
];
const NOTES: &[&str] = &[
    "note",
    "input_summary",
    "screen_summary",
    "screen_held_back",
    "bandwidth_override",
    "quality_warning",
    "error",
];

/// One line saying what a record was.
pub fn describe(r: &Record) -> String {
    let d = &r.data;
    let s = |k: &str| d[k].as_str().unwrap_or_default().to_string();
    match r.event.as_str() {
        "session_started" => {
            format!("session {} started: {} helps {}", s("session"), s("technician"), s("customer"))
        }
        "chat" => format!("{}: {}", r.actor.name, s("text")),
        "consent_requested" => format!("{} asked for {}", r.actor.name, s("capability")),
        "consent_granted" => format!("{} allowed {}", r.actor.name, s("capability")),
        "consent_refused" => format!("{} refused {}", r.actor.name, s("capability")),
        "consent_revoked" => format!("{} revoked {}", r.actor.name, s("capability")),
        "consent_released" => format!("{} gave back {}", r.actor.name, s("capability")),
        "note" => format!("note by {}: {}", r.actor.name, s("text")),
        "resolution" => format!("resolution by {}: {}", r.actor.name, s("text")),
        "customer_confirmation" => {
            let solved = d["solved"].as_bool().unwrap_or(false);
            format!(
                "{} {}",
                r.actor.name,
                if solved {
                    "confirmed the problem is solved"
                } else {
                    "said the problem is not solved"
                }
            )
        }
        "input_summary" => format!("input relayed: {}", compact(&d["counts"])),
        "screen_summary" => format!("screen: {} frames, {} bytes", d["frames"], d["bytes"]),
        "bandwidth" => format!(
            "bandwidth check for {}: {} (round trip {} ms, down {} Mbit/s, up {} Mbit/s){}",
            r.actor.name,
            s("verdict"),
            d["rtt_ms"],
            d["download_mbps"],
            d["upload_mbps"],
            match d["reasons"].as_array() {
                Some(list) if !list.is_empty() => format!(
                    ": {}",
                    list.iter().filter_map(Value::as_str).collect::<Vec<_>>().join("; ")
                ),
                _ => String::new(),
            }
        ),
        "screen_held_back" => format!("screen sharing held back: {}", s("reason")),
        "bandwidth_override" => {
            format!("{} overrode the bandwidth check: {}", r.actor.name, s("reason"))
        }
        "quality_warning" => format!("connection quality warning: {}", s("message")),
        "file_offered" => {
            let to = if s("direction") == "to_agent" { "the customer" } else { "the technician" };
            format!(
                "{} offered {} ({} bytes, SHA-256 {}) to {to}",
                r.actor.name,
                s("name"),
                d["size"],
                s("sha256")
            )
        }
        "file_requested" => format!("{} asked for {}", r.actor.name, s("path")),
        "file_accepted" => match d["offset"].as_u64() {
            Some(offset) if offset > 0 => {
                format!("{} accepted file {}, resuming at byte {offset}", r.actor.name, d["id"])
            }
            _ => format!("{} accepted file {}", r.actor.name, d["id"]),
        },
        "file_refused" => format!("{} refused {}: {}", r.actor.name, s("name"), s("reason")),
        "file_cancelled" => format!("{} stopped {}: {}", r.actor.name, s("name"), s("reason")),
        "file_transferred" => format!(
            "{} ({} bytes, {}) {}: SHA-256 {}{}",
            s("name"),
            d["size"],
            if s("direction") == "to_agent" { "to the customer" } else { "to the technician" },
            s("outcome"),
            s("sha256"),
            if s("detail").is_empty() { String::new() } else { format!(" ({})", s("detail")) }
        ),
        "clipboard" => format!(
            "{} copied {} bytes to the other side's clipboard (SHA-256 {})",
            r.actor.name,
            d["bytes"],
            s("sha256")
        ),
        "shell_requested" => {
            format!("{} asked for a shell ({}x{})", r.actor.name, d["cols"], d["rows"])
        }
        "shell_opened" => format!("shell opened ({})", s("shell")),
        "shell_close_requested" => format!("{} closed the shell: {}", r.actor.name, s("reason")),
        "shell_closed" => match d["code"].as_i64() {
            Some(code) => format!("shell ended with code {code}: {}", s("reason")),
            None => format!("shell ended: {}", s("reason")),
        },
        "shell_input" if d["hidden"] == true => {
            format!("{} typed at a hidden prompt (not recorded)", r.actor.name)
        }
        "shell_input" => format!("{} typed: {}", r.actor.name, s("data").escape_debug()),
        "shell_input_hidden" if d["hidden"] == true => {
            "the shell reads a secret: typing is not recorded".into()
        }
        "shell_input_hidden" => "the shell no longer reads a secret".into(),
        "shell_output" => format!("shell printed: {}", s("data").escape_debug()),
        "session_ended" => format!("session ended: {}", s("reason")),
        "sealed" => format!("transcript sealed ({} records)", d["records"]),
        other => format!("{other}: {}", compact(d)),
    }
}

fn compact(v: &Value) -> String {
    match v {
        Value::Object(m) if m.is_empty() => "none".into(),
        Value::Object(m) => {
            m.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(", ")
        }
        other => other.to_string(),
    }
}

/// The header's facts, as label and value.
fn header(doc: &Documentation<'_>) -> Vec<(&'static str, String)> {
    let t = doc.ticket;
    let s = doc.session;
    let bandwidth: Vec<String> = records(doc, &["bandwidth"]).map(describe).collect();
    vec![
        ("Ticket", t.id.to_string()),
        (
            "Customer",
            format!(
                "{} ({})",
                t.client,
                if t.contact.is_empty() { "no contact" } else { &t.contact }
            ),
        ),
        ("Channel", t.channel.clone()),
        ("Issue", t.issue.clone()),
        ("Priority", t.priority.name().into()),
        ("Logged", time(t.created_at)),
        (
            "Response deadline",
            match doc.deadline {
                Some((at, met)) => format!("{} ({})", time(at), if met { "met" } else { "missed" }),
                None => "not tracked".into(),
            },
        ),
        ("Technician", s.start.technician.clone()),
        ("Session", s.start.id.clone()),
        ("Started", time(s.start.started_at)),
        (
            "Ended",
            match (s.ended_at, &s.end_reason) {
                (Some(at), Some(why)) => {
                    format!("{} ({}; {} min)", time(at), why, (at - s.start.started_at).max(0) / 60)
                }
                _ => "not ended".into(),
            },
        ),
        (
            "Bandwidth",
            if bandwidth.is_empty() { "not measured".into() } else { bandwidth.join("; ") },
        ),
        ("Resolution", t.resolution.clone().unwrap_or_else(|| "none recorded".into())),
        (
            "Customer confirmation",
            match t.confirmed {
                Some(true) => "solved".into(),
                Some(false) => "not solved".into(),
                None => "not given".into(),
            },
        ),
        ("Transcript", format!("{:?}: {}", doc.verdict.status, doc.verdict.message).to_lowercase()),
    ]
}

fn markdown(doc: &Documentation<'_>) -> String {
    let mut out =
        format!("# Ticket {}: {}\n\n", doc.ticket.id, md_escape(first_line(&doc.ticket.issue)));
    for (label, value) in header(doc) {
        let _ = writeln!(out, "- **{label}:** {}", md_escape(&value));
    }
    let section = |out: &mut String, title: &str, items: Vec<String>| {
        let _ = writeln!(out, "\n## {title}\n");
        if items.is_empty() {
            out.push_str("_None._\n");
        }
        for item in items {
            let _ = writeln!(out, "- {}", md_escape(&item));
        }
    };
    let stamp = |r: &Record| format!("{} {}", short_time(&r.ts), describe(r));
    section(&mut out, "Chat", records(doc, &["chat"]).map(stamp).collect());
    section(&mut out, "Consent", records(doc, CONSENT).map(stamp).collect());
    section(&mut out, "Notes and actions", records(doc, NOTES).map(stamp).collect());
    section(&mut out, "Files and shell", records(doc, FILES_AND_SHELL).map(stamp).collect());
    section(
        &mut out,
        "Resolution and confirmation",
        records(doc, &["resolution", "customer_confirmation"]).map(stamp).collect(),
    );
    section(
        &mut out,
        "Timeline",
        doc.records.iter().map(|r| format!("#{} {}", r.seq, stamp(r))).collect(),
    );
    out
}

fn as_json(doc: &Documentation<'_>) -> Value {
    let t = doc.ticket;
    let s = doc.session;
    let list = |events: &[&str]| records(doc, events).map(|r| json!(r)).collect::<Vec<_>>();
    json!({
        "ticket": {
            "id": t.id.to_string(), "client": t.client, "contact": t.contact, "channel": t.channel,
            "issue": t.issue, "priority": t.priority.name(), "status": t.status.name(),
            "created_at": time(t.created_at), "resolution": t.resolution, "confirmed": t.confirmed,
            "deadline": doc.deadline.map(|(at, met)| json!({"at": time(at), "met": met})),
        },
        "session": {
            "id": s.start.id, "technician": s.start.technician, "customer": s.start.customer,
            "started_at": time(s.start.started_at), "ended_at": s.ended_at.map(time),
            "end_reason": s.end_reason,
        },
        "verification": {
            "status": format!("{:?}", doc.verdict.status).to_lowercase(),
            "records": doc.verdict.records, "message": doc.verdict.message,
        },
        "bandwidth": list(&["bandwidth"]),
        "chat": list(&["chat"]),
        "consent": list(CONSENT),
        "notes": list(NOTES),
        "files_and_shell": list(FILES_AND_SHELL),
        "resolution": list(&["resolution", "customer_confirmation"]),
        "timeline": doc.records,
    })
}

fn html(doc: &Documentation<'_>) -> String {
    let mut out = String::new();
    let title = format!("Ticket {}: {}", doc.ticket.id, first_line(&doc.ticket.issue));
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><style>{CSS}</style></head><body><main>\n<h1>{}</h1>\n<dl>",
        esc(&title),
        esc(&title)
    );
    for (label, value) in header(doc) {
        let _ = write!(out, "<dt>{}</dt><dd>{}</dd>", esc(label), esc(&value));
    }
    out.push_str("</dl>\n");
    let section = |out: &mut String, title: &str, rows: Vec<&Record>| {
        let _ = write!(out, "<section><h2>{}</h2>", esc(title));
        if rows.is_empty() {
            out.push_str("<p class=\"none\">None.</p>");
        } else {
            out.push_str("<table><tbody>");
            for r in rows {
                let _ = write!(
                    out,
                    "<tr><td class=\"t\">{}</td><td class=\"a {}\">{}</td><td>{}</td></tr>",
                    esc(&short_time(&r.ts)),
                    esc(&r.actor.role),
                    esc(&r.actor.name),
                    esc(&describe(r))
                );
            }
            out.push_str("</tbody></table>");
        }
        out.push_str("</section>\n");
    };
    section(&mut out, "Chat", records(doc, &["chat"]).collect());
    section(&mut out, "Consent", records(doc, CONSENT).collect());
    section(&mut out, "Notes and actions", records(doc, NOTES).collect());
    section(&mut out, "Files and shell", records(doc, FILES_AND_SHELL).collect());
    section(
        &mut out,
        "Resolution and confirmation",
        records(doc, &["resolution", "customer_confirmation"]).collect(),
    );
    section(&mut out, "Timeline", doc.records.iter().collect());
    let _ = write!(
        out,
        "<footer>Generated by tether from transcript {} ({} records).</footer>\n</main></body></html>\n",
        esc(&doc.session.start.id),
        doc.verdict.records
    );
    out
}

const CSS: &str = "body{font:15px/1.5 system-ui,-apple-system,'Segoe UI',sans-serif;color:#1b1f24;\
background:#f4f5f7;margin:0}main{max-width:960px;margin:2rem auto;background:#fff;padding:2rem 2.5rem;\
border-radius:8px;box-shadow:0 1px 4px rgba(0,0,0,.08)}h1{font-size:1.5rem;margin:0 0 1rem}\
h2{font-size:1.1rem;margin:2rem 0 .5rem;border-bottom:1px solid #dde1e6;padding-bottom:.25rem}\
dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1.25rem;margin:0}dt{font-weight:600;color:#49515c}\
dd{margin:0;white-space:pre-wrap}table{border-collapse:collapse;width:100%}td{padding:.3rem .5rem;\
border-bottom:1px solid #eef0f3;vertical-align:top;white-space:pre-wrap}td.t{color:#6b7380;\
font-variant-numeric:tabular-nums;white-space:nowrap}td.a{font-weight:600;white-space:nowrap}\
td.agent{color:#0b6b3a}td.console{color:#1a4fa0}td.broker{color:#6b7380}.none{color:#6b7380}\
footer{margin-top:2rem;color:#6b7380;font-size:.85rem}@media print{body{background:#fff}\
main{box-shadow:none;margin:0;max-width:none;padding:0}tr{break-inside:avoid}h2{break-after:avoid}}";

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or_default()
}

fn short_time(ts: &str) -> String {
    // 2026-11-22T08:24:55.245Z -> 2026-11-22 08:24:55
    ts.get(..19).map(|t| t.replace('T', " ")).unwrap_or_else(|| ts.to_string())
}

fn esc(s: &str) -> String {
    let s = tether_protocol::visible(s, true);
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn md_escape(s: &str) -> String {
    // Keep customer text from turning into Markdown structure: escape the characters that
    // start links, images, emphasis, code, headings, tables and HTML, fold newlines, and show
    // control characters instead of letting them act in a terminal that prints the file.
    let s = tether_protocol::visible(s, true);
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '|' | '!' | '~' | '&' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use tether_protocol::{Priority, TicketId, TicketStatus, VerifyStatus};

    use super::*;
    use crate::record::{Actor, Entry, GENESIS};
    use tether_store::SessionRecord;

    fn fixture() -> (TicketRecord, SessionRow, Vec<Record>, Verdict) {
        let ticket = TicketRecord {
            id: TicketId(7),
            channel: "agent".into(),
            client: "Bob <script>".into(),
            contact: "bob@example.com".into(),
            issue: "printer jams".into(),
            priority: Priority::High,
            status: TicketStatus::Closed,
            assigned_to: Some("alice".into()),
            created_at: 1_700_000_000,
            updated_at: 1_700_000_500,
            resolution: Some("cleared the jam".into()),
            confirmed: Some(true),
            bandwidth: None,
            skills: vec![],
            deadline_at: Some(1_700_007_200),
            responded_at: Some(1_700_000_100),
            resolved_at: Some(1_700_000_500),
            closed_at: Some(1_700_000_500),
            close_reason: None,
            rating: Some(5),
            comment: None,
            follow_up: None,
            warned_at: None,
            breached_at: None,
            claimed_priority: None,
            source: None,
            spam: false,
        };
        let session = SessionRow {
            start: SessionRecord {
                id: "s-1".into(),
                ticket: ticket.id,
                technician: "alice".into(),
                customer: "Bob".into(),
                started_at: 1_700_000_100,
                transcript: Some("s-1.jsonl".into()),
            },
            ended_at: Some(1_700_000_400),
            end_reason: Some("the technician ended the session".into()),
            sealed_records: Some(4),
            sealed_hash: Some("x".into()),
        };
        let e = |actor, event, data| Entry::now(actor, event, data).into_record(0, GENESIS.into());
        let records = vec![
            e(
                Actor::broker(),
                "session_started",
                json!({"session": "s-1", "technician": "alice", "customer": "Bob"}),
            ),
            e(
                Actor { role: "agent".into(), name: "Bob".into() },
                "chat",
                json!({"text": "it says <b>PC LOAD LETTER</b>"}),
            ),
            e(
                Actor { role: "agent".into(), name: "Bob".into() },
                "consent_granted",
                json!({"capability": "view"}),
            ),
            e(
                Actor { role: "console".into(), name: "alice".into() },
                "note",
                json!({"text": "jam in tray 2"}),
            ),
        ];
        let verdict = Verdict {
            status: VerifyStatus::Ok,
            records: 4,
            record: None,
            message: "4 records".into(),
        };
        (ticket, session, records, verdict)
    }

    #[test]
    fn every_format_carries_the_chat_consent_and_notes() {
        let (t, s, r, v) = fixture();
        let doc =
            Documentation { ticket: &t, session: &s, records: &r, verdict: &v, deadline: None };
        let md = export(&doc, ExportFormat::Md);
        assert!(md.starts_with("# Ticket T7: printer jams"));
        assert!(
            md.contains("PC LOAD LETTER")
                && md.contains("Bob allowed view")
                && md.contains("jam in tray 2")
        );
        assert!(md.contains("\\<b\\>"), "customer text cannot inject markup: {md}");
        let json: Value = serde_json::from_str(&export(&doc, ExportFormat::Json)).unwrap();
        assert_eq!(json["ticket"]["id"], "T7");
        assert_eq!(json["chat"][0]["data"]["text"], "it says <b>PC LOAD LETTER</b>");
        assert_eq!(json["verification"]["status"], "ok");
        let html = export(&doc, ExportFormat::Html);
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.contains("&lt;b&gt;PC LOAD LETTER&lt;/b&gt;"), "escaped");
        assert!(!html.contains("<script>"), "names are escaped too");
        assert!(!html.contains("http://") && !html.contains("https://"), "no external assets");
    }

    /// A field full of what would act: Markdown structure, HTML, a terminal escape, a
    /// reversed-text trick.
    const HOSTILE: &str = "# Owned\n[click](javascript:alert(1)) ![x](http://e/x.png) \
                           <img src=x onerror=alert(1)> \x1b[2J\x1b]0;pwned\x07 gnp\u{202e}exe";

    fn hostile_doc() -> (TicketRecord, SessionRow, Vec<Record>, Verdict) {
        let (mut t, mut s, mut r, v) = fixture();
        t.issue = HOSTILE.into();
        t.client = HOSTILE.into();
        t.resolution = Some(HOSTILE.into());
        s.end_reason = Some(HOSTILE.into());
        r[1].data = json!({ "text": HOSTILE });
        (t, s, r, v)
    }

    /// Nothing of `out` acts: no control character, no bidirectional override.
    fn inert(out: &str) -> bool {
        !out.chars()
            .any(|c| (c.is_control() && c != '\n') || ('\u{202a}'..='\u{202e}').contains(&c))
    }

    #[test]
    fn markdown_escapes_every_field_the_heading_included() {
        let (t, s, r, v) = hostile_doc();
        let doc =
            Documentation { ticket: &t, session: &s, records: &r, verdict: &v, deadline: None };
        let md = export(&doc, ExportFormat::Md);
        let heading = md.lines().next().unwrap();
        assert!(heading.starts_with("# Ticket T7: \\# Owned"), "{heading}");
        assert_eq!(md.lines().filter(|l| l.starts_with('#') && l.contains("Owned")).count(), 1);
        // Every character that would start markup in the fields is escaped.
        for c in ['[', ']', '!', '<', '>'] {
            let bare = md.match_indices(c).filter(|(i, _)| !md[..*i].ends_with('\\')).count();
            assert_eq!(bare, 0, "an unescaped {c:?}: {md}");
        }
        assert!(md.contains("\\[click\\]") && md.contains("\\<img"), "shown, escaped: {md}");
        assert!(md.contains("␛\\[2J") && inert(&md), "terminal escapes shown, not acting");
    }

    #[test]
    fn html_escapes_every_field() {
        let (t, s, r, v) = hostile_doc();
        let doc =
            Documentation { ticket: &t, session: &s, records: &r, verdict: &v, deadline: None };
        let html = export(&doc, ExportFormat::Html);
        assert!(!html.contains("<img"), "no markup from the fields");
        assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
        assert!(html.contains("␛[2J") && inert(&html));
    }

    #[test]
    fn json_keeps_every_field_exactly_as_data() {
        let (t, s, r, v) = hostile_doc();
        let doc =
            Documentation { ticket: &t, session: &s, records: &r, verdict: &v, deadline: None };
        let text = export(&doc, ExportFormat::Json);
        assert!(!text.contains('\x1b') && !text.contains('\x07'), "escaped in JSON strings");
        let json: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(json["ticket"]["issue"], HOSTILE);
        assert_eq!(json["ticket"]["client"], HOSTILE);
        assert_eq!(json["chat"][0]["data"]["text"], HOSTILE);
        assert_eq!(json["session"]["end_reason"], HOSTILE);
    }
}
