-- Version 10: staff sign in with a second factor (CONTRACT 4): the TOTP secret sealed under the
-- data key, the last 30 s step accepted (kept here so a code is used once across every node),
-- and when an account was disabled (`realname staff disable`).
ALTER TABLE accounts ADD COLUMN second_factor BYTEA;
ALTER TABLE accounts ADD COLUMN second_factor_step BIGINT;
ALTER TABLE accounts ADD COLUMN disabled_at TIMESTAMPTZ;
