-- Version 6: webhooks (CONTRACT 9). Endpoints keep their signing secrets sealed (the service
-- must sign with them); every attempt at a delivery is a row. Jobs say what else they are
-- about (an event, an endpoint) in `subject`.
ALTER TABLE jobs ADD COLUMN subject TEXT;

CREATE TABLE webhook_endpoints (
    id UUID PRIMARY KEY,
    url TEXT NOT NULL,
    events TEXT NOT NULL,
    description TEXT,
    enabled BOOLEAN NOT NULL,
    secret BYTEA NOT NULL,
    previous_secret BYTEA,
    previous_expires_at TIMESTAMPTZ,
    livemode BOOLEAN NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE delivery_attempts (
    position BIGSERIAL PRIMARY KEY,
    id UUID NOT NULL UNIQUE,
    endpoint_id UUID NOT NULL,
    event_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    state TEXT NOT NULL,
    status_code INTEGER,
    error TEXT,
    at TIMESTAMPTZ NOT NULL,
    next_attempt_at TIMESTAMPTZ,
    livemode BOOLEAN NOT NULL
);
CREATE INDEX delivery_attempts_of_endpoint ON delivery_attempts(endpoint_id, position);
