-- Version 13: erasure (CONTRACT 11). An application whose personal data was erased says when;
-- the retention sweep finds the applications not yet erased by status and age.
ALTER TABLE applications ADD COLUMN redacted_at TEXT;
CREATE INDEX applications_retention ON applications(status, updated_at) WHERE redacted_at IS NULL;
