-- Version 3: jobs are keyed by an idempotency key of their own instead of being unique per
-- (application, kind), so that an application can have many jobs of one kind (webhook
-- deliveries) and a job can be about no application at all (a payout file, a purge).
CREATE TABLE jobs_keyed (
    id TEXT PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    application_id TEXT REFERENCES applications(id),
    due_at TEXT NOT NULL,
    leased_until TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    done_at TEXT
);
INSERT INTO jobs_keyed (id, key, kind, application_id, due_at, leased_until, attempts, done_at)
    SELECT id, kind || ':' || application_id, kind, application_id, due_at, leased_until, attempts, done_at
    FROM jobs;
DROP TABLE jobs;
ALTER TABLE jobs_keyed RENAME TO jobs;
CREATE INDEX jobs_due ON jobs(due_at) WHERE done_at IS NULL;
