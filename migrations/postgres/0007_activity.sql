-- A venture's activity feed: what happened, by whom, to what. Ids are UUID v7, so they order
-- by time.
CREATE TABLE activities (
    id TEXT PRIMARY KEY,
    venture_id TEXT NOT NULL,
    actor_id TEXT,
    verb TEXT NOT NULL,
    object_kind TEXT NOT NULL,
    object_id TEXT NOT NULL,
    data TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX activities_by_venture ON activities (venture_id, id);
