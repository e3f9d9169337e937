//! Profiles, the skill catalog, users' skills, endorsements and portfolios. A user the hub
//! knows has a profile: reading one without a row gives the defaults.

use super::{Store, StoreError, StoreResult, WriteTx, new_id};
use hub_protocol::{TaskId, UserId};
use hub_rooms::profiles::PortfolioEntry;

/// The catalog key of a skill name: names are unique whatever the case.
pub fn skill_key(name: &str) -> String {
    name.trim().to_lowercase()
}

/// A user's profile as stored (the profile's columns are null for a user without one yet).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ProfileRow {
    #[sqlx(try_from = "String")]
    pub user_id: UserId,
    pub name: String,
    pub joined_at: i64,
    pub nickname: Option<String>,
    pub avatar_url: Option<String>,
    pub bio: Option<String>,
    pub location: Option<String>,
    pub website_url: Option<String>,
    pub theme: Option<String>,
    pub is_public: Option<i64>,
    pub level: Option<i64>,
    pub xp: Option<i64>,
    pub rep_milli: Option<i64>,
}

/// A portfolio item as stored (its impact as JSON text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortfolioRow {
    pub id: String,
    pub user_id: UserId,
    pub title: String,
    pub summary: String,
    pub artifact_url: Option<String>,
    pub buz: Option<i64>,
    pub impact: String,
    pub is_public: bool,
    pub task_id: Option<TaskId>,
    pub created_at: i64,
}

/// Read by column name, ids typed.
impl<'r> sqlx::FromRow<'r, sqlx::any::AnyRow> for PortfolioRow {
    fn from_row(r: &'r sqlx::any::AnyRow) -> Result<Self, sqlx::Error> {
        use sqlx::Row;
        Ok(PortfolioRow {
            id: r.try_get("id")?,
            user_id: super::id_of(r, "user_id")?,
            title: r.try_get("title")?,
            summary: r.try_get("summary")?,
            artifact_url: r.try_get("artifact_url")?,
            buz: r.try_get("buz")?,
            impact: r.try_get("impact")?,
            is_public: r.try_get::<i64, _>("is_public")? != 0,
            task_id: super::opt_id_of(r, "task_id")?,
            created_at: r.try_get("created_at")?,
        })
    }
}

/// A skill of the catalog, with its key (its name, lower case).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SkillRow {
    pub key: String,
    pub name: String,
    pub category: String,
}

/// A skill a user lists, with how many endorsed it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct UserSkillRow {
    pub name: String,
    pub category: String,
    pub verified: i64,
    pub evidence_url: Option<String>,
    pub endorsements: i64,
}

/// An endorsement as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndorsementRow {
    pub id: String,
    pub endorser_id: UserId,
    pub user_id: UserId,
    pub skill_key: String,
    pub rating: u8,
    pub note: Option<String>,
    pub weight_milli: i64,
    pub xp: i64,
    pub created_at: i64,
}

/// What the hub recorded of a user's accepted task: the venture its event named, the BUZ
/// credited for it, and when it arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskCreditRow {
    pub venture_id: Option<hub_protocol::VentureId>,
    pub credited: i64,
    pub accepted_at: i64,
}

/// An endorsement to record.
pub struct NewEndorsement<'a> {
    pub endorser: &'a UserId,
    pub user: &'a UserId,
    pub skill_key: &'a str,
    pub rating: u8,
    pub note: Option<&'a str>,
    pub weight_milli: i64,
    pub xp: i64,
}

/// A change to a profile: each field given is set (to null for `Some(None)`), the others kept.
#[derive(Debug, Default, Clone, Copy)]
pub struct ProfileChange<'a> {
    pub nickname: Option<Option<&'a str>>,
    pub avatar_url: Option<Option<&'a str>>,
    pub bio: Option<Option<&'a str>>,
    pub location: Option<Option<&'a str>>,
    pub website_url: Option<Option<&'a str>>,
    /// The theme's stored name.
    pub theme: Option<&'a str>,
    pub is_public: Option<bool>,
}

