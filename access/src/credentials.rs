//! Credentials: argon2id password hashes and random bearer tokens, of which only
//! the SHA-256 is ever stored. Randomness comes from ring's system RNG.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use ring::digest;
use ring::rand::{SecureRandom, SystemRandom};
use tether_protocol::Secret;

/// Why a credential could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The system RNG failed.
    #[error("random number generator failed")]
    Random,
    /// argon2 refused (never with our parameters).
    #[error("password hashing failed: {0}")]
    Hash(String),
    /// A password that cannot be right.
    #[error("password must be 8 to 1024 characters")]
    WeakPassword,
}

/// Fills a buffer from the system RNG.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], AuthError> {
    let mut buf = [0u8; N];
    SystemRandom::new().fill(&mut buf).map_err(|_| AuthError::Random)?;
    Ok(buf)
}

/// Hashes a password with argon2id and a random salt, as a PHC string.
pub fn hash_password(password: &Secret<String>) -> Result<String, AuthError> {
    let len = password.expose().chars().count();
    if !(8..=1024).contains(&len) {
        return Err(AuthError::WeakPassword);
    }
    let salt = SaltString::encode_b64(&random_bytes::<16>()?)
        .map_err(|e| AuthError::Hash(e.to_string()))?;
    Argon2::default()
        .hash_password(password.expose().as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AuthError::Hash(e.to_string()))
}

/// Checks a password against a stored PHC string. A malformed hash never matches.
pub fn verify_password(hash: &str, password: &Secret<String>) -> bool {
    match PasswordHash::new(hash) {
        Ok(parsed) => {
            Argon2::default().verify_password(password.expose().as_bytes(), &parsed).is_ok()
        }
        Err(_) => false,
    }
}

/// Spends the time a real verification takes, so that an unknown user name cannot be told
/// from a wrong password by timing.
pub fn verify_dummy(password: &Secret<String>) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let hash = DUMMY.get_or_init(|| {
        hash_password(&Secret::new("dummy password for timing".into())).unwrap_or_default()
    });
    let _ = verify_password(hash, password);
}

/// A new bearer token (256 random bits, hex) and the SHA-256 that is stored.
pub fn new_token() -> Result<(Secret<String>, Vec<u8>), AuthError> {
    let bytes = random_bytes::<32>()?;
    let token = tether_protocol::hex(&bytes);
    let hash = token_hash(&token);
    Ok((Secret::new(token), hash))
}

/// The stored form of a token.
pub fn token_hash(token: &str) -> Vec<u8> {
    digest::digest(&digest::SHA256, token.as_bytes()).as_ref().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_themselves() {
        let pw = Secret::new("correct horse".to_string());
        let hash = hash_password(&pw).unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password(&hash, &pw));
        assert!(!verify_password(&hash, &Secret::new("wrong horse".into())));
        assert!(!verify_password("not a hash", &pw));
        assert_ne!(hash, hash_password(&pw).unwrap(), "salted");
        assert!(matches!(
            hash_password(&Secret::new("short".into())),
            Err(AuthError::WeakPassword)
        ));
    }

    #[test]
    fn tokens_are_random_and_stored_hashed() {
        let (t1, h1) = new_token().unwrap();
        let (t2, _) = new_token().unwrap();
        assert_eq!(t1.expose().len(), 64);
        assert_ne!(t1, t2);
        assert_eq!(h1, token_hash(t1.expose()));
        assert_ne!(h1, t1.expose().as_bytes());
    }
}
