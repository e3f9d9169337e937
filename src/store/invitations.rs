//! Invitations to ventures and teams: a pending invitation grants nothing; accepting it makes
//! the member (with the role it names), declining or withdrawing it removes it. Each step is
//! in the venture's audit chain: `member.invited`, `member.added` (with `invited_by`),
//! `member.invitation_declined`, `member.invitation_withdrawn`.

use super::membership::{Group, MemberRow, Requester, lock_role_check, managing_role, role_in};
use super::{NewAudit, Store, StoreError, StoreResult, WriteTx, new_id};
use hub_protocol::{Role, TeamId, UserId, VentureId};
use serde_json::json;

/// An invitation as stored, with the names of its venture and team.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvitationRow {
    pub id: String,
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
            id: r.try_get("id")?,
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
    pub(super) async fn upsert_invitation(
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
        self.audit(
            w,
            NewAudit {
                scope: group.audit_scope(),
                ref_id: Some(target.as_str()),
                actor_id: Some(by.as_str()),
                action: "member.invited",
                details: json!({
                    "group": group.kind(),
                    "group_id": group.id(),
                    "user_id": target,
                    "role": role,
                    "invitation_id": invitation.id,
                }),
            },
        )
        .await?;
        Ok(invitation)
    }

    async fn invitation_in(
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

    /// `user` accepts invitation `id`: they become a member of its group with its role (a team
    /// invitation needs the venture's membership first). `NotFound` when it is not theirs.
    pub async fn accept_invitation(
        &self,
        id: &str,
        user: &UserId,
    ) -> StoreResult<(InvitationRow, MemberRow)> {
        let invitation = self.own_invitation(id, user).await?;
        let group = invitation.group();
        let mut w = self.begin_write().await?;
        self.lock_group(w.conn().await?, &group).await?;
        // Read again under the lock: withdrawn or answered meanwhile is gone.
        let invitation = self
            .invitation_in(&mut w, &group, user)
            .await?
            .filter(|i| i.id == id)
            .ok_or(StoreError::NotFound)?;
        if let Group::Team { venture, .. } = &group
            && role_in(w.conn().await?, &Group::Venture(venture.clone()), user)
                .await?
                .is_none()
        {
            return Err(StoreError::Conflict(
                "join the venture first: a team's members are members of its venture".into(),
            ));
        }
        let current = role_in(w.conn().await?, &group, user).await?;
        let member = self
            .put_member(
                &mut w,
                &group,
                user,
                user,
                invitation.role,
                current,
                Some(&invitation.invited_by),
            )
            .await?;
        self.delete_invitation(&mut w, id).await?;
        w.commit().await?;
        Ok((invitation, member))
    }

    /// `user` declines invitation `id`.
    pub async fn decline_invitation(&self, id: &str, user: &UserId) -> StoreResult<InvitationRow> {
        let invitation = self.own_invitation(id, user).await?;
        let group = invitation.group();
        let mut w = self.begin_write().await?;
        self.lock_group(w.conn().await?, &group).await?;
        if !self.delete_invitation(&mut w, id).await? {
            return Err(StoreError::NotFound);
        }
        self.invitation_audit(&mut w, &invitation, user, "member.invitation_declined")
            .await?;
        w.commit().await?;
        Ok(invitation)
    }

    /// `by` withdraws `target`'s invitation to `group` inside `w` (the group locked): a manager
    /// of the group, or `target` themselves. `NotFound` when there is none.
    pub(super) async fn withdraw_invitation(
        &self,
        w: &mut WriteTx,
        group: &Group,
        by: Requester<'_>,
        target: &UserId,
    ) -> StoreResult<()> {
        let invitation = self
            .invitation_in(w, group, target)
            .await?
            .ok_or(StoreError::NotFound)?;
        if by.user != target && !by.privileged {
            let role = managing_role(w.conn().await?, group, by.user).await?;
            lock_role_check(role)?;
        }
        self.delete_invitation(w, &invitation.id).await?;
        self.invitation_audit(w, &invitation, by.user, "member.invitation_withdrawn")
            .await?;
        Ok(())
    }

    /// `user`'s invitation `id`; `NotFound` when it is not theirs (or answered, or withdrawn).
    pub async fn own_invitation(&self, id: &str, user: &UserId) -> StoreResult<InvitationRow> {
        let sql = format!("{SELECT} WHERE i.id = $1 AND i.user_id = $2");
        let found: Option<InvitationRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .bind(user.as_str())
            .fetch_optional(self.pool())
            .await?;
        found.ok_or(StoreError::NotFound)
    }

    async fn delete_invitation(&self, w: &mut WriteTx, id: &str) -> StoreResult<bool> {
        Ok(sqlx::query("DELETE FROM invitations WHERE id = $1")
            .bind(id)
            .execute(w.conn().await?)
            .await?
            .rows_affected()
            == 1)
    }

    async fn invitation_audit(
        &self,
        w: &mut WriteTx,
        invitation: &InvitationRow,
        actor: &UserId,
        action: &str,
    ) -> StoreResult<()> {
        let group = invitation.group();
        self.audit(
            w,
            NewAudit {
                scope: group.audit_scope(),
                ref_id: Some(invitation.user_id.as_str()),
                actor_id: Some(actor.as_str()),
                action,
                details: json!({
                    "group": group.kind(),
                    "group_id": group.id(),
                    "user_id": invitation.user_id,
                    "role": invitation.role,
                    "invitation_id": invitation.id,
                }),
            },
        )
        .await?;
        Ok(())
    }
}