impl Store {
    /// `user`'s profile row, or `None` for a user the hub does not know.
    pub async fn profile(&self, user: &UserId) -> StoreResult<Option<ProfileRow>> {
        Ok(sqlx::query_as(
            "SELECT u.id AS user_id, u.name, u.created_at AS joined_at, p.nickname, p.avatar_url,
                    p.bio, p.location, p.website_url, p.theme, p.is_public, p.level, p.xp, p.rep_milli
             FROM users u LEFT JOIN profiles p ON p.user_id = u.id WHERE u.id = $1",
        )
        .bind(user.as_str())
        .fetch_optional(self.pool())
        .await?)
    }

    /// Applies a checked change to `user`'s profile.
    pub async fn patch_profile(&self, user: &UserId, patch: &ProfileChange<'_>) -> StoreResult<()> {
        let mut w = self.begin_write().await?;
        self.ensure_profile(&mut w, user).await?;
        let texts = [
            ("nickname", &patch.nickname),
            ("avatar_url", &patch.avatar_url),
            ("bio", &patch.bio),
            ("location", &patch.location),
            ("website_url", &patch.website_url),
        ];
        for (column, value) in texts {
            if let Some(value) = value {
                let sql = format!("UPDATE profiles SET {column} = $2 WHERE user_id = $1");
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(user.as_str())
                    .bind(*value)
                    .execute(w.conn().await?)
                    .await?;
            }
        }
        if let Some(theme) = patch.theme {
            sqlx::query("UPDATE profiles SET theme = $2 WHERE user_id = $1")
                .bind(user.as_str())
                .bind(theme)
                .execute(w.conn().await?)
                .await?;
        }
        if let Some(public) = patch.is_public {
            sqlx::query("UPDATE profiles SET is_public = $2 WHERE user_id = $1")
                .bind(user.as_str())
                .bind(i64::from(public))
                .execute(w.conn().await?)
                .await?;
        }
        sqlx::query("UPDATE profiles SET updated_at = $2 WHERE user_id = $1")
            .bind(user.as_str())
            .bind(self.now_ms())
            .execute(w.conn().await?)
            .await?;
        w.commit().await?;
        Ok(())
    }

    /// The skill catalog, by name.
    pub async fn skills(&self) -> StoreResult<Vec<SkillRow>> {
        Ok(
            sqlx::query_as("SELECT key, name, category FROM skills ORDER BY key")
                .fetch_all(self.pool())
                .await?,
        )
    }

    /// Adds a skill to the catalog; `Conflict` when one of that name (whatever the case) exists.
    pub async fn create_skill(
        &self,
        name: &str,
        category: &str,
        by: &UserId,
    ) -> StoreResult<SkillRow> {
        let inserted = sqlx::query(
            "INSERT INTO skills (key, name, category, created_by, created_at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (key) DO NOTHING",
        )
        .bind(skill_key(name))
        .bind(name)
        .bind(category)
        .bind(by.as_str())
        .bind(self.now_ms())
        .execute(self.pool())
        .await?
        .rows_affected();
        if inserted == 0 {
            return Err(StoreError::Conflict(format!("the skill {name:?} exists")));
        }
        Ok(SkillRow {
            key: skill_key(name),
            name: name.to_owned(),
            category: category.to_owned(),
        })
    }

    /// The catalog's skill of `name` (whatever the case).
    pub async fn skill(&self, name: &str) -> StoreResult<Option<SkillRow>> {
        Ok(
            sqlx::query_as("SELECT key, name, category FROM skills WHERE key = $1")
                .bind(skill_key(name))
                .fetch_optional(self.pool())
                .await?,
        )
    }

    /// Lists `skill_key` on `user`'s profile (or updates its evidence).
    pub async fn add_user_skill(
        &self,
        user: &UserId,
        skill_key: &str,
        evidence: Option<&str>,
    ) -> StoreResult<()> {
        let mut w = self.begin_write().await?;
        self.ensure_profile(&mut w, user).await?;
        sqlx::query(
            "INSERT INTO user_skills (user_id, skill_key, evidence_url, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (user_id, skill_key) DO UPDATE SET evidence_url = excluded.evidence_url",
        )
        .bind(user.as_str())
        .bind(skill_key)
        .bind(evidence)
        .bind(self.now_ms())
        .execute(w.conn().await?)
        .await?;
        w.commit().await?;
        Ok(())
    }

