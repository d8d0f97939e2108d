-- tether broker schema 6: what customers ask for is a claim, where it came from, and spam.
-- The priority a customer claimed (the ticket's priority is capped until a dispatcher triages).
ALTER TABLE tickets ADD COLUMN claimed_priority TEXT;
-- The address a customer's own request came from, so that a flood can be purged at once.
ALTER TABLE tickets ADD COLUMN source TEXT;
-- Marked as spam by a dispatcher: closed, and left out of loads and the deadline review.
ALTER TABLE tickets ADD COLUMN spam INTEGER NOT NULL DEFAULT 0;
CREATE INDEX tickets_source ON tickets(source) WHERE source IS NOT NULL;

DROP VIEW tickets_v;
CREATE VIEW tickets_v AS
SELECT t.*,
       (SELECT b.verdict FROM bandwidth_checks b
         WHERE b.ticket_id = t.id AND b.role = 'agent' ORDER BY b.id DESC LIMIT 1) AS bandwidth
  FROM tickets t;
