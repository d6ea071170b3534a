-- Version 5: the platform's event feed (CONTRACT 9). One row per status change, written in
-- the change's own transaction; thin (no personal data). The feed is purged after 30 days,
-- the application's status history (events) never is, so they are two tables; each
-- application counts its events itself, so `sequence` goes on counting after a purge.
CREATE TABLE platform_events (
    position BIGSERIAL PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    application_id UUID NOT NULL REFERENCES applications(id),
    -- The platform's id of the application's user, when it has one (it never changes).
    external_user_id TEXT,
    type TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    status TEXT NOT NULL,
    failure TEXT,
    livemode BOOLEAN NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    UNIQUE (application_id, sequence)
);
CREATE INDEX platform_events_of_application ON platform_events(application_id, position);
CREATE INDEX platform_events_age ON platform_events(created_at);
ALTER TABLE applications ADD COLUMN event_sequence INTEGER NOT NULL DEFAULT 0;
