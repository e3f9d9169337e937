//! Chat payloads. Each room has a gap-free, strictly increasing `seq`; an acked message is
//! committed; a `client_id` sent again by the same user returns the original message.

use crate::ids::{MessageId, UserId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use ts_rs::TS;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Message {
    pub id: MessageId,
    pub room: String,
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
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct ChatSend {
    pub room: String,
    /// Chosen by the client, unique per user: a retry with the same id returns the original.
    pub client_id: String,
    pub body: String,
    #[serde(default)]
    #[ts(optional)]
    pub reply_to: Option<MessageId>,
}

/// Ack of `chat:send`, `chat:edit`, `chat:delete`, `chat:react`.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct MessageAck {
    pub message: Message,
}

/// `chat:edit`.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct ChatEdit {
    pub room: String,
    pub id: MessageId,
    pub body: String,
}

/// `chat:delete` (leaves a tombstone), and `chat:thread` (the replies to a message).
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct MessageRef {
    pub room: String,
    pub id: MessageId,
}

/// `chat:react`.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct ChatReact {
    pub room: String,
    pub id: MessageId,
    pub emoji: String,
    /// `true` adds my reaction, `false` removes it.
    pub add: bool,
}

/// `chat:history`: a page of messages in seq order. With `after`, the oldest messages after
/// it; otherwise the newest before `before` (or the newest of all).
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct ChatHistory {
    pub room: String,
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
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct MessagePage {
    pub messages: Vec<Message>,
    /// More messages lie beyond this page in the direction asked.
    pub has_more: bool,
}

/// Ack of `chat:thread`: the root and its replies in seq order.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct Thread {
    pub root: Message,
    pub messages: Vec<Message>,
}

/// `chat:read`: everything up to `seq` is read.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct ChatRead {
    pub room: String,
    pub seq: i64,
}

/// Ack of `chat:read`.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct Unread {
    pub unread: i64,
}

/// A notification, stored and sent live as `notification` to every socket of its user (after
/// the row is committed). `GET /api/v1/notifications` pages the same objects.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Notification {
    pub id: String,
    /// `mention`, `member_added`, `member_removed` or `audit_broken` (the domain adds its
    /// kinds).
    pub kind: String,
    /// The kind's payload: [`MentionData`] for `mention`, [`MemberData`] for the member kinds,
    /// [`AuditBrokenData`] for `audit_broken`.
    pub data: NotificationData,
    pub created_at: String,
    pub read: bool,
}

/// Each kind's payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(untagged)]
pub enum NotificationData {
    Mention(MentionData),
    Member(MemberData),
    AuditBroken(AuditBrokenData),
}

/// `audit_broken`, to admins: the audit log's integrity check found breaks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct AuditBrokenData {
    /// Each broken scope and its first unrecorded break.
    pub scopes: Vec<crate::audit::ScopeIntegrity>,
}

/// `mention`: a chat message names the user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct MentionData {
    pub room: String,
    pub message_id: MessageId,
    pub seq: i64,
    pub author_id: UserId,
    pub author_name: String,
    /// The start of the message.
    pub excerpt: String,
}

/// `member_added` / `member_removed`: the user was added to (or removed from) a venture or one
/// of its teams.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct MemberData {
    pub venture_id: String,
    #[serde(default)]
    #[ts(optional)]
    pub team_id: Option<String>,
    /// The role given (`member_added`).
    #[serde(default)]
    #[ts(optional)]
    pub role: Option<crate::roles::Role>,
    /// Who did it.
    pub by: UserId,
}

/// `GET /api/v1/notifications?unread=&before=&limit=`: newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct NotificationList {
    pub notifications: Vec<Notification>,
    pub unread_count: i64,
    pub has_more: bool,
}

/// `POST /api/v1/notifications/read`: `{ids: [...]}` or `{all: true}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct MarkRead {
    #[serde(default)]
    #[ts(optional)]
    pub ids: Option<Vec<String>>,
    #[serde(default)]
    #[ts(optional)]
    pub all: Option<bool>,
}

/// The answer to `POST /api/v1/notifications/read`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct UnreadCount {
    pub unread_count: i64,
}
