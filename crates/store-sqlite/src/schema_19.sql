-- Version 19: cases of several kinds (CONTRACT 2.7), the second approval, and what list
-- screening keeps (CONTRACT 12). An application has at most one case of kind `application`
-- but may have screening cases beside it, so the uniqueness moves to a partial index; SQLite
-- drops a column constraint only by building the table anew.
CREATE TABLE review_cases_19 (
    id TEXT PRIMARY KEY,
    application_id TEXT NOT NULL REFERENCES applications(id),
    account_id TEXT NOT NULL,
    submitted_at TEXT NOT NULL,
    due_at TEXT NOT NULL,
    claimed_by TEXT,
    claimed_until TEXT,
    decided_at TEXT,
    outcome TEXT,
    kind TEXT NOT NULL DEFAULT 'application',
    -- The first of two decisions, while the case awaits its second approval.
    first_by TEXT,
    first_at TEXT,
    first_outcome TEXT,
    -- A screening case: the run that raised it; reopened when its entry was delisted.
    run_id TEXT,
    reopened_at TEXT,
    -- A confirmation's report to the authorities.
    report_reference TEXT
);
INSERT INTO review_cases_19 (id, application_id, account_id, submitted_at, due_at, claimed_by,
                             claimed_until, decided_at, outcome)
    SELECT id, application_id, account_id, submitted_at, due_at, claimed_by, claimed_until,
           decided_at, outcome
    FROM review_cases;
DROP TABLE review_cases;
ALTER TABLE review_cases_19 RENAME TO review_cases;
CREATE UNIQUE INDEX review_cases_application ON review_cases(application_id)
    WHERE kind = 'application';
CREATE INDEX review_cases_of ON review_cases(application_id);
CREATE INDEX review_cases_queue ON review_cases(due_at, id);
CREATE INDEX review_cases_undecided ON review_cases(due_at, id) WHERE decided_at IS NULL;

-- Every screening run, kept with the identity records: subject, time, list versions, result,
-- hits and their disposition.
CREATE TABLE screening_runs (
    id TEXT PRIMARY KEY,
    application_id TEXT NOT NULL REFERENCES applications(id),
    at TEXT NOT NULL,
    trigger TEXT NOT NULL,
    list_versions TEXT NOT NULL,
    status TEXT NOT NULL,
    hits TEXT NOT NULL
);
CREATE INDEX screening_runs_of ON screening_runs(application_id, at);

-- Where each screened application stands: what the platform's read shows.
CREATE TABLE screening_subjects (
    application_id TEXT PRIMARY KEY REFERENCES applications(id),
    status TEXT NOT NULL,
    screened_at TEXT NOT NULL,
    list_versions TEXT NOT NULL,
    held INTEGER NOT NULL,
    flagged INTEGER NOT NULL
);

-- A dismissed hit, remembered for that identity (a keyed hash) and that entry's version.
CREATE TABLE screening_dismissals (
    identity_hash BLOB NOT NULL,
    source TEXT NOT NULL,
    entry_id TEXT NOT NULL,
    entry_version TEXT NOT NULL,
    case_id TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (identity_hash, source, entry_id, entry_version)
);

-- A screening event names the list versions it was decided against.
ALTER TABLE platform_events ADD COLUMN list_versions TEXT;
