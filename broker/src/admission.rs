//! Who gets a connection slot: at most `limits.max_connections_per_source` connections from
//! one address (IPv6 by /64) at once, and `limits.staff_reserve` of all slots kept for staff
//! who sign in, so that a flood of anonymous connections never locks technicians out. A
//! connection holds a [`Slot`] for its life; dropping it gives the slot back.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::sync::lock;

/// The slots of a broker.
#[derive(Debug)]
pub(crate) struct Admissions {
    per_source: Mutex<HashMap<IpAddr, u32>>,
    max_per_source: u32,
    /// Connections not (yet) signed in as staff.
    public: AtomicUsize,
    /// How many of those may be open at once; the rest of the slots are staff's.
    public_cap: usize,
}

/// One connection's slot.
#[derive(Debug)]
pub(crate) struct Slot {
    admissions: Arc<Admissions>,
    source: IpAddr,
    /// Counted among the public connections (until it signs in as staff).
    public: bool,
    /// Arrived when the public slots were all taken: only staff may stay.
    staff_only: bool,
}

impl Admissions {
    /// Slots for `cap` connections, `reserve` of them for staff, `max_per_source` for one
    /// address.
    pub(crate) fn new(cap: usize, reserve: usize, max_per_source: u32) -> Admissions {
        Admissions {
            per_source: Mutex::new(HashMap::new()),
            max_per_source,
            public: AtomicUsize::new(0),
            public_cap: cap.saturating_sub(reserve).max(1),
        }
    }

    /// A slot for a connection from `source`, or `None` when that address holds its share.
    pub(crate) fn admit(self: &Arc<Self>, source: IpAddr) -> Option<Slot> {
        let source = tether_access::limiter::source_group(source);
        {
            let mut open = lock(&self.per_source);
            let n = open.entry(source).or_default();
            if *n >= self.max_per_source {
                return None;
            }
            *n += 1;
        }
        let public = self.public.fetch_add(1, Ordering::AcqRel) + 1;
        Some(Slot {
            admissions: self.clone(),
            source,
            public: true,
            staff_only: public > self.public_cap,
        })
    }
}

impl Slot {
    /// Whether only staff may keep this slot (every public one was taken when it arrived).
    pub(crate) fn staff_only(&self) -> bool {
        self.staff_only
    }

    /// The connection signed in as staff: it no longer counts among the public ones.
    pub(crate) fn staff(&mut self) {
        if std::mem::replace(&mut self.public, false) {
            self.admissions.public.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.staff();
        let mut open = lock(&self.admissions.per_source);
        if let Some(n) = open.get_mut(&self.source) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.source);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 1));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 2));

    #[test]
    fn one_address_gets_its_share_and_gets_it_back() {
        let a = Arc::new(Admissions::new(100, 10, 2));
        let first = a.admit(A).unwrap();
        let _second = a.admit(A).unwrap();
        assert!(a.admit(A).is_none(), "a third from one address");
        assert!(a.admit(B).is_some(), "another address");
        drop(first);
        assert!(a.admit(A).is_some(), "a slot given back");
    }

    #[test]
    fn the_reserve_is_for_staff() {
        let a = Arc::new(Admissions::new(4, 2, 100));
        let x = a.admit(A).unwrap();
        let _y = a.admit(A).unwrap();
        assert!(!x.staff_only());
        let mut z = a.admit(B).unwrap();
        assert!(z.staff_only(), "the public slots are taken");
        z.staff();
        drop(x);
        assert!(!a.admit(B).unwrap().staff_only(), "a public slot came back");
    }
}
