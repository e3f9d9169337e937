//! What ventures and teams share: a [`Group`] with members, their roles, and who asks for a
//! change. The rules that decide a change are `hub_rooms::check_member_change`; the changes
//! themselves are `ventures` (members) and `invitations`.

use super::{Store, StoreError, StoreResult, WriteTx};
use hub_protocol::{Role, TeamId, UserId, VentureId};
// Dynamic SQL here only interpolates table and column names from `Group`, never input.
use sqlx::{AnyConnection, AssertSqlSafe};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct MemberRow {
    #[sqlx(try_from = "String")]
    pub user_id: UserId,
    pub name: String,
    #[sqlx(try_from = "String")]
    pub role: Role,
    pub added_at: i64,
}

/// A group with members: a venture, or a team inside a venture.
#[derive(Debug, Clone)]
pub enum Group {
    Venture(VentureId),
    Team { id: TeamId, venture: VentureId },
}

impl Group {
    /// The audit scope of a change to this group: its venture's.
    pub fn audit_scope(&self) -> String {
        match self {
            Group::Venture(v) | Group::Team { venture: v, .. } => format!("venture:{v}"),
        }
    }

    /// `venture` or `team`.
    pub fn kind(&self) -> &'static str {
        match self {
            Group::Venture(_) => "venture",
            Group::Team { .. } => "team",
        }
    }

    pub(super) fn table(&self) -> &'static str {
        match self {
            Group::Venture(_) => "venture_members",
            Group::Team { .. } => "team_members",
        }
    }

    pub(super) fn key(&self) -> &'static str {
        match self {
            Group::Venture(_) => "venture_id",
            Group::Team { .. } => "team_id",
        }
    }

    pub fn id(&self) -> &str {
        match self {
            Group::Venture(id) => id.as_str(),
            Group::Team { id, .. } => id.as_str(),
        }
    }

    pub(super) fn parent_table(&self) -> &'static str {
        match self {
            Group::Venture(_) => "ventures",
            Group::Team { .. } => "teams",
        }
    }
}

pub(super) fn parse_role(s: &str) -> StoreResult<Role> {
    s.parse()
        .map_err(|e| StoreError::Db(sqlx::Error::Decode(Box::new(e))))
}

pub(super) async fn role_in(
    conn: &mut AnyConnection,
    group: &Group,
    user: &UserId,
) -> StoreResult<Option<Role>> {
    let sql = format!(
        "SELECT role FROM {} WHERE {} = $1 AND user_id = $2",
        group.table(),
        group.key()
    );
    let role: Option<(String,)> = sqlx::query_as(AssertSqlSafe(sql))
        .bind(group.id())
        .bind(user.as_str())
        .fetch_optional(conn)
        .await?;
    role.map(|(r,)| parse_role(&r)).transpose()
}

pub(super) async fn owner_count_in(conn: &mut AnyConnection, group: &Group) -> StoreResult<usize> {
    let sql = format!(
        "SELECT COUNT(*) FROM {} WHERE {} = $1 AND role = 'owner'",
        group.table(),
        group.key()
    );
    let (n,): (i64,) = sqlx::query_as(AssertSqlSafe(sql))
        .bind(group.id())
        .fetch_one(conn)
        .await?;
    Ok(n.max(0) as usize)
}

/// The role that gives `user` power over `group`'s members: the group role, or for a team the
/// venture role when that one manages (a venture admin manages every team of the venture).
pub(super) async fn managing_role(
    conn: &mut AnyConnection,
    group: &Group,
    user: &UserId,
) -> StoreResult<Option<Role>> {
    let own = role_in(conn, group, user).await?;
    let Group::Team { venture, .. } = group else {
        return Ok(own);
    };
    let in_venture = role_in(conn, &Group::Venture(venture.clone()), user)
        .await?
        .filter(|r| r.can_manage());
    Ok(match (own, in_venture) {
        (Some(a), Some(b)) => Some(if a.rank() >= b.rank() { a } else { b }),
        (a, b) => a.or(b),
    })
}

/// Who is asking, as the membership rules see it.
#[derive(Debug, Clone)]
pub struct Requester<'a> {
    pub user: &'a UserId,
    pub privileged: bool,
}

impl Store {
    /// `user`'s role in `group`, read inside `w`.
    pub async fn group_role(
        &self,
        w: &mut WriteTx,
        group: &Group,
        user: &UserId,
    ) -> StoreResult<Option<Role>> {
        role_in(w.conn().await?, group, user).await
    }

    /// The role that gives `user` power over `group`'s members, read inside `w`: the group
    /// role, or for a team the venture role when that one manages.
    pub async fn managing_role(
        &self,
        w: &mut WriteTx,
        group: &Group,
        user: &UserId,
    ) -> StoreResult<Option<Role>> {
        managing_role(w.conn().await?, group, user).await
    }

    /// How many owners `group` has, read inside `w`.
    pub async fn owner_count(&self, w: &mut WriteTx, group: &Group) -> StoreResult<usize> {
        owner_count_in(w.conn().await?, group).await
    }
}
