//! [`lock`]: std mutexes as the broker holds them, only for plain in-memory work.

use std::sync::{Mutex, MutexGuard};

/// Locks a std mutex, carrying on through poisoning: every value behind these mutexes is
/// plain data that a panicking holder cannot leave half-updated in a way that matters more
/// than serving everyone else.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
