//! The one-shot desk commands: `login` (saves a token), `queue` and `invite`. Each opens one
//! connection, asks one thing, prints the answer and closes.

use std::path::{Path, PathBuf};

use tether_client::{BrokerAddr, ClientError, Connection, shown};
use tether_protocol::{
    AccountReply, AccountRequest, ClientMessage, Credential, InvitationInfo, Role, Secret,
    ServerMessage, TicketId, TicketSummary, Welcome, format_duration,
};

use crate::profile::{Profile, ProfileError};

/// Why a desk command failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeskError {
    /// Talking to the broker failed.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The saved login is missing or unusable.
    #[error(transparent)]
    Profile(#[from] ProfileError),
    /// Not logged in.
    #[error("not logged in: run tether-console login first")]
    NotLoggedIn,
    /// A setting is unusable.
    #[error("{0}")]
    Setup(String),
}

/// Where to connect: the saved login, with `--broker` and `--ca` overriding it.
#[derive(Debug, Clone)]
pub struct Target {
    /// The broker.
    pub broker: BrokerAddr,
    /// The CA to trust.
    pub ca: PathBuf,
    /// The bearer token.
    pub token: Secret<String>,
}

impl Target {
    /// The saved login with overrides.
    pub fn resolve(broker: Option<BrokerAddr>, ca: Option<PathBuf>) -> Result<Target, DeskError> {
        let profile = Profile::load()?.ok_or(DeskError::NotLoggedIn)?;
        let broker = match broker {
            Some(b) => b,
            None => profile.broker.parse().map_err(DeskError::Setup)?,
        };
        Ok(Target { broker, ca: ca.unwrap_or(profile.ca), token: profile.token })
    }

    /// Connects with the token.
    pub async fn connect(&self) -> Result<(Connection, Welcome), DeskError> {
        let tls = tls(&self.ca)?;
        let credential = Credential::Token { token: self.token.clone() };
        Ok(tether_client::connect(&self.broker, tls, Role::Console, credential).await?)
    }
}

fn tls(ca: &Path) -> Result<std::sync::Arc<rustls::ClientConfig>, DeskError> {
    tether_certs::client_config(ca).map_err(|e| DeskError::Setup(e.to_string()))
}

/// Logs in with a password and saves the token. Returns where it was saved.
pub async fn login(
    broker: BrokerAddr,
    ca: &Path,
    user: &str,
    password: Secret<String>,
) -> Result<(PathBuf, Option<tether_protocol::FailedSignIns>), DeskError> {
    let ca = std::fs::canonicalize(ca)
        .map_err(|e| DeskError::Setup(format!("{}: {e}", ca.display())))?;
    let credential = Credential::Password { user: user.into(), password };
    let (conn, welcome) =
        tether_client::connect(&broker, tls(&ca)?, Role::Console, credential).await?;
    conn.close().await;
    let (Some(token), Some(expires)) = (welcome.token, welcome.token_expires_at) else {
        return Err(DeskError::Setup("the broker sent no token".into()));
    };
    let failed = welcome.failed_sign_ins;
    let profile = Profile {
        broker: broker.to_string(),
        ca,
        user: welcome.user.map(|u| u.name).unwrap_or_else(|| user.into()),
        token,
        token_expires_at: expires,
    };
    Ok((profile.save()?, failed))
}

/// Sends one account request and returns the answer.
pub async fn account(target: &Target, request: AccountRequest) -> Result<AccountReply, DeskError> {
    let (mut conn, _) = target.connect().await?;
    conn.send(&ClientMessage::Account(request)).await?;
    let answer = conn.recv_control().await?;
    conn.close().await;
    match answer {
        ServerMessage::Account(reply) => Ok(reply),
        other => Err(ClientError::Unexpected(format!("{other:?}")).into()),
    }
}

/// Signs out: the saved token is revoked at the broker, then forgotten here.
pub async fn logout(target: &Target) -> Result<(), DeskError> {
    account(target, AccountRequest::SignOut).await?;
    Profile::remove()?;
    Ok(())
}

/// The open tickets, most urgent first.
pub async fn queue(target: &Target) -> Result<Vec<TicketSummary>, DeskError> {
    let (mut conn, _) = target.connect().await?;
    conn.send(&ClientMessage::Queue).await?;
    let answer = conn.recv_control().await?;
    conn.close().await;
    match answer {
        ServerMessage::Queue { tickets } => Ok(tickets),
        other => Err(ClientError::Unexpected(format!("{other:?}")).into()),
    }
}

/// Issues a one-time code for a ticket (or a new one).
pub async fn invite(
    target: &Target,
    ticket: Option<TicketId>,
) -> Result<InvitationInfo, DeskError> {
    let (mut conn, _) = target.connect().await?;
    conn.send(&ClientMessage::Invite { ticket }).await?;
    let answer = conn.recv_control().await?;
    conn.close().await;
    match answer {
        ServerMessage::Invitation(info) => Ok(info),
        other => Err(ClientError::Unexpected(format!("{other:?}")).into()),
    }
}

/// Unix seconds as an RFC 3339 UTC time.
pub use tether_protocol::rfc3339 as format_time;

/// The queue as a table: most urgent first, with the time left to the response deadline
/// (or how far past it), the owner and the bandwidth verdict.
pub fn queue_table(tickets: &[TicketSummary], now: i64) -> String {
    if tickets.is_empty() {
        return "The queue is empty.\n".into();
    }
    let mut out = format!(
        "{:<7} {:<9} {:<16} {:<10} {:<8} {:<5} {:<10} {:<18} {}\n",
        "ticket", "priority", "status", "due in", "customer", "link", "owner", "client", "issue"
    );
    for t in tickets {
        let due = match (t.deadline_at, t.responded_at) {
            (_, Some(_)) => "answered".to_string(),
            (Some(d), None) if d >= now => format_duration(d - now),
            (Some(d), None) => format!("-{}", format_duration(now - d)),
            (None, None) => "-".into(),
        };
        // Customers' words: one line, their control characters shown (see `shown`).
        let issue: String = t.issue.lines().next().unwrap_or("").chars().take(40).collect();
        let client: String = t.client.chars().take(18).collect();
        let (issue, client) = (shown(&issue), shown(&client));
        out.push_str(&format!(
            "{:<7} {:<9} {:<16} {:<10} {:<8} {:<5} {:<10} {:<18} {}\n",
            t.id.to_string(),
            t.priority.name(),
            t.status.name(),
            due,
            if t.customer_waiting { "waiting" } else { "-" },
            t.bandwidth.map_or("-", |v| v.name()),
            shown(t.assigned_to.as_deref().unwrap_or("-")),
            client,
            issue
        ));
    }
    out
}
