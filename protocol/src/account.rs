//! An account's own sign-in over the wire: signing out (the token in use is revoked), and the
//! live bearer tokens of an account, listed and revoked one at a time (by their owner, or by
//! an admin for anyone). A token is named by the start of its hash, never shown itself.

use serde::{Deserialize, Serialize};

/// A console's request about tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verb", rename_all = "snake_case")]
pub enum AccountRequest {
    /// Revoke the token this connection signed in with.
    SignOut,
    /// The live tokens of `user` (yourself when absent).
    Tokens {
        /// Whose.
        #[serde(default)]
        user: Option<String>,
    },
    /// Revoke a token of `user` (yourself when absent) by its id or a unique start of it;
    /// every one of them when `token` is absent.
    Revoke {
        /// Whose.
        #[serde(default)]
        user: Option<String>,
        /// Which.
        #[serde(default)]
        token: Option<String>,
    },
}

/// One live token, as its owner and admins see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenInfo {
    /// The first 12 hex digits of the token's SHA-256.
    pub id: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub expires_at: i64,
    /// Unix seconds, once used.
    pub last_used_at: Option<i64>,
}

/// The broker's answer to an [`AccountRequest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AccountReply {
    /// The token in use is revoked.
    SignedOut,
    /// The live tokens.
    Tokens {
        /// Oldest first.
        tokens: Vec<TokenInfo>,
    },
    /// How many tokens were revoked.
    Revoked {
        /// How many.
        count: usize,
    },
}
