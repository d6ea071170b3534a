-- Version 12: what is purged is found by its age (CONTRACT 11): delivery attempts by when they
-- were made, finished jobs by when they finished, links by when they expired.
CREATE INDEX delivery_attempts_age ON delivery_attempts(at);
CREATE INDEX jobs_done ON jobs(done_at) WHERE done_at IS NOT NULL;
CREATE INDEX link_tokens_expiry ON link_tokens(expires_at);
