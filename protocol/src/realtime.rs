//! Socket.IO events on the main namespace `/`: names, the ack envelope, and the diagnostic
//! payloads. Room, presence and typing payloads are in [`crate::rooms`], chat in [`crate::chat`].
//!
//! Every client event takes an ack, answered with [`AckOk`] (fields flattened beside
//! `"ok": true`) or [`AckErr`] (`{"ok": false, "error": {...}}`).

use crate::error::{ErrorCode, ErrorDetail};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

/// A client event: its name, the request it carries and the ack it is answered with. The hub's
/// handler for it must answer `Ack` (`respond::<E>` in the hub), the SDK's `ClientToServer`
/// map is generated from these, and the load tester sends `Request`s through them.
pub trait ClientEvent {
    const NAME: &'static str;
    type Request;
    type Ack: Serialize;
    /// The event's arguments before the ack, in TypeScript.
    fn ts_args(cfg: &ts_rs::Config) -> String;
    /// The ack's payload, in TypeScript.
    fn ts_ack(cfg: &ts_rs::Config) -> String;
    /// What the event is for (its doc comment).
    const DOC: &'static str;
    /// Whether a client may send it without asking for an ack.
    const OPTIONAL_ACK: bool;
}

/// A server event: its name and the payload every emit of it carries. The hub emits it only
/// through these (`Notify::to_room::<E>` and friends), and the SDK's `ServerToClient` map is
/// generated from them.
pub trait ServerEvent {
    const NAME: &'static str;
    type Payload: Serialize + ?Sized;
    /// The listener's arguments, in TypeScript.
    fn ts_args(cfg: &ts_rs::Config) -> String;
    /// What the event says (its doc comment).
    const DOC: &'static str;
}

/// One event as the generated TypeScript declares it.
#[derive(Debug, Clone)]
pub struct EventTs {
    /// The constant's name (`ROOM_JOIN`).
    pub konst: &'static str,
    /// The event's name on the wire (`room:join`).
    pub name: &'static str,
    /// Its arguments before the ack.
    pub args: String,
    /// A client event's ack payload, and whether the ack may be left out.
    pub ack: Option<(String, bool)>,
    pub doc: &'static str,
}

/// The TypeScript arguments of an event carrying one `T` under `name`.
fn ts_one<T: TS>(name: &str, cfg: &ts_rs::Config) -> String {
    format!("{name}: {}", T::name(cfg))
}

/// An event's TypeScript arguments: one `T` under `name`, or the ones written out.
macro_rules! ts_args {
    ($t:ty, $name:literal, $cfg:ident) => {
        ts_one::<$t>($name, $cfg)
    };
    ($t:ty, $name:literal, $cfg:ident, $args:literal) => {{
        let _ = $cfg;
        $args.to_owned()
    }};
}

