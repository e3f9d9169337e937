//! Rooms are views of ventures and teams: `venture:{id}` admits the venture's members,
//! `team:{id}` the team's members and the venture's owners and admins.

use super::membership::Group;
use super::{Store, StoreResult};
use hub_protocol::{Role, UserId, VentureId};
use hub_rooms::RoomName;

/// A room `user` belongs to.
#[derive(Debug, Clone)]
pub struct MyRoom {
    pub room: RoomName,
    pub name: String,
    pub venture_id: VentureId,
    pub role: Role,
}

impl Store {
    /// `user`'s role in `room`, or `None` when they may not enter it.
    pub async fn room_role(&self, room: &RoomName, user: &UserId) -> StoreResult<Option<Role>> {
        match room {
            RoomName::Venture(id) => self.member_role(&Group::Venture(id.clone()), user).await,
            RoomName::Team(id) => {
                let Some(team) = self.get_team(id).await? else {
                    return Ok(None);
                };
                if let Some(role) = self.member_role(&Store::team_group(&team), user).await? {
                    return Ok(Some(role));
                }
                Ok(self
                    .member_role(&Group::Venture(team.venture_id), user)
                    .await?
                    .filter(|r| r.can_manage()))
            }
            RoomName::User(id) => Ok((id == user).then_some(Role::Owner)),
        }
    }

    /// The members of `room` with their display names (for mentions).
    pub async fn room_members(&self, room: &RoomName) -> StoreResult<Vec<(UserId, String)>> {
        let group = match room {
            RoomName::Venture(id) => Group::Venture(id.clone()),
            RoomName::Team(id) => match self.get_team(id).await? {
                Some(team) => Store::team_group(&team),
                None => return Ok(Vec::new()),
            },
            RoomName::User(_) => return Ok(Vec::new()),
        };
        Ok(self
            .members(&group)
            .await?
            .into_iter()
            .map(|m| (m.user_id, m.name))
            .collect())
    }

    /// Every room `user` belongs to: their ventures, and their teams.
    pub async fn rooms_of(&self, user: &UserId) -> StoreResult<Vec<MyRoom>> {
        let mut rooms: Vec<MyRoom> = self
            .ventures_of(user)
            .await?
            .into_iter()
            .map(|(v, role)| MyRoom {
                room: RoomName::Venture(v.id.clone()),
                name: v.name,
                venture_id: v.id,
                role,
            })
            .collect();
        rooms.extend(
            self.teams_of(user)
                .await?
                .into_iter()
                .map(|(t, role)| MyRoom {
                    room: RoomName::Team(t.id.clone()),
                    name: t.name,
                    venture_id: t.venture_id,
                    role,
                }),
        );
        Ok(rooms)
    }
}
