//! A console's `admin` requests: session review by the desk, which asks the policy what this
//! account may read. Long documents go back in several parts.

use tether_access::Actor;
use tether_desk::DeskError;
use tether_protocol::{AdminAnswer, AdminReply, AdminRequest, ServerMessage};

use super::{Conn, Refusal};

/// The largest document part per message, in bytes (well under the message limit).
const PART: usize = 256 * 1024;

impl Conn {
    /// Answers one admin request for `actor`.
    pub(super) async fn review(&mut self, actor: &Actor, req: AdminRequest) -> Result<(), Refusal> {
        tracing::info!(request = ?req, "admin request");
        match self.shared.desk.admin(actor, req).await {
            Ok(AdminAnswer::Reply(reply)) => self.outbox.control(&ServerMessage::Admin(reply))?,
            Ok(AdminAnswer::Document(text)) => {
                for part in parts(text) {
                    self.outbox.control(&ServerMessage::Admin(part))?;
                }
            }
            Err(DeskError::Store(e)) => return Err(e.into()),
            Err(e) => {
                if e.is_ours() {
                    tracing::error!(%e, "admin request failed");
                } else {
                    tracing::info!(%e, "admin request refused");
                }
                self.complain(e.code(), e.to_string());
            }
        }
        Ok(())
    }
}

/// Splits a document into message-sized parts on character boundaries.
fn parts(text: String) -> Vec<AdminReply> {
    let mut out = Vec::new();
    let mut rest = text.as_str();
    loop {
        let mut end = rest.len().min(PART);
        while !rest.is_char_boundary(end) {
            end -= 1;
        }
        let (part, tail) = rest.split_at(end);
        out.push(AdminReply::Document { part: part.to_string(), last: tail.is_empty() });
        if tail.is_empty() {
            return out;
        }
        rest = tail;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_split_on_character_boundaries_and_rejoin() {
        let text: String = "ä€x".repeat(PART / 2);
        let pieces = parts(text.clone());
        assert!(pieces.len() > 1);
        let mut joined = String::new();
        for (i, p) in pieces.iter().enumerate() {
            let AdminReply::Document { part, last } = p else { panic!() };
            assert!(part.len() <= PART);
            assert_eq!(*last, i == pieces.len() - 1);
            joined.push_str(part);
        }
        assert_eq!(joined, text);
        assert_eq!(parts(String::new()).len(), 1, "an empty document is one empty part");
    }
}
