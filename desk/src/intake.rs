//! How many requests for help the desk takes from customers who need no account: a budget per
//! address and one overall, each within a window, so that a flood of requests is refused
//! with a clear answer before it becomes tickets, technicians' loads and deadline breaches.
//! Counted when a request arrives, before the customer's bandwidth check runs.

use std::collections::VecDeque;
use std::net::IpAddr;

use tether_access::limiter::FailureLimiter;
use tether_store::unix_now;

use crate::settings::DeskSettings;
use crate::{Desk, DeskError};

/// The request budgets.
#[derive(Debug)]
pub(crate) struct Intake {
    per_source: FailureLimiter,
    overall: VecDeque<i64>,
    max_overall: usize,
    window: i64,
}

impl Intake {
    pub(crate) fn new(settings: &DeskSettings) -> Intake {
        let window = settings.requests_window_secs;
        Intake {
            // Every request counts as one "failure": the budget's last one blocks the address
            // for the window.
            per_source: FailureLimiter::new(
                settings.requests_per_source.saturating_sub(1),
                window,
                window,
            ),
            overall: VecDeque::new(),
            max_overall: settings.requests_overall as usize,
            window: window as i64,
        }
    }

    /// Counts a request from `source` at `now`, or says how long it must wait.
    fn admit(&mut self, source: IpAddr, now: i64) -> Result<(), DeskError> {
        while self.overall.front().is_some_and(|t| *t <= now - self.window) {
            self.overall.pop_front();
        }
        if self.overall.len() >= self.max_overall {
            let retry = self.overall.front().map_or(1, |t| t + self.window - now).max(1);
            return Err(DeskError::RateLimited(format!(
                "the help desk is receiving too many requests; try again in {retry} s"
            )));
        }
        self.per_source.reserve(source, now).map_err(|b| {
            DeskError::RateLimited(format!(
                "too many requests for help from this address; try again in {} s",
                (b.until - now).max(1)
            ))
        })?;
        self.per_source.settle(source, true, now);
        self.overall.push_back(now);
        Ok(())
    }
}

impl Desk {
    /// Counts a customer's request for help from `source` against the budgets, before its
    /// bandwidth check: refused, with how long to wait, once one is spent.
    pub fn admit_request(&self, source: IpAddr) -> Result<(), DeskError> {
        let result =
            self.intake.lock().unwrap_or_else(|p| p.into_inner()).admit(source, unix_now());
        if let Err(e) = &result {
            tracing::info!(%e, "support request refused");
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 1));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 2));

    fn intake(per_source: u32, overall: u32) -> Intake {
        let settings = DeskSettings {
            requests_per_source: per_source,
            requests_overall: overall,
            requests_window_secs: 600,
            ..DeskSettings::default()
        };
        Intake::new(&settings)
    }

    #[test]
    fn an_address_gets_its_budget_per_window() {
        let mut i = intake(3, 100);
        for _ in 0..3 {
            i.admit(A, 10).unwrap();
        }
        let refused = i.admit(A, 11).unwrap_err().to_string();
        assert!(refused.contains("from this address"), "{refused}");
        i.admit(B, 11).unwrap();
        i.admit(A, 611).unwrap();
    }

    #[test]
    fn everyone_together_gets_the_overall_budget() {
        let mut i = intake(100, 4);
        for n in 0..4u8 {
            i.admit(IpAddr::V4(std::net::Ipv4Addr::new(10, 1, 0, n)), 10).unwrap();
        }
        let refused = i.admit(B, 12).unwrap_err().to_string();
        assert!(refused.contains("too many requests; try again in 598 s"), "{refused}");
        i.admit(B, 610).unwrap();
    }
}
