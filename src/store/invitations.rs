//! Invitations to ventures and teams, as rows: a pending invitation grants nothing; what
//! accepting, declining and withdrawing one do (and their audit entries) is
//! `services::membership`'s.

use super::membership::Group;
use super::{Store, StoreError, StoreResult, WriteTx, new_id};
use hub_protocol::{InvitationId, Role, TeamId, UserId, VentureId};

/// An invitation as stored, with the names of its venture and team.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvitationRow {
    pub id: InvitationId,
    pub venture_id: VentureId,
    pub venture_name: String,
    pub team_id: Option<TeamId>,
    pub team_name: Option<String>,
    pub user_id: UserId,
    pub role: Role,
    pub invited_by: UserId,
    pub created_at: i64,
}

impl InvitationRow {
    /// The group it invites to.
    pub fn group(&self) -> Group {
        match &self.team_id {
            Some(team) => Group::Team {
                id: team.clone(),
                venture: self.venture_id.clone(),
            },
            None => Group::Venture(self.venture_id.clone()),
        }
    }
}

const SELECT: &str = "SELECT i.id, i.venture_id, v.name AS venture_name, t.id AS team_id,
            t.name AS team_name, i.user_id, i.role, i.invited_by, i.created_at
     FROM invitations i JOIN ventures v ON v.id = i.venture_id
     LEFT JOIN teams t ON i.group_kind = 'team' AND t.id = i.group_id";

/// Read by column name; the ids become typed ids and the role a [`Role`] (an unknown one is a
/// decode error).
impl<'r> sqlx::FromRow<'r, sqlx::any::AnyRow> for InvitationRow {
    fn from_row(r: &'r sqlx::any::AnyRow) -> Result<Self, sqlx::Error> {
        use sqlx::Row;
        let role: String = r.try_get("role")?;
        Ok(InvitationRow {
            id: InvitationId::from(r.try_get::<String, _>("id")?),
            venture_id: VentureId::from(r.try_get::<String, _>("venture_id")?),
            venture_name: r.try_get("venture_name")?,
            team_id: r.try_get::<Option<String>, _>("team_id")?.map(TeamId::from),
            team_name: r.try_get("team_name")?,
            user_id: UserId::from(r.try_get::<String, _>("user_id")?),
            role: Role::try_from(role).map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
            invited_by: UserId::from(r.try_get::<String, _>("invited_by")?),
            created_at: r.try_get("created_at")?,
        })
    }
}

impl Store {
    /// Invites `target` to `group` with `role` inside `w` (the group locked and the inviter's
    /// right checked); inviting again changes the role.
    pub async fn upsert_invitation(
        &self,
        w: &mut WriteTx,
        group: &Group,
        by: &UserId,
        target: &UserId,
        role: Role,
    ) -> StoreResult<InvitationRow> {
        let venture = match group {
            Group::Venture(v) | Group::Team { venture: v, .. } => v,
        };
        sqlx::query(
            "INSERT INTO invitations (id, group_kind, group_id, venture_id, user_id, role, invited_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (group_kind, group_id, user_id) DO UPDATE SET role = excluded.role, invited_by = excluded.invited_by",
        )
        .bind(new_id())
        .bind(group.kind())
        .bind(group.id())
        .bind(venture.as_str())
        .bind(target.as_str())
        .bind(role.as_str())
        .bind(by.as_str())
        .bind(self.now_ms())
        .execute(w.conn().await?)
        .await?;
        let invitation = self
            .invitation_in(w, group, target)
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok(invitation)
    }

    /// `user`'s invitation to `group`, read inside `w`.
    pub async fn invitation_in(
        &self,
        w: &mut WriteTx,
        group: &Group,
        user: &UserId,
    ) -> StoreResult<Option<InvitationRow>> {
        let sql =
            format!("{SELECT} WHERE i.group_kind = $1 AND i.group_id = $2 AND i.user_id = $3");
        let found: Option<InvitationRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(group.kind())
            .bind(group.id())
            .bind(user.as_str())
            .fetch_optional(w.conn().await?)
            .await?;
        Ok(found)
    }

    /// `user`'s pending invitations, newest first.
    pub async fn invitations_of(&self, user: &UserId) -> StoreResult<Vec<InvitationRow>> {
        let sql = format!("{SELECT} WHERE i.user_id = $1 ORDER BY i.created_at DESC, i.id");
        let rows: Vec<InvitationRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(user.as_str())
            .fetch_all(self.pool())
            .await?;
        Ok(rows)
    }

    /// The pending invitations to `venture` and its teams, oldest first.
    pub async fn invitations_in(&self, venture: &VentureId) -> StoreResult<Vec<InvitationRow>> {
        let sql = format!("{SELECT} WHERE i.venture_id = $1 ORDER BY i.created_at, i.id");
        let rows: Vec<InvitationRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(venture.as_str())
            .fetch_all(self.pool())
            .await?;
        Ok(rows)
    }

    /// `user`'s invitation `id`; `NotFound` when it is not theirs (or answered, or withdrawn).
    pub async fn own_invitation(
        &self,
        id: &InvitationId,
        user: &UserId,
    ) -> StoreResult<InvitationRow> {
        let sql = format!("{SELECT} WHERE i.id = $1 AND i.user_id = $2");
        let found: Option<InvitationRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id.as_str())
            .bind(user.as_str())
            .fetch_optional(self.pool())
            .await?;
        found.ok_or(StoreError::NotFound)
    }

    /// Deletes invitation `id` inside `w`; false when it was gone.
    pub async fn delete_invitation(&self, w: &mut WriteTx, id: &InvitationId) -> StoreResult<bool> {
        Ok(sqlx::query("DELETE FROM invitations WHERE id = $1")
            .bind(id.as_str())
            .execute(w.conn().await?)
            .await?
            .rows_affected()
            == 1)
    }
}
