//! `tether-console admin`: transcript review over the authenticated connection. The broker
//! decides what this account may read; this side only asks and prints.

use tether_client::ClientError;
use tether_protocol::{AdminReply, AdminRequest, ClientMessage, ServerMessage};

use crate::desk::{DeskError, Target};

/// What came back.
#[derive(Debug)]
pub enum Answer {
    /// A list or a verification.
    Reply(AdminReply),
    /// A whole document (transcript or export), its parts joined.
    Document(String),
}

/// Sends one admin request and collects the answer.
pub async fn ask(target: &Target, request: AdminRequest) -> Result<Answer, DeskError> {
    let (mut conn, _) = target.connect().await?;
    conn.send(&ClientMessage::Admin(request)).await?;
    let mut document = String::new();
    let answer = loop {
        match conn.recv_control().await? {
            ServerMessage::Admin(AdminReply::Document { part, last }) => {
                document.push_str(&part);
                if last {
                    break Answer::Document(document);
                }
            }
            ServerMessage::Admin(reply) => break Answer::Reply(reply),
            other => return Err(ClientError::Unexpected(format!("{other:?}")).into()),
        }
    };
    conn.close().await;
    Ok(answer)
}
