-- Version 8: failed-login counters say when they last counted, so a quiet one can be purged.
ALTER TABLE login_throttle ADD COLUMN last_failure_at TIMESTAMPTZ;
