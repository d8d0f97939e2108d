-- tether broker schema 7: the links that let a customer follow their own ticket in a browser.
-- Only a link token's SHA-256 is kept; a ticket has at most one live link (a new one revokes
-- the old), and a revoked link stays, so that it is refused as revoked rather than unknown.
CREATE TABLE ticket_links (
    token_hash BLOB PRIMARY KEY,
    ticket_id  INTEGER NOT NULL REFERENCES tickets(id),
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE INDEX ticket_links_ticket ON ticket_links(ticket_id) WHERE revoked_at IS NULL;
