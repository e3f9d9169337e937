-- Collaborative documents: an append-only log of yrs updates, compacted into a snapshot.

CREATE TABLE docs (
    id          TEXT PRIMARY KEY,
    room        TEXT NOT NULL,
    title       TEXT NOT NULL,
    created_by  TEXT NOT NULL REFERENCES users(id),
    created_at  BIGINT NOT NULL
);
CREATE INDEX docs_by_room ON docs (room, created_at);

CREATE TABLE doc_updates (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    doc_id      TEXT NOT NULL REFERENCES docs(id) ON DELETE CASCADE,
    data        BLOB NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX doc_updates_by_doc ON doc_updates (doc_id, id);

CREATE TABLE doc_snapshots (
    doc_id      TEXT PRIMARY KEY REFERENCES docs(id) ON DELETE CASCADE,
    state       BLOB NOT NULL,
    updated_at  BIGINT NOT NULL
);
