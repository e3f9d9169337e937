//! Ventures and memberships. Venture and team memberships follow the same rules, so both go
//! through [`Group`]: one code path decides, under a row lock, whether a change is allowed
//! (`hub_rooms::check_member_change`) and applies it.

use super::membership::{Group, MemberRow, Requester, managing_role, owner_count, role_in};
use super::{NewAudit, Store, StoreError, StoreResult, WriteTx, new_id};
use hub_protocol::{Role, UserId, VentureId};
use hub_rooms::{Actor, MemberChange, check_member_change};
use serde_json::json;
// Dynamic SQL here only interpolates table and column names from `Group`, never input.
use sqlx::{AnyConnection, AssertSqlSafe};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct VentureRow {
    #[sqlx(try_from = "String")]
    pub id: VentureId,
    pub name: String,
    pub description: Option<String>,
    #[sqlx(try_from = "String")]
    pub created_by: UserId,
    pub created_at: i64,
}

/// A venture and the role of the user it was read for.
#[derive(sqlx::FromRow)]
struct VentureWithRole {
    #[sqlx(flatten)]
    venture: VentureRow,
    #[sqlx(try_from = "String")]
    role: Role,
}

/// What setting a member did.
#[derive(Debug, Clone)]
pub enum SetOutcome {
    /// A privileged account added them.
    Added(MemberRow),
    /// They were a member: their role is set.
    Changed(MemberRow),
    /// They were not a member: they are invited, and a member once they accept.
    Invited(super::InvitationRow),
}

/// What removing someone from a group did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removed {
    /// They were a member and are no longer.
    Member,
    /// They were only invited: the invitation is withdrawn.
    Invitation,
}

