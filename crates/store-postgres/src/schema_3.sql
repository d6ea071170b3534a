-- Version 3: jobs are keyed by an idempotency key of their own instead of being unique per
-- (application, kind), so that an application can have many jobs of one kind (webhook
-- deliveries) and a job can be about no application at all (a payout file, a purge).
ALTER TABLE jobs ADD COLUMN key TEXT;
UPDATE jobs SET key = kind || ':' || application_id::text;
ALTER TABLE jobs ALTER COLUMN key SET NOT NULL;
ALTER TABLE jobs ADD CONSTRAINT jobs_key_unique UNIQUE (key);
ALTER TABLE jobs DROP CONSTRAINT jobs_application_id_kind_key;
ALTER TABLE jobs ALTER COLUMN application_id DROP NOT NULL;
