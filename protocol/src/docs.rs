//! Collaborative documents: REST bodies and the Socket.IO events that carry y-protocols
//! messages. A document belongs to a room; members with role `member` or above edit,
//! `viewer`s read.

use crate::ids::{DocId, RoomId, UserId};
use crate::roles::Role;
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

/// `POST /api/v1/docs`
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
pub struct CreateDoc {
    pub room: RoomId,
    pub title: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct DocInfo {
    pub id: DocId,
    pub room: RoomId,
    pub title: String,
    pub created_by: UserId,
    pub created_at: String,
    /// The caller's role in the document's room.
    pub role: Role,
}

/// `GET /api/v1/docs?room=`
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
pub struct DocList {
    pub docs: Vec<DocInfo>,
}

/// `doc:join` and `doc:leave`.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
pub struct DocRef {
    pub doc: DocId,
}

/// Ack of `doc:join`: after it, the server sends its sync step 1 and the awareness as
/// `doc:msg`.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
pub struct DocJoined {
    pub doc: DocId,
    pub role: Role,
    /// Whether this connection may change the document.
    pub can_write: bool,
}

/// `doc:error`: a `doc:msg` of this connection was refused (also answered on its ack when one
/// was asked).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
pub struct DocError {
    pub doc: DocId,
    pub error: crate::ErrorDetail,
}

/// `doc:removed`: the connection no longer follows the document (deleted, or it fell behind
/// and must rejoin to resync).
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
pub struct DocRemoved {
    pub doc: DocId,
    pub reason: String,
}
