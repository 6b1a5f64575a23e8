-- Console users and their sessions. A password is kept only as an argon2id PHC string; a
-- session only as the BLAKE3 hash of its secret (the secret lives in the browser's cookie).
-- Instants are bigint nanoseconds, as everywhere in this schema.
CREATE TABLE console_users (
    name             text   PRIMARY KEY,
    role             text   NOT NULL,
    password_hash    text   NOT NULL,
    created_at_ns    bigint NOT NULL,
    disabled_at_ns   bigint,
    -- Failed logins in a row since the last success (or the end of the last lockout), counted
    -- here so that every server sharing the database agrees.
    failed_logins    integer NOT NULL DEFAULT 0 CHECK (failed_logins >= 0),
    locked_until_ns  bigint
);

CREATE TABLE console_sessions (
    hash             bytea  PRIMARY KEY CHECK (length(hash) = 32),
    user_name        text   NOT NULL REFERENCES console_users (name) ON DELETE CASCADE,
    created_at_ns    bigint NOT NULL,
    last_seen_at_ns  bigint NOT NULL
);

CREATE INDEX console_sessions_user ON console_sessions (user_name);
CREATE INDEX console_sessions_last_seen ON console_sessions (last_seen_at_ns);
