//! Failure limiting per source address, with attempts reserved before they are checked: a
//! source may have at most N failures within a window, counting the attempts still being
//! checked, so that connections arriving together cannot all be checked before the first
//! failure is counted. One more failure than N blocks the source for a while. A plain struct
//! taking `now`, so it is tested without a clock; the access service keeps one for code
//! guesses and one for sign-ins (and resume tokens), each behind a mutex.
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
    /// Attempts reserved and not yet settled.
    pending: u32,
}

/// A source that may not try again before `until` (Unix seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Blocked {
    /// Unix seconds.
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

    /// Reserves an attempt for `ip`: refused while it is blocked, or when its failures in the
    /// window and its attempts under way could already make it blocked. Every reservation is
    /// settled with [`FailureLimiter::settle`].
    pub fn reserve(&mut self, ip: IpAddr, now: i64) -> Result<(), Blocked> {
        if self.sources.len() >= MAX_SOURCES {
            self.prune(now);
        }
        let (window, max, block) = (self.window, self.max_failures, self.block);
        let source = self.sources.entry(source_group(ip)).or_default();
        if source.blocked_until > now {
            return Err(Blocked { until: source.blocked_until });
        }
        forget_old(source, now, window);
        if source.failures.len() as u32 + source.pending > max {
            // The attempts under way may yet block it; a retry after them can only be told
            // the truth then. Waiting out the window (or the block) is the honest answer.
            let until = source.failures.front().map_or(now + 1, |t| t + window).min(now + block);
            return Err(Blocked { until: until.max(now + 1) });
        }
        source.pending += 1;
        Ok(())
    }

    /// Settles a reservation: a failure counts (and may block the source; the block is
    /// returned), a success or an attempt that was never checked does not.
    pub fn settle(&mut self, ip: IpAddr, failed: bool, now: i64) -> Option<Blocked> {
        let (window, max, block) = (self.window, self.max_failures, self.block);
        let source = self.sources.entry(source_group(ip)).or_default();
        source.pending = source.pending.saturating_sub(1);
        if !failed {
            return None;
        }
        source.failures.push_back(now);
        forget_old(source, now, window);
        if source.failures.len() > max as usize {
            source.blocked_until = now + block;
            source.failures.clear();
            return Some(Blocked { until: source.blocked_until });
        }
        None
    }

    /// Whether `ip` is blocked now.
    pub fn check(&self, ip: IpAddr, now: i64) -> Result<(), Blocked> {
        match self.sources.get(&source_group(ip)) {
            Some(s) if s.blocked_until > now => Err(Blocked { until: s.blocked_until }),
            _ => Ok(()),
        }
    }

    /// Counts a failure from `ip` that was not reserved; returns the block it caused, if any.
    pub fn record_failure(&mut self, ip: IpAddr, now: i64) -> Option<Blocked> {
        if self.sources.len() >= MAX_SOURCES {
            self.prune(now);
        }
        self.sources.entry(source_group(ip)).or_default().pending += 1;
        self.settle(ip, true, now)
    }

    /// How many sources are remembered.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.sources.len()
    }

    fn prune(&mut self, now: i64) {
        let window = self.window;
        self.sources.retain(|_, s| {
            s.pending > 0
                || s.blocked_until > now
                || s.failures.back().is_some_and(|t| *t > now - window)
        });
        // Still full of live entries: forget the half with the oldest activity, keeping blocks
        // and attempts under way.
        if self.sources.len() >= MAX_SOURCES {
            let mut last: Vec<i64> = self
                .sources
                .values()
                .filter(|s| s.blocked_until <= now && s.pending == 0)
                .map(|s| s.failures.back().copied().unwrap_or(0))
                .collect();
            last.sort_unstable();
            if let Some(cut) = last.get(last.len() / 2).copied() {
                self.sources.retain(|_, s| {
                    s.pending > 0
                        || s.blocked_until > now
                        || s.failures.back().is_some_and(|t| *t > cut)
                });
            }
        }
    }
}

/// Drops the failures that fell out of the window.
fn forget_old(source: &mut Source, now: i64, window: i64) {
    while source.failures.front().is_some_and(|t| *t <= now - window) {
        source.failures.pop_front();
    }
}

/// The address a limit counts by: IPv4 as it is (an IPv4-mapped IPv6 address as its IPv4),
/// IPv6 by its /64, since one host usually holds a whole /64.
pub fn source_group(ip: IpAddr) -> IpAddr {
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
    fn attempts_under_way_count_against_the_budget() {
        let mut l = FailureLimiter::new(5, 60, 300);
        // A burst: six may be checked at once (the sixth failure would block), no more.
        let reserved = (0..40).filter(|_| l.reserve(A, 10).is_ok()).count();
        assert_eq!(reserved, 6);
        assert!(l.reserve(B, 10).is_ok(), "other sources unaffected");
        for _ in 0..5 {
            assert_eq!(l.settle(A, true, 11), None);
        }
        assert_eq!(l.settle(A, true, 11), Some(Blocked { until: 311 }));
        assert_eq!(l.reserve(A, 12), Err(Blocked { until: 311 }), "the right one comes too late");
    }

    #[test]
    fn successes_and_unchecked_attempts_free_their_reservation() {
        let mut l = FailureLimiter::new(1, 60, 300);
        l.reserve(A, 0).unwrap();
        l.reserve(A, 0).unwrap();
        assert!(l.reserve(A, 0).is_err(), "two under way is the budget");
        assert_eq!(l.settle(A, false, 1), None);
        l.reserve(A, 1).unwrap();
        assert_eq!(l.settle(A, false, 1), None);
        assert_eq!(l.settle(A, false, 1), None);
        assert!(l.check(A, 2).is_ok());
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
