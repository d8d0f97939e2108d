//! The ICE servers a session's sides are given for the direct path: STUN servers as
//! configured, and TURN servers with credentials made for the one session that expire (the
//! TURN REST scheme that coturn's `use-auth-secret` checks: the user name is
//! `EXPIRY:SESSION-ROLE`, the password the base64 HMAC-SHA1 of it under the secret shared
//! with the TURN server). A customer, who needs no account, never sees a credential that
//! outlives the session.

use base64::Engine;
use ring::hmac;
use tether_protocol::{IceServer, Role, Secret};

/// Whether `server` names a TURN server (which needs credentials).
pub(crate) fn is_turn(server: &IceServer) -> bool {
    server.urls.iter().any(|u| u.starts_with("turn:") || u.starts_with("turns:"))
}

/// The servers for the side in `role` of `session`, TURN credentials valid until `expires`
/// (Unix seconds).
pub(crate) fn for_session(
    servers: &[IceServer],
    secret: Option<&Secret<String>>,
    session: &str,
    role: Role,
    expires: i64,
) -> Vec<IceServer> {
    servers
        .iter()
        .map(|server| match (is_turn(server), secret) {
            (true, Some(secret)) => {
                let (username, credential) = credentials(secret, session, role, expires);
                IceServer { urls: server.urls.clone(), username, credential: Some(credential) }
            }
            _ => IceServer { urls: server.urls.clone(), username: String::new(), credential: None },
        })
        .collect()
}

/// A TURN user name and password for one side of one session.
fn credentials(
    secret: &Secret<String>,
    session: &str,
    role: Role,
    expires: i64,
) -> (String, Secret<String>) {
    let username = format!("{expires}:{session}-{}", role.name());
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, secret.expose().as_bytes());
    let tag = hmac::sign(&key, username.as_bytes());
    let password = base64::engine::general_purpose::STANDARD.encode(tag.as_ref());
    (username, Secret::new(password))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turn_servers_get_credentials_for_the_session_and_stun_servers_none() {
        let servers = vec![
            IceServer {
                urls: vec!["stun:stun.example.com".into()],
                username: String::new(),
                credential: None,
            },
            IceServer {
                urls: vec!["turn:turn.example.com:3478".into()],
                username: String::new(),
                credential: None,
            },
        ];
        let secret = Secret::new("north wind".to_string());
        let given = for_session(&servers, Some(&secret), "s-1", Role::Agent, 1_700_003_600);
        assert_eq!((given[0].username.as_str(), given[0].credential.is_none()), ("", true));
        assert_eq!(given[1].username, "1700003600:s-1-agent");
        // What coturn computes for this name and secret: base64(HMAC-SHA1(secret, name)).
        let expected = {
            let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, b"north wind");
            base64::engine::general_purpose::STANDARD
                .encode(hmac::sign(&key, b"1700003600:s-1-agent").as_ref())
        };
        assert_eq!(given[1].credential.as_ref().unwrap().expose(), &expected);
        let console = for_session(&servers, Some(&secret), "s-1", Role::Console, 1_700_003_600);
        assert_ne!(console[1].credential, given[1].credential, "each side its own");
    }
}
