-- Integritet on PostgreSQL: the first schema.
--
-- No plaintext personal data lives here: values, wrapped keys and archive bundles are
-- ciphertext, the blind index holds keyed hashes, the audit log names subjects by id.
--
-- Instants are stored as bigint nanoseconds since the Unix epoch (UTC), not timestamptz:
-- timestamptz keeps microseconds, while the audit hash covers nanoseconds and every instant
-- must read back exactly as written. Range: years 1677 to 2262. To read one by eye:
--   SELECT to_timestamp(created_at_ns / 1e9) FROM subjects;

CREATE TABLE subjects (
    id uuid PRIMARY KEY,
    kind text NOT NULL,
    created_at_ns bigint NOT NULL,
    -- The subject's data key, wrapped by the key-encryption key. Deleting the row
    -- crypto-shreds every copy of the values, backups included.
    wrapped_key bytea NOT NULL,
    -- Art. 18: processing restricted to storage and legal claims.
    restricted boolean NOT NULL DEFAULT false
);

CREATE TABLE subject_values (
    id uuid PRIMARY KEY,
    subject_id uuid NOT NULL REFERENCES subjects (id) ON DELETE CASCADE,
    category text NOT NULL,
    ciphertext bytea NOT NULL,
    provenance text NOT NULL,
    collected_at_ns bigint NOT NULL,
    purposes text[] NOT NULL,
    policy_version text NOT NULL,
    -- Serves reads by subject, and lets the blind index reference (subject, value) together.
    UNIQUE (subject_id, id)
);

CREATE TABLE blind_index (
    kind text NOT NULL,
    token bytea NOT NULL,
    subject_id uuid NOT NULL,
    value_id uuid NOT NULL,
    -- An entry goes with its value (rectification, erasure), and can only point at a value of
    -- the subject it names.
    FOREIGN KEY (subject_id, value_id) REFERENCES subject_values (subject_id, id) ON DELETE CASCADE
);
CREATE INDEX blind_index_lookup ON blind_index (kind, token);
CREATE INDEX blind_index_value ON blind_index (subject_id, value_id);

CREATE TABLE activities (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    subject_id uuid NOT NULL REFERENCES subjects (id) ON DELETE CASCADE,
    kind text NOT NULL,
    at_ns bigint NOT NULL
);
CREATE INDEX activities_subject ON activities (subject_id, at_ns);

-- Values kept only for a legal obligation. Deliberately without a subject column: the archive
-- cannot be listed or searched by person, only read by reference.
CREATE TABLE archive (
    reference text PRIMARY KEY,
    created_at_ns bigint NOT NULL,
    shred_after date NOT NULL,
    purposes text[] NOT NULL,
    categories text[] NOT NULL,
    wrapped_key bytea NOT NULL,
    ciphertext bytea NOT NULL,
    policy_version text NOT NULL
);
CREATE INDEX archive_shred_after ON archive (shred_after);

-- Proof of erasure, replayed after a restore from backup.
CREATE TABLE erasures (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    subject_id uuid NOT NULL,
    at_ns bigint NOT NULL,
    erased text[] NOT NULL,
    archived text[] NOT NULL,
    reason text NOT NULL
);
CREATE INDEX erasures_subject ON erasures (subject_id);

CREATE TABLE audit_log (
    seq bigint PRIMARY KEY CHECK (seq > 0),
    at_ns bigint NOT NULL,
    actor text NOT NULL,
    role text,
    purpose text,
    subject_id uuid,
    categories text[] NOT NULL,
    action text NOT NULL,
    policy_version text NOT NULL,
    detail text,
    prev_hash bytea NOT NULL,
    hash bytea NOT NULL
);

-- The last entry's seq and hash, kept beside the log so that removing entries from its end is
-- detected. Exactly one row, always present (seq 0 = empty log): every writer locks it with
-- SELECT ... FOR UPDATE, which orders appends from any number of servers into one chain.
CREATE TABLE audit_head (
    id boolean PRIMARY KEY DEFAULT true CHECK (id),
    seq bigint NOT NULL CHECK (seq >= 0),
    hash bytea NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (true, 0, '\x0000000000000000000000000000000000000000000000000000000000000000');
