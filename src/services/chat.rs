//! Chat, free of its transport: validate (the rules of `hub_rooms::chat`), rate-limit, order,
//! commit, publish. A send is committed before it is answered; the message then goes to the
//! room (every socket but the sender's, which has the answer) and mentioned members get a
//! `notification`. The caller has checked that the user is in the room, with `role`.
//!
//! Sends are group-committed ([`GroupCommit`]): the sends that queue up while a commit is in
//! flight, of any rooms, are stored in the next single transaction (at most
//! [`ChatConfig::group_commit`] of them), then published in seq order by
//! the one commit worker, then acked. So a node publishes each room's messages in seq order,
//! and a send is acked only once it is committed.

use super::batch::GroupCommit;
use super::notifications::Notifications;
use super::notify::{Except, Notify};
use super::presence::Presence;
use super::webhooks::Outbox;
use crate::auth::Identity;
use crate::clock::SharedClock;
use crate::clock::rfc3339;
use crate::store::{ChatHooks, MessageRow, NewMessage, Store, StoreError, StoreResult};
use hub_protocol::chat::{ChatSend, Message, Thread};
use hub_protocol::notifications::{MentionData, NotificationBody};
use hub_protocol::realtime::server;
use hub_protocol::rooms::MISSED_LIMIT;
use hub_protocol::{ErrorCode, MessageId, Role, RoomId, SocketId, UserId};
use hub_rooms::RoomName;
use hub_rooms::chat::{
    RateLimiter, check_body, check_client_id, check_emoji, history_limit, mentions,
};
use std::sync::{Arc, Mutex};

/// Where a joining member stands in a room (see [`Chat::catch_up`]).
#[derive(Debug)]
pub struct CatchUp {
    pub last_seq: i64,
    pub unread: i64,
    pub missed: Option<Vec<Message>>,
    pub recovered: Option<bool>,
}

/// Why a chat use case refused.
#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    #[error(transparent)]
    Rule(#[from] hub_rooms::chat::ChatError),
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("no such message in this room")]
    NotFound,
    #[error("too many messages: at most {rate} a second (bursts of {burst}); slow down")]
    RateLimited { rate: f64, burst: u32 },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("chat is unavailable on this node; retry")]
    Unavailable,
}

impl crate::error::DomainError for ChatError {
    /// The stable code of this refusal (a store error has its own mapping).
    fn code(&self) -> ErrorCode {
        match self {
            ChatError::Rule(hub_rooms::chat::ChatError::BodyTooLong(_)) => ErrorCode::TooLarge,
            ChatError::Rule(_) => ErrorCode::Invalid,
            ChatError::Forbidden(_) => ErrorCode::Forbidden,
            ChatError::NotFound => ErrorCode::NotFound,
            ChatError::RateLimited { .. } => ErrorCode::RateLimited,
            ChatError::Store(s) => s.code(),
            ChatError::Unavailable => ErrorCode::Unavailable,
        }
    }

    fn public_message(&self) -> String {
        match self {
            ChatError::Store(s) => s.public_message(),
            other => other.to_string(),
        }
    }
}

type ChatResult<T> = Result<T, ChatError>;

/// Chat limits.
#[derive(Debug, Clone)]
pub struct ChatConfig {
    pub max_body_chars: usize,
    /// Messages per second a user may send, sustained.
    pub rate_per_second: f64,
    /// Messages a user may send at once.
    pub burst: u32,
    /// Most sends stored in one transaction (a group commit).
    pub group_commit: usize,
}

impl ChatConfig {
    /// The defaults (the flags of [`ChatArgs`] start from them).
    pub const DEFAULT: ChatConfig = ChatConfig {
        max_body_chars: hub_rooms::chat::DEFAULT_MAX_BODY_CHARS,
        rate_per_second: 10.0,
        burst: 30,
        group_commit: 256,
    };
}

