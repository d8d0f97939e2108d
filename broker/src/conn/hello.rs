//! The `hello` phase: the first message names the protocol versions, the role and the
//! credential; the version is negotiated, the credential checked by the access service
//! (technician passwords and tokens, customers' one-time codes and resume tokens, each
//! rate-limited per source address), and the connection welcomed into its first phase.
//! Nothing here logs a secret: they arrive as `Secret` and leave only as hashes.

use tether_access::IssuedToken;
use tether_protocol::{
    ClientMessage, Credential, ErrorCode, Hello, MAX_MESSAGE_BYTES, Role, ServerMessage,
    VersionRange, Welcome, negotiate,
};
use tether_store::UserRecord;
use tracing::Span;

use super::{Conn, Inbound, Phase, Refusal};

impl Conn {
    /// Reads `hello`, checks its credential and welcomes the connection.
    pub(super) async fn hello(&mut self) -> Result<Phase, Refusal> {
        let hello = self.read_hello().await?;
        let version = negotiate(hello.versions, VersionRange::CURRENT)
            .map_err(|e| Refusal::new(ErrorCode::UnsupportedVersion, e.to_string()))?;
        Span::current().record("role", hello.role.name());
        tracing::debug!(version, software = %hello.software.chars().take(64).collect::<String>(), "hello");
        let source = self.peer.ip();
        let access = &self.shared.access;
        let staff =
            matches!(hello.credential, Credential::Password { .. } | Credential::Token { .. });
        if self.slot.staff_only() && !staff {
            return Err(Refusal::new(
                ErrorCode::Busy,
                "the broker is serving as many customers as it can; try again in a few minutes",
            ));
        }
        match (hello.role, hello.credential) {
            (Role::Agent, Credential::None) => {
                self.welcome(version, None, None)?;
                Ok(Phase::Request)
            }
            (Role::Agent, Credential::Code { code }) => {
                let ticket = access.redeem_code(&code, source).await?;
                Span::current().record("ticket.id", tracing::field::display(ticket.id));
                self.welcome(version, None, None)?;
                Ok(Phase::Check { ticket: ticket.id, client: ticket.client })
            }
            (Role::Agent, Credential::Resume { token }) => {
                let session = self.take_resume(&token)?;
                self.welcome(version, None, None)?;
                Ok(Phase::Resume(session))
            }
            (Role::Console, Credential::Password { user, password }) => {
                let (user, token) = access.login(&user, &password, source).await?;
                self.token_hash =
                    Some(tether_access::credentials::token_hash(token.token.expose()));
                self.signed_in(&user);
                self.welcome(version, Some(&user), Some(token))?;
                Ok(Phase::Desk(user))
            }
            (Role::Console, Credential::Token { token }) => {
                let user = access.authenticate(&token).await?;
                self.token_hash = Some(tether_access::credentials::token_hash(token.expose()));
                self.signed_in(&user);
                self.welcome(version, Some(&user), None)?;
                Ok(Phase::Desk(user))
            }
            (Role::Agent, _) => Err(Refusal::new(
                ErrorCode::Unauthenticated,
                "an agent connects with a one-time code or with a support request",
            )),
            (Role::Console, _) => Err(Refusal::new(
                ErrorCode::Unauthenticated,
                "a console must log in with a password or a token",
            )),
        }
    }

    /// Reads the first message, which must be `hello`, within the handshake timeout.
    async fn read_hello(&mut self) -> Result<Hello, Refusal> {
        let limit = self.shared.config.handshake_timeout();
        match tokio::time::timeout(limit, self.recv()).await {
            Err(_) => {
                Err(Refusal::new(ErrorCode::Timeout, "no hello within the handshake timeout"))
            }
            Ok(Ok(Inbound::Control(ClientMessage::Hello(hello)))) => Ok(hello),
            Ok(Ok(Inbound::Control(other))) => Err(Refusal::new(
                ErrorCode::Unauthenticated,
                format!("the first message must be hello, not {}", other.kind()),
            )),
            Ok(Ok(Inbound::Frame(..))) => Err(Refusal::new(
                ErrorCode::Unauthenticated,
                "the first message must be hello, not a binary frame",
            )),
            Ok(Ok(Inbound::Closed)) => {
                Err(Refusal::new(ErrorCode::PeerGone, "closed before hello"))
            }
            Ok(Err(r)) => Err(r),
        }
    }

    fn welcome(
        &self,
        version: u16,
        user: Option<&UserRecord>,
        token: Option<IssuedToken>,
    ) -> Result<(), Refusal> {
        if let Some(u) = user {
            Span::current().record("user", u.name.as_str());
        }
        let (token, token_expires_at, failed) = match token {
            Some(t) => (Some(t.token), Some(t.expires_at), t.failed_before),
            None => (None, None, None),
        };
        let failed_sign_ins = failed.map(|f| tether_protocol::FailedSignIns {
            count: f.count,
            last_at: f.last_at,
            last_from: f.last_from,
        });
        self.outbox.control(&ServerMessage::Welcome(Welcome {
            version,
            user: user.map(|u| tether_protocol::UserInfo { name: u.name.clone(), role: u.role }),
            token,
            token_expires_at,
            max_message_bytes: MAX_MESSAGE_BYTES,
            failed_sign_ins,
        }))?;
        Ok(())
    }
}
