//! Customers' ticket links in SQLite: a new link revokes the ticket's live ones in the same
//! transaction, so a ticket never has two.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, params};
use tether_protocol::TicketId;

use super::{Db, SqliteStore};
use crate::{LinkRecord, Links, StoreError};

impl Db {
    fn add_ticket_link(&self, ticket: TicketId, hash: &[u8], now: i64) -> Result<(), StoreError> {
        self.with(|c| {
            let tx = c.unchecked_transaction()?;
            tx.execute(
                "UPDATE ticket_links SET revoked_at = ?2 WHERE ticket_id = ?1 AND revoked_at IS NULL",
                params![ticket.0 as i64, now],
            )?;
            let inserted = tx.execute(
                "INSERT INTO ticket_links (token_hash, ticket_id, created_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT(token_hash) DO NOTHING",
                params![hash, ticket.0 as i64, now],
            )?;
            if inserted == 0 {
                // Dropping the transaction rolls the revocation back.
                return Err(StoreError::Conflict("that link is already in use".into()));
            }
            tx.commit()?;
            Ok(())
        })
    }

    fn ticket_link(&self, hash: &[u8]) -> Result<Option<LinkRecord>, StoreError> {
        self.with(|c| {
            Ok(c.query_row(
                "SELECT ticket_id, created_at, revoked_at FROM ticket_links WHERE token_hash = ?1",
                params![hash],
                |row| {
                    Ok(LinkRecord {
                        ticket: TicketId(row.get::<_, i64>(0)? as u64),
                        created_at: row.get(1)?,
                        revoked_at: row.get(2)?,
                    })
                },
            )
            .optional()?)
        })
    }

    fn revoke_ticket_links(&self, ticket: TicketId, now: i64) -> Result<usize, StoreError> {
        self.with(|c| {
            Ok(c.execute(
                "UPDATE ticket_links SET revoked_at = ?2 WHERE ticket_id = ?1 AND revoked_at IS NULL",
                params![ticket.0 as i64, now],
            )?)
        })
    }
}

#[async_trait]
impl Links for SqliteStore {
    async fn add_ticket_link(
        &self,
        ticket: TicketId,
        hash: &[u8],
        now: i64,
    ) -> Result<(), StoreError> {
        let hash = hash.to_vec();
        self.run(move |db| db.add_ticket_link(ticket, &hash, now)).await
    }

    async fn ticket_link(&self, hash: &[u8]) -> Result<Option<LinkRecord>, StoreError> {
        let hash = hash.to_vec();
        self.run(move |db| db.ticket_link(&hash)).await
    }

    async fn revoke_ticket_links(&self, ticket: TicketId, now: i64) -> Result<usize, StoreError> {
        self.run(move |db| db.revoke_ticket_links(ticket, now)).await
    }
}
