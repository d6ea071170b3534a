-- Version 4: platform API keys (CONTRACT 9). Only a keyed hash of each key is kept, with its
-- first characters to name it by.
CREATE TABLE api_keys (
    prefix TEXT PRIMARY KEY,
    key_hash BYTEA NOT NULL UNIQUE,
    name TEXT NOT NULL,
    mode TEXT NOT NULL,
    scopes TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    last_used_at TIMESTAMPTZ,
    revoked_at TIMESTAMPTZ
);

-- The platform's users, each bound to the realname account made for it; an account that was
-- closed frees its external id for a new account.
CREATE TABLE platform_users (
    account_id UUID PRIMARY KEY REFERENCES accounts(id),
    external_user_id TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    closed_at TIMESTAMPTZ
);
CREATE UNIQUE INDEX platform_users_open ON platform_users(external_user_id) WHERE closed_at IS NULL;

CREATE TABLE platform_sessions (
    id UUID PRIMARY KEY,
    account_id UUID NOT NULL REFERENCES accounts(id),
    external_user_id TEXT NOT NULL,
    return_url TEXT,
    locale TEXT,
    metadata TEXT NOT NULL,
    mode TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

-- Single-use links into a platform session: only their keyed hashes are kept.
CREATE TABLE link_tokens (
    token_hash BYTEA PRIMARY KEY,
    session_id UUID NOT NULL REFERENCES platform_sessions(id),
    expires_at TIMESTAMPTZ NOT NULL,
    used_at TIMESTAMPTZ
);

-- A session a link opened signs a browser in to the pages only, never to the JSON API.
ALTER TABLE sessions ADD COLUMN pages_only BOOLEAN NOT NULL DEFAULT FALSE;
