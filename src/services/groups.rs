//! Ventures and teams: create them, read them as their members see them, and change who belongs
//! (an invitation for someone new, a role for a member, a removal), with what each change does
//! to live sockets: roles followed in joined rooms, removed users taken out of the rooms at once.
//! The rooms a user belongs to, with their chat positions, are read here too.

use super::access::{Access, Caller};
use super::activity::Activity;
use super::members::Members;
use super::membership::{Membership, Removed, SetOutcome};
use crate::clock::rfc3339;
use crate::error::DomainError;
use crate::store::{Group, InvitationRow, MemberRow, NewAudit, Requester, StoreError};
use crate::store::{Store, TeamRow, VentureRow};
use hub_protocol::activity::ActivityPage;
use hub_protocol::rest::{
    Invitation, Member, MemberSet, RoomSummary, Team, TeamDetail, Venture, VentureDetail,
};
use hub_protocol::{ErrorCode, InvitationId, Role, RoomId, TeamId, UserId, VentureId};
use hub_rooms::RoomName;
use serde_json::json;

/// Longest venture, team or document name, in characters.
pub const MAX_NAME_CHARS: usize = 120;
/// Longest venture description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 2000;

#[derive(Debug, thiserror::Error)]
pub enum GroupError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Forbidden(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

domain_error!(GroupError, access);

impl DomainError for GroupError {
    fn code(&self) -> ErrorCode {
        match self {
            GroupError::Invalid(_) => ErrorCode::Invalid,
            GroupError::NotFound(_) => ErrorCode::NotFound,
            GroupError::Forbidden(_) => ErrorCode::Forbidden,
            GroupError::Store(s) => s.code(),
        }
    }

    fn public_message(&self) -> String {
        match self {
            GroupError::Store(s) => s.public_message(),
            other => other.to_string(),
        }
    }
}

type GroupResult<T> = Result<T, GroupError>;

/// A missing row as the 404 of `what`; any other store error as it is.
fn no_such(what: &'static str) -> impl FnOnce(StoreError) -> GroupError {
    move |e| match e {
        StoreError::NotFound => GroupError::NotFound(format!("no such {what}")),
        other => other.into(),
    }
}

/// Trims `name` and checks it is 1..=120 characters without control characters.
pub fn clean_name(field: &str, name: &str) -> GroupResult<String> {
    let name = name.trim();
    if name.is_empty()
        || name.chars().count() > MAX_NAME_CHARS
        || name.chars().any(char::is_control)
    {
        return Err(GroupError::Invalid(format!(
            "{field} must be 1 to {MAX_NAME_CHARS} characters without control characters"
        )));
    }
    Ok(name.to_owned())
}

/// Checks a user id named in a request: 1 to 128 characters without spaces or `:`.
pub fn check_user_id(id: &UserId) -> GroupResult<()> {
    if crate::auth::valid_user_id(id.as_str()) {
        Ok(())
    } else {
        Err(GroupError::Invalid(
            "user_id must be 1 to 128 characters without spaces or ':'".into(),
        ))
    }
}

pub fn venture_view(row: VentureRow, role: Option<Role>) -> Venture {
    Venture {
        id: row.id,
        name: row.name,
        description: row.description,
        created_by: row.created_by,
        created_at: rfc3339(row.created_at),
        role,
    }
}

pub fn team_view(row: TeamRow, role: Option<Role>) -> Team {
    Team {
        id: row.id,
        venture_id: row.venture_id,
        name: row.name,
        created_by: row.created_by,
        created_at: rfc3339(row.created_at),
        role,
    }
}

pub fn member_view(row: MemberRow) -> Member {
    Member {
        user_id: row.user_id,
        name: row.name,
        role: row.role,
        added_at: rfc3339(row.added_at),
    }
}

/// What a membership request did: the member added or changed, or the invitation sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberOutcome {
    Added,
    Changed,
    Invited,
}

/// Ventures, teams and who belongs to them.
#[derive(Clone)]
pub struct Groups {
    store: Store,
    membership: Membership,
    access: Access,
    activity: Activity,
    members: Members,
}

impl Groups {
    pub fn new(
        store: Store,
        membership: Membership,
        access: Access,
        activity: Activity,
        members: Members,
    ) -> Groups {
        Groups {
            store,
            membership,
            access,
            activity,
            members,
        }
    }

