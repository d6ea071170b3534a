-- Version 14: data-key rotation (CONTRACT 11). While a rotation re-seals values under a new
-- data key, the one it replaces is kept here, sealed under the key-encryption key, so every
-- node opens both until nothing is sealed under it.
ALTER TABLE vault_keys ADD COLUMN retired_data_key BLOB;
-- The current data key's id, as the header of every value it seals names it: not secret, and
-- what tells a node that cannot open the keys whether the data key changed.
ALTER TABLE vault_keys ADD COLUMN data_key_id BLOB;
