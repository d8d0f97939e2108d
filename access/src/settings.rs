//! The `[auth]` and `[codes]` sections of `broker.toml`: token lifetime, code lifetime, and
//! the budgets for failed logins and wrong codes. Defaults here; the broker's configuration
//! embeds these types and validates them once at start-up.

use serde::Deserialize;

/// Technician login settings.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthSettings {
    /// How long a bearer token lives, in seconds.
    pub token_ttl_secs: u64,
    /// Failed logins from one address within `failure_window_secs` before it is blocked.
    pub max_failures_per_source: u32,
    /// The window for counting failures, seconds.
    pub failure_window_secs: u64,
    /// How long a blocked address stays blocked, seconds.
    pub block_secs: u64,
}

impl Default for AuthSettings {
    fn default() -> Self {
        AuthSettings {
            token_ttl_secs: 12 * 3600,
            max_failures_per_source: 10,
            failure_window_secs: 60,
            block_secs: 300,
        }
    }
}

/// One-time code settings.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CodeSettings {
    /// How long a code works, seconds.
    pub ttl_secs: u64,
    /// Failed guesses from one address within `failure_window_secs` before it is blocked.
    pub max_failures_per_source: u32,
    /// The window for counting failures, seconds.
    pub failure_window_secs: u64,
    /// How long a blocked address stays blocked, seconds.
    pub block_secs: u64,
    /// Failed guesses after which every live code is burned.
    pub max_failures_per_code: u32,
}

impl Default for CodeSettings {
    fn default() -> Self {
        CodeSettings {
            ttl_secs: 600,
            max_failures_per_source: 5,
            failure_window_secs: 60,
            block_secs: 300,
            max_failures_per_code: 10,
        }
    }
}

impl AuthSettings {
    /// The values that must be positive, by their keys in `broker.toml`.
    pub fn positive(&self) -> [(&'static str, u64); 3] {
        [
            ("auth.token_ttl_secs", self.token_ttl_secs),
            ("auth.failure_window_secs", self.failure_window_secs),
            ("auth.max_failures_per_source", self.max_failures_per_source.into()),
        ]
    }
}

impl CodeSettings {
    /// The values that must be positive, by their keys in `broker.toml`.
    pub fn positive(&self) -> [(&'static str, u64); 4] {
        [
            ("codes.ttl_secs", self.ttl_secs),
            ("codes.failure_window_secs", self.failure_window_secs),
            ("codes.max_failures_per_source", self.max_failures_per_source.into()),
            ("codes.max_failures_per_code", self.max_failures_per_code.into()),
        ]
    }
}