    /// `user`'s skills with their endorsement counts.
    pub async fn user_skills(&self, user: &UserId) -> StoreResult<Vec<UserSkillRow>> {
        Ok(sqlx::query_as(
            "SELECT s.name, s.category, us.verified, us.evidence_url,
                    (SELECT COUNT(*) FROM endorsements e WHERE e.user_id = us.user_id AND e.skill_key = us.skill_key) AS endorsements
             FROM user_skills us JOIN skills s ON s.key = us.skill_key
             WHERE us.user_id = $1 ORDER BY s.key",
        )
        .bind(user.as_str())
        .fetch_all(self.pool())
        .await?)
    }

    /// Whether `user` lists `skill_key`, and whether it is verified.
    pub async fn user_skill(&self, user: &UserId, skill_key: &str) -> StoreResult<Option<bool>> {
        let row: Option<(i64,)> = sqlx::query_as(
            "SELECT verified FROM user_skills WHERE user_id = $1 AND skill_key = $2",
        )
        .bind(user.as_str())
        .bind(skill_key)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(|(v,)| v != 0))
    }

    /// Marks `user`'s skill verified by `by` inside `w`; false when it already was.
    pub async fn verify_skill(
        &self,
        w: &mut WriteTx,
        user: &UserId,
        skill_key: &str,
        by: &UserId,
    ) -> StoreResult<bool> {
        let changed = sqlx::query(
            "UPDATE user_skills SET verified = 1, verified_by = $3, verified_at = $4
             WHERE user_id = $1 AND skill_key = $2 AND verified = 0",
        )
        .bind(user.as_str())
        .bind(skill_key)
        .bind(by.as_str())
        .bind(self.now_ms())
        .execute(w.conn().await?)
        .await?
        .rows_affected();
        Ok(changed == 1)
    }

    /// Endorsements `endorser` gave since `since_ms`.
    pub async fn endorsements_given_since(
        &self,
        w: &mut WriteTx,
        endorser: &UserId,
        since_ms: i64,
    ) -> StoreResult<i64> {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM endorsements WHERE endorser_id = $1 AND created_at >= $2",
        )
        .bind(endorser.as_str())
        .bind(since_ms)
        .fetch_one(w.conn().await?)
        .await?;
        Ok(n)
    }

    /// Records an endorsement inside `w`; `Conflict` when this endorser already endorsed this
    /// user's skill.
    pub async fn add_endorsement(
        &self,
        w: &mut WriteTx,
        e: NewEndorsement<'_>,
        skill_name: &str,
    ) -> StoreResult<EndorsementRow> {
        let (id, at) = (new_id(), self.now_ms());
        let inserted = sqlx::query(
            "INSERT INTO endorsements (id, endorser_id, user_id, skill_key, rating, note, weight_milli, xp, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT (endorser_id, user_id, skill_key) DO NOTHING",
        )
        .bind(&id)
        .bind(e.endorser.as_str())
        .bind(e.user.as_str())
        .bind(e.skill_key)
        .bind(i64::from(e.rating))
        .bind(e.note)
        .bind(e.weight_milli)
        .bind(e.xp)
        .bind(at)
        .execute(w.conn().await?)
        .await?
        .rows_affected();
        if inserted == 0 {
            return Err(StoreError::Conflict(format!(
                "you already endorsed {} for {skill_name}",
                e.user
            )));
        }
        Ok(EndorsementRow {
            id,
            endorser_id: e.endorser.clone(),
            user_id: e.user.clone(),
            skill_key: e.skill_key.to_owned(),
            rating: e.rating,
            note: e.note.map(str::to_owned),
            weight_milli: e.weight_milli,
            xp: e.xp,
            created_at: at,
        })
    }

    /// Sets the XP an endorsement brought (known once the day's allowance is read).
    pub async fn set_endorsement_xp(&self, w: &mut WriteTx, id: &str, xp: i64) -> StoreResult<()> {
        sqlx::query("UPDATE endorsements SET xp = $2 WHERE id = $1")
            .bind(id)
            .bind(xp)
            .execute(w.conn().await?)
            .await?;
        Ok(())
    }

    pub async fn add_portfolio_item(
        &self,
        user: &UserId,
        item: &PortfolioEntry,
    ) -> StoreResult<PortfolioRow> {
        let mut w = self.begin_write().await?;
        self.ensure_profile(&mut w, user).await?;
        let (id, at) = (new_id(), self.now_ms());
        sqlx::query(
            "INSERT INTO portfolio_items (id, user_id, title, summary, artifact_url, buz, impact, is_public, task_id, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&id)
        .bind(user.as_str())
        .bind(&item.title)
        .bind(&item.summary)
        .bind(item.artifact_url.as_deref())
        .bind(item.buz)
        .bind(item.impact.to_string())
        .bind(i64::from(item.is_public))
        .bind(item.task_id.as_deref())
        .bind(at)
        .execute(w.conn().await?)
        .await?;
        w.commit().await?;
        Ok(PortfolioRow {
            id,
            user_id: user.clone(),
            title: item.title.clone(),
            summary: item.summary.clone(),
            artifact_url: item.artifact_url.clone(),
            buz: item.buz,
            impact: item.impact.to_string(),
            is_public: item.is_public,
            task_id: item.task_id.clone().map(TaskId),
            created_at: at,
        })
    }

    /// `user`'s portfolio, newest first: every item, or only the public ones.
    pub async fn portfolio(&self, user: &UserId, all: bool) -> StoreResult<Vec<PortfolioRow>> {
        Ok(sqlx::query_as(
            "SELECT id, user_id, title, summary, artifact_url, buz, impact, is_public, task_id, created_at
             FROM portfolio_items WHERE user_id = $1 AND ($2 = 1 OR is_public = 1) ORDER BY id DESC",
        )
        .bind(user.as_str())
        .bind(i64::from(all))
        .fetch_all(self.pool())
        .await?)
    }

    /// What the hub recorded of `user`'s accepted task `task_id`: the venture its event named,
    /// the BUZ credited for it and when it arrived; `None` when it knows no such task.
    pub async fn verified_task(
        &self,
        user: &UserId,
        task_id: &TaskId,
    ) -> StoreResult<Option<TaskCreditRow>> {
        let event: Option<(String, i64)> = sqlx::query_as(
            "SELECT body, received_at FROM events WHERE kind = 'task.accepted' AND id = $1 AND user_id = $2",
        )
        .bind(task_id.as_str())
        .bind(user.as_str())
        .fetch_optional(self.pool())
        .await?;
        let Some((body, at)) = event else {
            return Ok(None);
        };
        let (credited,): (i64,) = sqlx::query_as(
            "SELECT CAST(COALESCE(SUM(l.amount), 0) AS BIGINT) FROM wallet_ledgers l JOIN wallets w ON w.id = l.wallet_id
             WHERE w.user_id = $1 AND l.task_id = $2 AND l.type = 'EARN'",
        )
        .bind(user.as_str())
        .bind(task_id.as_str())
        .fetch_one(self.pool())
        .await?;
        let venture_id = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|b| b.get("venture_id")?.as_str().map(str::to_owned));
        Ok(Some(TaskCreditRow {
            venture_id: venture_id.map(hub_protocol::VentureId::from),
            credited,
            accepted_at: at,
        }))
    }

    /// Deletes `user`'s item `id`; `NotFound` when it is not theirs.
    pub async fn delete_portfolio_item(&self, user: &UserId, id: &str) -> StoreResult<()> {
        let gone = sqlx::query("DELETE FROM portfolio_items WHERE id = $1 AND user_id = $2")
            .bind(id)
            .bind(user.as_str())
            .execute(self.pool())
            .await?
            .rows_affected();
        if gone == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Whether `a` and `b` share a venture where `a` is an owner.
    pub async fn owns_a_venture_of(&self, a: &UserId, b: &UserId) -> StoreResult<bool> {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM venture_members ma JOIN venture_members mb ON mb.venture_id = ma.venture_id
             WHERE ma.user_id = $1 AND ma.role = 'owner' AND mb.user_id = $2",
        )
        .bind(a.as_str())
        .bind(b.as_str())
        .fetch_one(self.pool())
        .await?;
        Ok(n > 0)
    }
}
