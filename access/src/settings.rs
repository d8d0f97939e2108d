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
    /// Consecutive failed sign-ins of one account, from anywhere, before it is locked.
    pub max_failures_per_account: u32,
    /// How long the first lock lasts, seconds; each further failure doubles it.
    pub account_lock_secs: u64,
    /// The longest lock, seconds.
    pub account_lock_max_secs: u64,
    /// How long a sign-in waits for a free password-hashing slot before it is refused.
    pub hash_wait_secs: u64,
}

impl Default for AuthSettings {
    fn default() -> Self {
        AuthSettings {
            token_ttl_secs: 12 * 3600,
            max_failures_per_source: 10,
            failure_window_secs: 60,
            block_secs: 300,
            max_failures_per_account: 5,
            account_lock_secs: 60,
            account_lock_max_secs: 3600,
            hash_wait_secs: 5,
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
    /// No longer used: a wrong guess matches no code, so it counts against its source only
    /// (counting it against every live code let anyone burn codes they did not know).
    /// Accepted so that older configuration files still load.
    pub max_failures_per_code: Option<u32>,
}

impl Default for CodeSettings {
    fn default() -> Self {
        CodeSettings {
            ttl_secs: 600,
            max_failures_per_source: 5,
            failure_window_secs: 60,
            block_secs: 300,
            max_failures_per_code: None,
        }
    }
}

impl AuthSettings {
    /// The values that must be positive, by their keys in `broker.toml`.
    pub fn positive(&self) -> [(&'static str, u64); 6] {
        [
            ("auth.token_ttl_secs", self.token_ttl_secs),
            ("auth.failure_window_secs", self.failure_window_secs),
            ("auth.max_failures_per_source", self.max_failures_per_source.into()),
            ("auth.max_failures_per_account", self.max_failures_per_account.into()),
            ("auth.account_lock_secs", self.account_lock_secs),
            ("auth.hash_wait_secs", self.hash_wait_secs),
        ]
    }

    /// How long an account with `failures` consecutive failed sign-ins stays locked: none
    /// below the limit, then the first lock, doubling with each further failure, capped.
    pub fn lock_for(&self, failures: u32) -> Option<u64> {
        let beyond = failures.checked_sub(self.max_failures_per_account)?;
        let doubled = self.account_lock_secs.saturating_mul(1u64 << beyond.min(32));
        Some(doubled.min(self.account_lock_max_secs.max(self.account_lock_secs)))
    }
}

impl CodeSettings {
    /// The values that must be positive, by their keys in `broker.toml`.
    pub fn positive(&self) -> [(&'static str, u64); 3] {
        [
            ("codes.ttl_secs", self.ttl_secs),
            ("codes.failure_window_secs", self.failure_window_secs),
            ("codes.max_failures_per_source", self.max_failures_per_source.into()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_lock_doubles_with_each_failure_up_to_the_cap() {
        let a = AuthSettings::default();
        assert_eq!(a.lock_for(4), None);
        assert_eq!(a.lock_for(5), Some(60));
        assert_eq!(a.lock_for(6), Some(120));
        assert_eq!(a.lock_for(10), Some(1920));
        assert_eq!(a.lock_for(11), Some(3600));
        assert_eq!(a.lock_for(500), Some(3600));
    }
}
