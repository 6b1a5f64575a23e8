-- Data subjects' requests that change how their data may be used, and the policy's history.

-- Art. 21: purposes a subject objected to. Only purpose names and times: no personal data.
-- Erasing the subject removes them with it.
CREATE TABLE objections (
    subject_id uuid   NOT NULL REFERENCES subjects (id) ON DELETE CASCADE,
    purpose    text   NOT NULL,
    at_ns      bigint NOT NULL,
    PRIMARY KEY (subject_id, purpose)
);

-- Every policy version the system has enforced, with the text it was loaded from, so that the
-- rules in force on any day can be shown.
CREATE TABLE policy_versions (
    version         text   NOT NULL PRIMARY KEY,
    activated_at_ns bigint NOT NULL,
    source          text   NOT NULL
);
