//! The server API: what another backend of the platform asks of the hub (publish to rooms and
//! users, read presence, disconnect a user, revoke their tokens), and the API keys it may use
//! instead of a `system` token.

use crate::ids::{ApiKeyId, PublicationId, RoomId, UserId};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

/// What a server event carries to the sockets of a room or a user (`server:event`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
pub struct Publication {
    pub id: PublicationId,
    /// The room it was published to (`user:{id}` for a user's sockets).
    pub room: RoomId,
    /// The publisher's name for it: 1 to 64 of `A-Z a-z 0-9 : . _ -`.
    pub event: String,
    /// What the publisher sent, as it sent it (at most `HUB_PUBLISH_MAX_BYTES` of JSON).
    #[ts(type = "unknown")]
    pub data: serde_json::Value,
    /// With `store: true`: its place in the room's publications (1, 2, 3…, no gap), for a
    /// client to ask for what it missed (`GET /api/v1/rooms/{room}/publications?after=`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub seq: Option<i64>,
    /// When the hub took it (RFC 3339).
    pub published_at: String,
}

/// `POST /api/v1/rooms/{room}/publish` and `POST /api/v1/users/{user}/publish`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
pub struct Publish {
    pub event: String,
    #[ts(type = "unknown")]
    pub data: serde_json::Value,
    /// Keep it in the room's publications with a `seq` (rooms only; default `false`).
    #[serde(default)]
    #[ts(optional)]
    pub store: Option<bool>,
}

/// `POST /api/v1/publish`: one event to many rooms (at most 1,000), not stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
pub struct Broadcast {
    pub rooms: Vec<RoomId>,
    pub event: String,
    #[ts(type = "unknown")]
    pub data: serde_json::Value,
}

/// What a publish answers: the publications as sent, one per room.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
pub struct Published {
    pub publications: Vec<Publication>,
}

/// `GET /api/v1/rooms/{room}/publications?after=&limit=`: stored publications, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
pub struct PublicationPage {
    pub publications: Vec<Publication>,
    /// More lie after the last one.
    pub has_more: bool,
}

/// How many are in a room: users present (tabs and nodes counted once, those within their
/// reconnect grace included) and their connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS, ToSchema)]
pub struct PresenceCount {
    pub users: u64,
    pub connections: u64,
}

/// `GET /api/v1/rooms/{room}/presence`: who is in the room, as its sockets see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
pub struct RoomPresence {
    pub room: RoomId,
    pub presence: Vec<crate::rooms::PresenceEntry>,
    pub typing: Vec<UserId>,
    pub count: PresenceCount,
}

/// `POST /api/v1/presence/counts`: the counts of many rooms (at most 1,000).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct CountRooms {
    pub rooms: Vec<RoomId>,
}

/// The counts, room by room in the order asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct PresenceCounts {
    pub rooms: Vec<RoomCount>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct RoomCount {
    pub room: RoomId,
    pub count: PresenceCount,
}

/// `POST /api/v1/users/{user}/disconnect` and `/revoke`: why, told to the user's sockets
/// (at most 200 characters).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, TS, ToSchema)]
pub struct Disconnect {
    #[serde(default)]
    #[ts(optional)]
    pub reason: Option<String>,
}

/// What a disconnect or a revocation did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct Disconnected {
    pub user_id: UserId,
    pub reason: String,
    /// For a revocation: tokens issued (`iat`) before this time (RFC 3339) are refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub revoked_before: Option<String>,
}

/// `session:closed`: the hub closes this socket, and says why (`disconnected` or `revoked`);
/// the socket is then disconnected by the server. After `revoked`, only a token issued later
/// is accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct SessionClosed {
    pub code: SessionCloseCode,
    pub reason: String,
}

/// `session:reconnect`: the node that holds this connection is going away (it drains before a
/// restart or a scale-down); the server disconnect follows. Connect again after `after_ms` (a
/// random delay the hub picks, so that its clients do not all come back at once): the load
/// balancer sends the connection to another node, and rooms resume from their last `seq`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct SessionReconnect {
    /// `draining`.
    pub reason: String,
    pub after_ms: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SessionCloseCode {
    Disconnected,
    Revoked,
}

impl SessionCloseCode {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionCloseCode::Disconnected => "disconnected",
            SessionCloseCode::Revoked => "revoked",
        }
    }
}

/// What an API key may do.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Publish to rooms and users.
    Publish,
    /// Read rooms' presence and counts.
    Presence,
    /// Disconnect users and revoke their tokens.
    Disconnect,
    /// Send events in (`/api/v1/events/*`).
    Events,
    /// Manage webhook endpoints and their deliveries.
    Webhooks,
}

impl Scope {
    pub const ALL: [Scope; 5] = [
        Scope::Publish,
        Scope::Presence,
        Scope::Disconnect,
        Scope::Events,
        Scope::Webhooks,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Publish => "publish",
            Scope::Presence => "presence",
            Scope::Disconnect => "disconnect",
            Scope::Events => "events",
            Scope::Webhooks => "webhooks",
        }
    }

    pub fn parse(s: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// An API key as listed: never its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub name: String,
    pub scopes: Vec<Scope>,
    /// The key's first characters (`hk_` and 8 more), to tell keys apart.
    pub prefix: String,
    pub created_by: UserId,
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub last_used_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub revoked_at: Option<String>,
}

/// `POST /api/v1/api-keys`: a name (1 to 120 characters) and at least one scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct NewApiKey {
    pub name: String,
    pub scopes: Vec<Scope>,
}

/// A new key, with its secret: shown once, stored only hashed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct CreatedApiKey {
    pub key: ApiKey,
    /// `hk_…`: use as `Authorization: Bearer hk_…`.
    pub secret: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct ApiKeyList {
    pub keys: Vec<ApiKey>,
}
