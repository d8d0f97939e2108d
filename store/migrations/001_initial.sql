-- tether broker schema 1: accounts, tokens, tickets, codes, sessions. Times are Unix seconds (UTC).
CREATE TABLE users (
    name          TEXT PRIMARY KEY,
    role          TEXT NOT NULL,
    skills        TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL
);

-- Bearer tokens, stored only as SHA-256 of the token.
CREATE TABLE tokens (
    hash       BLOB PRIMARY KEY,
    user_name  TEXT NOT NULL REFERENCES users(name),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);

CREATE TABLE tickets (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    channel     TEXT NOT NULL,
    client      TEXT NOT NULL,
    contact     TEXT NOT NULL,
    issue       TEXT NOT NULL,
    priority    TEXT NOT NULL,
    status      TEXT NOT NULL,
    assigned_to TEXT REFERENCES users(name),
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX tickets_status ON tickets(status);

-- One-time codes, stored only as HMAC-SHA256 under the broker's code key.
CREATE TABLE invitations (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    code_hash  BLOB NOT NULL,
    ticket_id  INTEGER NOT NULL REFERENCES tickets(id),
    issued_by  TEXT NOT NULL REFERENCES users(name),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER,
    failures   INTEGER NOT NULL DEFAULT 0,
    burned_at  INTEGER
);
CREATE INDEX invitations_live ON invitations(expires_at) WHERE used_at IS NULL AND burned_at IS NULL;

CREATE TABLE sessions (
    id         TEXT PRIMARY KEY,
    ticket_id  INTEGER NOT NULL REFERENCES tickets(id),
    technician TEXT NOT NULL,
    customer   TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    ended_at   INTEGER,
    end_reason TEXT
);
