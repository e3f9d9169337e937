//! Notifications: stored, then sent live as `notification` to every socket of their user (after
//! the row is committed). `GET /api/v1/notifications` pages the same objects. Each `kind` has
//! a typed `data`: in TypeScript a `Notification` is a union discriminated by `kind`.

use crate::ids::{
    ConversionId, FileId, MessageId, NotificationId, RoomId, ShareId, SignatureId, TaskId, UserId,
    VentureId,
};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
pub struct Notification {
    /// UUID v7: ids order by time.
    pub id: NotificationId,
    /// `kind` and its `data`.
    #[serde(flatten)]
    pub body: NotificationBody,
    pub created_at: String,
    pub read: bool,
}

/// Each kind and its payload, as `{kind, data}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[serde(tag = "kind", content = "data", rename_all = "snake_case")]
pub enum NotificationBody {
    /// A chat message names the user.
    Mention(MentionData),
    /// The user is invited to a venture or one of its teams (accept or decline it through
    /// `/api/v1/invitations`).
    MemberInvited(crate::rest::Invitation),
    /// The user was added to a venture or one of its teams.
    MemberAdded(MemberData),
    /// The user was removed from a venture or one of its teams.
    MemberRemoved(MemberData),
    /// To admins: the audit log's integrity check found breaks.
    AuditBroken(AuditBrokenData),
    /// The user reached a new level.
    LevelUp(LevelUpData),
    /// The user was awarded a badge.
    BadgeAwarded(BadgeAwardedData),
    /// Someone endorsed one of the user's skills.
    Endorsed(EndorsedData),
    /// A venture owner or an admin verified one of the user's skills.
    SkillVerified(SkillVerifiedData),
    /// BUZ was credited to the user's wallet for an accepted task.
    BuzCredited(BuzData),
    /// An accepted task's BUZ was withheld entirely (see `GET /api/v1/wallet/me/withheld`).
    BuzWithheld(BuzData),
    /// The venture's board decided the user's equity conversion request (or it expired).
    ConversionDecided(ConversionDecidedData),
    /// A document was shared with the user.
    DocumentShared(DocumentSharedData),
    /// Someone commented on a document the user owns.
    DocumentCommented(DocumentCommentedData),
    /// The owner of a document asks the user to sign it.
    SignatureRequested(SignatureData),
    /// A document the user owns was signed.
    DocumentSigned(SignatureData),
    /// To admins: a stored file no longer matches its checksum.
    FileCorrupted(FileCorruptedData),
}

impl NotificationBody {
    /// The `kind` on the wire.
    pub fn kind(&self) -> &'static str {
        match self {
            NotificationBody::Mention(_) => "mention",
            NotificationBody::MemberInvited(_) => "member_invited",
            NotificationBody::MemberAdded(_) => "member_added",
            NotificationBody::MemberRemoved(_) => "member_removed",
            NotificationBody::AuditBroken(_) => "audit_broken",
            NotificationBody::LevelUp(_) => "level_up",
            NotificationBody::BadgeAwarded(_) => "badge_awarded",
            NotificationBody::Endorsed(_) => "endorsed",
            NotificationBody::SkillVerified(_) => "skill_verified",
            NotificationBody::BuzCredited(_) => "buz_credited",
            NotificationBody::BuzWithheld(_) => "buz_withheld",
            NotificationBody::ConversionDecided(_) => "conversion_decided",
            NotificationBody::DocumentShared(_) => "document_shared",
            NotificationBody::DocumentCommented(_) => "document_commented",
            NotificationBody::SignatureRequested(_) => "signature_requested",
            NotificationBody::DocumentSigned(_) => "document_signed",
            NotificationBody::FileCorrupted(_) => "file_corrupted",
        }
    }
}

/// `audit_broken`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
pub struct AuditBrokenData {
    /// Each broken scope and its first unrecorded break.
    pub scopes: Vec<crate::audit::ScopeIntegrity>,
}

/// `mention`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
pub struct MentionData {
    pub room: RoomId,
    pub message_id: MessageId,
    pub seq: i64,
    pub author_id: UserId,
    pub author_name: String,
    /// The start of the message.
    pub excerpt: String,
}