impl Default for ChatConfig {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Chat flags.
#[derive(Debug, Clone, clap::Args)]
pub struct ChatArgs {
    /// Longest chat message, in characters.
    #[arg(long, env = "HUB_MAX_MESSAGE_CHARS", default_value_t = ChatConfig::DEFAULT.max_body_chars)]
    pub max_message_chars: usize,
    /// Chat messages a user may send per second, sustained.
    #[arg(long, env = "HUB_CHAT_RATE", default_value_t = ChatConfig::DEFAULT.rate_per_second)]
    pub chat_rate: f64,
    /// Chat messages a user may send at once before the rate applies.
    #[arg(long, env = "HUB_CHAT_BURST", default_value_t = ChatConfig::DEFAULT.burst)]
    pub chat_burst: u32,
    /// Most chat sends stored in one transaction: the sends that queue up while a commit is
    /// in flight go together in the next one (no waiting window).
    #[arg(long, env = "HUB_CHAT_GROUP_COMMIT", default_value_t = ChatConfig::DEFAULT.group_commit)]
    pub chat_group_commit: usize,
}

impl ChatArgs {
    pub fn resolve(&self) -> anyhow::Result<ChatConfig> {
        if self.max_message_chars == 0 {
            anyhow::bail!("HUB_MAX_MESSAGE_CHARS must be at least 1");
        }
        if !(self.chat_rate.is_finite() && self.chat_rate > 0.0) || self.chat_burst == 0 {
            anyhow::bail!("HUB_CHAT_RATE must be a positive number and HUB_CHAT_BURST at least 1");
        }
        if !(1..=10_000).contains(&self.chat_group_commit) {
            anyhow::bail!("HUB_CHAT_GROUP_COMMIT must be between 1 and 10000");
        }
        Ok(ChatConfig {
            max_body_chars: self.max_message_chars,
            rate_per_second: self.chat_rate,
            burst: self.chat_burst,
            group_commit: self.chat_group_commit,
        })
    }
}

/// Chat: sends group-committed and published in seq order, with their rate limit.
pub struct Chat {
    store: Store,
    notify: Notify,
    presence: Arc<Presence>,
    notifications: Notifications,
    config: ChatConfig,
    clock: SharedClock,
    limiter: Mutex<RateLimiter>,
    /// Sends, group-committed and published in seq order.
    commits: ChatCommits,
}

impl Chat {
    pub fn new(
        store: Store,
        notify: Notify,
        presence: Arc<Presence>,
        notifications: Notifications,
        outbox: Outbox,
        config: ChatConfig,
        clock: SharedClock,
    ) -> Chat {
        Chat {
            commits: chat_commits(store.clone(), notify.clone(), outbox, config.group_commit),
            limiter: Mutex::new(RateLimiter::new(config.rate_per_second, config.burst)),
            store,
            notify,
            presence,
            notifications,
            config,
            clock,
        }
    }

    /// The chat limits.
    pub fn config(&self) -> &ChatConfig {
        &self.config
    }

    /// Takes one send from `user`'s allowance.
    fn allow_send(&self, user: &UserId) -> bool {
        let now = self.clock.now();
        self.limiter
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .allow(user, now)
    }

    /// Gives back the token of a send that turned out to be a retry.
    fn refund_send(&self, user: &UserId) {
        self.limiter
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .refund(user);
    }

    /// Sends a message as `who` to `room`; `sender` (a socket id) does not get the broadcast.
    /// A retried `client_id` answers with the original (the store finds it), free of the rate
    /// limit: its token is given back, and over the rate it is still looked up.
    pub async fn send(
        &self,
        who: &Identity,
        room: &RoomName,
        role: Role,
        req: &ChatSend,
        sender: Option<SocketId>,
    ) -> ChatResult<Message> {
        let _timer = SendTimer(std::time::Instant::now());
        if !role.can_edit() {
            return Err(ChatError::Forbidden("viewers cannot send messages"));
        }
        check_client_id(&req.client_id)?;
        let body = check_body(&req.body, self.config.max_body_chars)?;
        let room_id = room.id();
        if !self.allow_send(&who.user_id) {
            // Over the rate: a retry of a committed message still gets its original.
            return match self
                .store
                .by_client_id(&who.user_id, &req.client_id)
                .await?
            {
                Some(original) if original.room == room_id => Ok(message_view(original)),
                _ => Err(ChatError::RateLimited {
                    rate: self.config.rate_per_second,
                    burst: self.config.burst,
                }),
            };
        }
        let members = if body.contains('@') {
            self.store.room_members(room).await?
        } else {
            Vec::new()
        };
        let mentioned: Vec<UserId> = mentions(body, &members, &who.user_id)
            .into_iter()
            .cloned()
            .collect();

        let draft = Draft {
            room: room_id.clone(),
            author: who.user_id.clone(),
            client_id: req.client_id.clone(),
            body: body.to_owned(),
            reply_to: req.reply_to.clone(),
            mentions: mentioned.clone(),
            sender,
        };
        // A reply's parent is read first, concurrently with other sends; then the write, in
        // a group commit (which also finds retries).
        self.store.chat_check_reply(&draft.new_message()).await?;
        let (message, created) = self
            .commits
            .submit(draft)
            .await
            .map_err(|_| ChatError::Unavailable)??;
        if !created {
            // A retry: it cost nothing, so it takes nothing from the allowance.
            self.refund_send(&who.user_id);
            return Ok(message);
        }
        self.presence.typing_stop(&room_id, &who.user_id).await;
        for user in &mentioned {
            let mention = MentionData {
                room: room_id.clone(),
                message_id: message.id.clone(),
                seq: message.seq,
                author_id: who.user_id.clone(),
                author_name: who.name.clone(),
                excerpt: message.body.chars().take(140).collect(),
            };
            self.notifications
                .add(user, NotificationBody::Mention(mention))
                .await;
        }
        Ok(message)
    }

