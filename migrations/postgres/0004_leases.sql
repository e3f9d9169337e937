-- Leases: work that must run on one node of the cluster at a time (a document's compaction,
-- periodic jobs). A lease is held by one node until it expires or is released; a node that
-- dies loses it when it expires.
CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
