-- Version 15: the store's mode (CONTRACT 9). A store is sandbox or live for life: the first
-- start writes which, and a start under a rail of the other mode over its data is refused.
CREATE TABLE store_mode (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    mode TEXT NOT NULL CHECK (mode IN ('test', 'live')),
    written_at TEXT NOT NULL
);
