//! `tether-console admin`: transcript review over the authenticated connection. The broker
//! decides what this account may read; this side only asks and prints.

use tether_client::ClientError;
use tether_protocol::{AdminAnswer, AdminReply, AdminRequest, ClientMessage, ServerMessage};

use crate::desk::{DeskError, Target};

/// Sends one admin request and collects the answer, a document's parts joined.
pub async fn ask(target: &Target, request: AdminRequest) -> Result<AdminAnswer, DeskError> {
    let (mut conn, _) = target.connect().await?;
    conn.send(&ClientMessage::Admin(request)).await?;
    let mut document = String::new();
    let answer = loop {
        match conn.recv_control().await? {
            ServerMessage::Admin(AdminReply::Document { part, last }) => {
                document.push_str(&part);
                if last {
                    break AdminAnswer::Document(document);
                }
            }
            ServerMessage::Admin(reply) => break AdminAnswer::Reply(reply),
            other => return Err(ClientError::Unexpected(format!("{other:?}")).into()),
        }
    };
    conn.close().await;
    Ok(answer)
}
