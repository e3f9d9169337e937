//! Chat payloads. Each room has a gap-free, strictly increasing `seq`; an acked message is
//! committed; a `client_id` sent again by the same user returns the original message.

use crate::ids::{MessageId, RoomId, UserId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use ts_rs::TS;
use utoipa::ToSchema;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct Message {
    pub id: MessageId,
    pub room: RoomId,
    /// Per room, from 1, gap-free and strictly increasing. Order by it, not by arrival: in a
    /// cluster, seq N+1 can arrive before N, and a message can arrive twice (live and in a
    /// page): drop a seq already held.
    pub seq: i64,
    pub author_id: UserId,
    pub client_id: String,
    /// Empty once deleted.
    pub body: String,
    /// The id of the message this one replies to (a thread root).
    pub reply_to: Option<MessageId>,
    pub created_at: String,
    pub edited_at: Option<String>,
    pub deleted: bool,
    /// Emoji → the users who reacted with it, in the order they did.
    pub reactions: BTreeMap<String, Vec<UserId>>,
}

/// `chat:send`.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
pub struct ChatSend {
    pub room: RoomId,
    /// Chosen by the client, unique per user: a retry with the same id returns the original.
    pub client_id: String,
    pub body: String,
    #[serde(default)]
    #[ts(optional)]
    pub reply_to: Option<MessageId>,
}

/// Ack of `chat:send`, `chat:edit`, `chat:delete`, `chat:react`.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
pub struct MessageAck {
    pub message: Message,
}

/// `chat:edit`.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
pub struct ChatEdit {
    pub room: RoomId,
    pub id: MessageId,
    pub body: String,
}

/// `chat:delete` (leaves a tombstone), and `chat:thread` (the replies to a message).
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
pub struct MessageRef {
    pub room: RoomId,
    pub id: MessageId,
}

/// `chat:react`.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
pub struct ChatReact {
    pub room: RoomId,
    pub id: MessageId,
    pub emoji: String,
    /// `true` adds my reaction, `false` removes it.
    pub add: bool,
}

/// `chat:history`: a page of messages in seq order. With `after`, the oldest messages after
/// it; otherwise the newest before `before` (or the newest of all).
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
pub struct ChatHistory {
    pub room: RoomId,
    #[serde(default)]
    #[ts(optional)]
    pub before: Option<i64>,
    #[serde(default)]
    #[ts(optional)]
    pub after: Option<i64>,
    /// 1 to 100, default 50.
    #[serde(default)]
    #[ts(optional)]
    pub limit: Option<u32>,
}

/// Ack of `chat:history` and `chat:thread`.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
pub struct MessagePage {
    pub messages: Vec<Message>,
    /// More messages lie beyond this page in the direction asked.
    pub has_more: bool,
}

/// Ack of `chat:thread`: the root and its replies in seq order.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
pub struct Thread {
    pub root: Message,
    pub messages: Vec<Message>,
}

/// `chat:read`: everything up to `seq` is read.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
pub struct ChatRead {
    pub room: RoomId,
    pub seq: i64,
}

/// Ack of `chat:read`.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
pub struct Unread {
    pub unread: i64,
}
