-- Data subjects' requests that change how their data may be used, and the policy's history.

-- Art. 21: purposes a subject objected to. Only purpose names and times: no personal data.
-- Erasing the subject removes them with it.
CREATE TABLE objections (
    subject_id BLOB    NOT NULL REFERENCES subjects (id) ON DELETE CASCADE,
    purpose    TEXT    NOT NULL,
    at         INTEGER NOT NULL,
    PRIMARY KEY (subject_id, purpose)
) WITHOUT ROWID;

-- Every policy version the system has enforced, with the text it was loaded from, so that the
-- rules in force on any day can be shown.
CREATE TABLE policy_versions (
    version      TEXT    NOT NULL PRIMARY KEY,
    activated_at INTEGER NOT NULL,
    source       TEXT    NOT NULL
);