/// `member_added` / `member_removed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
pub struct MemberData {
    pub venture_id: VentureId,
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

/// `level_up`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct LevelUpData {
    pub level: u32,
    pub previous_level: u32,
    #[ts(type = "number")]
    pub xp: i64,
}

/// `badge_awarded`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
pub struct BadgeAwardedData {
    pub code: String,
    pub name: String,
    /// Why (the admin's reason, or `rule` when the badge's rule awarded it).
    pub reason: String,
    /// XP the badge brought.
    #[ts(type = "number")]
    pub xp: i64,
}

/// `endorsed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
pub struct EndorsedData {
    pub endorser_id: UserId,
    pub skill: String,
    pub rating: u8,
    /// XP the endorsement brought (0 past the day's endorsement allowance).
    #[ts(type = "number")]
    pub xp: i64,
}

/// `skill_verified`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
pub struct SkillVerifiedData {
    pub skill: String,
    pub by: UserId,
}

/// `buz_credited` / `buz_withheld`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
pub struct BuzData {
    pub task_id: TaskId,
    #[ts(type = "number")]
    pub credited: i64,
    #[ts(type = "number")]
    pub withheld: i64,
    /// Why some was withheld (`kyc`, `reputation`, `device`, `velocity`, `daily_cap`,
    /// `balance_limit`).
    pub reason: Option<String>,
    /// The balance after the credit.
    #[ts(type = "number")]
    pub buz_balance: i64,
}

/// `conversion_decided`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
pub struct ConversionDecidedData {
    pub conversion_id: ConversionId,
    pub venture_id: VentureId,
    /// `APPROVED`, `REJECTED` or `EXPIRED`.
    pub status: String,
    #[ts(type = "number")]
    pub buz_used: i64,
    #[ts(type = "number | null")]
    pub equity_granted_bp: Option<i64>,
    pub note: Option<String>,
}

/// `document_shared`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
pub struct DocumentSharedData {
    pub document_id: FileId,
    pub title: String,
    pub share_id: ShareId,
    pub by: UserId,
    pub can_view: bool,
    pub can_comment: bool,
    pub can_sign: bool,
}

/// `document_commented`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
pub struct DocumentCommentedData {
    pub document_id: FileId,
    pub title: String,
    pub comment_id: String,
    pub author_id: UserId,
    /// The start of the comment.
    pub excerpt: String,
}

/// `signature_requested` / `document_signed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
pub struct SignatureData {
    pub signature_id: SignatureId,
    pub document_id: FileId,
    pub title: String,
    pub signer_id: UserId,
    pub requested_by: UserId,
}

/// `file_corrupted`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
pub struct FileCorruptedData {
    pub document_id: FileId,
    pub title: String,
    pub owner_id: UserId,
    pub expected_sha256: String,
    pub actual_sha256: String,
    /// `download` or `scrub`.
    pub found_by: String,
}

/// `GET /api/v1/notifications?unread=&before=&limit=`: newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
pub struct NotificationList {
    pub notifications: Vec<Notification>,
    pub unread_count: i64,
    pub has_more: bool,
}

/// `POST /api/v1/notifications/read`: `{ids: [...]}` or `{all: true}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
pub struct MarkRead {
    #[serde(default)]
    #[ts(optional)]
    pub ids: Option<Vec<NotificationId>>,
    #[serde(default)]
    #[ts(optional)]
    pub all: Option<bool>,
}

/// The answer to `POST /api/v1/notifications/read`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
pub struct UnreadCount {
    pub unread_count: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wire_shape_is_kind_and_data_beside_the_rest() {
        let n = Notification {
            id: "n1".into(),
            body: NotificationBody::LevelUp(LevelUpData {
                level: 2,
                previous_level: 1,
                xp: 120,
            }),
            created_at: "t".into(),
            read: false,
        };
        let v = serde_json::to_value(&n).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"id": "n1", "kind": "level_up",
                "data": {"level": 2, "previous_level": 1, "xp": 120},
                "created_at": "t", "read": false})
        );
        assert_eq!(serde_json::from_value::<Notification>(v).unwrap(), n);
        assert_eq!(n.body.kind(), "level_up");
    }
}
