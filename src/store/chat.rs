//! Chat persistence. A send is one transaction: the room's `last_seq` is incremented (its row
//! lock, or SQLite's single writer, orders concurrent senders) and the message inserted with
//! that seq, so seqs are gap-free and strictly increasing, and an acked message is committed.
//! `(author_id, client_id)` is unique: a retry finds the original instead of storing twice.

use super::{Store, StoreError, StoreResult, new_id, rfc3339};
use hub_protocol::chat::Message;
use hub_protocol::{MessageId, UserId};
use sqlx::{AnyConnection, AssertSqlSafe};
use std::collections::BTreeMap;

/// `deleted` is read as an integer: through sqlx's `Any` driver SQLite gives booleans as
/// integers, and Postgres casts its boolean the same way.
const COLUMNS: &str = "id, room, seq, author_id, client_id, body, reply_to, created_at, edited_at, CAST(deleted AS INTEGER)";

type Row = (
    String,
    String,
    i64,
    String,
    String,
    String,
    Option<String>,
    i64,
    Option<i64>,
    i64,
);

fn message(
    (id, room, seq, author, client_id, body, reply_to, created_at, edited_at, deleted): Row,
) -> Message {
    Message {
        id: MessageId(id),
        room,
        seq,
        author_id: UserId(author),
        client_id,
        body,
        reply_to: reply_to.map(MessageId),
        created_at: rfc3339(created_at),
        edited_at: edited_at.map(rfc3339),
        deleted: deleted != 0,
        reactions: BTreeMap::new(),
    }
}

/// A new message to store.
pub struct NewMessage<'a> {
    pub room: &'a str,
    pub author: &'a UserId,
    pub client_id: &'a str,
    pub body: &'a str,
    pub reply_to: Option<&'a str>,
    pub mentions: &'a [UserId],
}

impl Store {
    /// Stores a message and returns it with `true`, or returns the original with `false` when
    /// the author sent this `client_id` before.
    pub async fn chat_send(&self, m: NewMessage<'_>) -> StoreResult<(Message, bool)> {
        if let Some(original) = self.by_client_id(m.author, m.client_id).await? {
            return same_room(original, m.room).map(|o| (o, false));
        }
        if let Some(parent) = m.reply_to {
            match self.chat_get(m.room, parent).await? {
                Some(p) if p.reply_to.is_none() => {}
                Some(_) => {
                    return Err(StoreError::Invalid(
                        "replies go to the thread's root message".into(),
                    ));
                }
                None => {
                    return Err(StoreError::Invalid(
                        "reply_to is not a message of this room".into(),
                    ));
                }
            }
        }
        match self.insert_message(&m).await {
            Err(StoreError::Db(e)) if StoreError::is_constraint_violation(&e) => {
                // A concurrent retry with the same client_id won the race: answer with it.
                let original = self
                    .by_client_id(m.author, m.client_id)
                    .await?
                    .ok_or(StoreError::Db(e))?;
                same_room(original, m.room).map(|o| (o, false))
            }
            other => other.map(|msg| (msg, true)),
        }
    }

