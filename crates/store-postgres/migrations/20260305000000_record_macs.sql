-- Rows that grant access carry a MAC under the key directory's record key, so that a row
-- edited or planted by someone who can write the database but not read the keys is refused.
-- Rows from before this migration have an empty MAC and are refused too: their secrets were
-- hashed without a key, so tokens and sessions must be issued again.
ALTER TABLE api_tokens ADD COLUMN mac bytea NOT NULL DEFAULT '\x'::bytea;
ALTER TABLE console_users ADD COLUMN mac bytea NOT NULL DEFAULT '\x'::bytea;
ALTER TABLE console_sessions ADD COLUMN mac bytea NOT NULL DEFAULT '\x'::bytea;
