-- tether broker schema 4: the support desk — deadlines, routing, closure, onsite visits.
ALTER TABLE tickets ADD COLUMN skills TEXT NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN deadline_at INTEGER;
ALTER TABLE tickets ADD COLUMN responded_at INTEGER;
ALTER TABLE tickets ADD COLUMN resolved_at INTEGER;
ALTER TABLE tickets ADD COLUMN closed_at INTEGER;
ALTER TABLE tickets ADD COLUMN close_reason TEXT;
ALTER TABLE tickets ADD COLUMN rating INTEGER;
ALTER TABLE tickets ADD COLUMN comment TEXT;
ALTER TABLE tickets ADD COLUMN follow_up_at INTEGER;
ALTER TABLE tickets ADD COLUMN follow_up_note TEXT;
-- When dispatchers were warned of the deadline and told of its breach (each once).
ALTER TABLE tickets ADD COLUMN warned_at INTEGER;
ALTER TABLE tickets ADD COLUMN breached_at INTEGER;

ALTER TABLE users ADD COLUMN availability TEXT NOT NULL DEFAULT 'available';
ALTER TABLE users ADD COLUMN lat REAL;
ALTER TABLE users ADD COLUMN lon REAL;

CREATE TABLE onsite_visits (
    ticket_id         INTEGER PRIMARY KEY REFERENCES tickets(id),
    window_start      INTEGER NOT NULL,
    window_end        INTEGER NOT NULL,
    address           TEXT NOT NULL,
    lat               REAL NOT NULL,
    lon               REAL NOT NULL,
    access            TEXT NOT NULL DEFAULT '',
    contact_confirmed INTEGER NOT NULL DEFAULT 0,
    technician        TEXT REFERENCES users(name),
    eta               INTEGER,
    signed_by         TEXT,
    signed_at         INTEGER
);

CREATE TABLE onsite_entries (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id INTEGER NOT NULL REFERENCES tickets(id),
    at        INTEGER NOT NULL,
    actor     TEXT NOT NULL,
    kind      TEXT NOT NULL,
    text      TEXT NOT NULL,
    file      TEXT,
    sha256    TEXT
);
CREATE INDEX onsite_entries_ticket ON onsite_entries(ticket_id, id);

-- Re-made so that it carries the new columns.
DROP VIEW tickets_v;
CREATE VIEW tickets_v AS
SELECT t.*,
       (SELECT b.verdict FROM bandwidth_checks b
         WHERE b.ticket_id = t.id AND b.role = 'agent' ORDER BY b.id DESC LIMIT 1) AS bandwidth
  FROM tickets t;
