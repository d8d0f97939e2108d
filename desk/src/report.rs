//! The deadline review: for tickets logged in a period, per priority the share answered within
//! the deadline and the share resolved, median and 90th-percentile times to response and to
//! resolution; the breaches; and per technician the tickets handled and the average rating.
//! [`compute`] is pure (tickets and the time in, figures out); [`Desk::sla_report`] serves
//! it to those who may read it. Consoles render it (`tether_client::report`).

use tether_protocol::{
    Breach, Priority, PriorityStats, SlaReport, TechnicianStats, WeekStats,
    format_duration as duration,
};

use tether_access::{Action, Actor};
use tether_store::{TicketRecord, unix_now};

use crate::{Desk, DeskError};

impl Desk {
    /// The deadline review of tickets logged in `[from, to)`, for those who may read it.
    pub async fn sla_report(
        &self,
        actor: &Actor,
        from: i64,
        to: i64,
    ) -> Result<SlaReport, DeskError> {
        self.check(actor, Action::ReadReport)?;
        let tickets = self.store.tickets_logged(from, to).await?;
        Ok(compute(&tickets, from, to, unix_now()))
    }
}

/// Computes the review of `tickets` (those logged in `[from, to)`) as of `now`.
pub fn compute(tickets: &[TicketRecord], from: i64, to: i64, now: i64) -> SlaReport {
    let priorities = [Priority::Critical, Priority::High, Priority::Medium, Priority::Low]
        .into_iter()
        .map(|p| {
            let of: Vec<&TicketRecord> = tickets.iter().filter(|t| t.priority == p).collect();
            let n = of.len() as u64;
            let share = |count: usize| if n == 0 { 0.0 } else { count as f64 / n as f64 };
            let in_time = of
                .iter()
                .filter(|t| matches!((t.responded_at, t.deadline_at), (Some(r), Some(d)) if r <= d))
                .count();
            let resolved = of.iter().filter(|t| t.resolved_at.is_some()).count();
            let response: Vec<i64> =
                of.iter().filter_map(|t| Some(t.responded_at? - t.created_at)).collect();
            let resolution: Vec<i64> =
                of.iter().filter_map(|t| Some(t.resolved_at? - t.created_at)).collect();
            let (met, missed) = outcomes(&of, now);
            PriorityStats {
                met,
                missed,
                priority: p,
                tickets: n,
                responded_in_time: share(in_time),
                resolved: share(resolved),
                median_response_secs: percentile(&response, 0.5),
                p90_response_secs: percentile(&response, 0.9),
                median_resolution_secs: percentile(&resolution, 0.5),
                p90_resolution_secs: percentile(&resolution, 0.9),
            }
        })
        .collect();
    let breaches = tickets
        .iter()
        .filter_map(|t| {
            let deadline = t.deadline_at?;
            let reason = match t.responded_at {
                Some(r) if r > deadline => {
                    format!("answered {} after the deadline", duration(r - deadline))
                }
                None if now > deadline => {
                    format!("not answered; {} overdue", duration(now - deadline))
                }
                _ => return None,
            };
            Some(Breach {
                ticket: t.id,
                priority: t.priority,
                deadline,
                responded_at: t.responded_at,
                reason,
            })
        })
        .collect();
    let mut names: Vec<&str> = tickets.iter().filter_map(|t| t.assigned_to.as_deref()).collect();
    names.sort_unstable();
    names.dedup();
    let technicians = names
        .into_iter()
        .map(|name| {
            let theirs: Vec<&TicketRecord> =
                tickets.iter().filter(|t| t.assigned_to.as_deref() == Some(name)).collect();
            let ratings: Vec<f64> = theirs.iter().filter_map(|t| t.rating.map(f64::from)).collect();
            let (met, missed) = outcomes(&theirs, now);
            TechnicianStats {
                met,
                missed,
                name: name.into(),
                tickets: theirs.len() as u64,
                average_rating: (!ratings.is_empty())
                    .then(|| ratings.iter().sum::<f64>() / ratings.len() as f64),
            }
        })
        .collect();
    let weeks = (0..)
        .map(|n| from + n * WEEK)
        .take_while(|start| *start < to)
        .map(|start| {
            let of: Vec<&TicketRecord> =
                tickets.iter().filter(|t| (start..start + WEEK).contains(&t.created_at)).collect();
            let (met, missed) = outcomes(&of, now);
            WeekStats { start, met, missed }
        })
        .collect();
    SlaReport { from, to, priorities, breaches, technicians, weeks }
}

const WEEK: i64 = 7 * 86_400;

/// Whether `t` met its deadline (answered in time), missed it (answered late, or not answered
/// and past it), or neither yet (`None`, as for a ticket without a deadline).
fn outcome(t: &TicketRecord, now: i64) -> Option<bool> {
    let deadline = t.deadline_at?;
    match t.responded_at {
        Some(r) => Some(r <= deadline),
        None if now > deadline => Some(false),
        None => None,
    }
}

/// How many of `tickets` met and missed their deadlines.
fn outcomes(tickets: &[&TicketRecord], now: i64) -> (u64, u64) {
    tickets
        .iter()
        .filter_map(|t| outcome(t, now))
        .fold((0, 0), |(met, missed), ok| if ok { (met + 1, missed) } else { (met, missed + 1) })
}

/// The value at quantile `q` (nearest rank) of `values`.
pub fn percentile(values: &[i64], q: f64) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    Some(sorted[rank - 1])
}

