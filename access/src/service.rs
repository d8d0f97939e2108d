//! [`Access`]: signing staff in (passwords, bearer tokens) and letting customers in (one-time
//! codes, resume attempts), each rate-limited per source address, for every entry point
//! alike. Nothing here logs a secret: codes, passwords and tokens arrive as `Secret` and leave
//! only as hashes.

use std::net::IpAddr;
use std::sync::{Mutex, MutexGuard};

use tether_protocol::{Secret, TicketId, TicketStatus};
use tether_store::{InvitationRecord, StoreHandle, TicketRecord, UserRecord, unix_now};
use tokio::sync::Semaphore;

use crate::AccessError;
use crate::codes::{self, CodeKey};
use crate::credentials::{new_token, token_hash, verify_dummy, verify_password};
use crate::limiter::FailureLimiter;
use crate::policy::Policy;
use crate::settings::{AuthSettings, CodeSettings};

/// Password hashes computed at once; argon2id takes ~19 MiB and a core's worth of time each.
const CONCURRENT_HASHES: usize = 4;

/// How long after expiry a code is still recognised, to say "expired" rather than "wrong".
const EXPIRED_CODE_GRACE: i64 = 24 * 3600;

/// A bearer token just issued by a password login.
#[derive(Debug)]
pub struct IssuedToken {
    /// The token; only its hash is stored.
    pub token: Secret<String>,
    /// Unix seconds.
    pub expires_at: i64,
}

/// A one-time code just issued.
#[derive(Debug)]
pub struct IssuedCode {
    /// The nine digits, for the technician to read out.
    pub code: Secret<String>,
    /// Unix seconds.
    pub expires_at: i64,
}

/// Sign-in and customer access.
#[derive(Debug)]
pub struct Access {
    store: StoreHandle,
    code_key: CodeKey,
    auth: AuthSettings,
    codes: CodeSettings,
    login_failures: Mutex<FailureLimiter>,
    code_guesses: Mutex<FailureLimiter>,
    hashing: Semaphore,
    policy: Policy,
}

impl Access {
    /// Access over `store`, hashing codes with `code_key`.
    pub fn new(
        store: StoreHandle,
        code_key: CodeKey,
        auth: AuthSettings,
        codes: CodeSettings,
    ) -> Access {
        let login_failures = FailureLimiter::new(
            auth.max_failures_per_source,
            auth.failure_window_secs,
            auth.block_secs,
        );
        let code_guesses = FailureLimiter::new(
            codes.max_failures_per_source,
            codes.failure_window_secs,
            codes.block_secs,
        );
        Access {
            store,
            code_key,
            auth,
            codes,
            login_failures: Mutex::new(login_failures),
            code_guesses: Mutex::new(code_guesses),
            hashing: Semaphore::new(CONCURRENT_HASHES),
            policy: Policy,
        }
    }

