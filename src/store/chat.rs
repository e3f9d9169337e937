//! Chat persistence. Sends are stored in transactions of one or many messages (a group
//! commit, [`Store::chat_commit`]): each room's `last_seq` is moved by its number of new
//! messages (its row lock, or SQLite's single writer, orders concurrent committers) and the
//! messages inserted with the seqs it covers, so seqs are gap-free and strictly increasing,
//! and an acked message is committed.
//! `(author_id, client_id)` is unique: a retry finds the original instead of storing twice.

use super::{
    Backend, NewDelivery, Store, StoreError, StoreResult, WriteTx, id_of, new_id, opt_id_of,
};
use hub_protocol::{MessageId, RoomId, UserId};
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};
use std::collections::BTreeMap;
use std::sync::Arc;

/// `deleted` is read as an integer: through sqlx's `Any` driver SQLite gives booleans as
/// integers, and Postgres casts its boolean the same way.
const COLUMNS: &str = "id, room, seq, author_id, client_id, body, reply_to, created_at, edited_at, CAST(deleted AS INTEGER) AS deleted";

/// A message as stored, with its reactions (emoji to the users who left it, in the order they
/// did). The chat service makes the wire `Message` of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRow {
    pub id: MessageId,
    pub room: RoomId,
    pub seq: i64,
    pub author_id: UserId,
    pub client_id: String,
    pub body: String,
    pub reply_to: Option<MessageId>,
    pub created_at: i64,
    pub edited_at: Option<i64>,
    pub deleted: bool,
    pub reactions: BTreeMap<String, Vec<UserId>>,
}

impl<'r> sqlx::FromRow<'r, AnyRow> for MessageRow {
    fn from_row(r: &'r AnyRow) -> Result<Self, sqlx::Error> {
        Ok(MessageRow {
            id: id_of(r, "id")?,
            room: id_of(r, "room")?,
            seq: r.try_get("seq")?,
            author_id: id_of(r, "author_id")?,
            client_id: r.try_get("client_id")?,
            body: r.try_get("body")?,
            reply_to: opt_id_of(r, "reply_to")?,
            created_at: r.try_get("created_at")?,
            edited_at: r.try_get("edited_at")?,
            deleted: r.try_get::<i64, _>("deleted")? != 0,
            reactions: BTreeMap::new(),
        })
    }
}

/// Rows per statement of a group commit. Small statements on purpose: sqlx's cost per
/// statement grows faster than its number of parameters (a 256-row insert took 13 times as long
/// as a 77-row one), and few statement shapes stay in its prepared-statement cache.
const ROWS_PER_STATEMENT: usize = 32;

/// `items` in chunks of at most [`ROWS_PER_STATEMENT`], each a power of two long: a handful
/// of statement shapes, which stay prepared on every connection, however the batches vary.
fn shaped<T>(mut items: &[T]) -> impl Iterator<Item = &[T]> {
    std::iter::from_fn(move || {
        if items.is_empty() {
            return None;
        }
        let n = ROWS_PER_STATEMENT.min(1 << items.len().ilog2());
        let (chunk, rest) = items.split_at(n);
        items = rest;
        Some(chunk)
    })
}

/// Records, within `w`, whom the message `id` (`m`, stored as `seq`) mentions.
async fn insert_mentions(
    w: &mut WriteTx,
    id: &str,
    m: &NewMessage<'_>,
    seq: i64,
) -> StoreResult<()> {
    for user in m.mentions {
        sqlx::query(
            "INSERT INTO mentions (message_id, user_id, room, seq) VALUES ($1, $2, $3, $4)",
        )
        .bind(id)
        .bind(user.as_str())
        .bind(m.room)
        .bind(seq)
        .execute(w.conn().await?)
        .await?;
    }
    Ok(())
}

/// `n` rows of `width` placeholders, `($1, $2), ($3, $4)…`, each closed by `tail`.
fn push_rows(sql: &mut String, n: usize, width: usize, tail: &str) {
    use std::fmt::Write;
    for row in 0..n {
        sql.push_str(if row == 0 { "(" } else { ", (" });
        for col in 0..width {
            if col > 0 {
                sql.push_str(", ");
            }
            let _ = write!(sql, "${}", row * width + col + 1);
        }
        sql.push_str(tail);
        sql.push(')');
    }
}