/// Declares the client events: each one's constant, marker type, name, request and ack (and,
/// for an event whose arguments are not one JSON object, its TypeScript arguments).
macro_rules! client_events {
    ($( $(#[doc = $doc:literal])* $konst:ident, $marker:ident = $name:literal,
        $req:ty => $ack:ty $(, ts($args:literal))? $(, optional_ack($optional:literal))? ; )*) => {
        /// Client → server events: the names, and one marker type per event (see
        /// [`ClientEvent`]).
        pub mod client {
            #[allow(unused_imports)]
            use super::*;
            $(
                $(#[doc = $doc])*
                pub const $konst: &str = $name;

                $(#[doc = $doc])*
                #[derive(Debug, Clone, Copy)]
                pub struct $marker;

                impl ClientEvent for $marker {
                    const NAME: &'static str = $name;
                    type Request = $req;
                    type Ack = $ack;
                    const DOC: &'static str = concat!($($doc, "\n"),*);
                    const OPTIONAL_ACK: bool = false $(|| $optional)?;
                    fn ts_args(cfg: &ts_rs::Config) -> String {
                        ts_args!($req, "req", cfg $(, $args)?)
                    }
                    fn ts_ack(cfg: &ts_rs::Config) -> String {
                        <$ack as TS>::name(cfg)
                    }
                }
            )*

            /// Every client event, in the order above.
            pub const ALL: &[&str] = &[$($name),*];

            /// Every client event, for the generated TypeScript.
            pub fn table(cfg: &ts_rs::Config) -> Vec<EventTs> {
                vec![$(EventTs {
                    konst: stringify!($konst),
                    name: $name,
                    args: <$marker as ClientEvent>::ts_args(cfg),
                    ack: Some((
                        <$marker as ClientEvent>::ts_ack(cfg),
                        <$marker as ClientEvent>::OPTIONAL_ACK,
                    )),
                    doc: <$marker as ClientEvent>::DOC,
                }),*]
            }
        }
    };
}

/// Declares the server events: each one's constant, marker type, name and payload (and, for
/// an event whose arguments are not one JSON object, its TypeScript arguments).
macro_rules! server_events {
    ($( $(#[doc = $doc:literal])* $konst:ident, $marker:ident = $name:literal,
        $payload:ty $(, ts($args:literal))? ; )*) => {
        /// Server → client events: the names, and one marker type per event (see
        /// [`ServerEvent`]).
        pub mod server {
            #[allow(unused_imports)]
            use super::*;
            $(
                $(#[doc = $doc])*
                pub const $konst: &str = $name;

                $(#[doc = $doc])*
                #[derive(Debug, Clone, Copy)]
                pub struct $marker;

                impl ServerEvent for $marker {
                    const NAME: &'static str = $name;
                    type Payload = $payload;
                    const DOC: &'static str = concat!($($doc, "\n"),*);
                    fn ts_args(cfg: &ts_rs::Config) -> String {
                        ts_args!($payload, "e", cfg $(, $args)?)
                    }
                }
            )*

            /// Every server event, in the order above.
            pub const ALL: &[&str] = &[$($name),*];

            /// Every server event, for the generated TypeScript.
            pub fn table(cfg: &ts_rs::Config) -> Vec<EventTs> {
                vec![$(EventTs {
                    konst: stringify!($konst),
                    name: $name,
                    args: <$marker as ServerEvent>::ts_args(cfg),
                    ack: None,
                    doc: <$marker as ServerEvent>::DOC,
                }),*]
            }
        }
    };
}

use crate::activity::Activity;
use crate::chat::{
    ChatEdit, ChatHistory, ChatReact, ChatRead, ChatSend, Message, MessageAck, MessagePage,
    MessageRef, Thread, Unread,
};
use crate::docs::{DocError, DocJoined, DocRef, DocRemoved};
use crate::gamification::Leaderboard;
use crate::ids::DocId;
use crate::notifications::Notification;
use crate::rooms::{
    PresenceChanged, PresenceLeft, PresenceSet, RoomJoin, RoomJoined, RoomRef, RoomRemoved,
    RoomRoleChanged, Typing,
};
use crate::server::{Publication, SessionClosed, SessionReconnect};
use crate::wallets::WalletUpdated;

client_events! {
    /// Diagnostic: answers with the server time, to measure round trips.
    SYS_PING, SysPingEvent = "sys:ping", () => Pong, ts("");
    /// Diagnostic: answers with the binary payload it was given.
    SYS_ECHO, SysEchoEvent = "sys:echo", Echo => Echoed;
    /// Joins a room: its presence, typing, the caller's role and chat position, and what was
    /// missed since `since`.
    ROOM_JOIN, RoomJoinEvent = "room:join", RoomJoin => RoomJoined;
    /// Leaves a room.
    ROOM_LEAVE, RoomLeaveEvent = "room:leave", RoomRef => RoomRef;
    /// Sets the caller's presence status and metadata in a joined room.
    PRESENCE_SET, PresenceSetEvent = "presence:set", PresenceSet => Done;
    /// The caller started typing in a joined room.
    TYPING_START, TypingStartEvent = "typing:start", RoomRef => Done;
    /// The caller stopped typing.
    TYPING_STOP, TypingStopEvent = "typing:stop", RoomRef => Done;
    /// Sends a chat message: acknowledged once stored, with its `seq`.
    CHAT_SEND, ChatSendEvent = "chat:send", ChatSend => MessageAck;
    /// Edits one of the caller's messages.
    CHAT_EDIT, ChatEditEvent = "chat:edit", ChatEdit => MessageAck;
    /// Deletes a message (its author, or the room's owners and admins).
    CHAT_DELETE, ChatDeleteEvent = "chat:delete", MessageRef => MessageAck;
    /// Adds or removes a reaction.
    CHAT_REACT, ChatReactEvent = "chat:react", ChatReact => MessageAck;
    /// A page of a room's history.
    CHAT_HISTORY, ChatHistoryEvent = "chat:history", ChatHistory => MessagePage;
    /// A message and its replies.
    CHAT_THREAD, ChatThreadEvent = "chat:thread", MessageRef => Thread;
    /// Moves the caller's read marker; the unread count after.
    CHAT_READ, ChatReadEvent = "chat:read", ChatRead => Unread;
    /// Follows a document over this socket (Yjs sync starts with `doc:msg`).
    DOC_JOIN, DocJoinEvent = "doc:join", DocRef => DocJoined;
    /// Stops following a document.
    DOC_LEAVE, DocLeaveEvent = "doc:leave", DocRef => Done;
    /// `(doc_id, bytes)`: exactly one y-protocols message, both directions; the ack is
    /// optional.
    DOC_MSG, DocMsgEvent = "doc:msg", (DocId, Binary) => Done,
        ts("doc: string, message: Uint8Array"), optional_ack(true);
}

server_events! {
    /// Someone came online in a room (or opened another tab).
    PRESENCE_JOIN, PresenceJoinEvent = "presence:join", PresenceChanged;
    /// Someone's presence status or metadata changed.
    PRESENCE_UPDATE, PresenceUpdateEvent = "presence:update", PresenceChanged;
    /// Someone left a room (their last tab, or their grace period ended).
    PRESENCE_LEAVE, PresenceLeaveEvent = "presence:leave", PresenceLeft;
    /// Who is typing in a room.
    TYPING, TypingEvent = "typing", Typing;
    /// A new chat message in a joined room.
    CHAT_MESSAGE, ChatMessageEvent = "chat:message", Message;
    /// A message was edited, deleted or reacted to.
    CHAT_UPDATED, ChatUpdatedEvent = "chat:updated", Message;
    /// A stored notification of the user, live.
    NOTIFICATION, NotificationEvent = "notification", Notification;
    /// The user lost access to a room (membership removed); its sockets have left it.
    ROOM_REMOVED, RoomRemovedEvent = "room:removed", RoomRemoved;
    /// `{room, role, can_write}`: the user's role in a room changed; it applies at once.
    ROOM_ROLE, RoomRoleEvent = "room:role", RoomRoleChanged;
    /// An entry of a venture's activity feed, to the `venture:{id}` room.
    ACTIVITY, ActivityEvent = "activity", Activity;
    /// A venture's leaderboard changed (`Leaderboard`), to the `venture:{id}` room, throttled.
    LEADERBOARD, LeaderboardEvent = "leaderboard", Leaderboard;
    /// `{buz_balance, pending_lock, available}`: the user's wallet changed.
    WALLET_UPDATED, WalletUpdatedEvent = "wallet:updated", WalletUpdated;
    /// One y-protocols message of a joined document.
    DOC_MSG, DocMsgEvent = "doc:msg", (DocId, Binary),
        ts("doc: string, message: ArrayBuffer");
    /// This socket no longer follows the document (deleted, access removed, fell behind).
    DOC_REMOVED, DocRemovedEvent = "doc:removed", DocRemoved;
    /// `{doc, error}`: a `doc:msg` was refused.
    DOC_ERROR, DocErrorEvent = "doc:error", DocError;
    /// An event another backend published through the server API, to a joined room or to
    /// the user (`room` is then `user:{id}`).
    SERVER_EVENT, ServerEventEvent = "server:event", Publication;
    /// `{code, reason}`: the hub closes this connection (a disconnect or a revocation through
    /// the server API); the server disconnect follows.
    SESSION_CLOSED, SessionClosedEvent = "session:closed", SessionClosed;
    /// `{reason, after_ms}`: this node is going away (draining); the server disconnect
    /// follows. Connect again after `after_ms`: another node takes the connection.
    SESSION_RECONNECT, SessionReconnectEvent = "session:reconnect", SessionReconnect;
}

/// Binary data on the wire: a Socket.IO binary attachment (`ArrayBuffer` in the browser).
pub type Binary = bytes::Bytes;

/// An ack with no fields beside `ok`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, TS, ToSchema)]
pub struct Done {}

/// `sys:echo`'s request: binary data.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
pub struct Echo {
    #[ts(type = "ArrayBuffer | Uint8Array")]
    #[schema(value_type = String, format = Binary)]
    pub data: Binary,
}

/// `sys:echo`'s ack: the data it was given, and its size in bytes.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
pub struct Echoed {
    #[ts(type = "ArrayBuffer")]
    #[schema(value_type = String, format = Binary)]
    pub data: Binary,
    pub size: usize,
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
