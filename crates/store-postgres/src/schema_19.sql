-- Version 19: cases of several kinds (CONTRACT 2.7), the second approval, and what list
-- screening keeps (CONTRACT 12). An application has at most one case of kind `application`
-- but may have screening cases beside it, so the uniqueness moves to a partial index.
ALTER TABLE review_cases DROP CONSTRAINT review_cases_application_id_key;
ALTER TABLE review_cases
    ADD COLUMN kind TEXT NOT NULL DEFAULT 'application',
    -- The first of two decisions, while the case awaits its second approval.
    ADD COLUMN first_by UUID,
    ADD COLUMN first_at TIMESTAMPTZ,
    ADD COLUMN first_outcome TEXT,
    -- A screening case: the run that raised it; reopened when its entry was delisted.
    ADD COLUMN run_id UUID,
    ADD COLUMN reopened_at TIMESTAMPTZ,
    -- A confirmation's report to the authorities.
    ADD COLUMN report_reference TEXT;
CREATE UNIQUE INDEX review_cases_application ON review_cases(application_id)
    WHERE kind = 'application';
CREATE INDEX review_cases_of ON review_cases(application_id);

-- Every screening run, kept with the identity records: subject, time, list versions, result,
-- hits and their disposition.
CREATE TABLE screening_runs (
    id UUID PRIMARY KEY,
    application_id UUID NOT NULL REFERENCES applications(id),
    at TIMESTAMPTZ NOT NULL,
    trigger TEXT NOT NULL,
    list_versions TEXT NOT NULL,
    status TEXT NOT NULL,
    hits TEXT NOT NULL
);
CREATE INDEX screening_runs_of ON screening_runs(application_id, at);

-- Where each screened application stands: what the platform's read shows.
CREATE TABLE screening_subjects (
    application_id UUID PRIMARY KEY REFERENCES applications(id),
    status TEXT NOT NULL,
    screened_at TIMESTAMPTZ NOT NULL,
    list_versions TEXT NOT NULL,
    held BOOLEAN NOT NULL,
    flagged BOOLEAN NOT NULL
);

-- A dismissed hit, remembered for that identity (a keyed hash) and that entry's version.
CREATE TABLE screening_dismissals (
    identity_hash BYTEA NOT NULL,
    source TEXT NOT NULL,
    entry_id TEXT NOT NULL,
    entry_version TEXT NOT NULL,
    case_id UUID NOT NULL,
    at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (identity_hash, source, entry_id, entry_version)
);

-- A screening event names the list versions it was decided against.
ALTER TABLE platform_events ADD COLUMN list_versions TEXT;