    /// The caller's ventures and teams, each with the caller's role.
    pub async fn groups_of(&self, user: &UserId) -> GroupResult<(Vec<Venture>, Vec<Team>)> {
        let ventures = self.store.ventures_of(user).await?;
        let teams = self.store.teams_of(user).await?;
        Ok((
            ventures
                .into_iter()
                .map(|(v, r)| venture_view(v, Some(r)))
                .collect(),
            teams
                .into_iter()
                .map(|(t, r)| team_view(t, Some(r)))
                .collect(),
        ))
    }

    /// A new venture, its creator its owner.
    pub async fn venture_create(
        &self,
        caller: Caller<'_>,
        name: &str,
        description: Option<&str>,
    ) -> GroupResult<Venture> {
        let name = clean_name("name", name)?;
        let description = description.map(str::trim).filter(|d| !d.is_empty());
        if description.is_some_and(|d| d.chars().count() > MAX_DESCRIPTION_CHARS) {
            return Err(GroupError::Invalid(format!(
                "description must be at most {MAX_DESCRIPTION_CHARS} characters"
            )));
        }
        let row = self.new_venture(caller.user, &name, description).await?;
        Ok(venture_view(row, Some(Role::Owner)))
    }

    /// Writes a new venture by `creator` (its owner) with its audit entry (`venture.created`).
    pub async fn new_venture(
        &self,
        creator: &UserId,
        name: &str,
        description: Option<&str>,
    ) -> Result<VentureRow, StoreError> {
        let mut w = self.store.begin_write().await?;
        let row = self
            .store
            .insert_venture(&mut w, creator, name, description)
            .await?;
        self.store
            .audit(
                &mut w,
                NewAudit {
                    scope: format!("venture:{}", row.id),
                    ref_id: Some(row.id.as_str()),
                    actor_id: Some(creator.as_str()),
                    action: "venture.created",
                    details: json!({"name": row.name, "description": row.description, "owner": creator}),
                },
            )
            .await?;
        w.commit().await?;
        Ok(row)
    }

    /// The venture as a member (or a privileged account) sees it: its teams with the caller's
    /// role in each, its members, and its pending invitations for those who manage it.
    pub async fn venture_detail(
        &self,
        caller: Caller<'_>,
        id: &VentureId,
    ) -> GroupResult<VentureDetail> {
        let (venture, role) = self.access.venture(caller, id).await?;
        let mine = self.store.teams_of(caller.user).await?;
        let teams = self
            .store
            .teams_of_venture(id)
            .await?
            .into_iter()
            .map(|t| {
                let role = mine.iter().find(|(m, _)| m.id == t.id).map(|(_, r)| *r);
                team_view(t, role)
            })
            .collect();
        let members = self
            .store
            .members(&Group::Venture(id.clone()))
            .await?
            .into_iter()
            .map(member_view)
            .collect();
        let invitations = if caller.privileged || role.is_some_and(|r| r.can_manage()) {
            self.store
                .invitations_in(id)
                .await?
                .iter()
                .map(super::members::invitation_view)
                .collect()
        } else {
            Vec::new()
        };
        Ok(VentureDetail {
            venture: venture_view(venture, role),
            teams,
            members,
            invitations,
        })
    }

    /// The venture's room and its teams' rooms: the venture role also decides the team rooms
    /// (owners and admins see every team).
    async fn venture_rooms(&self, id: &VentureId) -> GroupResult<Vec<RoomName>> {
        let mut rooms = vec![RoomName::Venture(id.clone())];
        for team in self.store.teams_of_venture(id).await? {
            rooms.push(RoomName::Team(team.id));
        }
        Ok(rooms)
    }

    /// Adds `user` to the venture (an invitation for someone not yet in it) or changes their
    /// role; their live sockets follow the new role at once.
    pub async fn venture_member_set(
        &self,
        caller: Caller<'_>,
        id: &VentureId,
        user: &UserId,
        role: Role,
    ) -> GroupResult<(MemberOutcome, MemberSet)> {
        check_user_id(user)?;
        self.access.venture(caller, id).await?;
        let rooms = self.venture_rooms(id).await?;
        let group = Group::Venture(id.clone());
        self.member_set(
            caller,
            group,
            rooms,
            user,
            role,
            "no longer allowed in the room",
        )
        .await
    }

