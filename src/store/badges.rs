//! Badges and their awards: one award per user and badge (the primary key), so awarding twice
//! changes nothing. The seeded badges are inserted at startup when missing.

use super::{Store, StoreError, StoreResult, WriteTx, rfc3339};
use hub_protocol::UserId;
use hub_protocol::badges::Badge;
use hub_protocol::profiles::ProfileBadge;

/// A badge as stored: its rule is the JSON text, checked when written.
#[derive(Debug, Clone)]
pub struct BadgeRow {
    pub code: String,
    pub name: String,
    pub description: String,
    pub rule: serde_json::Value,
}

impl Store {
    /// Inserts the seeded badges that are missing (changed ones are left as they are).
    pub async fn seed_badges(&self, seeds: &[hub_rooms::badges::Seed]) -> StoreResult<()> {
        let now = self.now_ms();
        for seed in seeds {
            sqlx::query(
                "INSERT INTO badges (code, name, description, rule, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (code) DO NOTHING",
            )
            .bind(seed.code)
            .bind(seed.name)
            .bind(seed.description)
            .bind(seed.rule)
            .bind(now)
            .execute(self.pool())
            .await?;
        }
        Ok(())
    }

    /// The catalog with award counts, by code.
    pub async fn badges(&self) -> StoreResult<Vec<Badge>> {
        let rows: Vec<(String, String, String, String, i64)> = sqlx::query_as(
            "SELECT b.code, b.name, b.description, b.rule,
                    (SELECT COUNT(*) FROM badge_awards a WHERE a.code = b.code)
             FROM badges b ORDER BY b.code",
        )
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(code, name, description, rule, awarded_count)| Badge {
                code,
                name,
                description,
                rule: serde_json::from_str(&rule).unwrap_or_default(),
                awarded_count,
            })
            .collect())
    }

    /// Every badge with its rule, inside `w` (for evaluation).
    pub async fn badge_rows(&self, w: &mut WriteTx) -> StoreResult<std::sync::Arc<Vec<BadgeRow>>> {
        if let Some(badges) = &w.known.badges {
            return Ok(badges.clone());
        }
        let rows: Vec<(String, String, String, String)> =
            sqlx::query_as("SELECT code, name, description, rule FROM badges ORDER BY code")
                .fetch_all(&mut *w.tx)
                .await?;
        let badges = std::sync::Arc::new(
            rows.into_iter()
                .map(|(code, name, description, rule)| BadgeRow {
                    code,
                    name,
                    description,
                    rule: serde_json::from_str(&rule).unwrap_or_default(),
                })
                .collect::<Vec<_>>(),
        );
        w.known.badges = Some(badges.clone());
        Ok(badges)
    }

    pub async fn badge(&self, code: &str) -> StoreResult<Option<Badge>> {
        Ok(self.badges().await?.into_iter().find(|b| b.code == code))
    }

    /// Adds a badge; `Conflict` when the code is taken.
    pub async fn create_badge(&self, b: &BadgeRow) -> StoreResult<()> {
        let now = self.now_ms();
        let inserted = sqlx::query(
            "INSERT INTO badges (code, name, description, rule, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (code) DO NOTHING",
        )
        .bind(&b.code)
        .bind(&b.name)
        .bind(&b.description)
        .bind(b.rule.to_string())
        .bind(now)
        .execute(self.pool())
        .await?
        .rows_affected();
        if inserted == 0 {
            return Err(StoreError::Conflict(format!(
                "a badge with the code {} exists",
                b.code
            )));
        }
        Ok(())
    }

    /// Replaces a badge's name, description and rule; `NotFound` for an unknown code.
    pub async fn update_badge(&self, b: &BadgeRow) -> StoreResult<()> {
        let changed = sqlx::query(
            "UPDATE badges SET name = $2, description = $3, rule = $4, updated_at = $5 WHERE code = $1",
        )
        .bind(&b.code)
        .bind(&b.name)
        .bind(&b.description)
        .bind(b.rule.to_string())
        .bind(self.now_ms())
        .execute(self.pool())
        .await?
        .rows_affected();
        if changed == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Awards `code` to `user` inside `w`: `Some(awarded_at)` when newly awarded, `None` when the
    /// user already had it.
    pub async fn award_badge(
        &self,
        w: &mut WriteTx,
        user: &UserId,
        code: &str,
        reason: &str,
        by: Option<&UserId>,
    ) -> StoreResult<Option<i64>> {
        self.fault("award_badge")?;
        self.ensure_profile(w, user).await?;
        let at = self.now_ms();
        let inserted = sqlx::query(
            "INSERT INTO badge_awards (user_id, code, reason, awarded_by, awarded_at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (user_id, code) DO NOTHING",
        )
        .bind(user.as_str())
        .bind(code)
        .bind(reason)
        .bind(by.map(UserId::as_str))
        .bind(at)
        .execute(&mut *w.tx)
        .await?
        .rows_affected();
        Ok((inserted == 1).then_some(at))
    }

    /// When and why `user` got `code`, if they did.
    pub async fn badge_award(
        &self,
        user: &UserId,
        code: &str,
    ) -> StoreResult<Option<(String, i64)>> {
        Ok(sqlx::query_as(
            "SELECT reason, awarded_at FROM badge_awards WHERE user_id = $1 AND code = $2",
        )
        .bind(user.as_str())
        .bind(code)
        .fetch_optional(self.pool())
        .await?)
    }

    /// The codes `user` holds, inside `w`.
    pub async fn awarded_codes(&self, w: &mut WriteTx, user: &UserId) -> StoreResult<Vec<String>> {
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT code FROM badge_awards WHERE user_id = $1")
                .bind(user.as_str())
                .fetch_all(&mut *w.tx)
                .await?;
        Ok(rows.into_iter().map(|(c,)| c).collect())
    }

    /// `user`'s badges, oldest award first.
    pub async fn profile_badges(&self, user: &UserId) -> StoreResult<Vec<ProfileBadge>> {
        let rows: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT a.code, b.name, a.awarded_at FROM badge_awards a JOIN badges b ON b.code = a.code
             WHERE a.user_id = $1 ORDER BY a.awarded_at, a.code",
        )
        .bind(user.as_str())
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(code, name, at)| ProfileBadge {
                code,
                name,
                awarded_at: rfc3339(at),
            })
            .collect())
    }
}
