-- Version 11: the ISO 20022 file rail (CONTRACT 10). A transfer is held (its instruction sealed)
-- until the bank settles or returns it, then only its outcome stays. A file is recorded before
-- it is written, so a crash between the two writes it again under the same MsgId. Messages
-- from the bank are applied once by their type and MsgId; entries that changed nothing are
-- kept for `realname rail status`.
CREATE TABLE rail_transfers (
    end_to_end_id TEXT PRIMARY KEY,
    application_id TEXT NOT NULL,
    instruction BLOB,
    state TEXT NOT NULL,
    msg_id TEXT,
    due_at TEXT NOT NULL,
    reason TEXT,
    sends INTEGER NOT NULL DEFAULT 0,
    held_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX rail_transfers_due ON rail_transfers (state, due_at);
CREATE INDEX rail_transfers_file ON rail_transfers (msg_id);
CREATE TABLE rail_files (
    msg_id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    transfers INTEGER NOT NULL,
    written_at TEXT,
    answered_at TEXT,
    answer TEXT
);
CREATE TABLE rail_messages (
    kind TEXT NOT NULL,
    msg_id TEXT NOT NULL,
    source TEXT NOT NULL,
    applied_at TEXT NOT NULL,
    PRIMARY KEY (kind, msg_id)
);
CREATE TABLE rail_unmatched (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT,
    msg_id TEXT,
    source TEXT NOT NULL,
    reference TEXT,
    what TEXT NOT NULL,
    at TEXT NOT NULL
);