    /// The author edits their message.
    pub async fn edit(
        &self,
        who: &Identity,
        room: &RoomName,
        role: Role,
        id: &MessageId,
        body: &str,
    ) -> ChatResult<Message> {
        let room = room.id();
        let current = self.existing(&room, id).await?;
        if current.author_id != who.user_id || !role.can_edit() {
            return Err(ChatError::Forbidden("only the author edits a message"));
        }
        let body = check_body(body, self.config.max_body_chars)?;
        let message = message_view(
            self.store
                .chat_edit(room.as_str(), id.as_str(), body)
                .await?,
        );
        self.updated(&message).await;
        Ok(message)
    }

    /// The author, or a room owner or admin, deletes a message (a tombstone stays).
    pub async fn delete(
        &self,
        who: &Identity,
        room: &RoomName,
        role: Role,
        id: &MessageId,
    ) -> ChatResult<Message> {
        let room = room.id();
        let current = self.existing(&room, id).await?;
        let is_author = current.author_id == who.user_id && role.can_edit();
        if !is_author && !role.can_manage() {
            return Err(ChatError::Forbidden(
                "only the author or a room owner or admin deletes a message",
            ));
        }
        if current.deleted {
            return Ok(current);
        }
        let message = message_view(self.store.chat_delete(room.as_str(), id.as_str()).await?);
        self.updated(&message).await;
        Ok(message)
    }

    /// Adds or removes `who`'s reaction.
    pub async fn react(
        &self,
        who: &Identity,
        room: &RoomName,
        role: Role,
        id: &MessageId,
        emoji: &str,
        add: bool,
    ) -> ChatResult<Message> {
        if !role.can_edit() {
            return Err(ChatError::Forbidden("viewers cannot react"));
        }
        check_emoji(emoji)?;
        let room = room.id();
        self.existing(&room, id).await?;
        let message = message_view(
            self.store
                .chat_react(room.as_str(), id.as_str(), &who.user_id, emoji, add)
                .await?,
        );
        self.updated(&message).await;
        Ok(message)
    }

    /// Where `user` stands in `room` as they join it: the room's last seq, their unread count
    /// and, when they say what they saw last (`since`), what they missed (at most
    /// `MISSED_LIMIT` messages; `recovered` says whether that was all of it). A `since` past
    /// the room's last seq (a room reset) misses nothing and recovers nothing.
    pub async fn catch_up(
        &self,
        room: &RoomId,
        user: &UserId,
        since: Option<i64>,
    ) -> ChatResult<CatchUp> {
        let (last_seq, unread) = self.store.chat_position(room.as_str(), user).await?;
        let (missed, recovered) = match since {
            Some(since) if since > last_seq => (Some(Vec::new()), Some(false)),
            Some(since) => {
                let (messages, more) = self
                    .store
                    .chat_history(room.as_str(), None, Some(since.max(0)), MISSED_LIMIT as u32)
                    .await?;
                (Some(messages_view(messages)), Some(!more))
            }
            None => (None, None),
        };
        Ok(CatchUp {
            last_seq,
            unread,
            missed,
            recovered,
        })
    }

    /// A page of history, before or after a seq.
    pub async fn history(
        &self,
        room: &RoomName,
        before: Option<i64>,
        after: Option<i64>,
        limit: Option<u32>,
    ) -> ChatResult<(Vec<Message>, bool)> {
        if before.is_some() && after.is_some() {
            return Err(hub_rooms::chat::ChatError::BothBounds.into());
        }
        let limit = history_limit(limit)?;
        let (messages, more) = self
            .store
            .chat_history(room.id().as_str(), before, after, limit)
            .await?;
        Ok((messages_view(messages), more))
    }

    /// A message and its replies.
    pub async fn thread(&self, room: &RoomName, id: &MessageId) -> ChatResult<Thread> {
        let room = room.id();
        let root = self.existing(&room, id).await?;
        let messages = messages_view(self.store.chat_thread(room.as_str(), id.as_str()).await?);
        Ok(Thread { root, messages })
    }

    /// Marks `room` read up to `seq` for `user`; returns what is still unread.
    pub async fn read(&self, room: &RoomName, user: &UserId, seq: i64) -> ChatResult<i64> {
        Ok(self.store.chat_read(room.id().as_str(), user, seq).await?)
    }

