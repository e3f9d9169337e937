//! A venture's activity feed: `GET /api/v1/ventures/{id}/activity` and the live `activity`
//! event to the `venture:{id}` room.

use crate::ids::{UserId, VentureId};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
pub struct Activity {
    /// UUID v7: ids order by time.
    pub id: String,
    pub venture_id: VentureId,
    /// Who did it (`null` for the hub itself).
    pub actor_id: Option<UserId>,
    /// `member.joined`, `member.left`, `member.role_changed`, `team.created`,
    /// `document.created`, `task.accepted`.
    pub verb: String,
    /// `user`, `team`, `document` or `task`.
    pub object_kind: String,
    pub object_id: String,
    /// Details of the verb (a role, a name, a title).
    #[ts(type = "Record<string, unknown>")]
    pub data: serde_json::Value,
    pub created_at: String,
}

/// A page of the feed, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
pub struct ActivityPage {
    pub activities: Vec<Activity>,
    /// Older entries exist: ask again with `before` = the last id of this page.
    pub has_more: bool,
}
