-- The archive ordered by its random reference instead of by insertion: a rowid table numbers
-- its rows in the order they were written, which matched the erasure records' ids, so the
-- n-th archive row could be tied to the n-th erasure (and so to a subject). Without a rowid
-- the rows sit in reference order, which says nothing about when or with whom they came.

CREATE TABLE archive_new (
    reference      TEXT    NOT NULL PRIMARY KEY,
    created_at     INTEGER NOT NULL,
    shred_after    TEXT    NOT NULL,
    purposes       TEXT    NOT NULL,
    categories     TEXT    NOT NULL,
    wrapped_key    BLOB    NOT NULL,
    ciphertext     BLOB    NOT NULL,
    policy_version TEXT    NOT NULL
) WITHOUT ROWID;

INSERT INTO archive_new
    (reference, created_at, shred_after, purposes, categories, wrapped_key, ciphertext,
     policy_version)
SELECT reference, created_at, shred_after, purposes, categories, wrapped_key, ciphertext,
       policy_version
FROM archive
ORDER BY reference;

DROP TABLE archive;
ALTER TABLE archive_new RENAME TO archive;
CREATE INDEX archive_by_shred_day ON archive (shred_after);