    async fn existing(&self, room: &RoomId, id: &MessageId) -> ChatResult<Message> {
        self.store
            .chat_get(room.as_str(), id.as_str())
            .await?
            .map(message_view)
            .ok_or(ChatError::NotFound)
    }

    async fn updated(&self, message: &Message) {
        self.notify
            .to_room(
                &RoomId::from(message.room.as_str()),
                server::ChatUpdatedEvent,
                message,
                Except::default(),
            )
            .await;
    }
}

/// The webhook event of a new message.
const CHAT_MESSAGE_HOOK: &str = "chat.message";

/// A stored message as clients see it.
fn message_view(row: MessageRow) -> Message {
    Message {
        id: row.id,
        room: row.room,
        seq: row.seq,
        author_id: row.author_id,
        client_id: row.client_id,
        body: row.body,
        reply_to: row.reply_to,
        created_at: rfc3339(row.created_at),
        edited_at: row.edited_at.map(rfc3339),
        deleted: row.deleted,
        reactions: row.reactions,
    }
}

fn messages_view(rows: Vec<MessageRow>) -> Vec<Message> {
    rows.into_iter().map(message_view).collect()
}

/// Records how long a send took the hub, from its checks to its answer (the commit and the
/// publish included), whatever the answer: `hub_chat_send_seconds`.
struct SendTimer(std::time::Instant);

impl Drop for SendTimer {
    fn drop(&mut self) {
        metrics::histogram!("hub_chat_send_seconds").record(self.0.elapsed().as_secs_f64());
    }
}

/// The chat group commit of a node.
type ChatCommits = GroupCommit<Draft, StoreResult<(Message, bool)>>;

/// A send ready to store: checked, with its mentions found.
struct Draft {
    room: RoomId,
    author: UserId,
    client_id: String,
    body: String,
    reply_to: Option<MessageId>,
    mentions: Vec<UserId>,
    /// The sender's socket, which has the ack instead of the broadcast.
    sender: Option<SocketId>,
}

impl Draft {
    fn new_message(&self) -> NewMessage<'_> {
        NewMessage {
            room: self.room.as_str(),
            author: &self.author,
            client_id: &self.client_id,
            body: &self.body,
            reply_to: self.reply_to.as_ref().map(MessageId::as_str),
            mentions: &self.mentions,
        }
    }
}

/// The group commit of chat sends: at most `max` a transaction.
fn chat_commits(store: Store, notify: Notify, outbox: Outbox, max: usize) -> ChatCommits {
    GroupCommit::new(max, max.saturating_mul(4), move |batch: Vec<Draft>| {
        let (store, notify, outbox) = (store.clone(), notify.clone(), outbox.clone());
        async move { commit_sends(&store, &notify, &outbox, batch).await }
    })
}

/// Stores `batch` in one transaction (with the webhook deliveries of its messages, when an
/// endpoint hears them) and publishes what it stored, in seq order.
async fn commit_sends(
    store: &Store,
    notify: &Notify,
    outbox: &Outbox,
    batch: Vec<Draft>,
) -> Vec<StoreResult<(Message, bool)>> {
    let news: Vec<NewMessage<'_>> = batch.iter().map(Draft::new_message).collect();
    let deliveries = |row: &MessageRow| {
        outbox.deliveries(
            CHAT_MESSAGE_HOOK,
            Some(&row.room),
            &message_view(row.clone()),
        )
    };
    let wake = outbox.waker();
    let hooks = outbox.heard(CHAT_MESSAGE_HOOK).then_some(ChatHooks {
        deliveries: &deliveries,
        wake: &wake,
    });
    let hooks = hooks.as_ref();
    let results: Vec<StoreResult<(MessageRow, bool)>> = match store.chat_commit(&news, hooks).await
    {
        Ok(results) => results,
        Err(StoreError::Db(e)) if StoreError::is_constraint_violation(&e) => {
            // A retry raced its original on another node: each send on its own, so the
            // retries find their originals and the rest are stored.
            let mut results = Vec::with_capacity(news.len());
            for m in news {
                results.push(store.chat_send(m, hooks).await);
            }
            results
        }
        // Nothing was stored: every send of the batch fails the same way.
        Err(e) => e.for_each(batch.len()),
    };
    let results: Vec<StoreResult<(Message, bool)>> = results
        .into_iter()
        .map(|r| r.map(|(row, created)| (message_view(row), created)))
        .collect();
    for (draft, result) in batch.iter().zip(&results) {
        if let Ok((message, true)) = result {
            let except = Except {
                user: None,
                sid: draft.sender.clone(),
            };
            notify
                .to_room(&draft.room, server::ChatMessageEvent, message, except)
                .await;
        }
    }
    results
}
