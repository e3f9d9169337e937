-- Uploaded files (documents on the wire): their content lives in the object store under
-- `storage_key`; the row keeps its checksum, legal hold and corruption flag.
CREATE TABLE files (
    id TEXT PRIMARY KEY,
    owner_id TEXT NOT NULL REFERENCES users(id),
    title TEXT NOT NULL,
    kind TEXT NOT NULL,
    file_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    checksum_sha256 TEXT NOT NULL,
    storage_key TEXT NOT NULL,
    venture_id TEXT REFERENCES ventures(id),
    client_id TEXT,
    hold_reason TEXT,
    held_by TEXT,
    held_at BIGINT,
    corrupted_at BIGINT,
    scrubbed_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX files_by_owner ON files (owner_id, id);

-- People outside the platform a user works with.
CREATE TABLE clients (
    id TEXT PRIMARY KEY,
    owner_id TEXT NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    email TEXT,
    phone TEXT,
    organization TEXT,
    tags TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX clients_by_owner ON clients (owner_id, id);

-- Shares of a file with a user or a client (exactly one), checked at every access.
CREATE TABLE file_shares (
    id TEXT PRIMARY KEY,
    file_id TEXT NOT NULL REFERENCES files(id) ON DELETE CASCADE,
    to_user_id TEXT,
    client_id TEXT,
    can_view BIGINT NOT NULL,
    can_comment BIGINT NOT NULL,
    can_sign BIGINT NOT NULL,
    expires_at BIGINT,
    revoked_at BIGINT,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    CHECK ((to_user_id IS NULL) <> (client_id IS NULL))
);
CREATE INDEX file_shares_by_file ON file_shares (file_id);
CREATE INDEX file_shares_by_user ON file_shares (to_user_id);

CREATE TABLE file_comments (
    id TEXT PRIMARY KEY,
    file_id TEXT NOT NULL REFERENCES files(id) ON DELETE CASCADE,
    author_id TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX file_comments_by_file ON file_comments (file_id, id);

-- Users' P-256 public keys (SPKI DER, hex), removed ones kept for the signatures they made.
CREATE TABLE signing_keys (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    fingerprint TEXT NOT NULL,
    spki_der TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    removed_at BIGINT
);
CREATE INDEX signing_keys_by_user ON signing_keys (user_id);

CREATE TABLE file_signatures (
    id TEXT PRIMARY KEY,
    file_id TEXT NOT NULL REFERENCES files(id) ON DELETE CASCADE,
    signer_id TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    status TEXT NOT NULL,
    message TEXT NOT NULL,
    key_id TEXT,
    key_fingerprint TEXT,
    signature TEXT,
    signed_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX file_signatures_by_file ON file_signatures (file_id, id);
