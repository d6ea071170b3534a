-- Version 17: the clients each account signed in from (CONTRACT 4), as keyed hashes of an
-- address or of a browser's token: failures spread over many addresses slow a login down,
-- except from where its owner signed in within 30 days.
CREATE TABLE known_clients (
    account_id UUID NOT NULL REFERENCES accounts(id),
    client_hash BYTEA NOT NULL,
    seen_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (account_id, client_hash)
);
