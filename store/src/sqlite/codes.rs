//! One-time invitation codes (as keyed hashes) in SQLite.

use async_trait::async_trait;
use rusqlite::params;

use super::{Db, SqliteStore, invitation_from_row};
use crate::{Codes, InvitationRecord, StoreError};

impl Db {
    pub(super) fn add_invitation(
        &self,
        inv: &InvitationRecord,
        now: i64,
    ) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO invitations (code_hash, ticket_id, issued_by, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![inv.code_hash, inv.ticket.0 as i64, inv.issued_by, now, inv.expires_at],
            )?;
            Ok(())
        })
    }

    pub(super) fn invitation_candidates(
        &self,
        now: i64,
        grace: i64,
    ) -> Result<Vec<InvitationRecord>, StoreError> {
        self.with(|c| {
            let mut stmt = c.prepare(
                "SELECT * FROM invitations WHERE used_at IS NULL AND burned_at IS NULL
                 AND expires_at > ?1",
            )?;
            let rows = stmt
                .query_map([now - grace], invitation_from_row)?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
    }

    pub(super) fn invitations_issued_by(
        &self,
        user: &str,
        now: i64,
    ) -> Result<Vec<InvitationRecord>, StoreError> {
        self.with(|c| {
            let mut stmt = c.prepare(
                "SELECT * FROM invitations WHERE issued_by = ?1 AND expires_at > ?2
                 AND burned_at IS NULL",
            )?;
            let rows = stmt
                .query_map(params![user, now], invitation_from_row)?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
    }

    pub(super) fn use_invitation(&self, id: i64, now: i64) -> Result<bool, StoreError> {
        self.with(|c| {
            let n = c.execute(
                "UPDATE invitations SET used_at = ?2 WHERE id = ?1 AND used_at IS NULL
                 AND burned_at IS NULL",
                params![id, now],
            )?;
            Ok(n == 1)
        })
    }
}

#[async_trait]
impl Codes for SqliteStore {
    async fn add_invitation(&self, inv: &InvitationRecord, now: i64) -> Result<(), StoreError> {
        let inv = inv.to_owned();
        self.run(move |db| db.add_invitation(&inv, now)).await
    }

    async fn invitation_candidates(
        &self,
        now: i64,
        grace: i64,
    ) -> Result<Vec<InvitationRecord>, StoreError> {
        self.run(move |db| db.invitation_candidates(now, grace)).await
    }

    async fn invitations_issued_by(
        &self,
        user: &str,
        now: i64,
    ) -> Result<Vec<InvitationRecord>, StoreError> {
        let user = user.to_owned();
        self.run(move |db| db.invitations_issued_by(&user, now)).await
    }

    async fn use_invitation(&self, id: i64, now: i64) -> Result<bool, StoreError> {
        self.run(move |db| db.use_invitation(id, now)).await
    }
}
