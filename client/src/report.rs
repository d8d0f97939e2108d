//! The deadline review as people read it: a text table, CSV for spreadsheets, or one
//! self-contained HTML page.

use std::fmt::Write;

use tether_protocol::{SlaReport, format_duration as duration};

fn opt(d: Option<i64>) -> String {
    d.map(duration).unwrap_or_else(|| "-".into())
}

/// The review as a text table.
pub fn table(r: &SlaReport) -> String {
    let mut out = String::from(
        "priority  tickets  in time  resolved  response p50/p90  resolution p50/p90\n",
    );
    for p in &r.priorities {
        let _ = writeln!(
            out,
            "{:<9} {:>7}  {:>6.0}%  {:>7.0}%  {:>8} / {:<6}  {:>8} / {}",
            p.priority.name(),
            p.tickets,
            p.responded_in_time * 100.0,
            p.resolved * 100.0,
            opt(p.median_response_secs),
            opt(p.p90_response_secs),
            opt(p.median_resolution_secs),
            opt(p.p90_resolution_secs),
        );
    }
    let _ = writeln!(out, "\nbreaches: {}", r.breaches.len());
    for b in &r.breaches {
        let _ = writeln!(out, "  {} {:<8} {}", b.ticket, b.priority.name(), b.reason);
    }
    out.push_str("\ntechnician  tickets  rating\n");
    for t in &r.technicians {
        let rating = t.average_rating.map(|a| format!("{a:.1}")).unwrap_or_else(|| "-".into());
        let _ = writeln!(out, "{:<11} {:>7}  {rating}", t.name, t.tickets);
    }
    out
}

/// The review as CSV: one row per priority, breach and technician, with a `section` column.
pub fn csv(r: &SlaReport) -> String {
    let mut out = String::from(
        "section,key,tickets,responded_in_time,resolved,median_response_secs,p90_response_secs,\
         median_resolution_secs,p90_resolution_secs,detail\n",
    );
    let n = |v: Option<i64>| v.map(|x| x.to_string()).unwrap_or_default();
    for p in &r.priorities {
        let _ = writeln!(
            out,
            "priority,{},{},{:.4},{:.4},{},{},{},{},",
            p.priority.name(),
            p.tickets,
            p.responded_in_time,
            p.resolved,
            n(p.median_response_secs),
            n(p.p90_response_secs),
            n(p.median_resolution_secs),
            n(p.p90_resolution_secs),
        );
    }
    for b in &r.breaches {
        let _ = writeln!(
            out,
            "breach,{},,,,,,,,\"{}: {}\"",
            b.ticket,
            b.priority.name(),
            b.reason.replace('"', "\"\"")
        );
    }
    for t in &r.technicians {
        let rating = t.average_rating.map(|a| format!("{a:.2}")).unwrap_or_default();
        let _ = writeln!(
            out,
            "technician,\"{}\",{},,,,,,,{rating}",
            t.name.replace('"', "\"\""),
            t.tickets
        );
    }
    out
}

/// The review as one self-contained HTML page.
pub fn html(r: &SlaReport) -> String {
    let esc = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    let mut out = String::from(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Deadline review</title>\
         <style>body{font:15px/1.5 system-ui,sans-serif;margin:2rem;color:#1b1f24}table{border-collapse:collapse;\
         margin:1rem 0}td,th{border-bottom:1px solid #dde1e6;padding:.3rem .7rem;text-align:right}\
         th:first-child,td:first-child{text-align:left}@media print{body{margin:0}}</style></head><body>\
         <h1>Deadline review</h1><table><tr><th>priority</th><th>tickets</th><th>in time</th><th>resolved</th>\
         <th>response p50</th><th>p90</th><th>resolution p50</th><th>p90</th></tr>",
    );
    for p in &r.priorities {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{:.0}%</td><td>{:.0}%</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            p.priority.name(),
            p.tickets,
            p.responded_in_time * 100.0,
            p.resolved * 100.0,
            opt(p.median_response_secs),
            opt(p.p90_response_secs),
            opt(p.median_resolution_secs),
            opt(p.p90_resolution_secs)
        );
    }
    out.push_str(
        "</table><h2>Breaches</h2><table><tr><th>ticket</th><th>priority</th><th>reason</th></tr>",
    );
    for b in &r.breaches {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            b.ticket,
            b.priority.name(),
            esc(&b.reason)
        );
    }
    out.push_str("</table><h2>Technicians</h2><table><tr><th>technician</th><th>tickets</th><th>rating</th></tr>");
    for t in &r.technicians {
        let rating = t.average_rating.map(|a| format!("{a:.1}")).unwrap_or_else(|| "-".into());
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{rating}</td></tr>",
            esc(&t.name),
            t.tickets
        );
    }
    out.push_str("</table></body></html>\n");
    out
}

#[cfg(test)]
mod tests {
    use tether_protocol::{Breach, Priority, PriorityStats, TechnicianStats, TicketId};

    use super::*;

    fn report() -> SlaReport {
        let p = |priority, tickets| PriorityStats {
            priority,
            tickets,
            responded_in_time: 2.0 / 3.0,
            resolved: 2.0 / 3.0,
            median_response_secs: Some(1800),
            p90_response_secs: Some(9000),
            median_resolution_secs: Some(3600),
            p90_resolution_secs: Some(7200),
            met: 2,
            missed: 1,
        };
        SlaReport {
            from: 0,
            to: 10,
            priorities: vec![p(Priority::Critical, 3), p(Priority::High, 0)],
            breaches: vec![Breach {
                ticket: TicketId(3),
                priority: Priority::Critical,
                deadline: 7200,
                responded_at: Some(9000),
                reason: "answered 30m after the deadline".into(),
            }],
            technicians: vec![TechnicianStats {
                name: "ann".into(),
                tickets: 2,
                average_rating: Some(4.0),
                met: 2,
                missed: 0,
            }],
            weeks: vec![],
        }
    }

    #[test]
    fn renders_in_three_formats() {
        let r = report();
        let text = table(&r);
        assert!(text.contains("critical") && text.contains("67%") && text.contains("T3"), "{text}");
        assert!(text.contains("30m") && text.contains("2h30m"), "{text}");
        let csv = csv(&r);
        assert_eq!(csv.lines().count(), 1 + 2 + 1 + 1);
        assert!(csv.contains("priority,critical,3,0.6667,0.6667,1800,9000,3600,7200,"), "{csv}");
        let html = html(&r);
        assert!(html.contains("<td>T3</td>") && html.starts_with("<!DOCTYPE html>"));
    }
}
