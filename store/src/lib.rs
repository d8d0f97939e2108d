//! tether-store: what the broker keeps between restarts — accounts and tokens, tickets and
//! their history, one-time codes, sessions and their transcript seals, onsite visits, customers'
//! ticket links — behind
//! one async interface, so that callers never know which database holds them.
//!
//! Map:
//! - [`traits`]: the contract, one trait per area, and [`Store`], all of them;
//! - [`records`]: the records the traits take and return;
//! - [`handle`]: [`StoreHandle`], the store as the broker holds it, with an ordered queue for
//!   writes nobody waits for;
//! - [`sqlite`]: the embedded implementation ([`SqliteStore`]), one file per area, and its
//!   versioned migrations (`migrations/`);
//! - [`error`]: why a call failed ([`StoreError`]).
#![forbid(unsafe_code)]

pub mod error;
pub mod handle;
pub mod records;
pub mod sqlite;
pub mod traits;

#[cfg(test)]
mod tests;

pub use error::StoreError;
pub use handle::StoreHandle;
pub use records::*;
pub use sqlite::SqliteStore;
pub use traits::{Accounts, Codes, Links, Onsite, Sessions, Store, Tickets};

/// Opens the embedded SQLite store at `path` (creating and migrating it), on the current
/// tokio runtime.
pub fn open(path: &std::path::Path) -> Result<StoreHandle, StoreError> {
    Ok(StoreHandle::new(SqliteStore::open(path)?))
}

/// Now, as Unix seconds: the time every stored record carries.
pub fn unix_now() -> i64 {
    tether_protocol::unix_seconds(std::time::SystemTime::now())
}
