-- Durable chat: a gap-free seq per room, idempotent sends, reactions, read markers, mentions.

CREATE TABLE chat_rooms (
    room        TEXT PRIMARY KEY,
    last_seq    BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE messages (
    id          TEXT PRIMARY KEY,
    room        TEXT NOT NULL,
    seq         BIGINT NOT NULL,
    author_id   TEXT NOT NULL REFERENCES users(id),
    client_id   TEXT NOT NULL,
    body        TEXT NOT NULL,
    reply_to    TEXT REFERENCES messages(id),
    created_at  BIGINT NOT NULL,
    edited_at   BIGINT,
    deleted     BOOLEAN NOT NULL DEFAULT FALSE,
    UNIQUE (room, seq),
    UNIQUE (author_id, client_id)
);
CREATE INDEX messages_by_reply ON messages (reply_to, seq) WHERE reply_to IS NOT NULL;

CREATE TABLE reactions (
    message_id  TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    emoji       TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (message_id, emoji, user_id)
);

CREATE TABLE read_markers (
    room        TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    seq         BIGINT NOT NULL,
    PRIMARY KEY (room, user_id)
);

CREATE TABLE mentions (
    message_id  TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL,
    room        TEXT NOT NULL,
    seq         BIGINT NOT NULL,
    PRIMARY KEY (message_id, user_id)
);
CREATE INDEX mentions_by_user ON mentions (user_id, room, seq);
