-- Version 18: the screening lists (CONTRACT 12). Each source's version in force, every version
-- ever imported (a screening run names the versions it ran against), and the entries of the
-- version in force, as the screening crate's JSON: one source's import never touches
-- another's entries.
CREATE TABLE screening_lists (
    source TEXT PRIMARY KEY,
    version TEXT NOT NULL,
    entries INTEGER NOT NULL,
    imported_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE screening_versions (
    source TEXT NOT NULL,
    version TEXT NOT NULL,
    entries INTEGER NOT NULL,
    imported_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (source, version)
);
CREATE TABLE screening_entries (
    source TEXT NOT NULL,
    entry_id TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (source, entry_id)
);
