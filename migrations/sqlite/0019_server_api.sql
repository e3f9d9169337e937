-- The server API: API keys (only a SHA-256 of each secret is kept), token revocations (a
-- user's tokens issued before `revoked_before` are refused), and the publications kept with a
-- seq per room (`store: true`).
CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    secret_sha256 TEXT NOT NULL UNIQUE,
    prefix TEXT NOT NULL,
    scopes TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at BIGINT
);

CREATE TABLE token_revocations (
    user_id TEXT PRIMARY KEY,
    revoked_before BIGINT NOT NULL,
    reason TEXT NOT NULL
);

CREATE TABLE publication_rooms (
    room TEXT PRIMARY KEY,
    last_seq BIGINT NOT NULL
);

CREATE TABLE publications (
    room TEXT NOT NULL,
    seq BIGINT NOT NULL,
    id TEXT NOT NULL UNIQUE,
    event TEXT NOT NULL,
    data TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (room, seq)
);
