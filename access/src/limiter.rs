//! Failure limiting per source address: more than N failures within a window blocks the
//! source for a while. A plain struct taking `now`, so it is tested without a clock; the broker
//! keeps one for code guesses and one for password logins, each behind a mutex.
//!
//! IPv6 sources are grouped by /64, since one host commonly owns a whole /64.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;

/// Sources remembered at most; past this, the oldest quiet ones are forgotten first.
const MAX_SOURCES: usize = 100_000;

/// Counts failures per source and blocks noisy sources.
#[derive(Debug)]
pub struct FailureLimiter {
    max_failures: u32,
    window: i64,
    block: i64,
    sources: HashMap<IpAddr, Source>,
}

#[derive(Debug, Default)]
struct Source {
    failures: VecDeque<i64>,
    blocked_until: i64,
}

/// A source that may not try again before `until` (Unix seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Blocked {
    pub until: i64,
}

impl FailureLimiter {
    /// Blocks a source for `block` seconds once it has more than `max_failures` failures
    /// within `window` seconds.
    pub fn new(max_failures: u32, window: u64, block: u64) -> FailureLimiter {
        FailureLimiter {
            max_failures,
            window: window as i64,
            block: block as i64,
            sources: HashMap::new(),
        }
    }

    /// Whether `ip` may try now.
    pub fn check(&self, ip: IpAddr, now: i64) -> Result<(), Blocked> {
        match self.sources.get(&key(ip)) {
            Some(s) if s.blocked_until > now => Err(Blocked { until: s.blocked_until }),
            _ => Ok(()),
        }
    }

    /// Counts a failure from `ip`; returns the block it caused, if it caused one.
    pub fn record_failure(&mut self, ip: IpAddr, now: i64) -> Option<Blocked> {
        if self.sources.len() >= MAX_SOURCES {
            self.prune(now);
        }
        let source = self.sources.entry(key(ip)).or_default();
        source.failures.push_back(now);
        while source.failures.front().is_some_and(|t| *t <= now - self.window) {
            source.failures.pop_front();
        }
        if source.failures.len() > self.max_failures as usize {
            source.blocked_until = now + self.block;
            source.failures.clear();
            return Some(Blocked { until: source.blocked_until });
        }
        None
    }

    /// How many sources are remembered.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.sources.len()
    }

    fn prune(&mut self, now: i64) {
        let window = self.window;
        self.sources.retain(|_, s| {
            s.blocked_until > now || s.failures.back().is_some_and(|t| *t > now - window)
        });
        // Still full of live entries: forget the half with the oldest activity, keeping blocks.
        if self.sources.len() >= MAX_SOURCES {
            let mut last: Vec<i64> = self
                .sources
                .values()
                .filter(|s| s.blocked_until <= now)
                .map(|s| s.failures.back().copied().unwrap_or(0))
                .collect();
            last.sort_unstable();
            if let Some(cut) = last.get(last.len() / 2).copied() {
                self.sources.retain(|_, s| {
                    s.blocked_until > now || s.failures.back().is_some_and(|t| *t > cut)
                });
            }
        }
    }
}

fn key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 1));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 2));

    #[test]
    fn blocks_after_more_than_max_failures_in_the_window() {
        let mut l = FailureLimiter::new(5, 60, 300);
        for t in 0..5 {
            assert_eq!(l.record_failure(A, 100 + t), None);
            assert!(l.check(A, 100 + t).is_ok());
        }
        assert_eq!(l.record_failure(A, 105), Some(Blocked { until: 405 }));
        assert_eq!(l.check(A, 106), Err(Blocked { until: 405 }));
        assert!(l.check(B, 106).is_ok(), "other sources unaffected");
        assert!(l.check(A, 405).is_ok(), "block ends");
    }

    #[test]
    fn failures_outside_the_window_are_forgotten() {
        let mut l = FailureLimiter::new(5, 60, 300);
        for t in 0..5 {
            l.record_failure(A, t * 20);
        }
        // At t=100 the failures at 0, 20 and 40 are out of the 60 s window.
        assert_eq!(l.record_failure(A, 100), None);
        assert!(l.check(A, 100).is_ok());
    }

    #[test]
    fn ipv6_hosts_in_one_slash_64_share_a_count() {
        let mut l = FailureLimiter::new(1, 60, 300);
        let a: IpAddr = "2001:db8::1".parse().unwrap();
        let b: IpAddr = "2001:db8::ffff:2".parse().unwrap();
        l.record_failure(a, 0);
        assert!(l.record_failure(b, 1).is_some());
        assert!(l.check("2001:db8::9".parse().unwrap(), 2).is_err());
        assert!(l.check("2001:db9::1".parse().unwrap(), 2).is_ok());
    }

    #[test]
    fn memory_stays_bounded_under_many_sources() {
        let mut l = FailureLimiter::new(5, 60, 300);
        for i in 0..(MAX_SOURCES as u32 + 10) {
            l.record_failure(IpAddr::V4(i.into()), 1000 + i64::from(i / 1000));
        }
        assert!(l.len() <= MAX_SOURCES);
    }
}