impl Store {
    pub async fn create_venture(
        &self,
        creator: &UserId,
        name: &str,
        description: Option<&str>,
    ) -> StoreResult<VentureRow> {
        let row = VentureRow {
            id: VentureId(new_id()),
            name: name.to_owned(),
            description: description.map(str::to_owned),
            created_by: creator.clone(),
            created_at: self.now_ms(),
        };
        let mut w = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO ventures (id, name, description, created_by, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(row.id.as_str())
        .bind(&row.name)
        .bind(row.description.as_deref())
        .bind(creator.as_str())
        .bind(row.created_at)
        .execute(w.conn().await?)
        .await?;
        sqlx::query(
            "INSERT INTO venture_members (venture_id, user_id, role, added_at) VALUES ($1, $2, 'owner', $3)",
        )
        .bind(row.id.as_str())
        .bind(creator.as_str())
        .bind(row.created_at)
        .execute(w.conn().await?)
        .await?;
        self.audit(
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

    /// Whether venture `id` exists, read inside `w`.
    /// Whether venture `id` exists, read once per transaction (see
    /// [`Store::load_ventures`]). Ventures are never deleted.
    pub async fn venture_exists(&self, w: &mut WriteTx, id: &VentureId) -> StoreResult<bool> {
        if let Some(exists) = w.known.ventures.get(id.as_str()) {
            return Ok(*exists);
        }
        self.load_ventures(w, &[id.as_str()]).await?;
        Ok(w.known.ventures.get(id.as_str()).copied().unwrap_or(false))
    }

    /// Reads which of `ids` are ventures into `w`, in one statement per 500.
    pub async fn load_ventures(&self, w: &mut WriteTx, ids: &[&str]) -> StoreResult<()> {
        let ids: Vec<&str> = super::unknown(ids, |id| w.known.ventures.contains_key(*id));
        for chunk in ids.chunks(500) {
            let list = self.backend.json_list(1);
            let sql = format!("SELECT id FROM ventures WHERE id IN ({list})");
            let query = sqlx::query_as::<_, (String,)>(sqlx::AssertSqlSafe(sql))
                .bind(super::json_array(chunk))
                .bind(chunk.len() as i64);
            let found: std::collections::HashSet<String> = query
                .fetch_all(w.conn().await?)
                .await?
                .into_iter()
                .map(|(id,)| id)
                .collect();
            for id in chunk {
                let exists = found.contains(*id);
                w.learn(|k| &mut k.ventures, (*id).to_owned(), exists);
            }
        }
        Ok(())
    }

    pub async fn get_venture(&self, id: &VentureId) -> StoreResult<Option<VentureRow>> {
        Ok(sqlx::query_as(
            "SELECT id, name, description, created_by, created_at FROM ventures WHERE id = $1",
        )
        .bind(id.as_str())
        .fetch_optional(self.pool())
        .await?)
    }

    /// The ventures `user` belongs to, with the user's role, oldest first.
    pub async fn ventures_of(&self, user: &UserId) -> StoreResult<Vec<(VentureRow, Role)>> {
        let rows: Vec<VentureWithRole> = sqlx::query_as(
            "SELECT v.id, v.name, v.description, v.created_by, v.created_at, m.role
             FROM ventures v JOIN venture_members m ON m.venture_id = v.id
             WHERE m.user_id = $1 ORDER BY v.created_at, v.id",
        )
        .bind(user.as_str())
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(|r| (r.venture, r.role)).collect())
    }

    /// The role of `user` in `group`, if a member.
    pub async fn member_role(&self, group: &Group, user: &UserId) -> StoreResult<Option<Role>> {
        let mut conn = self.pool().acquire().await?;
        role_in(&mut conn, group, user).await
    }

    /// The members of `group`, by role then by time they were added.
    pub async fn members(&self, group: &Group) -> StoreResult<Vec<MemberRow>> {
        let sql = format!(
            "SELECT m.user_id, u.name, m.role, m.added_at FROM {} m JOIN users u ON u.id = m.user_id
             WHERE m.{} = $1 ORDER BY m.added_at, m.user_id",
            group.table(),
            group.key()
        );
        let mut members: Vec<MemberRow> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(group.id())
            .fetch_all(self.pool())
            .await?;
        members.sort_by_key(|m| std::cmp::Reverse(m.role.rank()));
        Ok(members)
    }

    /// Adds `target` to `group` with `role`, changes their role, or, when they are not a
    /// member and `by` is not privileged, invites them (see `hub_rooms::access::needs_consent`).
    pub async fn set_member(
        &self,
        group: &Group,
        by: Requester<'_>,
        target: &UserId,
        role: Role,
    ) -> StoreResult<SetOutcome> {
        let mut w = self.begin_write().await?;
        self.lock_group(w.conn().await?, group).await?;
        let actor = Actor {
            role: managing_role(w.conn().await?, group, by.user).await?,
            privileged: by.privileged,
        };
        let current = role_in(w.conn().await?, group, target).await?;
        let owners = owner_count(w.conn().await?, group).await?;
        check_member_change(actor, MemberChange::Set { current, new: role }, owners)
            .map_err(StoreError::Denied)?;
        if let Group::Team { venture, .. } = group
            && role_in(w.conn().await?, &Group::Venture(venture.clone()), target)
                .await?
                .is_none()
        {
            return Err(StoreError::Invalid(format!(
                "user {target} must be a member of the venture before joining one of its teams"
            )));
        }
        self.ensure_user(w.conn().await?, target).await?;
        if hub_rooms::access::needs_consent(current, by.privileged) {
            let invitation = self
                .upsert_invitation(&mut w, group, by.user, target, role)
                .await?;
            w.commit().await?;
            return Ok(SetOutcome::Invited(invitation));
        }
        let row = self
            .put_member(&mut w, group, by.user, target, role, current, None)
            .await?;
        w.commit().await?;
        Ok(if current.is_none() {
            SetOutcome::Added(row)
        } else {
            SetOutcome::Changed(row)
        })
    }

    /// Writes `target`'s membership of `group` with `role` inside `w` (its `current` role
    /// read there), and its audit entry when it changed anything; `invited_by` names who
    /// invited them when they join by accepting.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn put_member(
        &self,
        w: &mut WriteTx,
        group: &Group,
        by: &UserId,
        target: &UserId,
        role: Role,
        current: Option<Role>,
        invited_by: Option<&UserId>,
    ) -> StoreResult<MemberRow> {
        let now = self.now_ms();
        let sql = format!(
            "INSERT INTO {} ({}, user_id, role, added_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT ({}, user_id) DO UPDATE SET role = excluded.role",
            group.table(),
            group.key(),
            group.key()
        );
        sqlx::query(AssertSqlSafe(sql))
            .bind(group.id())
            .bind(target.as_str())
            .bind(role.as_str())
            .bind(now)
            .execute(w.conn().await?)
            .await?;
        let sql = format!(
            "SELECT u.name, m.added_at FROM {} m JOIN users u ON u.id = m.user_id WHERE m.{} = $1 AND m.user_id = $2",
            group.table(),
            group.key()
        );
        let (name, added_at): (String, i64) = sqlx::query_as(AssertSqlSafe(sql))
            .bind(group.id())
            .bind(target.as_str())
            .fetch_one(w.conn().await?)
            .await?;
        if current != Some(role) {
            let mut details = json!({
                "group": group.kind(),
                "group_id": group.id(),
                "user_id": target,
                "role": role,
                "previous_role": current,
            });
            if let Some(inviter) = invited_by {
                details["invited_by"] = json!(inviter);
            }
            self.audit(
                w,
                NewAudit {
                    scope: group.audit_scope(),
                    ref_id: Some(target.as_str()),
                    actor_id: Some(by.as_str()),
                    action: if current.is_none() {
                        "member.added"
                    } else {
                        "member.role_changed"
                    },
                    details,
                },
            )
            .await?;
        }
        Ok(MemberRow {
            user_id: target.clone(),
            name,
            role,
            added_at,
        })
    }

    /// Removes `target` from `group`. Leaving a venture also leaves all its teams. Someone who
    /// is only invited has the invitation withdrawn instead (by a manager, or by themselves).
    pub async fn remove_member(
        &self,
        group: &Group,
        by: Requester<'_>,
        target: &UserId,
    ) -> StoreResult<Removed> {
        let mut w = self.begin_write().await?;
        self.lock_group(w.conn().await?, group).await?;
        let Some(current) = role_in(w.conn().await?, group, target).await? else {
            self.withdraw_invitation(&mut w, group, by, target).await?;
            w.commit().await?;
            return Ok(Removed::Invitation);
        };
        let actor = Actor {
            role: managing_role(w.conn().await?, group, by.user).await?,
            privileged: by.privileged,
        };
        let owners = owner_count(w.conn().await?, group).await?;
        let change = MemberChange::Remove {
            current,
            is_self: by.user == target,
        };
        check_member_change(actor, change, owners).map_err(StoreError::Denied)?;
        let sql = format!(
            "DELETE FROM {} WHERE {} = $1 AND user_id = $2",
            group.table(),
            group.key()
        );
        sqlx::query(AssertSqlSafe(sql))
            .bind(group.id())
            .bind(target.as_str())
            .execute(w.conn().await?)
            .await?;
        if let Group::Venture(venture) = group {
            sqlx::query(
                "DELETE FROM team_members WHERE user_id = $1
                 AND team_id IN (SELECT id FROM teams WHERE venture_id = $2)",
            )
            .bind(target.as_str())
            .bind(venture.as_str())
            .execute(w.conn().await?)
            .await?;
        }
        self.audit(
            &mut w,
            NewAudit {
                scope: group.audit_scope(),
                ref_id: Some(target.as_str()),
                actor_id: Some(by.user.as_str()),
                action: "member.removed",
                details: json!({
                    "group": group.kind(),
                    "group_id": group.id(),
                    "user_id": target,
                    "previous_role": current,
                }),
            },
        )
        .await?;
        w.commit().await?;
        Ok(Removed::Member)
    }

    /// Locks the venture or team row so that concurrent membership changes of one group run one
    /// after the other (the last-owner check depends on it). Fails with `NotFound` when absent.
    pub(super) async fn lock_group(
        &self,
        conn: &mut AnyConnection,
        group: &Group,
    ) -> StoreResult<()> {
        let sql = format!(
            "SELECT id FROM {} WHERE id = $1{}",
            group.parent_table(),
            self.for_update()
        );
        let found: Option<(String,)> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(group.id())
            .fetch_optional(conn)
            .await?;
        found.map(|_| ()).ok_or(StoreError::NotFound)
    }
}
