//! [`Access`]: signing staff in (passwords, bearer tokens) and letting customers in (one-time
//! codes, resume attempts), each rate-limited per source address, for every entry point
//! alike. Nothing here logs a secret: codes, passwords and tokens arrive as `Secret` and leave
//! only as hashes.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use tether_protocol::{Secret, TicketId, TicketStatus};
use tether_store::{
    FailedLogins, InvitationRecord, StoreHandle, TicketRecord, TokenRecord, UserRecord, unix_now,
};
use tokio::sync::Semaphore;

use crate::AccessError;
use crate::codes::{self, CodeKey};
use crate::credentials::{new_token, token_hash, verify_dummy, verify_password};
use crate::limiter::FailureLimiter;
use crate::policy::{Action, Actor, Policy};
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
    /// The failed sign-ins of this account since its last sign-in, for its owner to know.
    pub failed_before: Option<FailedLogins>,
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
    /// Sign-ins of each account being checked right now.
    account_attempts: Mutex<HashMap<String, u32>>,
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
            account_attempts: Mutex::new(HashMap::new()),
            hashing: Semaphore::new(CONCURRENT_HASHES),
            policy: Policy,
        }
    }

    /// The store accounts are kept in.
    pub(crate) fn store(&self) -> &StoreHandle {
        &self.store
    }

    /// Hashes a new password off the async threads, in the slots sign-ins use.
    pub(crate) async fn hash_off_thread(
        &self,
        password: Secret<String>,
    ) -> Result<String, AccessError> {
        let wait = Duration::from_secs(self.auth.hash_wait_secs);
        let _permit = match tokio::time::timeout(wait, self.hashing.acquire()).await {
            Ok(Ok(permit)) => permit,
            Ok(Err(_)) => return Err(AccessError::ShuttingDown),
            Err(_) => return Err(AccessError::Busy),
        };
        tokio::task::spawn_blocking(move || crate::credentials::hash_password(&password))
            .await
            .map_err(|_| AccessError::ShuttingDown)?
            .map_err(AccessError::Credentials)
    }

    /// The authorization policy.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Checks a password from `source`; on success issues a bearer token, of which only the
    /// hash is kept.
    ///
    /// Every attempt is reserved before its password is hashed, against its source address
    /// (a budget per window, attempts under way counted) and against its account (a limit of
    /// consecutive failures from anywhere, then a lock that grows with each failure), so that
    /// sign-ins arriving together cannot all be checked before the first failure counts. A
    /// locked account is refused even the right password until the lock ends or an admin
    /// lifts it; its owner is told of the failures at the next sign-in.
    pub async fn login(
        &self,
        name: &str,
        password: &Secret<String>,
        source: IpAddr,
    ) -> Result<(UserRecord, IssuedToken), AccessError> {
        let now = unix_now();
        lock(&self.login_failures).reserve(source, now).map_err(|b| AccessError::RateLimited {
            what: "failed logins",
            retry_in_secs: b.until - now,
        })?;
        let checked = self.check_password(name, password, source, now).await;
        let failed = matches!(checked, Err(AccessError::BadCredentials));
        if let Some(block) = lock(&self.login_failures).settle(source, failed, now) {
            tracing::info!(blocked_until = block.until, "source blocked after failed logins");
        }
        let user = checked?;
        let failed_before = self.store.login_succeeded(&user.name).await?;
        let (token, hash) = new_token()?;
        let expires_at = now + self.auth.token_ttl_secs as i64;
        self.store.add_token(&hash, &user.name, now, expires_at).await?;
        tracing::info!(user = %user.name, "logged in");
        let failed_before = (failed_before.count > 0).then_some(failed_before);
        Ok((user, IssuedToken { token, expires_at, failed_before }))
    }

    /// The account's limits, then the password itself.
    async fn check_password(
        &self,
        name: &str,
        password: &Secret<String>,
        source: IpAddr,
        now: i64,
    ) -> Result<UserRecord, AccessError> {
        let user = self.store.user(name).await?;
        let _attempt = self.reserve_account(name, user.as_ref(), now)?;
        let wait = Duration::from_secs(self.auth.hash_wait_secs);
        let permit = match tokio::time::timeout(wait, self.hashing.acquire()).await {
            Ok(Ok(permit)) => permit,
            Ok(Err(_)) => return Err(AccessError::ShuttingDown),
            Err(_) => return Err(AccessError::Busy),
        };
        let (password, candidate) = (password.clone(), user.clone());
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
        match (ok, user) {
            (true, Some(user)) => Ok(user),
            _ => {
                tracing::info!(user = %name.chars().take(64).collect::<String>(), "login failed");
                let failures = self.store.login_failed(name, now, &source.to_string()).await?;
                if let Some(secs) = self.auth.lock_for(failures) {
                    self.store.lock_account(name, now + secs as i64).await?;
                    tracing::info!(
                        user = %name, failures, lock_secs = secs,
                        "account locked after failed sign-ins"
                    );
                }
                Err(AccessError::BadCredentials)
            }
        }
    }

    /// Reserves a check of `name`'s password: refused while it is locked, or when the
    /// failures so far and the checks under way could reach the limit (past the limit, one
    /// check at a time, each failure locking it again for longer).
    fn reserve_account(
        &self,
        name: &str,
        user: Option<&UserRecord>,
        now: i64,
    ) -> Result<AccountAttempt<'_>, AccessError> {
        if let Some(until) = user.and_then(|u| u.locked_until).filter(|u| *u > now) {
            return Err(AccessError::AccountLocked { retry_in_secs: until - now });
        }
        let failures = user.map_or(0, |u| u.failed_logins);
        let max = self.auth.max_failures_per_account;
        let mut attempts = lock(&self.account_attempts);
        let pending = attempts.get(name).copied().unwrap_or(0);
        let room = if failures >= max { pending == 0 } else { failures + pending < max };
        if !room {
            return Err(AccessError::AccountLocked { retry_in_secs: 1 });
        }
        *attempts.entry(name.to_string()).or_default() += 1;
        Ok(AccountAttempt { attempts: &self.account_attempts, name: name.to_string() })
    }

    /// The enabled account an unexpired bearer token belongs to.
    pub async fn authenticate(&self, token: &Secret<String>) -> Result<UserRecord, AccessError> {
        let hash = token_hash(token.expose());
        self.store.token_user(&hash, unix_now()).await?.ok_or(AccessError::BadToken)
    }

    /// Whether `user`, signed in earlier, still may act: the account exists, is enabled and
    /// has the role it signed in with. Asked before each request of a signed-in connection,
    /// so that a disabled account can do nothing more from the moment it is disabled.
    pub async fn recheck(&self, user: &UserRecord) -> Result<(), AccessError> {
        match self.store.user(&user.name).await? {
            None => Err(AccessError::Revoked("the account was removed")),
            Some(now) if now.disabled => Err(AccessError::Revoked("the account was disabled")),
            Some(now) if now.role != user.role => {
                Err(AccessError::Revoked("the account's role changed; sign in again"))
            }
            Some(_) => Ok(()),
        }
    }

    /// Revokes the token whose hash is `hash` (the one a connection signed in with).
    pub async fn sign_out(&self, hash: &[u8]) -> Result<(), AccessError> {
        self.store.revoke_token_hash(hash).await?;
        Ok(())
    }

    /// The live tokens of `owner`, if `actor` may see them.
    pub async fn tokens(
        &self,
        actor: &Actor,
        owner: &str,
    ) -> Result<Vec<TokenRecord>, AccessError> {
        self.policy.check(actor, Action::ManageTokens { owner })?;
        Ok(self.store.tokens(owner, unix_now()).await?)
    }

    /// Revokes the token of `owner` whose id starts with `id` (it must name one), or all of
    /// them for `None`, if `actor` may; returns how many.
    pub async fn revoke(
        &self,
        actor: &Actor,
        owner: &str,
        id: Option<&str>,
    ) -> Result<usize, AccessError> {
        self.policy.check(actor, Action::ManageTokens { owner })?;
        if let Some(id) = id {
            let live = self.store.tokens(owner, unix_now()).await?;
            let matching = live.iter().filter(|t| t.id.starts_with(id)).count();
            if id.is_empty() || matching != 1 {
                return Err(AccessError::NoSuchToken(format!(
                    "{matching} live tokens of {owner} have an id starting {id:?}"
                )));
            }
        }
        let revoked = self.store.revoke_tokens(owner, id.unwrap_or_default()).await?;
        tracing::info!(user = %owner, by = %actor.name(), revoked, "tokens revoked");
        Ok(revoked)
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

    /// Redeems a customer's one-time code from `source` for its ticket. Each guess is
    /// reserved against the source's budget before the code is looked at, so a blocked
    /// guesser learns nothing, right code or not, and guesses arriving together count. A wrong
    /// guess matches no code and so counts against its source only: nobody can burn a code
    /// they do not know.
    pub async fn redeem_code(
        &self,
        code: &Secret<String>,
        source: IpAddr,
    ) -> Result<TicketRecord, AccessError> {
        let now = unix_now();
        lock(&self.code_guesses).reserve(source, now).map_err(|b| AccessError::RateLimited {
            what: "wrong codes",
            retry_in_secs: b.until - now,
        })?;
        let redeemed = self.find_code(code, now).await;
        let wrong = matches!(redeemed, Err(AccessError::CodeInvalid));
        if wrong {
            tracing::info!("wrong code presented");
        }
        if let Some(block) = lock(&self.code_guesses).settle(source, wrong, now) {
            tracing::info!(blocked_until = block.until, "source blocked after wrong codes");
        }
        redeemed
    }

    async fn find_code(
        &self,
        code: &Secret<String>,
        now: i64,
    ) -> Result<TicketRecord, AccessError> {
        let code = codes::normalize(code.expose()).ok_or(AccessError::CodeInvalid)?;
        let candidates = self.store.invitation_candidates(now, EXPIRED_CODE_GRACE).await?;
        let invitation =
            self.code_key.find(&code, &candidates).cloned().ok_or(AccessError::CodeInvalid)?;
        if invitation.expires_at <= now {
            tracing::info!(ticket.id = %invitation.ticket, "expired code presented");
            return Err(AccessError::CodeExpired);
        }
        if !self.store.use_invitation(invitation.id, now).await? {
            // Used by a concurrent attempt a moment ago.
            return Err(AccessError::CodeInvalid);
        }
        match self.store.ticket(invitation.ticket).await? {
            Some(ticket) if ticket.status != TicketStatus::Closed => {
                tracing::info!(ticket.id = %ticket.id, "code redeemed");
                Ok(ticket)
            }
            _ => Err(AccessError::TicketClosed),
        }
    }

    /// Reserves an attempt to resume a session from `source` (resume tokens count against
    /// the sign-in budget); settle it with [`Access::resume_settled`].
    pub fn may_try_resume(&self, source: IpAddr) -> Result<(), AccessError> {
        let now = unix_now();
        lock(&self.login_failures).reserve(source, now).map_err(|b| AccessError::RateLimited {
            what: "failed attempts",
            retry_in_secs: b.until - now,
        })
    }

    /// Settles a resume attempt: a token that took back nothing counts as a failure.
    pub fn resume_settled(&self, source: IpAddr, failed: bool) {
        lock(&self.login_failures).settle(source, failed, unix_now());
    }
}

/// A check of an account's password under way; dropping it ends the reservation.
struct AccountAttempt<'a> {
    attempts: &'a Mutex<HashMap<String, u32>>,
    name: String,
}

impl Drop for AccountAttempt<'_> {
    fn drop(&mut self) {
        let mut attempts = lock(self.attempts);
        if let Some(n) = attempts.get_mut(&self.name) {
            *n -= 1;
            if *n == 0 {
                attempts.remove(&self.name);
            }
        }
    }
}

/// Locks a limiter, carrying on through poisoning: it holds counts that a panicking holder
/// cannot leave half-updated in a way that matters more than serving everyone else.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
