-- Data subjects' requests (access, erasure, …) as records with a lifecycle. The record itself
-- is sealed under a key of the key directory (its identifiers, reasons and delivery address are
-- personal data); beside it in the clear only what listing by deadline needs.
CREATE TABLE subject_requests (
    id             uuid   NOT NULL PRIMARY KEY,
    state          text   NOT NULL,
    received_at_ns bigint NOT NULL,
    due            date   NOT NULL,
    sealed         bytea  NOT NULL,
    version        bigint NOT NULL
);

CREATE INDEX subject_requests_by_due ON subject_requests (due);
