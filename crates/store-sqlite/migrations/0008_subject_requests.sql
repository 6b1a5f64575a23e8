-- Data subjects' requests (access, erasure, …) as records with a lifecycle. The record itself
-- is sealed under a key of the key directory (its identifiers, reasons and delivery address are
-- personal data); beside it in the clear only what listing by deadline needs.
CREATE TABLE subject_requests (
    id          BLOB    NOT NULL PRIMARY KEY,
    state       TEXT    NOT NULL,
    received_at INTEGER NOT NULL,
    due         TEXT    NOT NULL,
    sealed      BLOB    NOT NULL,
    version     INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX subject_requests_by_due ON subject_requests (due);
