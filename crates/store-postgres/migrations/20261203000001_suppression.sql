-- The marketing suppression list: keyed hashes of the normalised e-mail addresses and phone
-- numbers of people who objected to direct marketing (Art. 21(3)). No plaintext, no subject
-- id: it outlives the subject's erasure, so that a person who is erased and imported again is
-- still not marketed to.
CREATE TABLE suppression (
    kind  text   NOT NULL,
    hash  bytea  NOT NULL,
    at_ns bigint NOT NULL,
    PRIMARY KEY (kind, hash)
);
