-- Version 20: customers' risk grades (CONTRACT 14). Every grading is kept, with the factors
-- that made it and the policy's version: the latest of an application is its grade.
CREATE TABLE risk_grades (
    id TEXT PRIMARY KEY,
    application_id TEXT NOT NULL REFERENCES applications(id),
    grade TEXT NOT NULL,
    score INTEGER NOT NULL,
    -- "code:points" pairs, comma-separated: "pep:50,proof_of_stay:5"
    factors TEXT NOT NULL,
    policy_version TEXT NOT NULL,
    graded_at TEXT NOT NULL,
    next_review_at TEXT
);
CREATE INDEX risk_grades_of ON risk_grades(application_id, graded_at);

-- A verified customer has at most one periodic review open at a time, whichever node opens it.
CREATE UNIQUE INDEX review_cases_periodic_open ON review_cases(application_id)
    WHERE kind = 'periodic' AND decided_at IS NULL;