/// The webhook deliveries of new chat messages, written in their transaction.
pub struct ChatHooks<'a> {
    /// The deliveries of one message (none when no endpoint hears it).
    pub deliveries: &'a (dyn Fn(&MessageRow) -> Vec<NewDelivery> + Send + Sync),
    /// Woken once the transaction commits.
    pub wake: &'a Arc<tokio::sync::Notify>,
}

impl ChatHooks<'_> {
    async fn write(
        &self,
        store: &Store,
        w: &mut WriteTx,
        stored: &[MessageRow],
    ) -> StoreResult<()> {
        let deliveries: Vec<NewDelivery> = stored.iter().flat_map(self.deliveries).collect();
        if !deliveries.is_empty() {
            store.add_deliveries(w, &deliveries).await?;
            w.wake_after_commit(self.wake);
        }
        Ok(())
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

impl NewMessage<'_> {
    /// The message as stored with `id` and `seq` at `now`.
    fn stored(&self, id: String, seq: i64, now: i64) -> MessageRow {
        MessageRow {
            id: MessageId(id),
            room: RoomId::from(self.room),
            seq,
            author_id: self.author.clone(),
            client_id: self.client_id.to_owned(),
            body: self.body.to_owned(),
            reply_to: self.reply_to.map(MessageId::from),
            created_at: now,
            edited_at: None,
            deleted: false,
            reactions: BTreeMap::new(),
        }
    }
}

impl Store {
    /// Stores a message and returns it with `true`, or returns the original with `false` when
    /// the author sent this `client_id` before.
    pub async fn chat_send(
        &self,
        m: NewMessage<'_>,
        hooks: Option<&ChatHooks<'_>>,
    ) -> StoreResult<(MessageRow, bool)> {
        self.chat_check_reply(&m).await?;
        match self.chat_commit(std::slice::from_ref(&m), hooks).await {
            Err(StoreError::Db(e)) if StoreError::is_constraint_violation(&e) => {
                // A concurrent retry with the same client_id won the race: answer with it.
                let original = self
                    .by_client_id(m.author, m.client_id)
                    .await?
                    .ok_or(StoreError::Db(e))?;
                same_room(original, m.room).map(|o| (o, false))
            }
            Err(e) => Err(e),
            Ok(mut results) => results.remove(0),
        }
    }

    /// A reply must go to a root message of the same room.
    pub async fn chat_check_reply(&self, m: &NewMessage<'_>) -> StoreResult<()> {
        let Some(parent) = m.reply_to else {
            return Ok(());
        };
        match self.chat_get(m.room, parent).await? {
            Some(p) if p.reply_to.is_none() => Ok(()),
            Some(_) => Err(StoreError::Invalid(
                "replies go to the thread's root message".into(),
            )),
            None => Err(StoreError::Invalid(
                "reply_to is not a message of this room".into(),
            )),
        }
    }

