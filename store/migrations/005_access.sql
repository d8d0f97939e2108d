-- tether broker schema 5: sign-in defences and account changes.
-- Consecutive failed sign-ins of an account (what locks it; an admin's unlock resets it), its
-- lock, and the failures since its last sign-in with the last one, for its owner to be told.
ALTER TABLE users ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN failed_since_sign_in INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN locked_until INTEGER;
ALTER TABLE users ADD COLUMN last_failed_at INTEGER;
ALTER TABLE users ADD COLUMN last_failed_from TEXT;

-- When a token was last used, for its owner and admins listing tokens.
ALTER TABLE tokens ADD COLUMN last_used_at INTEGER;

-- Every change to an account that open connections must follow (disabled, role): brokers
-- watch the newest id and cut the connections of accounts that changed.
CREATE TABLE account_changes (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    user_name TEXT NOT NULL,
    at        INTEGER NOT NULL
);
