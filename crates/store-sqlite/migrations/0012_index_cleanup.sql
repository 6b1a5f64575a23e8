-- Index entries outlive their value until a cleanup removes them, so that erasing a subject
-- touches only pages near the subject (its row, values and activities, all kept in subject
-- order) and not one random page of the token-ordered index per entry: at a million erasures
-- that difference is most of the sweep. Lookups only answer entries whose value still exists,
-- so an entry waiting for its cleanup finds no one.
--
-- The index keeps its shape but loses its foreign key to subject_values (whose cascade deleted
-- the entries one random page at a time); `index_cleanup` names the subjects that may have
-- entries left over, in the order they were left, for the writer to remove when it is idle.

CREATE TABLE blind_index_new (
    kind       TEXT NOT NULL,
    token      BLOB NOT NULL CHECK (length(token) = 32),
    subject_id BLOB NOT NULL,
    value_id   BLOB NOT NULL,
    PRIMARY KEY (kind, token, subject_id, value_id)
) WITHOUT ROWID;

INSERT INTO blind_index_new (kind, token, subject_id, value_id)
SELECT kind, token, subject_id, value_id FROM blind_index;

DROP TABLE blind_index;
ALTER TABLE blind_index_new RENAME TO blind_index;
-- A subject's entries, found without scanning the whole index.
CREATE INDEX blind_index_by_value ON blind_index (subject_id, value_id);

CREATE TABLE index_cleanup (
    seq        INTEGER PRIMARY KEY,
    subject_id BLOB    NOT NULL
);
CREATE INDEX index_cleanup_by_subject ON index_cleanup (subject_id);
