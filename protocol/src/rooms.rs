//! Rooms, presence and typing payloads.
//!
//! A room is `venture:{id}` or `team:{id}`; joining needs a membership (any role).

use crate::chat::Message;
use crate::ids::{RoomId, UserId};
use crate::roles::Role;
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

/// `room:join`: join a room; with `since`, also get the messages after that seq.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
pub struct RoomJoin {
    pub room: RoomId,
    /// The last seq this client has seen in the room.
    #[serde(default)]
    #[ts(optional)]
    pub since: Option<i64>,
}

/// Ack of `room:join`.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
pub struct RoomJoined {
    pub room: RoomId,
    /// My role in the room.
    pub role: Role,
    /// Who is here now, one entry per user.
    pub presence: Vec<PresenceEntry>,
    /// Who is typing now.
    pub typing: Vec<UserId>,
    /// The seq of the newest message (0 when there is none).
    pub last_seq: i64,
    /// Messages after my read marker, not written by me.
    pub unread: i64,
    /// With `since`: the messages after it, oldest first (at most `MISSED_LIMIT`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub missed: Option<Vec<Message>>,
    /// With `since`: whether `missed` holds all of them. When `false`, page `chat:history`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub recovered: Option<bool>,
}

/// The most messages a `room:join` with `since` returns.
pub const MISSED_LIMIT: usize = 500;

/// `room:leave`, `typing:start`, `typing:stop`.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
pub struct RoomRef {
    pub room: RoomId,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, TS, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum PresenceStatus {
    #[default]
    Online,
    Away,
    Busy,
}

/// One user present in a room (however many tabs or nodes they are connected through).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
pub struct PresenceEntry {
    pub user_id: UserId,
    pub name: String,
    pub status: PresenceStatus,
    /// Free-form JSON the client set with `presence:set` (at most 1 KiB), or null.
    #[ts(type = "unknown")]
    pub meta: serde_json::Value,
    /// When the user came into the room (RFC 3339).
    pub since: String,
}

/// `presence:set`: my status in all my rooms.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
pub struct PresenceSet {
    pub status: PresenceStatus,
    #[serde(default)]
    #[ts(optional, type = "unknown")]
    pub meta: Option<serde_json::Value>,
}

/// The largest `meta` of `presence:set`, serialized, in bytes.
pub const MAX_PRESENCE_META_BYTES: usize = 1024;

/// `presence:join` and `presence:update`.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
pub struct PresenceChanged {
    pub room: RoomId,
    pub user: PresenceEntry,
}

/// `presence:leave`.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
pub struct PresenceLeft {
    pub room: RoomId,
    pub user_id: UserId,
}

/// `typing`: someone started or stopped typing (never echoed to the typist).
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
pub struct Typing {
    pub room: RoomId,
    pub user_id: UserId,
    pub typing: bool,
}

/// `room:role`: my role in a room changed (and I kept access); my open documents of that room
/// took the new rights at once (`can_write: false`: read-only from now on).
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
pub struct RoomRoleChanged {
    pub room: RoomId,
    pub role: Role,
    pub can_write: bool,
}

/// `room:removed`: I lost access to a room; my sockets left it.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
pub struct RoomRemoved {
    pub room: RoomId,
    pub reason: String,
}
