-- realname on PostgreSQL, version 1: the same data as the SQLite schema, in native types.

CREATE TABLE accounts (
    id UUID PRIMARY KEY,
    login TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE sessions (
    token_hash BYTEA PRIMARY KEY,
    account_id UUID NOT NULL REFERENCES accounts(id),
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_expiry ON sessions(expires_at);

CREATE TABLE login_throttle (
    login_key TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    locked_until TIMESTAMPTZ
);

CREATE TABLE idempotency (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    request_hash BYTEA NOT NULL,
    status INTEGER,
    body BYTEA,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_age ON idempotency(created_at);

CREATE TABLE applications (
    id UUID PRIMARY KEY,
    account_id UUID NOT NULL REFERENCES accounts(id),
    status TEXT NOT NULL,
    form BYTEA NOT NULL,
    warnings TEXT NOT NULL,
    card_bank TEXT,
    card_sealed BYTEA,
    card_hash BYTEA,
    failure TEXT,
    consent_at TIMESTAMPTZ NOT NULL,
    consent_version TEXT NOT NULL,
    consent_address TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX applications_one_open ON applications(account_id)
    WHERE status IN ('draft', 'deposit_pending', 'awaiting_amount', 'under_review');
CREATE INDEX applications_of_account ON applications(account_id, created_at);
CREATE INDEX applications_card ON applications(card_hash) WHERE card_hash IS NOT NULL;

CREATE TABLE application_documents (
    application_id UUID NOT NULL REFERENCES applications(id),
    account_id UUID NOT NULL,
    document_hash BYTEA NOT NULL,
    PRIMARY KEY (application_id, document_hash)
);
CREATE INDEX application_documents_hash ON application_documents(document_hash);

CREATE TABLE images (
    application_id UUID NOT NULL REFERENCES applications(id),
    slot TEXT NOT NULL,
    content_type TEXT NOT NULL,
    bytes BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    sealed BYTEA NOT NULL,
    PRIMARY KEY (application_id, slot)
);

CREATE TABLE events (
    id BIGSERIAL PRIMARY KEY,
    application_id UUID NOT NULL REFERENCES applications(id),
    status TEXT NOT NULL,
    at TIMESTAMPTZ NOT NULL
);
CREATE INDEX events_of_application ON events(application_id, id);

CREATE TABLE deposits (
    application_id UUID PRIMARY KEY REFERENCES applications(id),
    end_to_end_id TEXT NOT NULL UNIQUE,
    amount BYTEA NOT NULL,
    card_hash BYTEA NOT NULL,
    attempts_used INTEGER NOT NULL DEFAULT 0,
    paid_at TIMESTAMPTZ,
    settled_at TIMESTAMPTZ,
    expires_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX deposits_card ON deposits(card_hash, created_at);

CREATE TABLE returned_cards (
    card_hash BYTEA PRIMARY KEY,
    reason TEXT NOT NULL,
    at TIMESTAMPTZ NOT NULL
);

CREATE TABLE jobs (
    id UUID PRIMARY KEY,
    application_id UUID NOT NULL REFERENCES applications(id),
    kind TEXT NOT NULL,
    due_at TIMESTAMPTZ NOT NULL,
    leased_until TIMESTAMPTZ,
    attempts INTEGER NOT NULL DEFAULT 0,
    done_at TIMESTAMPTZ,
    UNIQUE (application_id, kind)
);
CREATE INDEX jobs_due ON jobs(due_at) WHERE done_at IS NULL;

CREATE TABLE review_cases (
    id UUID PRIMARY KEY,
    application_id UUID NOT NULL UNIQUE REFERENCES applications(id),
    account_id UUID NOT NULL,
    submitted_at TIMESTAMPTZ NOT NULL,
    due_at TIMESTAMPTZ NOT NULL,
    claimed_by UUID,
    claimed_until TIMESTAMPTZ,
    decided_at TIMESTAMPTZ,
    outcome TEXT
);
CREATE INDEX review_cases_queue ON review_cases(due_at, id);

CREATE TABLE audit (
    seq BIGSERIAL PRIMARY KEY,
    id UUID NOT NULL UNIQUE,
    at TIMESTAMPTZ NOT NULL,
    actor UUID NOT NULL,
    action TEXT NOT NULL,
    application_id UUID,
    detail TEXT NOT NULL
);
CREATE INDEX audit_of_application ON audit(application_id, seq);

CREATE TABLE sandbox_clock (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    offset_seconds BIGINT NOT NULL
);
INSERT INTO sandbox_clock (id, offset_seconds) VALUES (1, 0);

CREATE TABLE sandbox_payouts (
    end_to_end_id TEXT PRIMARY KEY,
    card_hash BYTEA NOT NULL,
    amount_fen BIGINT NOT NULL,
    memo TEXT NOT NULL,
    paid_at TIMESTAMPTZ NOT NULL,
    settle_at TIMESTAMPTZ NOT NULL,
    return_reason TEXT,
    acknowledged BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX sandbox_payouts_card ON sandbox_payouts(card_hash, settle_at);
CREATE INDEX sandbox_payouts_due ON sandbox_payouts(settle_at) WHERE NOT acknowledged;
