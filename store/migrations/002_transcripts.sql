-- tether broker schema 2: transcript seals on sessions, resolutions and a history on tickets.
ALTER TABLE sessions ADD COLUMN transcript TEXT;
ALTER TABLE sessions ADD COLUMN sealed_records INTEGER;
ALTER TABLE sessions ADD COLUMN sealed_hash TEXT;
CREATE INDEX sessions_started ON sessions(started_at);

ALTER TABLE tickets ADD COLUMN resolution TEXT;
ALTER TABLE tickets ADD COLUMN confirmed INTEGER;

-- Every change to a ticket: who, when, what.
CREATE TABLE ticket_events (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id INTEGER NOT NULL REFERENCES tickets(id),
    at        INTEGER NOT NULL,
    actor     TEXT NOT NULL,
    kind      TEXT NOT NULL,
    detail    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX ticket_events_ticket ON ticket_events(ticket_id, id);
