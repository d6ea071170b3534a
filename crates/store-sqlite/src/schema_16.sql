-- Version 16: what a platform session's links are for (CONTRACT 9): the journey, or the
-- renewal of a verification.
ALTER TABLE platform_sessions ADD COLUMN purpose TEXT NOT NULL DEFAULT 'verification';
