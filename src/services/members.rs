//! Membership changes as the people concerned and the venture's feed see them: an invitee is
//! notified (`member_invited`), a member too (`member_added`, `member_removed`) and the
//! venture's activity feed records it (`member.joined`, `member.left`). The change itself (and
//! its audit entry) is the store's.

use super::Services;
use crate::store::{InvitationRow, rfc3339};
use hub_protocol::notifications::{MemberData, NotificationBody};
use hub_protocol::rest::Invitation;
use hub_protocol::{Role, TeamId, UserId, VentureId};
use serde_json::json;

/// An invitation as clients see it.
pub fn invitation_view(row: &InvitationRow) -> Invitation {
    Invitation {
        id: row.id.clone(),
        venture_id: row.venture_id.clone(),
        venture_name: row.venture_name.clone(),
        team_id: row.team_id.clone(),
        team_name: row.team_name.clone(),
        user_id: row.user_id.clone(),
        role: row.role,
        invited_by: row.invited_by.clone(),
        created_at: rfc3339(row.created_at),
    }
}

impl Services {
    /// `invitation` was made (or its role changed): its user hears it live.
    pub async fn member_invited(&self, invitation: &InvitationRow) {
        self.notify_user(
            &invitation.user_id,
            NotificationBody::MemberInvited(invitation_view(invitation)),
        )
        .await;
    }

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
            venture_id: venture.clone(),
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
            venture_id: venture.clone(),
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
