//! Ventures and their members' rows. Venture and team memberships are read and written the
//! same way, through [`Group`]; whether a change is allowed is the services' call
//! (`services::membership`, with `hub_rooms::check_member_change`), under [`Store::lock_group`].

use super::membership::{Group, MemberRow, role_in};
use super::{Store, StoreError, StoreResult, WriteTx, new_id};
use hub_protocol::{Role, UserId, VentureId};
// Dynamic SQL here only interpolates table and column names from `Group`, never input.
use sqlx::AssertSqlSafe;

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

impl Store {
    /// A new venture by `creator`, inside `w`; its creator becomes its owner.
    pub async fn insert_venture(
        &self,
        w: &mut WriteTx,
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

    /// Writes `target`'s membership of `group` with `role` inside `w` (added, or their role
    /// changed), and reads it back with their name.
    pub async fn put_member(
        &self,
        w: &mut WriteTx,
        group: &Group,
        target: &UserId,
        role: Role,
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
        Ok(MemberRow {
            user_id: target.clone(),
            name,
            role,
            added_at,
        })
    }

    /// Deletes `target`'s membership of `group` inside `w`; out of a venture is out of all its
    /// teams too.
    pub async fn delete_member(
        &self,
        w: &mut WriteTx,
        group: &Group,
        target: &UserId,
    ) -> StoreResult<()> {
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
        Ok(())
    }

    /// Locks the venture or team row so that concurrent membership changes of one group run one
    /// after the other (the last-owner check depends on it). Fails with `NotFound` when absent.
    pub async fn lock_group(&self, w: &mut WriteTx, group: &Group) -> StoreResult<()> {
        let sql = format!(
            "SELECT id FROM {} WHERE id = $1{}",
            group.parent_table(),
            self.for_update()
        );
        let found: Option<(String,)> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(group.id())
            .fetch_optional(w.conn().await?)
            .await?;
        found.map(|_| ()).ok_or(StoreError::NotFound)
    }
}