    /// The authorization policy.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Checks a password from `source`; on success issues a bearer token, of which only the
    /// hash is kept.
    pub async fn login(
        &self,
        name: &str,
        password: &Secret<String>,
        source: IpAddr,
    ) -> Result<(UserRecord, IssuedToken), AccessError> {
        let now = unix_now();
        blocked(&self.login_failures, source, now, "failed logins")?;
        let user = self.store.user(name).await?;
        let permit = self.hashing.acquire().await.map_err(|_| AccessError::ShuttingDown)?;
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
                if let Some(block) = lock(&self.login_failures).record_failure(source, now) {
                    tracing::info!(
                        blocked_until = block.until,
                        "source blocked after failed logins"
                    );
                }
                tracing::info!(user = %name.chars().take(64).collect::<String>(), "login failed");
                return Err(AccessError::BadCredentials);
            }
        };
        let (token, hash) = new_token()?;
        let expires_at = now + self.auth.token_ttl_secs as i64;
        self.store.add_token(&hash, &user.name, now, expires_at).await?;
        tracing::info!(user = %user.name, "logged in");
        Ok((user, IssuedToken { token, expires_at }))
    }

    /// The enabled account an unexpired bearer token belongs to.
    pub async fn authenticate(&self, token: &Secret<String>) -> Result<UserRecord, AccessError> {
        let hash = token_hash(token.expose());
        self.store.token_user(&hash, unix_now()).await?.ok_or(AccessError::BadToken)
    }

    /// Issues a one-time code for `ticket`, asked for by `issued_by`.
    pub async fn issue_code(
        &self,
        ticket: TicketId,
        issued_by: &str,
    ) -> Result<IssuedCode, AccessError> {
        let now = unix_now();
        let code = codes::new_code()?;
        let expires_at = now + self.codes.ttl_secs as i64;
        let record = InvitationRecord {
            id: 0,
            code_hash: self.code_key.hash(code.expose()),
            ticket,
            issued_by: issued_by.into(),
            expires_at,
            used_at: None,
        };
        self.store.add_invitation(&record, now).await?;
        tracing::info!(ticket.id = %ticket, expires_at, "invitation code issued");
        Ok(IssuedCode { code, expires_at })
    }

    /// The ticket of a live code `user` issued (a console may join by its own code).
    pub async fn own_code(
        &self,
        user: &UserRecord,
        code: &Secret<String>,
    ) -> Result<Option<TicketId>, AccessError> {
        let Some(code) = codes::normalize(code.expose()) else { return Ok(None) };
        let mine = self.store.invitations_issued_by(&user.name, unix_now()).await?;
        Ok(self.code_key.find(&code, &mine).map(|inv| inv.ticket))
    }

    /// Redeems a customer's one-time code from `source` for its ticket. Blocked sources are
    /// refused before the code is even looked at, so a blocked guesser learns nothing, right
    /// code or not.
    pub async fn redeem_code(
        &self,
        code: &Secret<String>,
        source: IpAddr,
    ) -> Result<TicketRecord, AccessError> {
        let now = unix_now();
        blocked(&self.code_guesses, source, now, "wrong codes")?;
        let Some(code) = codes::normalize(code.expose()) else {
            return Err(self.wrong_code(source, now).await);
        };
        let candidates = self.store.invitation_candidates(now, EXPIRED_CODE_GRACE).await?;
        let Some(invitation) = self.code_key.find(&code, &candidates).cloned() else {
            return Err(self.wrong_code(source, now).await);
        };
        if invitation.expires_at <= now {
            tracing::info!(ticket.id = %invitation.ticket, "expired code presented");
            return Err(AccessError::CodeExpired);
        }
        if !self.store.use_invitation(invitation.id, now).await? {
            // Used by a concurrent attempt a moment ago.
            return Err(self.wrong_code(source, now).await);
        }
        match self.store.ticket(invitation.ticket).await? {
            Some(ticket) if ticket.status != TicketStatus::Closed => {
                tracing::info!(ticket.id = %ticket.id, "code redeemed");
                Ok(ticket)
            }
            _ => Err(AccessError::TicketClosed),
        }
    }

    async fn wrong_code(&self, source: IpAddr, now: i64) -> AccessError {
        if let Some(block) = lock(&self.code_guesses).record_failure(source, now) {
            tracing::info!(blocked_until = block.until, "source blocked after wrong codes");
        }
        let burn_after = self.codes.max_failures_per_code;
        match self.store.record_failed_guess(now, burn_after).await {
            Ok(0) => {}
            Ok(burned) => tracing::info!(burned, "codes burned after repeated wrong guesses"),
            Err(err) => tracing::error!(%err, "could not count a wrong code"),
        }
        tracing::info!("wrong code presented");
        AccessError::CodeInvalid
    }

    /// Whether `source` may try to resume a session now (it counts against the login budget).
    pub fn may_try_resume(&self, source: IpAddr) -> Result<(), AccessError> {
        blocked(&self.login_failures, source, unix_now(), "failed attempts")
    }

    /// Counts a resume token that took back nothing.
    pub fn resume_failed(&self, source: IpAddr) {
        lock(&self.login_failures).record_failure(source, unix_now());
    }
}

/// Refuses a blocked `source`, naming `what` it failed at.
fn blocked(
    limiter: &Mutex<FailureLimiter>,
    source: IpAddr,
    now: i64,
    what: &'static str,
) -> Result<(), AccessError> {
    lock(limiter)
        .check(source, now)
        .map_err(|b| AccessError::RateLimited { what, retry_in_secs: b.until - now })
}

/// Locks a limiter, carrying on through poisoning: it holds counts that a panicking holder
/// cannot leave half-updated in a way that matters more than serving everyone else.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