    /// Adds or changes a member of the team (venture owners and admins manage every team of
    /// their venture; team owners and admins their own team).
    pub async fn team_member_set(
        &self,
        caller: Caller<'_>,
        id: &TeamId,
        user: &UserId,
        role: Role,
    ) -> GroupResult<(MemberOutcome, MemberSet)> {
        check_user_id(user)?;
        let (team, _) = self.access.team(caller, id).await?;
        let rooms = vec![RoomName::Team(team.id.clone())];
        let group = Store::team_group(&team);
        self.member_set(
            caller,
            group,
            rooms,
            user,
            role,
            "no longer allowed in the team",
        )
        .await
    }

    async fn member_set(
        &self,
        caller: Caller<'_>,
        group: Group,
        rooms: Vec<RoomName>,
        user: &UserId,
        role: Role,
        why: &str,
    ) -> GroupResult<(MemberOutcome, MemberSet)> {
        let by = Requester {
            user: caller.user,
            privileged: caller.privileged,
        };
        let before = self.members.watch_roles(user, rooms).await?;
        let outcome = self.membership.set(&group, by, user, role).await?;
        self.members.follow_roles(before, why).await?;
        let (venture, team) = match &group {
            Group::Venture(v) => (v, None),
            Group::Team { id, venture } => (venture, Some(id)),
        };
        Ok(match outcome {
            SetOutcome::Added(m) => {
                self.members
                    .joined(venture, team, &m.user_id, m.role, caller.user)
                    .await;
                (MemberOutcome::Added, member_set("added", Some(m), None))
            }
            SetOutcome::Changed(m) => {
                (MemberOutcome::Changed, member_set("changed", Some(m), None))
            }
            SetOutcome::Invited(i) => {
                self.members.invited(&i).await;
                (
                    MemberOutcome::Invited,
                    member_set("invited", None, Some(&i)),
                )
            }
        })
    }

    /// Removes a member (or withdraws a pending invitation); out of the venture means out of
    /// its rooms, the team rooms included, at once.
    pub async fn venture_member_remove(
        &self,
        caller: Caller<'_>,
        id: &VentureId,
        user: &UserId,
    ) -> GroupResult<()> {
        self.access.venture(caller, id).await?;
        let group = Group::Venture(id.clone());
        if self.member_remove(caller, &group, user).await? == Removed::Invitation {
            return Ok(());
        }
        let rooms = self.venture_rooms(id).await?;
        self.members.left(id, None, user, caller.user).await;
        self.members
            .remove_user_from_rooms(
                user,
                rooms.iter().map(RoomName::id).collect(),
                "removed from the venture",
            )
            .await;
        Ok(())
    }

    /// Removes a member of the team (or withdraws an invitation to it). Venture owners and
    /// admins keep the team room through their venture role.
    pub async fn team_member_remove(
        &self,
        caller: Caller<'_>,
        id: &TeamId,
        user: &UserId,
    ) -> GroupResult<()> {
        let (team, _) = self.access.team(caller, id).await?;
        let group = Store::team_group(&team);
        if self.member_remove(caller, &group, user).await? == Removed::Invitation {
            return Ok(());
        }
        let room = RoomName::Team(team.id.clone());
        if self.access.room_role(user, &room).await?.is_none() {
            self.members
                .remove_user_from_rooms(user, vec![room.id()], "removed from the team")
                .await;
        }
        self.members
            .left(&team.venture_id, Some(&team.id), user, caller.user)
            .await;
        Ok(())
    }

    async fn member_remove(
        &self,
        caller: Caller<'_>,
        group: &Group,
        user: &UserId,
    ) -> GroupResult<Removed> {
        let by = Requester {
            user: caller.user,
            privileged: caller.privileged,
        };
        self.membership
            .remove(group, by, user)
            .await
            .map_err(no_such("member or invitation"))
    }

    /// The venture's feed, newest first, for members (and privileged accounts); `limit` 1 to
    /// 100, 50 by default.
    pub async fn venture_activity(
        &self,
        caller: Caller<'_>,
        id: &VentureId,
        before: Option<&str>,
        limit: Option<u32>,
    ) -> GroupResult<ActivityPage> {
        self.access.venture(caller, id).await?;
        let limit = hub_rooms::chat::history_limit(limit)
            .map_err(|e| GroupError::Invalid(e.to_string()))?;
        let (rows, has_more) = self.store.activities(id, before, limit).await?;
        Ok(ActivityPage {
            activities: rows
                .into_iter()
                .map(super::activity::activity_view)
                .collect(),
            has_more,
        })
    }

