-- Version 6: webhooks (CONTRACT 9). Endpoints keep their signing secrets sealed (the service
-- must sign with them); every attempt at a delivery is a row. Jobs say what else they are
-- about (an event, an endpoint) in `subject`.
ALTER TABLE jobs ADD COLUMN subject TEXT;

CREATE TABLE webhook_endpoints (
    id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    events TEXT NOT NULL,
    description TEXT,
    enabled INTEGER NOT NULL,
    secret BLOB NOT NULL,
    previous_secret BLOB,
    previous_expires_at TEXT,
    livemode INTEGER NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE delivery_attempts (
    position INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    endpoint_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    state TEXT NOT NULL,
    status_code INTEGER,
    error TEXT,
    at TEXT NOT NULL,
    next_attempt_at TEXT,
    livemode INTEGER NOT NULL
);
CREATE INDEX delivery_attempts_of_endpoint ON delivery_attempts(endpoint_id, position);
