-- Cookie consent records: each decision sealed under a key of the key directory and bound to its
-- id, so a record planted or edited in the database proves nothing; beside it only the time,
-- for export by period.
CREATE TABLE consent_records (
    id     BLOB    NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    at     INTEGER NOT NULL,
    sealed BLOB    NOT NULL
) WITHOUT ROWID;
CREATE INDEX consent_records_by_time ON consent_records (at, id);
