//! Uploaded files, called documents on the wire (`/api/v1/documents`): uploads with checksums,
//! shares (to users, or to clients by a signed link), comments and legal holds.

use crate::ids::{ClientId, FileId, ShareId, UserId, VentureId};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

/// An uploaded document. Its content is at `GET /api/v1/documents/{id}/content`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct FileDoc {
    pub id: FileId,
    pub owner_id: UserId,
    pub title: String,
    /// `contract`, `invoice`, … (1–40 characters of a-z, 0-9, _ and -).
    #[serde(rename = "type")]
    #[ts(rename = "type")]
    pub kind: String,
    pub file_name: String,
    pub content_type: String,
    #[ts(type = "number")]
    pub size: i64,
    /// Lowercase hex SHA-256 of the content (also its `ETag`).
    pub checksum_sha256: String,
    pub venture_id: Option<VentureId>,
    pub client_id: Option<ClientId>,
    /// Under a legal hold: it cannot be deleted.
    pub on_hold: bool,
    /// The stored content no longer matches its checksum (found by a download or the scrub).
    pub corrupted: bool,
    pub created_at: String,
}

/// `GET /api/v1/documents?scope=mine|shared`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct FileList {
    pub documents: Vec<FileDoc>,
}

/// `POST /api/v1/documents/{id}/share`: to exactly one of a user or a client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct NewShare {
    #[serde(default)]
    #[ts(optional)]
    pub to_user_id: Option<UserId>,
    #[serde(default)]
    #[ts(optional)]
    pub client_id: Option<ClientId>,
    /// Default true.
    #[serde(default)]
    #[ts(optional)]
    pub can_view: Option<bool>,
    #[serde(default)]
    #[ts(optional)]
    pub can_comment: Option<bool>,
    #[serde(default)]
    #[ts(optional)]
    pub can_sign: Option<bool>,
    /// RFC 3339; none: until revoked (a client link expires after `HUB_SHARE_LINK_TTL`).
    #[serde(default)]
    #[ts(optional)]
    pub expires_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct Share {
    pub id: ShareId,
    pub document_id: FileId,
    pub to_user_id: Option<UserId>,
    pub client_id: Option<ClientId>,
    pub can_view: bool,
    pub can_comment: bool,
    pub can_sign: bool,
    pub expires_at: Option<String>,
    pub revoked: bool,
    pub created_by: UserId,
    pub created_at: String,
    /// For a client share, when created: the link's path with its signed token
    /// (`/api/v1/shared/{token}`; its content at `/api/v1/shared/{token}/content`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub link: Option<String>,
}

/// `GET /api/v1/documents/{id}/shares`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct ShareList {
    pub shares: Vec<Share>,
}

/// `GET /api/v1/shared/{token}`: what a client link shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct SharedDoc {
    pub document: FileDoc,
    pub share: Share,
}

/// `POST /api/v1/documents/{id}/comments`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct NewComment {
    /// 1 to 2000 characters.
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct Comment {
    pub id: String,
    pub document_id: FileId,
    pub author_id: UserId,
    pub body: String,
    pub created_at: String,
}

/// `GET /api/v1/documents/{id}/comments`: oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct CommentList {
    pub comments: Vec<Comment>,
}

/// `POST /api/v1/documents/{id}/hold` (admin).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct Hold {
    /// 1 to 280 characters.
    pub reason: String,
}
