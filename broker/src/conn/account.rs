//! A console's `account` requests: signing out (the token this connection signed in with is
//! revoked), and listing and revoking an account's tokens, which the access service allows
//! their owner and admins.

use tether_access::{AccessError, Actor};
use tether_protocol::{AccountReply, AccountRequest, ServerMessage, TokenInfo};

use super::{Conn, Refusal};

impl Conn {
    /// Answers one account request for `actor`.
    pub(super) async fn account(
        &mut self,
        actor: &Actor,
        req: AccountRequest,
    ) -> Result<(), Refusal> {
        let access = &self.shared.access;
        let me = actor.name().to_string();
        let answer = match req {
            AccountRequest::SignOut => match &self.token_hash {
                Some(hash) => access.sign_out(hash).await.map(|()| AccountReply::SignedOut),
                None => Ok(AccountReply::SignedOut),
            },
            AccountRequest::Tokens { user } => {
                let owner = user.unwrap_or(me);
                access.tokens(actor, &owner).await.map(|tokens| AccountReply::Tokens {
                    tokens: tokens
                        .into_iter()
                        .map(|t| TokenInfo {
                            id: t.id,
                            created_at: t.created_at,
                            expires_at: t.expires_at,
                            last_used_at: t.last_used_at,
                        })
                        .collect(),
                })
            }
            AccountRequest::Revoke { user, token } => {
                let owner = user.unwrap_or(me);
                access
                    .revoke(actor, &owner, token.as_deref())
                    .await
                    .map(|count| AccountReply::Revoked { count })
            }
        };
        match answer {
            Ok(reply) => self.outbox.control(&ServerMessage::Account(reply))?,
            Err(AccessError::Store(e)) => return Err(e.into()),
            Err(e) => {
                tracing::info!(%e, "account request refused");
                self.complain(e.code(), e.to_string());
            }
        }
        Ok(())
    }
}
