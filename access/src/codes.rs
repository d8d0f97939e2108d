//! One-time customer codes: nine digits from the system RNG, stored only as HMAC-SHA256 under
//! a per-broker key (so a stolen database does not give up live codes), and compared in
//! constant time by `ring::hmac::verify`.

use std::path::Path;

use ring::hmac;
use tether_protocol::Secret;

use crate::credentials::{AuthError, random_bytes};
use tether_store::InvitationRecord;

/// Number of digits in a code.
pub const CODE_DIGITS: usize = 9;

/// The broker's key for hashing codes.
pub struct CodeKey(hmac::Key);

impl std::fmt::Debug for CodeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CodeKey([redacted])")
    }
}

impl CodeKey {
    /// A key from 32 bytes.
    pub fn new(bytes: &[u8]) -> CodeKey {
        CodeKey(hmac::Key::new(hmac::HMAC_SHA256, bytes))
    }

    /// Reads the key file written at init.
    pub fn load(path: &Path) -> std::io::Result<CodeKey> {
        let bytes = std::fs::read(path)?;
        if bytes.len() != 32 {
            return Err(std::io::Error::other(format!(
                "{} should hold 32 bytes, holds {}",
                path.display(),
                bytes.len()
            )));
        }
        Ok(CodeKey::new(&bytes))
    }

    /// The stored form of a code.
    pub fn hash(&self, code: &str) -> Vec<u8> {
        hmac::sign(&self.0, code.as_bytes()).as_ref().to_vec()
    }

    /// The candidate whose hash matches `code`. Every candidate is compared, each in constant
    /// time, so the answer's timing does not depend on where (or whether) a match is.
    pub fn find<'a>(
        &self,
        code: &str,
        candidates: &'a [InvitationRecord],
    ) -> Option<&'a InvitationRecord> {
        let mut found = None;
        for c in candidates {
            if hmac::verify(&self.0, code.as_bytes(), &c.code_hash).is_ok() {
                found = Some(c);
            }
        }
        found
    }
}

/// A fresh code, uniformly distributed over the 10^9 values.
pub fn new_code() -> Result<Secret<String>, AuthError> {
    const RANGE: u32 = 1_000_000_000;
    // The largest multiple of RANGE that fits in u32: reject above it to avoid modulo bias.
    const LIMIT: u32 = (u32::MAX / RANGE) * RANGE;
    loop {
        let n = u32::from_be_bytes(random_bytes::<4>()?);
        if n < LIMIT {
            return Ok(Secret::new(format!("{:09}", n % RANGE)));
        }
    }
}

/// A code as typed (spaces and dashes allowed), or `None` if it cannot be one.
pub fn normalize(typed: &str) -> Option<String> {
    let digits: String = typed.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    (digits.len() == CODE_DIGITS && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

#[cfg(test)]
mod tests {
    use tether_protocol::TicketId;

    use super::*;

    fn record(key: &CodeKey, code: &str, id: i64) -> InvitationRecord {
        InvitationRecord {
            id,
            code_hash: key.hash(code),
            ticket: TicketId(1),
            issued_by: "alice".into(),
            expires_at: 0,
            used_at: None,
        }
    }

    #[test]
    fn codes_are_nine_random_digits() {
        let a = new_code().unwrap();
        assert_eq!(a.expose().len(), 9);
        assert!(a.expose().bytes().all(|b| b.is_ascii_digit()));
        let distinct: std::collections::HashSet<_> =
            (0..50).map(|_| new_code().unwrap().into_inner()).collect();
        assert!(distinct.len() > 45, "codes repeat far too often");
    }

    #[test]
    fn finds_only_the_matching_code() {
        let key = CodeKey::new(&[7; 32]);
        let recs = vec![record(&key, "111111111", 1), record(&key, "222222222", 2)];
        assert_eq!(key.find("222222222", &recs).map(|r| r.id), Some(2));
        assert_eq!(key.find("333333333", &recs), None);
        let other = CodeKey::new(&[8; 32]);
        assert_eq!(other.find("111111111", &recs), None, "hash is keyed");
    }

    #[test]
    fn normalizes_typed_codes() {
        assert_eq!(normalize("123 456 789").as_deref(), Some("123456789"));
        assert_eq!(normalize("123-456-789").as_deref(), Some("123456789"));
        for bad in ["12345678", "1234567890", "12345678a", "", "１２３４５６７８９"] {
            assert_eq!(normalize(bad), None, "{bad}");
        }
    }
}
