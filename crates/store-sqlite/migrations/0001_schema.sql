-- Integritet's SQLite schema. Only ciphertext, keyed tokens, ids and category/purpose names are
-- stored: never plaintext personal data.
--
-- Conventions:
-- * ids (subjects, values) are 16-byte UUID BLOBs, so byte order is id order;
-- * instants are INTEGER Unix nanoseconds (UTC), which round-trip exactly;
-- * days are TEXT 'YYYY-MM-DD', which sorts as dates do;
-- * lists of names (purposes, categories) are JSON arrays of strings.

CREATE TABLE subjects (
    id          BLOB    NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    kind        TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    -- The subject's data key wrapped by the key-encryption key; deleting it crypto-shreds every
    -- copy of the subject's values, backups included.
    wrapped_key BLOB    NOT NULL,
    restricted  INTEGER NOT NULL DEFAULT 0 CHECK (restricted IN (0, 1))
) WITHOUT ROWID;

CREATE TABLE subject_values (
    id             BLOB    NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    subject_id     BLOB    NOT NULL REFERENCES subjects (id) ON DELETE CASCADE,
    category       TEXT    NOT NULL,
    ciphertext     BLOB    NOT NULL,
    provenance     TEXT    NOT NULL,
    collected_at   INTEGER NOT NULL,
    purposes       TEXT    NOT NULL,
    policy_version TEXT    NOT NULL
);
-- Reads a subject's values, and is the parent key of blind_index's foreign key (which makes an
-- index entry name the right subject for its value).
CREATE UNIQUE INDEX subject_values_by_subject ON subject_values (subject_id, id);

-- Keyed tokens for exact-match lookup. An entry goes with its value (and so with its subject).
CREATE TABLE blind_index (
    kind       TEXT NOT NULL,
    token      BLOB NOT NULL CHECK (length(token) = 32),
    subject_id BLOB NOT NULL,
    value_id   BLOB NOT NULL,
    PRIMARY KEY (kind, token, subject_id, value_id),
    FOREIGN KEY (subject_id, value_id) REFERENCES subject_values (subject_id, id) ON DELETE CASCADE
) WITHOUT ROWID;
-- Lets the cascade find a value's entries without scanning the whole index.
CREATE INDEX blind_index_by_value ON blind_index (subject_id, value_id);

CREATE TABLE activities (
    subject_id BLOB    NOT NULL REFERENCES subjects (id) ON DELETE CASCADE,
    kind       TEXT    NOT NULL,
    at         INTEGER NOT NULL
);
CREATE INDEX activities_by_subject ON activities (subject_id);

-- Values kept only for a legal obligation. Deliberately no subject column: the archive cannot be
-- listed by person, only read by its random reference.
CREATE TABLE archive (
    reference      TEXT    NOT NULL PRIMARY KEY,
    created_at     INTEGER NOT NULL,
    shred_after    TEXT    NOT NULL,
    purposes       TEXT    NOT NULL,
    categories     TEXT    NOT NULL,
    wrapped_key    BLOB    NOT NULL,
    ciphertext     BLOB    NOT NULL,
    policy_version TEXT    NOT NULL
);
CREATE INDEX archive_by_shred_day ON archive (shred_after);

-- Proof of each erasure; kept forever and replayed after a restore. One record per subject and
-- instant, so replaying the same erasure twice leaves one record.
CREATE TABLE erasures (
    id         INTEGER PRIMARY KEY,
    subject_id BLOB    NOT NULL,
    at         INTEGER NOT NULL,
    erased     TEXT    NOT NULL,
    archived   TEXT    NOT NULL,
    reason     TEXT    NOT NULL,
    UNIQUE (subject_id, at)
);

-- The hash-chained audit log. seq is the rowid: entries are stored in chain order.
CREATE TABLE audit_log (
    seq            INTEGER NOT NULL PRIMARY KEY CHECK (seq >= 1),
    at             INTEGER NOT NULL,
    actor          TEXT    NOT NULL,
    role           TEXT,
    purpose        TEXT,
    subject_id     BLOB,
    categories     TEXT    NOT NULL,
    action         TEXT    NOT NULL,
    policy_version TEXT    NOT NULL,
    detail         TEXT,
    prev_hash      BLOB    NOT NULL,
    hash           BLOB    NOT NULL
);

-- Append-only: a bug that tries to change history fails loudly. (Someone with the file can drop
-- these; the hash chain and the head below are what prove the log whole.)
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

-- The last entry's seq and hash, written in the same transaction as the entry: a log cut short
-- at the end no longer matches it.
CREATE TABLE audit_head (
    id   INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash BLOB    NOT NULL CHECK (length(hash) = 32)
);
