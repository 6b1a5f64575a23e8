-- A subject's values kept together: the values table becomes one B-tree ordered by
-- (subject_id, id), so that reading a subject is one range scan of adjacent rows, and the
-- separate rowid table and by-subject index (two more B-trees written on every insert) go.
-- The blind index's foreign key names (subject_id, id) of subject_values, now its primary key.

CREATE TABLE subject_values_new (
    subject_id     BLOB    NOT NULL REFERENCES subjects (id) ON DELETE CASCADE,
    id             BLOB    NOT NULL CHECK (length(id) = 16),
    category       TEXT    NOT NULL,
    ciphertext     BLOB    NOT NULL,
    provenance     TEXT    NOT NULL,
    collected_at   INTEGER NOT NULL,
    purposes       TEXT    NOT NULL,
    policy_version TEXT    NOT NULL,
    PRIMARY KEY (subject_id, id)
) WITHOUT ROWID;

INSERT INTO subject_values_new
    (subject_id, id, category, ciphertext, provenance, collected_at, purposes, policy_version)
SELECT subject_id, id, category, ciphertext, provenance, collected_at, purposes, policy_version
FROM subject_values;

DROP TABLE subject_values;
ALTER TABLE subject_values_new RENAME TO subject_values;