#[cfg(test)]
mod tests {
    use tether_protocol::{TicketId, TicketStatus};

    use super::*;

    #[allow(clippy::too_many_arguments)]
    fn t(
        id: u64,
        p: Priority,
        created: i64,
        deadline: i64,
        responded: Option<i64>,
        resolved: Option<i64>,
        tech: &str,
        rating: Option<u8>,
    ) -> TicketRecord {
        TicketRecord {
            id: TicketId(id),
            channel: "agent".into(),
            client: "c".into(),
            contact: String::new(),
            issue: "i".into(),
            priority: p,
            status: if resolved.is_some() { TicketStatus::Closed } else { TicketStatus::Assigned },
            assigned_to: Some(tech.into()),
            created_at: created,
            updated_at: created,
            resolution: None,
            confirmed: resolved.map(|_| true),
            bandwidth: None,
            skills: vec![],
            deadline_at: Some(deadline),
            responded_at: responded,
            resolved_at: resolved,
            closed_at: resolved,
            close_reason: None,
            rating,
            comment: None,
            follow_up: None,
            warned_at: None,
            breached_at: None,
            claimed_priority: None,
            source: None,
            spam: false,
        }
    }

    /// A fixture with known answers.
    fn fixture() -> Vec<TicketRecord> {
        vec![
            // Critical: 3 tickets, deadlines 7200 s after logging.
            t(1, Priority::Critical, 0, 7200, Some(600), Some(3600), "ann", Some(5)),
            t(2, Priority::Critical, 0, 7200, Some(1800), Some(7200), "ann", Some(3)),
            t(3, Priority::Critical, 0, 7200, Some(9000), None, "ben", None),
            // High: one answered in time, one never.
            t(4, Priority::High, 100, 1000, Some(400), Some(5000), "ben", Some(4)),
            t(5, Priority::High, 100, 1000, None, None, "ben", None),
        ]
    }

    #[test]
    fn figures_match_the_fixture() {
        let r = compute(&fixture(), 0, 10_000, 20_000);
        let crit = &r.priorities[0];
        assert_eq!((crit.priority, crit.tickets), (Priority::Critical, 3));
        assert!((crit.responded_in_time - 2.0 / 3.0).abs() < 1e-9);
        assert!((crit.resolved - 2.0 / 3.0).abs() < 1e-9);
        assert_eq!(crit.median_response_secs, Some(1800));
        assert_eq!(crit.p90_response_secs, Some(9000));
        assert_eq!(crit.median_resolution_secs, Some(3600));
        assert_eq!(crit.p90_resolution_secs, Some(7200));
        let high = &r.priorities[1];
        assert_eq!(high.tickets, 2);
        assert_eq!((high.responded_in_time, high.resolved), (0.5, 0.5));
        assert_eq!(high.median_response_secs, Some(300));
        assert_eq!(r.priorities[2].tickets, 0);
        assert_eq!(r.priorities[2].median_response_secs, None);

        let breached: Vec<u64> = r.breaches.iter().map(|b| b.ticket.0).collect();
        assert_eq!(breached, vec![3, 5]);
        assert_eq!(r.breaches[0].reason, "answered 30m after the deadline");
        assert_eq!(r.breaches[1].reason, "not answered; 5h16m overdue");

        assert_eq!(r.technicians.len(), 2);
        assert_eq!((r.technicians[0].name.as_str(), r.technicians[0].tickets), ("ann", 2));
        assert_eq!(r.technicians[0].average_rating, Some(4.0));
        assert_eq!((r.technicians[1].tickets, r.technicians[1].average_rating), (3, Some(4.0)));

        // Met and missed: critical 2 and 1 (T3 late), high 1 and 1 (T5 never answered); ann
        // met both of hers, ben one of three.
        assert_eq!((crit.met, crit.missed, high.met, high.missed), (2, 1, 1, 1));
        let by_tech: Vec<_> = r.technicians.iter().map(|t| (t.met, t.missed)).collect();
        assert_eq!(by_tech, vec![(2, 0), (1, 2)]);
        assert_eq!(r.weeks, vec![WeekStats { start: 0, met: 3, missed: 2 }]);
    }

    #[test]
    fn weeks_split_the_period_and_pending_tickets_count_for_neither() {
        let mut tickets = fixture();
        // Logged in the second week; its deadline is still ahead at `now`.
        tickets.push(t(6, Priority::Low, WEEK + 10, 3 * WEEK, None, None, "ann", None));
        // Logged in the third week, answered in time.
        tickets.push(t(
            7,
            Priority::Low,
            2 * WEEK,
            2 * WEEK + 50,
            Some(2 * WEEK + 5),
            None,
            "ann",
            None,
        ));
        let r = compute(&tickets, 0, 2 * WEEK + 100, 2 * WEEK + 60);
        let weeks: Vec<_> = r.weeks.iter().map(|w| (w.start, w.met, w.missed)).collect();
        assert_eq!(weeks, vec![(0, 3, 2), (WEEK, 0, 0), (2 * WEEK, 1, 0)]);
        let low = &r.priorities[3];
        assert_eq!((low.tickets, low.met, low.missed), (2, 1, 0));
    }

    #[test]
    fn percentiles_use_the_nearest_rank() {
        assert_eq!(percentile(&[5, 1, 3], 0.5), Some(3));
        assert_eq!(percentile(&[5, 1, 3], 0.9), Some(5));
        assert_eq!(percentile(&[], 0.5), None);
    }
}
