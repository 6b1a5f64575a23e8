-- Marketing: the NIX-Telefon register as keyed hashes of E.164 numbers (replaced whole on each
-- import, as the register is delivered), and the unsubscribe links that were used or revoked,
-- by the random id sealed inside each link, each row bound by a MAC so that one planted in the
-- database does not block anyone's unsubscribe.
CREATE TABLE nix_register (
    hash bytea NOT NULL PRIMARY KEY CHECK (length(hash) = 32)
);

CREATE TABLE spent_links (
    id     bytea  NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    at_ns  bigint NOT NULL,
    reason text   NOT NULL,
    mac    bytea  NOT NULL
);
