//! Teams inside ventures.

use super::membership::Group;
use super::{Store, StoreError, StoreResult, WriteTx, new_id};
use hub_protocol::{Role, TeamId, UserId, VentureId};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TeamRow {
    #[sqlx(try_from = "String")]
    pub id: TeamId,
    #[sqlx(try_from = "String")]
    pub venture_id: VentureId,
    pub name: String,
    #[sqlx(try_from = "String")]
    pub created_by: UserId,
    pub created_at: i64,
}

/// A team and the role of the user it was read for.
#[derive(sqlx::FromRow)]
struct TeamWithRole {
    #[sqlx(flatten)]
    team: TeamRow,
    #[sqlx(try_from = "String")]
    role: Role,
}

impl Store {
    /// A new team in `venture` inside `w`; its creator becomes the team's owner. `NotFound`
    /// when the venture does not exist.
    pub async fn insert_team(
        &self,
        w: &mut WriteTx,
        venture: &VentureId,
        creator: &UserId,
        name: &str,
    ) -> StoreResult<TeamRow> {
        let row = TeamRow {
            id: TeamId(new_id()),
            venture_id: venture.clone(),
            name: name.to_owned(),
            created_by: creator.clone(),
            created_at: self.now_ms(),
        };
        let inserted = sqlx::query(
            "INSERT INTO teams (id, venture_id, name, created_by, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(row.id.as_str())
        .bind(venture.as_str())
        .bind(&row.name)
        .bind(creator.as_str())
        .bind(row.created_at)
        .execute(w.conn().await?)
        .await;
        match inserted {
            Err(e) if StoreError::is_constraint_violation(&e) => return Err(StoreError::NotFound),
            other => other?,
        };
        self.ensure_user(w, creator).await?;
        sqlx::query(
            "INSERT INTO team_members (team_id, user_id, role, added_at) VALUES ($1, $2, 'owner', $3)",
        )
        .bind(row.id.as_str())
        .bind(creator.as_str())
        .bind(row.created_at)
        .execute(w.conn().await?)
        .await?;
        Ok(row)
    }

    pub async fn get_team(&self, id: &TeamId) -> StoreResult<Option<TeamRow>> {
        Ok(sqlx::query_as(
            "SELECT id, venture_id, name, created_by, created_at FROM teams WHERE id = $1",
        )
        .bind(id.as_str())
        .fetch_optional(self.pool())
        .await?)
    }

    pub async fn teams_of_venture(&self, venture: &VentureId) -> StoreResult<Vec<TeamRow>> {
        Ok(sqlx::query_as(
            "SELECT id, venture_id, name, created_by, created_at FROM teams WHERE venture_id = $1
             ORDER BY created_at, id",
        )
        .bind(venture.as_str())
        .fetch_all(self.pool())
        .await?)
    }

    /// The teams `user` belongs to, with the user's role, oldest first.
    pub async fn teams_of(&self, user: &UserId) -> StoreResult<Vec<(TeamRow, Role)>> {
        let rows: Vec<TeamWithRole> = sqlx::query_as(
            "SELECT t.id, t.venture_id, t.name, t.created_by, t.created_at, m.role
             FROM teams t JOIN team_members m ON m.team_id = t.id
             WHERE m.user_id = $1 ORDER BY t.created_at, t.id",
        )
        .bind(user.as_str())
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(|r| (r.team, r.role)).collect())
    }

    /// The group handle of a team (it knows its venture, for the membership rules).
    pub fn team_group(team: &TeamRow) -> Group {
        Group::Team {
            id: team.id.clone(),
            venture: team.venture_id.clone(),
        }
    }
}