    /// Stores new messages, possibly of several rooms, in one transaction (a group commit),
    /// and answers each in the order given: the stored message with `true`, or, for a
    /// `client_id` its author used before (or earlier in this batch), the original with
    /// `false` (a conflict when the original is in another room). Each room's `last_seq` moves
    /// once, by its number of new messages, which take the seqs after it in the order given;
    /// rooms are locked in name order, so two nodes committing over the same rooms cannot
    /// deadlock. The outer error means nothing was stored (a unique violation: a retry that
    /// raced its original on another node; commit each alone then).
    ///
    /// With `hooks`, the webhook deliveries of the new messages are written in the same
    /// transaction.
    pub async fn chat_commit(
        &self,
        batch: &[NewMessage<'_>],
        hooks: Option<&ChatHooks<'_>>,
    ) -> StoreResult<Vec<StoreResult<(MessageRow, bool)>>> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        if self.backend() == Backend::Postgres {
            return self.chat_commit_postgres(batch, hooks).await;
        }
        let mut w = self.begin_commit().await?;
        // Retries: one read for the whole batch, inside the transaction.
        let mut prior: BTreeMap<(&str, &str), String> = BTreeMap::new();
        for chunk in shaped(batch) {
            let mut sql = String::from(
                "SELECT author_id, client_id, room FROM messages WHERE (author_id, client_id) IN (VALUES ",
            );
            push_rows(&mut sql, chunk.len(), 2, "");
            sql.push(')');
            let mut select = sqlx::query_as::<_, (String, String, String)>(AssertSqlSafe(sql));
            for m in chunk {
                select = select.bind(m.author.as_str()).bind(m.client_id);
            }
            for (author, client_id, room) in select.fetch_all(w.conn().await?).await? {
                if let Some(m) = chunk
                    .iter()
                    .find(|m| m.author.as_str() == author && m.client_id == client_id)
                {
                    prior.insert((m.author.as_str(), m.client_id), room);
                }
            }
        }
        // What each send is: new, a retry of a stored message, or a repeat within the batch.
        enum Kind {
            New,
            Stored,
            Repeat(usize),
        }
        let mut first: BTreeMap<(&str, &str), usize> = BTreeMap::new();
        let kinds: Vec<Kind> = batch
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let key = (m.author.as_str(), m.client_id);
                if prior.contains_key(&key) {
                    Kind::Stored
                } else if let Some(&j) = first.get(&key) {
                    Kind::Repeat(j)
                } else {
                    first.insert(key, i);
                    Kind::New
                }
            })
            .collect();
        let fresh: Vec<&NewMessage<'_>> = batch
            .iter()
            .zip(&kinds)
            .filter(|(_, k)| matches!(k, Kind::New))
            .map(|(m, _)| m)
            .collect();
        let stored = self.insert_fresh(&mut w, &fresh).await?;
        if let Some(hooks) = hooks {
            hooks.write(self, &mut w, &stored).await?;
        }
        w.commit().await?;

        let mut stored = stored.into_iter();
        let mut results: Vec<StoreResult<(MessageRow, bool)>> = Vec::with_capacity(batch.len());
        for (m, kind) in batch.iter().zip(&kinds) {
            let result = match kind {
                Kind::New => stored
                    .next()
                    .map(|msg| (msg, true))
                    .ok_or_else(|| StoreError::Invalid("a stored message went missing".into())),
                Kind::Stored => self.original(m, None).await,
                Kind::Repeat(j) => self.original(m, Some(&results[*j])).await,
            };
            results.push(result);
        }
        Ok(results)
    }

    /// [`Store::chat_commit`] on Postgres: the whole batch in one statement, so one round trip
    /// (two with mentions, in a transaction) however many messages, since under load every
    /// round trip of the one commit worker waits its turn on the node's busy cores.
    async fn chat_commit_postgres(
        &self,
        batch: &[NewMessage<'_>],
        hooks: Option<&ChatHooks<'_>>,
    ) -> StoreResult<Vec<StoreResult<(MessageRow, bool)>>> {
        let now = self.now_ms();
        let ids: Vec<String> = batch.iter().map(|_| new_id()).collect();
        // The batch goes as one JSON parameter: sqlx's cost per statement grows faster than
        // its number of parameters (a 256-row VALUES list spent 45 ms in the client alone).
        let input: Vec<serde_json::Value> = batch
            .iter()
            .zip(&ids)
            .enumerate()
            .map(|(i, (m, id))| {
                serde_json::json!({
                    "i": i, "id": id, "room": m.room, "author_id": m.author.as_str(),
                    "client_id": m.client_id, "body": m.body, "reply_to": m.reply_to,
                })
            })
            .collect();
        let input = serde_json::to_string(&input)
            .map_err(|e| StoreError::Invalid(format!("a batch does not encode: {e}")))?;
        let sql = "WITH input AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS r
                 (i bigint, id text, room text, author_id text, client_id text, body text, reply_to text)),
             firsts AS (SELECT DISTINCT ON (author_id, client_id) * FROM input ORDER BY author_id, client_id, i),
             fresh AS (SELECT f.* FROM firsts f WHERE NOT EXISTS
                 (SELECT 1 FROM messages m WHERE m.author_id = f.author_id AND m.client_id = f.client_id)),
             counts AS (SELECT room, count(*)::bigint AS n FROM fresh GROUP BY room),
             bumped AS (INSERT INTO chat_rooms AS c (room, last_seq) SELECT room, n FROM counts ORDER BY room
                 ON CONFLICT (room) DO UPDATE SET last_seq = c.last_seq + excluded.last_seq
                 RETURNING room, last_seq),
             numbered AS (SELECT f.i, f.id, f.room, f.author_id, f.client_id, f.body, f.reply_to,
                 b.last_seq - k.n + row_number() OVER (PARTITION BY f.room ORDER BY f.i) AS seq
                 FROM fresh f JOIN counts k ON k.room = f.room JOIN bumped b ON b.room = f.room),
             stored AS (INSERT INTO messages (id, room, seq, author_id, client_id, body, reply_to, created_at, deleted)
                 SELECT id, room, seq, author_id, client_id, body, reply_to, $2::bigint, FALSE FROM numbered
                 RETURNING id, seq)
             SELECT n.i, s.seq FROM stored s JOIN numbered n ON n.id = s.id";
        // Planned at every run, not prepared once: a plan made while `messages` was small
        // (a fresh database) keeps scanning it whole for retries as it grows; planned anew,
        // the retry check is an index probe (measured: p50 560 ms against 16 ms at 10,000/s).
        let query = sqlx::query_as::<_, (i64, i64)>(sql)
            .persistent(false)
            .bind(input)
            .bind(now);
        let mentioned = batch.iter().any(|m| !m.mentions.is_empty());
        let rows = if mentioned || hooks.is_some() {
            let mut w = self.begin_commit().await?;
            let rows = query.fetch_all(w.conn().await?).await?;
            for (i, seq) in &rows {
                let i = *i as usize;
                insert_mentions(&mut w, &ids[i], &batch[i], *seq).await?;
            }
            if let Some(hooks) = hooks {
                let stored: Vec<MessageRow> = rows
                    .iter()
                    .map(|(i, seq)| batch[*i as usize].stored(ids[*i as usize].clone(), *seq, now))
                    .collect();
                hooks.write(self, &mut w, &stored).await?;
            }
            w.commit().await?;
            rows
        } else {
            // One statement commits by itself.
            query.fetch_all(self.commit_pool()).await?
        };
        let seqs: BTreeMap<usize, i64> =
            rows.into_iter().map(|(i, seq)| (i as usize, seq)).collect();
        let mut first: BTreeMap<(&str, &str), usize> = BTreeMap::new();
        let mut results: Vec<StoreResult<(MessageRow, bool)>> = Vec::with_capacity(batch.len());
        for (i, m) in batch.iter().enumerate() {
            let key = (m.author.as_str(), m.client_id);
            let result = if let Some(seq) = seqs.get(&i) {
                first.insert(key, i);
                Ok((m.stored(ids[i].clone(), *seq, now), true))
            } else {
                self.original(m, first.get(&key).map(|&j| &results[j]))
                    .await
            };
            results.push(result);
        }
        Ok(results)
    }

    /// The answer to a retry: the answer of its first send in the same batch (`earlier`), or
    /// the stored original; a conflict when that is in another room.
    async fn original(
        &self,
        m: &NewMessage<'_>,
        earlier: Option<&StoreResult<(MessageRow, bool)>>,
    ) -> StoreResult<(MessageRow, bool)> {
        let original = match earlier {
            Some(Ok((original, _))) => original.clone(),
            Some(Err(e)) => return Err(e.replicate()),
            None => self
                .by_client_id(m.author, m.client_id)
                .await?
                .ok_or(StoreError::NotFound)?,
        };
        same_room(original, m.room).map(|o| (o, false))
    }

    /// Inserts `fresh` (new messages, no retries) within `w`, giving them their seqs.
    async fn insert_fresh(
        &self,
        w: &mut WriteTx,
        fresh: &[&NewMessage<'_>],
    ) -> StoreResult<Vec<MessageRow>> {
        if fresh.is_empty() {
            return Ok(Vec::new());
        }
        let mut counts: BTreeMap<&str, i64> = BTreeMap::new();
        for m in fresh {
            *counts.entry(m.room).or_default() += 1;
        }
        // Each room's `last_seq` ends at the batch's last seq in it: one upsert per chunk of
        // rooms, in name order.
        let rooms: Vec<(&str, i64)> = counts.iter().map(|(r, c)| (*r, *c)).collect();
        let mut next: BTreeMap<&str, i64> = BTreeMap::new();
        for chunk in shaped(&rooms) {
            let mut sql = String::from("INSERT INTO chat_rooms (room, last_seq) VALUES ");
            push_rows(&mut sql, chunk.len(), 2, "");
            sql.push_str(
                " ON CONFLICT (room) DO UPDATE SET last_seq = chat_rooms.last_seq + excluded.last_seq
                 RETURNING room, last_seq",
            );
            let mut upsert = sqlx::query_as::<_, (String, i64)>(AssertSqlSafe(sql));
            for (room, count) in chunk {
                upsert = upsert.bind(*room).bind(*count);
            }
            for (room, last) in upsert.fetch_all(w.conn().await?).await? {
                if let Some((name, count)) = counts.get_key_value(room.as_str()) {
                    next.insert(*name, last - count + 1);
                }
            }
        }
        let now = self.now_ms();
        let mut messages = Vec::with_capacity(fresh.len());
        for m in fresh {
            let seq = next.get_mut(m.room).ok_or_else(|| {
                StoreError::Invalid(format!("no last_seq came back for room {}", m.room))
            })?;
            messages.push(m.stored(new_id(), *seq, now));
            *seq += 1;
        }
        for chunk in shaped(&messages) {
            let mut sql = String::from(
                "INSERT INTO messages (id, room, seq, author_id, client_id, body, reply_to, created_at, deleted) VALUES ",
            );
            push_rows(&mut sql, chunk.len(), 8, ", FALSE");
            let mut insert = sqlx::query(AssertSqlSafe(sql));
            for msg in chunk {
                insert = insert
                    .bind(msg.id.as_str())
                    .bind(msg.room.as_str())
                    .bind(msg.seq)
                    .bind(msg.author_id.as_str())
                    .bind(msg.client_id.as_str())
                    .bind(msg.body.as_str())
                    .bind(msg.reply_to.as_ref().map(MessageId::as_str))
                    .bind(now);
            }
            insert.execute(w.conn().await?).await?;
        }
        for (m, msg) in fresh.iter().zip(&messages) {
            insert_mentions(w, msg.id.as_str(), m, msg.seq).await?;
        }
        Ok(messages)
    }

    /// The message `author` sent with `client_id`, if they did (a retry's original).
    pub async fn by_client_id(
        &self,
        author: &UserId,
        client_id: &str,
    ) -> StoreResult<Option<MessageRow>> {
        let sql = format!("SELECT {COLUMNS} FROM messages WHERE author_id = $1 AND client_id = $2");
        let row: Option<MessageRow> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(author.as_str())
            .bind(client_id)
            .fetch_optional(self.pool())
            .await?;
        match row {
            Some(r) => Ok(Some(self.with_reactions(vec![r]).await?.remove(0))),
            None => Ok(None),
        }
    }

    /// One message of `room`, with its reactions.
    pub async fn chat_get(&self, room: &str, id: &str) -> StoreResult<Option<MessageRow>> {
        let sql = format!("SELECT {COLUMNS} FROM messages WHERE room = $1 AND id = $2");
        let row: Option<MessageRow> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(room)
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        match row {
            Some(r) => Ok(Some(self.with_reactions(vec![r]).await?.remove(0))),
            None => Ok(None),
        }
    }

    /// Replaces the body of a live message.
    pub async fn chat_edit(&self, room: &str, id: &str, body: &str) -> StoreResult<MessageRow> {
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
    pub async fn chat_delete(&self, room: &str, id: &str) -> StoreResult<MessageRow> {
        let mut w = self.begin_write().await?;
        sqlx::query("UPDATE messages SET body = '', deleted = TRUE, edited_at = $1 WHERE room = $2 AND id = $3")
            .bind(self.now_ms())
            .bind(room)
            .bind(id)
            .execute(w.conn().await?)
            .await?;
        sqlx::query("DELETE FROM reactions WHERE message_id = $1")
            .bind(id)
            .execute(w.conn().await?)
            .await?;
        sqlx::query("DELETE FROM mentions WHERE message_id = $1")
            .bind(id)
            .execute(w.conn().await?)
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
    ) -> StoreResult<MessageRow> {
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
    ) -> StoreResult<(Vec<MessageRow>, bool)> {
        let fetch = i64::from(limit) + 1;
        let rows: Vec<MessageRow> = match after {
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
                let mut rows: Vec<MessageRow> = sqlx::query_as(AssertSqlSafe(sql))
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
        let mut messages = rows;
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
    pub async fn chat_thread(&self, room: &str, root: &str) -> StoreResult<Vec<MessageRow>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM messages WHERE room = $1 AND reply_to = $2 ORDER BY seq ASC"
        );
        let rows: Vec<MessageRow> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(room)
            .bind(root)
            .fetch_all(self.pool())
            .await?;
        self.with_reactions(rows).await
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
        Ok(self.chat_position(room, user).await?.1)
    }

    /// `room`'s last seq (as [`Store::chat_last_seq`]) and `user`'s unread count there: the live
    /// messages after their read marker that they did not write. One statement: what every
    /// join and the room list answer with.
    pub async fn chat_position(&self, room: &str, user: &UserId) -> StoreResult<(i64, i64)> {
        let (last_seq, unread): (i64, i64) = sqlx::query_as(
            "SELECT COALESCE((SELECT last_seq FROM chat_rooms WHERE room = $1), 0),
                    (SELECT COUNT(*) FROM messages
                      WHERE room = $1 AND author_id <> $2 AND NOT deleted
                        AND seq > COALESCE((SELECT seq FROM read_markers WHERE room = $1 AND user_id = $2), 0))",
        )
        .bind(room)
        .bind(user.as_str())
        .fetch_one(self.pool())
        .await?;
        Ok((last_seq, unread))
    }

    /// For each of `rooms`, in order: its last seq, `user`'s unread count there (as
    /// [`Store::chat_position`]) and the unread messages that mention them. One statement for
    /// as many as 500 rooms (the room list of a user in many rooms costs one round trip, not
    /// two a room).
    pub async fn chat_positions(
        &self,
        rooms: &[String],
        user: &UserId,
    ) -> StoreResult<Vec<(i64, i64, i64)>> {
        const ROOMS_PER_STATEMENT: usize = 500;
        let mut out = Vec::with_capacity(rooms.len());
        for chunk in rooms.chunks(ROOMS_PER_STATEMENT) {
            let values: Vec<String> = (0..chunk.len())
                .map(|i| format!("(${}, ${})", 2 * i + 2, 2 * i + 3))
                .collect();
            let sql = format!(
                "WITH r(room, ord) AS (VALUES {}),
                      k AS (SELECT r.room, r.ord,
                                   COALESCE((SELECT seq FROM read_markers m
                                              WHERE m.room = r.room AND m.user_id = $1), 0) AS seen
                              FROM r)
                 SELECT k.ord,
                        COALESCE((SELECT last_seq FROM chat_rooms c WHERE c.room = k.room), 0),
                        (SELECT COUNT(*) FROM messages m
                          WHERE m.room = k.room AND m.author_id <> $1 AND NOT m.deleted
                            AND m.seq > k.seen),
                        (SELECT COUNT(*) FROM mentions n
                          WHERE n.user_id = $1 AND n.room = k.room AND n.seq > k.seen)
                   FROM k ORDER BY k.ord",
                values.join(", ")
            );
            let mut query =
                sqlx::query_as::<_, (i64, i64, i64, i64)>(AssertSqlSafe(sql)).bind(user.as_str());
            for (i, room) in chunk.iter().enumerate() {
                query = query.bind(room.as_str()).bind(i as i64);
            }
            let rows = query.fetch_all(self.pool()).await?;
            out.extend(
                rows.into_iter()
                    .map(|(_, last, unread, mentions)| (last, unread, mentions)),
            );
        }
        Ok(out)
    }

    /// Fills in the reactions of `messages` (one query for the whole page).
    async fn with_reactions(&self, mut messages: Vec<MessageRow>) -> StoreResult<Vec<MessageRow>> {
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

fn same_room(original: MessageRow, room: &str) -> StoreResult<MessageRow> {
    if original.room.as_str() == room {
        Ok(original)
    } else {
        Err(StoreError::Conflict(
            "this client_id was already used for a message in another room".into(),
        ))
    }
}
