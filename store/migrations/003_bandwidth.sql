-- tether broker schema 3: bandwidth checks, kept with their ticket.
CREATE TABLE bandwidth_checks (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id     INTEGER NOT NULL REFERENCES tickets(id),
    role          TEXT NOT NULL,
    name          TEXT NOT NULL,
    at            INTEGER NOT NULL,
    rtt_ms        REAL NOT NULL,
    jitter_ms     REAL NOT NULL,
    download_mbps REAL NOT NULL,
    upload_mbps   REAL NOT NULL,
    verdict       TEXT NOT NULL,
    reasons       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX bandwidth_checks_ticket ON bandwidth_checks(ticket_id, id);

-- Tickets as read: with the verdict of the customer's latest check.
CREATE VIEW tickets_v AS
SELECT t.*,
       (SELECT b.verdict FROM bandwidth_checks b
         WHERE b.ticket_id = t.id AND b.role = 'agent' ORDER BY b.id DESC LIMIT 1) AS bandwidth
  FROM tickets t;
