//! Membership changes as the people concerned and the venture's feed see them: an invitee is
//! notified (`member_invited`), a member too (`member_added`, `member_removed`) and the
//! venture's activity feed records it (`member.joined`, `member.left`). The change itself (and
//! its audit entry) is the store's.

use super::access::{Access, AccessError};
use super::activity::Activity;
use super::notifications::Notifications;
use super::notify::Notify;
use super::presence::Presence;
use crate::store::{InvitationRow, rfc3339};
use hub_protocol::notifications::{MemberData, NotificationBody};
use hub_protocol::rest::Invitation;
use hub_protocol::{Role, RoomId, TeamId, UserId, VentureId};
use hub_rooms::RoomName;
use serde_json::json;
use std::sync::Arc;

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

/// A user's roles in some rooms, read before a membership change (see
/// [`Members::watch_roles`]).
pub struct RoleWatch {
    user: UserId,
    before: Vec<(RoomName, Option<Role>)>,
}

/// What a membership change does beyond its rows: who hears of it, the venture's feed, and
/// the live connections of the user whose roles changed.
#[derive(Clone)]
pub struct Members {
    access: Access,
    presence: Arc<Presence>,
    notify: Notify,
    notifications: Notifications,
    activity: Activity,
}

impl Members {
    pub fn new(
        access: Access,
        presence: Arc<Presence>,
        notify: Notify,
        notifications: Notifications,
        activity: Activity,
    ) -> Members {
        Members {
            access,
            presence,
            notify,
            notifications,
            activity,
        }
    }

    /// Reads `user`'s roles in `rooms` before a membership change; [`Members::follow_roles`]
    /// then makes their live connections follow what changed.
    pub async fn watch_roles(
        &self,
        user: &UserId,
        rooms: Vec<RoomName>,
    ) -> Result<RoleWatch, AccessError> {
        let mut before = Vec::with_capacity(rooms.len());
        for room in rooms {
            let role = self.access.room_role(user, &room).await?;
            before.push((room, role));
        }
        Ok(RoleWatch {
            user: user.clone(),
            before,
        })
    }

    /// After a membership change: the user's live connections, on every node, follow what
    /// changed (documents turn read-only or writable and `room:role` tells them; a room they
    /// lost is left with `room:removed` and `lost_reason`); rooms whose role did not change are
    /// left alone.
    pub async fn follow_roles(
        &self,
        watch: RoleWatch,
        lost_reason: &str,
    ) -> Result<(), AccessError> {
        let mut lost = Vec::new();
        let mut changed: Vec<(Role, Vec<RoomId>)> = Vec::new();
        for (room, was) in watch.before {
            let now = self.access.room_role(&watch.user, &room).await?;
            match (was, now) {
                (Some(_), None) => lost.push(room.id()),
                (was, Some(role)) if was != Some(role) => {
                    match changed.iter_mut().find(|(r, _)| *r == role) {
                        Some((_, rooms)) => rooms.push(room.id()),
                        None => changed.push((role, vec![room.id()])),
                    }
                }
                _ => {}
            }
        }
        if !lost.is_empty() {
            self.remove_user_from_rooms(&watch.user, lost, lost_reason)
                .await;
        }
        for (role, rooms) in changed {
            self.notify.set_role(&watch.user, rooms, role).await;
        }
        Ok(())
    }

    /// `user` lost access to `rooms`: their sockets leave them on every node, their presence
    /// goes, and they are told with `room:removed`.
    pub async fn remove_user_from_rooms(&self, user: &UserId, rooms: Vec<RoomId>, reason: &str) {
        for room in &rooms {
            self.presence.kick(room, user).await;
        }
        self.notify.remove_from_rooms(user, rooms, reason).await;
    }

    /// `invitation` was made (or its role changed): its user hears it live.
    pub async fn invited(&self, invitation: &InvitationRow) {
        self.notifications
            .add(
                &invitation.user_id,
                NotificationBody::MemberInvited(invitation_view(invitation)),
            )
            .await;
    }

    /// `user` joined `venture` (or its `team`) with `role`, added by `by`.
    pub async fn joined(
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
        self.notifications
            .add(user, NotificationBody::MemberAdded(data))
            .await;
        let details = match team {
            Some(team) => json!({"role": role, "group": "team", "team_id": team}),
            None => json!({"role": role, "group": "venture"}),
        };
        self.activity
            .record(
                venture,
                Some(by),
                "member.joined",
                ("user", user.as_str()),
                details,
            )
            .await;
    }

    /// `user` left `venture` (or its `team`), removed by `by`.
    pub async fn left(
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
        self.notifications
            .add(user, NotificationBody::MemberRemoved(data))
            .await;
        let details = match team {
            Some(team) => json!({"group": "team", "team_id": team}),
            None => json!({"group": "venture"}),
        };
        self.activity
            .record(
                venture,
                Some(by),
                "member.left",
                ("user", user.as_str()),
                details,
            )
            .await;
    }
}
