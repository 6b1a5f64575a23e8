-- Staff API tokens. Only the BLAKE3 hash of each secret is stored: the secret is shown once
-- when the token is created. Instants are bigint nanoseconds, as everywhere in this schema.
-- (Named after the first migration's timestamp so that it sorts after it: sqlx orders
-- migrations by the number in the file name.)
CREATE TABLE api_tokens (
    id text PRIMARY KEY,
    hash bytea NOT NULL UNIQUE CHECK (length(hash) = 32),
    role text NOT NULL,
    label text,
    created_at_ns bigint NOT NULL,
    expires_at_ns bigint,
    revoked_at_ns bigint
);
