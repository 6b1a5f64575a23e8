-- Staff API tokens. Only the BLAKE3 hash of each secret is stored: the secret is shown once
-- when the token is created. Instants are INTEGER Unix nanoseconds, as everywhere.
CREATE TABLE api_tokens (
    id         TEXT    NOT NULL PRIMARY KEY,
    hash       BLOB    NOT NULL UNIQUE CHECK (length(hash) = 32),
    role       TEXT    NOT NULL,
    label      TEXT,
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    revoked_at INTEGER
);
