//! Socket.IO events on the main namespace `/`: names, the ack envelope, and the diagnostic
//! payloads. Room, presence and typing payloads are in [`crate::rooms`], chat in [`crate::chat`].
//!
//! Every client event takes an ack, answered with [`AckOk`] (fields flattened beside
//! `"ok": true`) or [`AckErr`] (`{"ok": false, "error": {...}}`).

use crate::error::{ErrorCode, ErrorDetail};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

/// Client → server event names.
pub mod client {
    /// Diagnostic: answers with the server time, to measure round trips.
    pub const SYS_PING: &str = "sys:ping";
    /// Diagnostic: answers with the binary payload it was given.
    pub const SYS_ECHO: &str = "sys:echo";
    pub const ROOM_JOIN: &str = "room:join";
    pub const ROOM_LEAVE: &str = "room:leave";
    pub const PRESENCE_SET: &str = "presence:set";
    pub const TYPING_START: &str = "typing:start";
    pub const TYPING_STOP: &str = "typing:stop";
    pub const CHAT_SEND: &str = "chat:send";
    pub const CHAT_EDIT: &str = "chat:edit";
    pub const CHAT_DELETE: &str = "chat:delete";
    pub const CHAT_REACT: &str = "chat:react";
    pub const CHAT_HISTORY: &str = "chat:history";
    pub const CHAT_THREAD: &str = "chat:thread";
    pub const CHAT_READ: &str = "chat:read";
    pub const DOC_JOIN: &str = "doc:join";
    pub const DOC_LEAVE: &str = "doc:leave";
    /// `(doc_id, bytes)`: exactly one y-protocols message, both directions.
    pub const DOC_MSG: &str = "doc:msg";

    /// Every client event, in the order above.
    pub const ALL: [&str; 17] = [
        SYS_PING,
        SYS_ECHO,
        ROOM_JOIN,
        ROOM_LEAVE,
        PRESENCE_SET,
        TYPING_START,
        TYPING_STOP,
        CHAT_SEND,
        CHAT_EDIT,
        CHAT_DELETE,
        CHAT_REACT,
        CHAT_HISTORY,
        CHAT_THREAD,
        CHAT_READ,
        DOC_JOIN,
        DOC_LEAVE,
        DOC_MSG,
    ];
}

/// Server → client event names.
pub mod server {
    pub const PRESENCE_JOIN: &str = "presence:join";
    pub const PRESENCE_UPDATE: &str = "presence:update";
    pub const PRESENCE_LEAVE: &str = "presence:leave";
    pub const TYPING: &str = "typing";
    pub const CHAT_MESSAGE: &str = "chat:message";
    pub const CHAT_UPDATED: &str = "chat:updated";
    pub const NOTIFICATION: &str = "notification";
    /// The user lost access to a room (membership removed); its sockets have left it.
    pub const ROOM_REMOVED: &str = "room:removed";
    /// `{room, role, can_write}`: the user's role in a room changed; it applies at once.
    pub const ROOM_ROLE: &str = "room:role";
    /// An entry of a venture's activity feed, to the `venture:{id}` room.
    pub const ACTIVITY: &str = "activity";
    /// A venture's leaderboard changed (`Leaderboard`), to the `venture:{id}` room, throttled.
    pub const LEADERBOARD: &str = "leaderboard";
    /// `{buz_balance, pending_lock, available}`: the user's wallet changed.
    pub const WALLET_UPDATED: &str = "wallet:updated";
    pub const DOC_MSG: &str = "doc:msg";
    pub const DOC_REMOVED: &str = "doc:removed";
    /// `{doc, error}`: a `doc:msg` was refused.
    pub const DOC_ERROR: &str = "doc:error";
}

/// The handshake payload (`io(url, {auth: {token}})`). The token may instead come in an
/// `Authorization: Bearer` header or a `token` query parameter.
#[derive(Debug, Clone, Default, Serialize, Deserialize, TS, ToSchema)]
pub struct HandshakeAuth {
    #[serde(default)]
    #[ts(optional)]
    pub token: Option<String>,
}

/// A refused handshake, as Socket.IO's `connect_error` carries it (`44{"message": ...}`):
/// `unauthorized: <why>` (no token, a bad one, an expired one) or `unavailable: retry later`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct ConnectRefusal {
    pub message: String,
}

/// A successful ack: `{"ok": true, ...fields}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AckOk<T> {
    pub ok: bool,
    #[serde(flatten)]
    pub data: T,
}

impl<T> AckOk<T> {
    pub fn new(data: T) -> Self {
        Self { ok: true, data }
    }
}

/// A failed ack: `{"ok": false, "error": {"code", "message"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct AckErr {
    pub ok: bool,
    pub error: ErrorDetail,
}

impl AckErr {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            ok: false,
            error: ErrorDetail {
                code,
                message: message.into(),
            },
        }
    }
}

/// Ack of `sys:ping`.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
pub struct Pong {
    /// Server time, RFC 3339.
    pub time: String,
    /// The node that answered.
    pub node: String,
}
