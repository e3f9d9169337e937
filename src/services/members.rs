//! Membership changes as the people concerned and the venture's feed see them: the member is
//! notified (`member_added`, `member_removed`) and the venture's activity feed records it
//! (`member.joined`, `member.left`). The change itself (and its audit entry) is the store's.

use super::Services;
use hub_protocol::notifications::{MemberData, NotificationBody};
use hub_protocol::{Role, TeamId, UserId, VentureId};
use serde_json::json;

impl Services {
    /// `user` joined `venture` (or its `team`) with `role`, added by `by`.
    pub async fn member_joined(
        &self,
        venture: &VentureId,
        team: Option<&TeamId>,
        user: &UserId,
        role: Role,
        by: &UserId,
    ) {
        let data = MemberData {
            venture_id: venture.to_string(),
            team_id: team.map(TeamId::to_string),
            role: Some(role),
            by: by.clone(),
        };
        self.notify_user(user, NotificationBody::MemberAdded(data))
            .await;
        let details = match team {
            Some(team) => json!({"role": role, "group": "team", "team_id": team}),
            None => json!({"role": role, "group": "venture"}),
        };
        self.record_activity(
            venture,
            Some(by),
            "member.joined",
            ("user", user.as_str()),
            details,
        )
        .await;
    }

    /// `user` left `venture` (or its `team`), removed by `by`.
    pub async fn member_left(
        &self,
        venture: &VentureId,
        team: Option<&TeamId>,
        user: &UserId,
        by: &UserId,
    ) {
        let data = MemberData {
            venture_id: venture.to_string(),
            team_id: team.map(TeamId::to_string),
            role: None,
            by: by.clone(),
        };
        self.notify_user(user, NotificationBody::MemberRemoved(data))
            .await;
        let details = match team {
            Some(team) => json!({"group": "team", "team_id": team}),
            None => json!({"group": "venture"}),
        };
        self.record_activity(
            venture,
            Some(by),
            "member.left",
            ("user", user.as_str()),
            details,
        )
        .await;
    }
}
