-- Console users and their sessions. A password is kept only as an argon2id PHC string; a
-- session only as the BLAKE3 hash of its secret (the secret lives in the browser's cookie).
-- Instants are INTEGER Unix nanoseconds, as everywhere.
CREATE TABLE console_users (
    name          TEXT    NOT NULL PRIMARY KEY,
    role          TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    disabled_at   INTEGER,
    -- Failed logins in a row since the last success (or the end of the last lockout), counted
    -- here so that every server sharing the database agrees.
    failed_logins INTEGER NOT NULL DEFAULT 0 CHECK (failed_logins >= 0),
    locked_until  INTEGER
);

CREATE TABLE console_sessions (
    hash         BLOB    NOT NULL PRIMARY KEY CHECK (length(hash) = 32),
    user_name    TEXT    NOT NULL REFERENCES console_users (name) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX console_sessions_user ON console_sessions (user_name);
CREATE INDEX console_sessions_last_seen ON console_sessions (last_seen_at);
