//! One-time invitation codes (as keyed hashes) in SQLite.

use rusqlite::params;

use super::{SqliteStore, invitation_from_row};
use crate::store::{Codes, InvitationRecord, StoreError};

impl Codes for SqliteStore {
    fn add_invitation(&self, inv: &InvitationRecord, now: i64) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO invitations (code_hash, ticket_id, issued_by, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![inv.code_hash, inv.ticket.0 as i64, inv.issued_by, now, inv.expires_at],
            )?;
            Ok(())
        })
    }

    fn invitation_candidates(
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

    fn invitations_issued_by(
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

    fn use_invitation(&self, id: i64, now: i64) -> Result<bool, StoreError> {
        self.with(|c| {
            let n = c.execute(
                "UPDATE invitations SET used_at = ?2 WHERE id = ?1 AND used_at IS NULL
                 AND burned_at IS NULL",
                params![id, now],
            )?;
            Ok(n == 1)
        })
    }

    fn record_failed_guess(&self, now: i64, burn_after: u32) -> Result<usize, StoreError> {
        self.with(|c| {
            let tx = c.unchecked_transaction()?;
            tx.execute(
                "UPDATE invitations SET failures = failures + 1
                 WHERE used_at IS NULL AND burned_at IS NULL AND expires_at > ?1",
                [now],
            )?;
            let burned = tx.execute(
                "UPDATE invitations SET burned_at = ?1
                 WHERE used_at IS NULL AND burned_at IS NULL AND failures >= ?2",
                params![now, burn_after],
            )?;
            tx.commit()?;
            Ok(burned)
        })
    }
}

#[cfg(test)]
mod tests {
    use tether_protocol::Priority;

    use super::super::fixtures::*;
    use crate::store::{Accounts, Codes, InvitationRecord, Tickets};

    #[test]
    fn invitations_are_single_use_and_burn_after_failures() {
        let (_d, s) = store();
        s.add_user(&alice()).unwrap();
        let t = s.create_ticket(&ticket(Priority::Low), 1).unwrap();
        let inv = |hash: &[u8]| InvitationRecord {
            id: 0,
            code_hash: hash.to_vec(),
            ticket: t.id,
            issued_by: "alice".into(),
            expires_at: 1000,
            used_at: None,
        };
        s.add_invitation(&inv(b"a"), 1).unwrap();
        s.add_invitation(&inv(b"b"), 1).unwrap();
        let c = s.invitation_candidates(10, 0).unwrap();
        assert_eq!(c.len(), 2);
        assert!(s.use_invitation(c[0].id, 11).unwrap());
        assert!(!s.use_invitation(c[0].id, 12).unwrap(), "single use");
        assert_eq!(s.invitation_candidates(10, 0).unwrap().len(), 1);
        assert_eq!(s.invitations_issued_by("alice", 10).unwrap().len(), 2);
        for _ in 0..2 {
            assert_eq!(s.record_failed_guess(20, 3).unwrap(), 0);
        }
        assert_eq!(s.record_failed_guess(20, 3).unwrap(), 1, "third failure burns b");
        assert!(s.invitation_candidates(20, 0).unwrap().is_empty());
        assert!(!s.use_invitation(c[1].id, 21).unwrap(), "burned codes cannot be used");
        // Expiry with grace: still a candidate 50 s after expiry with a 60 s grace.
        s.add_invitation(&inv(b"c"), 1).unwrap();
        assert_eq!(s.invitation_candidates(1050, 60).unwrap().len(), 1);
        assert!(s.invitation_candidates(1050, 0).unwrap().is_empty());
    }
}