    /// A new team in the venture, made by one of its owners or admins (or a privileged
    /// account); its creator is its owner.
    pub async fn team_create(
        &self,
        caller: Caller<'_>,
        venture: &VentureId,
        name: &str,
    ) -> GroupResult<Team> {
        let name = clean_name("name", name)?;
        let (_, role) = self.access.venture(caller, venture).await?;
        if !caller.privileged && !role.is_some_and(Role::can_manage) {
            return Err(GroupError::Forbidden(
                "only owners and admins of the venture create teams".into(),
            ));
        }
        let mut w = self.store.begin_write().await?;
        let row = self
            .store
            .insert_team(&mut w, venture, caller.user, &name)
            .await?;
        self.store
            .audit(
                &mut w,
                NewAudit {
                    scope: format!("venture:{venture}"),
                    ref_id: Some(row.id.as_str()),
                    actor_id: Some(caller.user.as_str()),
                    action: "team.created",
                    details: json!({"team_id": row.id, "name": row.name, "owner": caller.user}),
                },
            )
            .await?;
        w.commit().await?;
        self.activity
            .record(
                venture,
                Some(caller.user),
                "team.created",
                ("team", row.id.as_str()),
                json!({"name": row.name}),
            )
            .await;
        Ok(team_view(row, Some(Role::Owner)))
    }

    /// The team and its members, as a member of it or of its venture sees them.
    pub async fn team_detail(&self, caller: Caller<'_>, id: &TeamId) -> GroupResult<TeamDetail> {
        let (team, role) = self.access.team(caller, id).await?;
        let members = self
            .store
            .members(&Store::team_group(&team))
            .await?
            .into_iter()
            .map(member_view)
            .collect();
        Ok(TeamDetail {
            team: team_view(team, role),
            members,
        })
    }

    /// The user's pending invitations, newest first.
    pub async fn invitations_of(&self, user: &UserId) -> GroupResult<Vec<Invitation>> {
        let rows = self.store.invitations_of(user).await?;
        Ok(rows.iter().map(super::members::invitation_view).collect())
    }

    /// Accepts the user's own invitation: the membership it makes, followed at once by the
    /// user's live sockets. Someone else's invitation is `not_found`.
    pub async fn invitation_accept(&self, user: &UserId, id: &InvitationId) -> GroupResult<Member> {
        let mine = self
            .store
            .own_invitation(id, user)
            .await
            .map_err(no_such("invitation"))?;
        let rooms = match &mine.team_id {
            Some(team) => vec![RoomName::Team(team.clone())],
            None => self.venture_rooms(&mine.venture_id).await?,
        };
        let before = self.members.watch_roles(user, rooms).await?;
        let (invitation, member) = self
            .membership
            .accept(id, user)
            .await
            .map_err(no_such("invitation"))?;
        self.members.follow_roles(before, "").await?;
        self.members
            .joined(
                &invitation.venture_id,
                invitation.team_id.as_ref(),
                user,
                member.role,
                &invitation.invited_by,
            )
            .await;
        Ok(member_view(member))
    }

    /// Declines the user's own invitation.
    pub async fn invitation_decline(&self, user: &UserId, id: &InvitationId) -> GroupResult<()> {
        self.membership
            .decline(id, user)
            .await
            .map_err(no_such("invitation"))?;
        Ok(())
    }

    /// The rooms the user belongs to, with the last message's seq, the unread count and the
    /// unread mentions of each (read in one statement for all of them).
    pub async fn rooms_of(&self, user: &UserId) -> GroupResult<Vec<RoomSummary>> {
        let mine = self.store.rooms_of(user).await?;
        let names: Vec<String> = mine.iter().map(|m| m.room.to_string()).collect();
        let positions = self.store.chat_positions(&names, user).await?;
        let mut rooms = Vec::with_capacity(mine.len());
        for ((mine, room), (last_seq, unread, mentions)) in
            mine.into_iter().zip(names).zip(positions)
        {
            rooms.push(RoomSummary {
                kind: match mine.room {
                    RoomName::Team(_) => "team",
                    _ => "venture",
                }
                .to_owned(),
                last_seq,
                unread,
                mentions,
                name: mine.name,
                venture_id: mine.venture_id,
                role: mine.role,
                room: RoomId::from(room),
            });
        }
        Ok(rooms)
    }
}

fn member_set(
    status: &str,
    member: Option<MemberRow>,
    invitation: Option<&InvitationRow>,
) -> MemberSet {
    MemberSet {
        status: status.to_owned(),
        member: member.map(member_view),
        invitation: invitation.map(super::members::invitation_view),
    }
}
