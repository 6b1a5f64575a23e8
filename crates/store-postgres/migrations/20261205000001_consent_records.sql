-- Cookie consent records: each decision sealed under a key of the key directory and bound to its
-- id, so a record planted or edited in the database proves nothing; beside it only the time,
-- for export by period.
CREATE TABLE consent_records (
    id     uuid   NOT NULL PRIMARY KEY,
    at_ns  bigint NOT NULL,
    sealed bytea  NOT NULL
);
CREATE INDEX consent_records_by_time ON consent_records (at_ns, id);
