-- realname on SQLite, version 1. Times are RFC 3339 UTC text with microseconds, so that text
-- order is time order; ids are hyphenated UUID text; personal data is sealed BLOBs and keyed
-- hashes only.

CREATE TABLE accounts (
    id TEXT PRIMARY KEY,
    login TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE sessions (
    token_hash BLOB PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    expires_at TEXT NOT NULL
);
CREATE INDEX sessions_expiry ON sessions(expires_at);

CREATE TABLE login_throttle (
    login_key TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    locked_until TEXT
);

CREATE TABLE idempotency (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    request_hash BLOB NOT NULL,
    status INTEGER,
    body BLOB,
    created_at TEXT NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_age ON idempotency(created_at);

CREATE TABLE applications (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    status TEXT NOT NULL,
    form BLOB NOT NULL,
    warnings TEXT NOT NULL,
    card_bank TEXT,
    card_sealed BLOB,
    card_hash BLOB,
    failure TEXT,
    consent_at TEXT NOT NULL,
    consent_version TEXT NOT NULL,
    consent_address TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
-- One open application per account, whatever races between requests.
CREATE UNIQUE INDEX applications_one_open ON applications(account_id)
    WHERE status IN ('draft', 'deposit_pending', 'awaiting_amount', 'under_review');
CREATE INDEX applications_of_account ON applications(account_id, created_at);
CREATE INDEX applications_card ON applications(card_hash) WHERE card_hash IS NOT NULL;

CREATE TABLE application_documents (
    application_id TEXT NOT NULL REFERENCES applications(id),
    account_id TEXT NOT NULL,
    document_hash BLOB NOT NULL,
    PRIMARY KEY (application_id, document_hash)
);
CREATE INDEX application_documents_hash ON application_documents(document_hash);

CREATE TABLE images (
    application_id TEXT NOT NULL REFERENCES applications(id),
    slot TEXT NOT NULL,
    content_type TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    sealed BLOB NOT NULL,
    PRIMARY KEY (application_id, slot)
);

CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    application_id TEXT NOT NULL REFERENCES applications(id),
    status TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX events_of_application ON events(application_id, id);

-- One deposit per application: the primary key makes a second one impossible.
CREATE TABLE deposits (
    application_id TEXT PRIMARY KEY REFERENCES applications(id),
    end_to_end_id TEXT NOT NULL UNIQUE,
    amount BLOB NOT NULL,
    card_hash BLOB NOT NULL,
    attempts_used INTEGER NOT NULL DEFAULT 0,
    paid_at TEXT,
    settled_at TEXT,
    expires_at TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX deposits_card ON deposits(card_hash, created_at);

CREATE TABLE returned_cards (
    card_hash BLOB PRIMARY KEY,
    reason TEXT NOT NULL,
    at TEXT NOT NULL
);

-- The outbox. (application, kind) is unique: a job is queued once.
CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    application_id TEXT NOT NULL REFERENCES applications(id),
    kind TEXT NOT NULL,
    due_at TEXT NOT NULL,
    leased_until TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    done_at TEXT,
    UNIQUE (application_id, kind)
);
CREATE INDEX jobs_due ON jobs(due_at) WHERE done_at IS NULL;

CREATE TABLE review_cases (
    id TEXT PRIMARY KEY,
    application_id TEXT NOT NULL UNIQUE REFERENCES applications(id),
    account_id TEXT NOT NULL,
    submitted_at TEXT NOT NULL,
    due_at TEXT NOT NULL,
    claimed_by TEXT,
    claimed_until TEXT,
    decided_at TEXT,
    outcome TEXT
);
CREATE INDEX review_cases_queue ON review_cases(due_at, id);

CREATE TABLE audit (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    application_id TEXT,
    detail TEXT NOT NULL
);
CREATE INDEX audit_of_application ON audit(application_id, seq);

CREATE TABLE sandbox_clock (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    offset_seconds INTEGER NOT NULL
);
INSERT INTO sandbox_clock (id, offset_seconds) VALUES (1, 0);

CREATE TABLE sandbox_payouts (
    end_to_end_id TEXT PRIMARY KEY,
    card_hash BLOB NOT NULL,
    amount_fen INTEGER NOT NULL,
    memo TEXT NOT NULL,
    paid_at TEXT NOT NULL,
    settle_at TEXT NOT NULL,
    return_reason TEXT,
    acknowledged INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX sandbox_payouts_card ON sandbox_payouts(card_hash, settle_at);
CREATE INDEX sandbox_payouts_due ON sandbox_payouts(settle_at) WHERE acknowledged = 0;
