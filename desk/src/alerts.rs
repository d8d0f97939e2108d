//! Deadline alerts: which tickets have crossed the warning threshold (a share of their
//! response window) or their deadline without a response, each reported once. Pure: the
//! broker's monitor calls it with the tickets and the time; tests call it with any time.

use tether_protocol::{TicketId, TicketStatus};

use tether_store::TicketRecord;

/// An alert to raise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alert {
    /// The window is `warn_at` used up.
    Warning(TicketId),
    /// The deadline passed without a response.
    Breach(TicketId),
}

/// The alerts due at `now` for `tickets`, warning at `warn_at` (0..1) of each window.
pub fn due(tickets: &[TicketRecord], now: i64, warn_at: f64) -> Vec<Alert> {
    let mut out = Vec::new();
    for t in tickets {
        let Some(deadline) = t.deadline_at else { continue };
        if t.responded_at.is_some()
            || matches!(t.status, TicketStatus::Closed | TicketStatus::Resolved)
        {
            continue;
        }
        if now >= deadline {
            if t.breached_at.is_none() {
                out.push(Alert::Breach(t.id));
            }
        } else {
            let threshold =
                t.created_at + ((deadline - t.created_at) as f64 * warn_at).ceil() as i64;
            if now >= threshold && t.warned_at.is_none() {
                out.push(Alert::Warning(t.id));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use tether_protocol::Priority;

    use super::*;

    fn ticket(id: u64, created: i64, deadline: i64) -> TicketRecord {
        TicketRecord {
            id: TicketId(id),
            channel: "phone".into(),
            client: "c".into(),
            contact: String::new(),
            issue: "i".into(),
            priority: Priority::Critical,
            status: TicketStatus::Queued,
            assigned_to: None,
            created_at: created,
            updated_at: created,
            resolution: None,
            confirmed: None,
            bandwidth: None,
            skills: vec![],
            deadline_at: Some(deadline),
            responded_at: None,
            resolved_at: None,
            closed_at: None,
            close_reason: None,
            rating: None,
            comment: None,
            follow_up: None,
            warned_at: None,
            breached_at: None,
        }
    }

    #[test]
    fn warns_at_the_threshold_and_breaches_at_the_deadline_once_each() {
        // A two-hour window from t=0: warn at 75 % (5400 s), breach at 7200 s.
        let mut t = ticket(1, 0, 7200);
        assert!(due(std::slice::from_ref(&t), 5399, 0.75).is_empty());
        assert_eq!(due(std::slice::from_ref(&t), 5400, 0.75), vec![Alert::Warning(TicketId(1))]);
        t.warned_at = Some(5400);
        assert!(due(std::slice::from_ref(&t), 7199, 0.75).is_empty(), "warned once");
        assert_eq!(due(std::slice::from_ref(&t), 7200, 0.75), vec![Alert::Breach(TicketId(1))]);
        t.breached_at = Some(7200);
        assert!(due(std::slice::from_ref(&t), 9000, 0.75).is_empty(), "breached once");
    }

    #[test]
    fn a_late_check_still_breaches_without_warning_first() {
        let t = ticket(2, 0, 100);
        assert_eq!(due(&[t], 500, 0.75), vec![Alert::Breach(TicketId(2))]);
    }

    #[test]
    fn responded_and_closed_tickets_raise_nothing() {
        let mut answered = ticket(3, 0, 100);
        answered.responded_at = Some(50);
        let mut closed = ticket(4, 0, 100);
        closed.status = TicketStatus::Closed;
        let mut undated = ticket(5, 0, 100);
        undated.deadline_at = None;
        assert!(due(&[answered, closed, undated], 1000, 0.75).is_empty());
    }
}
