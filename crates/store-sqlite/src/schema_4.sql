-- Version 4: platform API keys (CONTRACT 9). Only a keyed hash of each key is kept, with its
-- first characters to name it by.
CREATE TABLE api_keys (
    prefix TEXT PRIMARY KEY,
    key_hash BLOB NOT NULL UNIQUE,
    name TEXT NOT NULL,
    mode TEXT NOT NULL,
    scopes TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at TEXT
);

-- The platform's users, each bound to the realname account made for it; an account that was
-- closed frees its external id for a new account.
CREATE TABLE platform_users (
    account_id TEXT PRIMARY KEY REFERENCES accounts(id),
    external_user_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    closed_at TEXT
);
CREATE UNIQUE INDEX platform_users_open ON platform_users(external_user_id) WHERE closed_at IS NULL;

CREATE TABLE platform_sessions (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    external_user_id TEXT NOT NULL,
    return_url TEXT,
    locale TEXT,
    metadata TEXT NOT NULL,
    mode TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- Single-use links into a platform session: only their keyed hashes are kept.
CREATE TABLE link_tokens (
    token_hash BLOB PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES platform_sessions(id),
    expires_at TEXT NOT NULL,
    used_at TEXT
);

-- A session a link opened signs a browser in to the pages only, never to the JSON API.
ALTER TABLE sessions ADD COLUMN pages_only INTEGER NOT NULL DEFAULT 0;
