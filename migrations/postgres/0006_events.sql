-- Events in from the platform's other services, each stored once, keyed by its kind and its
-- own id: a replay finds the row and changes nothing.
CREATE TABLE events (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    body TEXT NOT NULL,
    received_by TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE INDEX events_by_user ON events (user_id, received_at);
