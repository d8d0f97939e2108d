//! Pairs of connections through a relay, as a load generator needs them: for tether, a real
//! agent (support request, bandwidth check) and a real console (token login, bandwidth check,
//! join) paired by the broker, with `view` and `files` granted so that screen and file data
//! frames flow; for the baseline, two websockets that say the same token. Either way the
//! result is two raw websockets that carry the same binary frames.

use std::sync::Arc;

use futures_util::SinkExt;
use rustls::ClientConfig;
use tether_client::{BrokerAddr, WsStream};
use tether_protocol::{
    Capability, ClientMessage, Credential, JoinTarget, Priority, Role, Secret, ServerMessage,
    SupportRequest,
};
use tokio_tungstenite::tungstenite::Message;

/// Which relay a pair goes through.
#[derive(Debug, Clone)]
pub(crate) enum Target {
    /// tether's broker, logging in with this technician token.
    Tether {
        /// Where.
        addr: BrokerAddr,
        /// The technician's token.
        token: String,
    },
    /// The minimal relay.
    Baseline {
        /// Where.
        addr: BrokerAddr,
    },
}

/// One paired session: (agent side, console side).
pub(crate) type Pair = (WsStream, WsStream);

/// Logs in as the bench technician; returns the token.
pub(crate) async fn login(
    addr: &BrokerAddr,
    tls: Arc<ClientConfig>,
    password: &str,
) -> anyhow::Result<String> {
    let credential =
        Credential::Password { user: "bench".into(), password: Secret::new(password.to_string()) };
    let (conn, welcome) = tether_client::connect(addr, tls, Role::Console, credential).await?;
    conn.close().await;
    let token = welcome.token.ok_or_else(|| anyhow::anyhow!("no token after login"))?;
    Ok(token.expose().to_string())
}

/// Makes pair number `n`.
pub(crate) async fn pair(
    target: &Target,
    tls: Arc<ClientConfig>,
    n: usize,
) -> anyhow::Result<Pair> {
    match target {
        Target::Baseline { addr } => {
            let mut a = tether_client::connect_tls(addr, tls.clone()).await?;
            let mut b = tether_client::connect_tls(addr, tls).await?;
            a.send(Message::text(format!("pair-{n}"))).await?;
            b.send(Message::text(format!("pair-{n}"))).await?;
            Ok((a, b))
        }
        Target::Tether { addr, token } => tether_pair(addr, tls, token, n).await,
    }
}

async fn tether_pair(
    addr: &BrokerAddr,
    tls: Arc<ClientConfig>,
    token: &str,
    n: usize,
) -> anyhow::Result<Pair> {
    let (mut agent, _) =
        tether_client::connect(addr, tls.clone(), Role::Agent, Credential::None).await?;
    let request = SupportRequest {
        name: format!("bench {n}"),
        contact: String::new(),
        issue: "benchmark".into(),
        priority: Priority::Low,
    };
    agent.send(&ClientMessage::Request(request)).await?;
    // The request becomes a ticket once the bandwidth check has run.
    tether_client::check::run_check(&mut agent, |_| {}).await?;
    let ticket = loop {
        if let ServerMessage::TicketCreated { ticket } = agent.recv_control().await? {
            break ticket.id;
        }
    };
    let credential = Credential::Token { token: Secret::new(token.to_string()) };
    let (mut console, _) = tether_client::connect(addr, tls, Role::Console, credential).await?;
    tether_client::check::run_check(&mut console, |_| {}).await?;
    console.send(&ClientMessage::Join { target: JoinTarget::Ticket(ticket) }).await?;
    wait(&mut console, |m| matches!(m, ServerMessage::Paired(_))).await?;
    wait(&mut agent, |m| matches!(m, ServerMessage::Paired(_))).await?;
    // View lets screen frames through (the soak sends them); files lets file data through.
    agent.send(&ClientMessage::Consent { capability: Capability::View, granted: true }).await?;
    agent.send(&ClientMessage::Consent { capability: Capability::Files, granted: true }).await?;
    wait(&mut console, |m| {
        matches!(m, ServerMessage::ConsentChanged { capability: Capability::Files, granted: true })
    })
    .await?;
    Ok((agent.into_ws(), console.into_ws()))
}

async fn wait(
    conn: &mut tether_client::Connection,
    done: impl Fn(&ServerMessage) -> bool,
) -> anyhow::Result<()> {
    loop {
        if done(&conn.recv_control().await?) {
            return Ok(());
        }
    }
}
