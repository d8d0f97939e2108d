//! Checking who a peer is: technician passwords and tokens, and customers' one-time codes,
//! each rate-limited per source address. Nothing here logs a secret: codes, passwords and
//! tokens arrive as `Secret` and leave only as hashes.

use tether_protocol::{ErrorCode, Secret, TicketStatus};

use super::{Conn, IssuedToken, Refusal};
use crate::auth::{new_token, token_hash, verify_dummy, verify_password};
use crate::codes;
use crate::state::{lock, unix_now};
use crate::store::{TicketRecord, UserRecord};

/// How long after expiry a code is still recognised, to say "expired" rather than "wrong".
const EXPIRED_CODE_GRACE: i64 = 24 * 3600;

impl Conn {
    /// Checks a password; on success issues a bearer token, of which only the hash is kept.
    pub(super) async fn login(
        &mut self,
        name: &str,
        password: &Secret<String>,
    ) -> Result<(UserRecord, IssuedToken), Refusal> {
        let ip = self.peer.ip();
        let now = unix_now();
        if let Err(block) = lock(&self.broker.login_failures).check(ip, now) {
            return Err(Refusal::new(
                ErrorCode::RateLimited,
                format!(
                    "too many failed logins from this address; try again in {} s",
                    block.until - now
                ),
            ));
        }
        let name_owned = name.to_string();
        let user = self.broker.store.call(move |s| s.user(&name_owned)).await?;
        let permit =
            self.broker.hashing.acquire().await.map_err(|_| {
                Refusal::new(ErrorCode::ShuttingDown, "the broker is shutting down")
            })?;
        let password = password.clone();
        let candidate = user.clone();
        let ok = tokio::task::spawn_blocking(move || match candidate {
            Some(u) if !u.disabled => verify_password(&u.password_hash, &password),
            _ => {
                verify_dummy(&password);
                false
            }
        })
        .await
        .unwrap_or(false);
        drop(permit);
        let user = match (ok, user) {
            (true, Some(user)) => user,
            _ => {
                if let Some(block) = lock(&self.broker.login_failures).record_failure(ip, now) {
                    tracing::info!(
                        blocked_until = block.until,
                        "source blocked after failed logins"
                    );
                }
                tracing::info!(user = %name.chars().take(64).collect::<String>(), "login failed");
                return Err(Refusal::new(ErrorCode::BadCredentials, "wrong user name or password"));
            }
        };
        let (token, hash) =
            new_token().map_err(|e| Refusal::new(ErrorCode::Internal, e.to_string()))?;
        let expires_at = now + self.broker.config.auth.token_ttl_secs as i64;
        let user_name = user.name.clone();
        self.broker.store.call(move |s| s.add_token(&hash, &user_name, now, expires_at)).await?;
        tracing::info!(user = %user.name, "logged in");
        Ok((user, IssuedToken { token, expires_at }))
    }

    /// Finds the enabled account an unexpired bearer token belongs to.
    pub(super) async fn authenticate_token(
        &mut self,
        token: &Secret<String>,
    ) -> Result<UserRecord, Refusal> {
        let hash = token_hash(token.expose());
        let now = unix_now();
        match self.broker.store.call(move |s| s.token_user(&hash, now)).await? {
            Some(user) => Ok(user),
            None => Err(Refusal::new(
                ErrorCode::BadCredentials,
                "token unknown, expired or revoked; log in again",
            )),
        }
    }

    /// Redeems a customer's one-time code for its ticket. Blocked sources are refused before
    /// the code is even looked at, so a blocked guesser learns nothing, right code or not.
    pub(super) async fn redeem_code(
        &mut self,
        code: &Secret<String>,
    ) -> Result<TicketRecord, Refusal> {
        let ip = self.peer.ip();
        let now = unix_now();
        if let Err(block) = lock(&self.broker.code_guesses).check(ip, now) {
            return Err(Refusal::new(
                ErrorCode::RateLimited,
                format!(
                    "too many wrong codes from this address; try again in {} s",
                    block.until - now
                ),
            ));
        }
        let Some(code) = codes::normalize(code.expose()) else {
            return Err(self.code_failure(now).await);
        };
        let candidates = self
            .broker
            .store
            .call(move |s| s.invitation_candidates(now, EXPIRED_CODE_GRACE))
            .await?;
        let Some(invitation) = self.broker.code_key.find(&code, &candidates).cloned() else {
            return Err(self.code_failure(now).await);
        };
        if invitation.expires_at <= now {
            tracing::info!(ticket.id = %invitation.ticket, "expired code presented");
            return Err(Refusal::new(
                ErrorCode::CodeExpired,
                "that code has expired; ask your technician for a new one",
            ));
        }
        let id = invitation.id;
        let ticket = invitation.ticket;
        let redeemed = self
            .broker
            .store
            .call(move |s| {
                if !s.use_invitation(id, now)? {
                    return Ok(None);
                }
                s.ticket(ticket)
            })
            .await?;
        match redeemed {
            Some(ticket) if !matches!(ticket.status, TicketStatus::Closed) => {
                tracing::info!(ticket.id = %ticket.id, "code redeemed");
                Ok(ticket)
            }
            Some(_) => Err(Refusal::new(ErrorCode::NotFound, "that ticket is already closed")),
            // Used by a concurrent attempt a moment ago.
            None => Err(self.code_failure(now).await),
        }
    }

    async fn code_failure(&mut self, now: i64) -> Refusal {
        let ip = self.peer.ip();
        if let Some(block) = lock(&self.broker.code_guesses).record_failure(ip, now) {
            tracing::info!(blocked_until = block.until, "source blocked after wrong codes");
        }
        let burn_after = self.broker.config.codes.max_failures_per_code;
        match self.broker.store.call(move |s| s.record_failed_guess(now, burn_after)).await {
            Ok(0) => {}
            Ok(burned) => tracing::info!(burned, "codes burned after repeated wrong guesses"),
            Err(err) => tracing::error!(%err, "could not count a wrong code"),
        }
        tracing::info!("wrong code presented");
        Refusal::new(
            ErrorCode::CodeInvalid,
            "that code is not valid; check the digits with your technician",
        )
    }
}
