//! A console's `admin` requests: transcript review through [`crate::admin::Review`], which
//! decides what this user may read. Long documents go back in several parts.

use tether_protocol::{AdminReply, AdminRequest, ErrorCode, ServerMessage};

use super::{Conn, Refusal};
use crate::admin::{Review, ReviewError, Viewer};
use crate::store::{SessionFilter, UserRecord};

/// The largest document part per message, in bytes (well under the message limit).
const PART: usize = 256 * 1024;

impl Conn {
    /// Answers one admin request for `user`.
    pub(super) async fn review(
        &mut self,
        user: &UserRecord,
        req: AdminRequest,
    ) -> Result<(), Refusal> {
        let dir = self.broker.transcripts.dir.clone();
        let key = self.broker.transcripts.key.verifying_key();
        let who = user.clone();
        tracing::info!(request = ?req, "admin request");
        let answer = self
            .broker
            .store
            .call(move |s| {
                let review = Review::new(s, &dir, key);
                let viewer = Viewer::User(&who);
                Ok(match req {
                    AdminRequest::Sessions { since, ticket, technician } => review
                        .sessions(viewer, SessionFilter { since, ticket, technician })
                        .map(|sessions| vec![AdminReply::Sessions { sessions }]),
                    AdminRequest::Show { session } => review.show(viewer, &session).map(parts),
                    AdminRequest::Verify { session } => review
                        .verify(viewer, session.as_deref())
                        .map(|reports| vec![AdminReply::Verified { reports }]),
                    AdminRequest::Export { session, format } => {
                        review.export(viewer, &session, format).map(parts)
                    }
                })
            })
            .await?;
        match answer {
            Ok(replies) => {
                for reply in replies {
                    self.outbox.control(&ServerMessage::Admin(reply))?;
                }
            }
            Err(ReviewError::Store(e)) => return Err(e.into()),
            Err(e @ ReviewError::Forbidden(_)) => {
                tracing::info!(%e, "admin request refused");
                self.complain(ErrorCode::Forbidden, e.to_string());
            }
            Err(e @ (ReviewError::NotFound(_) | ReviewError::Unrecorded(_))) => {
                self.complain(ErrorCode::NotFound, e.to_string())
            }
            Err(e) => {
                tracing::error!(%e, "admin request failed");
                self.complain(ErrorCode::Internal, e.to_string());
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
