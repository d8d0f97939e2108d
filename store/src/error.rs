//! Why a store call failed.

/// Why a store call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database failed.
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The change conflicts with what is stored (a duplicate name...).
    #[error("{0}")]
    Conflict(String),
    /// A stored value this version cannot read.
    #[error("stored data is not readable: {0}")]
    Corrupt(String),
    /// The blocking task running the call died.
    #[error("store task failed: {0}")]
    Task(String),
}
