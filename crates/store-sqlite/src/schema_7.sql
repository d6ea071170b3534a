-- Version 7: the vault's keys as envelopes (CONTRACT 11). The data key (it seals values) and
-- the look-up key (keyed hashes) live here sealed under the key-encryption key, which stays
-- outside the database (the key file or `data_key`); `kek_check` names that key without
-- revealing it, so a node with another key refuses to start instead of sealing beside it.
CREATE TABLE vault_keys (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    kek_check BLOB NOT NULL,
    data_key BLOB NOT NULL,
    lookup_key BLOB NOT NULL,
    created_at TEXT NOT NULL
);