    async fn insert_message(&self, m: &NewMessage<'_>) -> StoreResult<Message> {
        let mut w = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO chat_rooms (room, last_seq) VALUES ($1, 0) ON CONFLICT (room) DO NOTHING",
        )
        .bind(m.room)
        .execute(&mut *w.tx)
        .await?;
        let (seq,): (i64,) = sqlx::query_as(
            "UPDATE chat_rooms SET last_seq = last_seq + 1 WHERE room = $1 RETURNING last_seq",
        )
        .bind(m.room)
        .fetch_one(&mut *w.tx)
        .await?;
        let id = new_id();
        let now = self.now_ms();
        sqlx::query(
            "INSERT INTO messages (id, room, seq, author_id, client_id, body, reply_to, created_at, deleted)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, FALSE)",
        )
        .bind(&id)
        .bind(m.room)
        .bind(seq)
        .bind(m.author.as_str())
        .bind(m.client_id)
        .bind(m.body)
        .bind(m.reply_to)
        .bind(now)
        .execute(&mut *w.tx)
        .await?;
        for user in m.mentions {
            sqlx::query(
                "INSERT INTO mentions (message_id, user_id, room, seq) VALUES ($1, $2, $3, $4)",
            )
            .bind(&id)
            .bind(user.as_str())
            .bind(m.room)
            .bind(seq)
            .execute(&mut *w.tx)
            .await?;
        }
        w.commit().await?;
        Ok(Message {
            id: MessageId(id),
            room: m.room.to_owned(),
            seq,
            author_id: m.author.clone(),
            client_id: m.client_id.to_owned(),
            body: m.body.to_owned(),
            reply_to: m.reply_to.map(MessageId::from),
            created_at: rfc3339(now),
            edited_at: None,
            deleted: false,
            reactions: BTreeMap::new(),
        })
    }

    /// The message `author` sent with `client_id`, if they did (a retry's original).
    pub async fn by_client_id(
        &self,
        author: &UserId,
        client_id: &str,
    ) -> StoreResult<Option<Message>> {
        let sql = format!("SELECT {COLUMNS} FROM messages WHERE author_id = $1 AND client_id = $2");
        let row: Option<Row> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(author.as_str())
            .bind(client_id)
            .fetch_optional(self.pool())
            .await?;
        match row {
            Some(r) => Ok(Some(self.with_reactions(vec![message(r)]).await?.remove(0))),
            None => Ok(None),
        }
    }

    /// One message of `room`, with its reactions.
    pub async fn chat_get(&self, room: &str, id: &str) -> StoreResult<Option<Message>> {
        let sql = format!("SELECT {COLUMNS} FROM messages WHERE room = $1 AND id = $2");
        let row: Option<Row> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(room)
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        match row {
            Some(r) => Ok(Some(self.with_reactions(vec![message(r)]).await?.remove(0))),
            None => Ok(None),
        }
    }

    /// Replaces the body of a live message.
    pub async fn chat_edit(&self, room: &str, id: &str, body: &str) -> StoreResult<Message> {
        let done = sqlx::query("UPDATE messages SET body = $1, edited_at = $2 WHERE room = $3 AND id = $4 AND NOT deleted")
            .bind(body)
            .bind(self.now_ms())
            .bind(room)
            .bind(id)
            .execute(self.pool())
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict("the message is deleted".into()));
        }
        self.chat_get(room, id).await?.ok_or(StoreError::NotFound)
    }

    /// Leaves a tombstone: the body, reactions and mentions go; the seq stays.
    pub async fn chat_delete(&self, room: &str, id: &str) -> StoreResult<Message> {
        let mut w = self.begin_write().await?;
        sqlx::query("UPDATE messages SET body = '', deleted = TRUE, edited_at = $1 WHERE room = $2 AND id = $3")
            .bind(self.now_ms())
            .bind(room)
            .bind(id)
            .execute(&mut *w.tx)
            .await?;
        sqlx::query("DELETE FROM reactions WHERE message_id = $1")
            .bind(id)
            .execute(&mut *w.tx)
            .await?;
        sqlx::query("DELETE FROM mentions WHERE message_id = $1")
            .bind(id)
            .execute(&mut *w.tx)
            .await?;
        w.commit().await?;
        self.chat_get(room, id).await?.ok_or(StoreError::NotFound)
    }

    /// Adds or removes `user`'s `emoji` on a live message.
    pub async fn chat_react(
        &self,
        room: &str,
        id: &str,
        user: &UserId,
        emoji: &str,
        add: bool,
    ) -> StoreResult<Message> {
        let current = self.chat_get(room, id).await?.ok_or(StoreError::NotFound)?;
        if current.deleted {
            return Err(StoreError::Conflict("the message is deleted".into()));
        }
        if add {
            sqlx::query(
                "INSERT INTO reactions (message_id, emoji, user_id, created_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (message_id, emoji, user_id) DO NOTHING",
            )
            .bind(id)
            .bind(emoji)
            .bind(user.as_str())
            .bind(self.now_ms())
            .execute(self.pool())
            .await?;
        } else {
            sqlx::query(
                "DELETE FROM reactions WHERE message_id = $1 AND emoji = $2 AND user_id = $3",
            )
            .bind(id)
            .bind(emoji)
            .bind(user.as_str())
            .execute(self.pool())
            .await?;
        }
        self.chat_get(room, id).await?.ok_or(StoreError::NotFound)
    }

    /// A page in seq order: with `after`, the oldest messages after it; otherwise the newest
    /// before `before` (or the newest of all). `true` when more lie beyond the page.
    pub async fn chat_history(
        &self,
        room: &str,
        before: Option<i64>,
        after: Option<i64>,
        limit: u32,
    ) -> StoreResult<(Vec<Message>, bool)> {
        let fetch = i64::from(limit) + 1;
        let rows: Vec<Row> = match after {
            Some(after) => {
                let sql = format!(
                    "SELECT {COLUMNS} FROM messages WHERE room = $1 AND seq > $2 ORDER BY seq ASC LIMIT $3"
                );
                sqlx::query_as(AssertSqlSafe(sql))
                    .bind(room)
                    .bind(after)
                    .bind(fetch)
                    .fetch_all(self.pool())
                    .await?
            }
            None => {
                let sql = format!(
                    "SELECT {COLUMNS} FROM messages WHERE room = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3"
                );
                let mut rows: Vec<Row> = sqlx::query_as(AssertSqlSafe(sql))
                    .bind(room)
                    .bind(before.unwrap_or(i64::MAX))
                    .bind(fetch)
                    .fetch_all(self.pool())
                    .await?;
                rows.reverse();
                rows
            }
        };
        let has_more = rows.len() as i64 > i64::from(limit);
        let mut messages: Vec<Message> = rows.into_iter().map(message).collect();
        if has_more {
            if after.is_some() {
                messages.pop();
            } else {
                messages.remove(0);
            }
        }
        Ok((self.with_reactions(messages).await?, has_more))
    }

    /// The replies to `root`, in seq order.
    pub async fn chat_thread(&self, room: &str, root: &str) -> StoreResult<Vec<Message>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM messages WHERE room = $1 AND reply_to = $2 ORDER BY seq ASC"
        );
        let rows: Vec<Row> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(room)
            .bind(root)
            .fetch_all(self.pool())
            .await?;
        self.with_reactions(rows.into_iter().map(message).collect())
            .await
    }

    pub async fn chat_last_seq(&self, room: &str) -> StoreResult<i64> {
        let row: Option<(i64,)> = sqlx::query_as("SELECT last_seq FROM chat_rooms WHERE room = $1")
            .bind(room)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.map_or(0, |(s,)| s))
    }

    /// Moves `user`'s read marker in `room` forward to `seq` (never back, never past the last
    /// message) and returns the unread count.
    pub async fn chat_read(&self, room: &str, user: &UserId, seq: i64) -> StoreResult<i64> {
        let seq = seq.clamp(0, self.chat_last_seq(room).await?);
        sqlx::query(
            "INSERT INTO read_markers (room, user_id, seq) VALUES ($1, $2, $3)
             ON CONFLICT (room, user_id) DO UPDATE SET seq = excluded.seq WHERE read_markers.seq < excluded.seq",
        )
        .bind(room)
        .bind(user.as_str())
        .bind(seq)
        .execute(self.pool())
        .await?;
        self.chat_unread(room, user).await
    }

    async fn read_marker(conn: &mut AnyConnection, room: &str, user: &UserId) -> StoreResult<i64> {
        let row: Option<(i64,)> =
            sqlx::query_as("SELECT seq FROM read_markers WHERE room = $1 AND user_id = $2")
                .bind(room)
                .bind(user.as_str())
                .fetch_optional(conn)
                .await?;
        Ok(row.map_or(0, |(s,)| s))
    }

    /// Live messages after `user`'s read marker that `user` did not write.
    pub async fn chat_unread(&self, room: &str, user: &UserId) -> StoreResult<i64> {
        let mut conn = self.pool().acquire().await?;
        let marker = Store::read_marker(&mut conn, room, user).await?;
        let (n,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM messages WHERE room = $1 AND seq > $2 AND author_id <> $3 AND NOT deleted",
        )
        .bind(room)
        .bind(marker)
        .bind(user.as_str())
        .fetch_one(&mut *conn)
        .await?;
        Ok(n)
    }

    /// Unread messages of `room` that mention `user`.
    pub async fn chat_unread_mentions(&self, room: &str, user: &UserId) -> StoreResult<i64> {
        let mut conn = self.pool().acquire().await?;
        let marker = Store::read_marker(&mut conn, room, user).await?;
        let (n,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM mentions WHERE user_id = $1 AND room = $2 AND seq > $3",
        )
        .bind(user.as_str())
        .bind(room)
        .bind(marker)
        .fetch_one(&mut *conn)
        .await?;
        Ok(n)
    }

    /// Fills in the reactions of `messages` (one query for the whole page).
    async fn with_reactions(&self, mut messages: Vec<Message>) -> StoreResult<Vec<Message>> {
        if messages.is_empty() {
            return Ok(messages);
        }
        let placeholders: Vec<String> = (1..=messages.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT message_id, emoji, user_id FROM reactions WHERE message_id IN ({}) ORDER BY created_at, user_id",
            placeholders.join(", ")
        );
        let mut query = sqlx::query_as::<_, (String, String, String)>(AssertSqlSafe(sql));
        for m in &messages {
            query = query.bind(m.id.as_str().to_owned());
        }
        let rows = query.fetch_all(self.pool()).await?;
        for (message_id, emoji, user) in rows {
            if let Some(m) = messages.iter_mut().find(|m| m.id.as_str() == message_id) {
                m.reactions.entry(emoji).or_default().push(UserId(user));
            }
        }
        Ok(messages)
    }
}

fn same_room(original: Message, room: &str) -> StoreResult<Message> {
    if original.room == room {
        Ok(original)
    } else {
        Err(StoreError::Conflict(
            "this client_id was already used for a message in another room".into(),
        ))
    }
}
