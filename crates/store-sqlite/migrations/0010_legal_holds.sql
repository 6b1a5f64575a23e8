-- Legal holds: staff stop the erasure of a subject's data for a dispute, with a reason and an
-- end date. The hold is sealed under a key of the key directory and bound to its id and
-- subject, so a hold planted or edited in the database is refused, never honoured.
CREATE TABLE legal_holds (
    id         BLOB NOT NULL PRIMARY KEY,
    subject_id BLOB NOT NULL,
    sealed     BLOB NOT NULL
) WITHOUT ROWID;
