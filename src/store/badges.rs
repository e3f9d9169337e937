//! Badges and their awards: one award per user and badge (the primary key), so awarding twice
//! changes nothing. The seeded badges are inserted at startup when missing.

use super::behind::AwardRow;
use super::{Store, StoreError, StoreResult, WriteTx};
use hub_protocol::UserId;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

/// A badge as stored: its rule is the JSON text, checked when written.
#[derive(Debug, Clone)]
pub struct BadgeRow {
    pub code: String,
    pub name: String,
    pub description: String,
    pub rule: serde_json::Value,
}

/// A badge of the catalog with how many times it was awarded (its rule as JSON text).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct BadgeCountRow {
    pub code: String,
    pub name: String,
    pub description: String,
    pub rule: String,
    pub awarded_count: i64,
}

/// A badge a user holds.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct HeldBadgeRow {
    pub code: String,
    pub name: String,
    pub awarded_at: i64,
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
    pub async fn badges(&self) -> StoreResult<Vec<BadgeCountRow>> {
        Ok(sqlx::query_as(
            "SELECT b.code, b.name, b.description, b.rule,
                    (SELECT COUNT(*) FROM badge_awards a WHERE a.code = b.code) AS awarded_count
             FROM badges b ORDER BY b.code",
        )
        .fetch_all(self.pool())
        .await?)
    }

    /// Every badge with its rule, inside `w` (for evaluation).
    pub async fn badge_rows(&self, w: &mut WriteTx) -> StoreResult<std::sync::Arc<Vec<BadgeRow>>> {
        if let Some(badges) = &w.known.badges {
            return Ok(badges.clone());
        }
        let rows: Vec<(String, String, String, String)> =
            sqlx::query_as("SELECT code, name, description, rule FROM badges ORDER BY code")
                .fetch_all(w.conn().await?)
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

    pub async fn badge(&self, code: &str) -> StoreResult<Option<BadgeCountRow>> {
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
        let held = self.held_codes(w, user).await?;
        if held.contains(code) {
            return Ok(None);
        }
        let at = self.now_ms();
        w.pending.awards.push(AwardRow {
            user_id: user.to_string(),
            code: code.to_owned(),
            reason: reason.to_owned(),
            awarded_by: by.map(|b| b.to_string()),
            awarded_at: at,
        });
        let mut now_held = (*held).clone();
        now_held.insert(code.to_owned());
        w.learn(|k| &mut k.awarded, user.to_string(), Arc::new(now_held));
        Ok(Some(at))
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
        Ok(self.held_codes(w, user).await?.iter().cloned().collect())
    }

    /// The codes `user` holds, read once per transaction (see [`Store::load_awarded`]).
    async fn held_codes(
        &self,
        w: &mut WriteTx,
        user: &UserId,
    ) -> StoreResult<Arc<BTreeSet<String>>> {
        if let Some(held) = w.known.awarded.get(user.as_str()) {
            return Ok(held.clone());
        }
        self.load_awarded(w, &[user]).await?;
        Ok(w.known
            .awarded
            .get(user.as_str())
            .cloned()
            .unwrap_or_default())
    }

    /// Reads the codes `users` hold, and the XP grants those awards brought, into `w`, in two
    /// statements per 500. The user's head, which `w` holds, covers their awards and XP:
    /// nobody else changes them meanwhile.
    pub async fn load_awarded(&self, w: &mut WriteTx, users: &[&UserId]) -> StoreResult<()> {
        let users: Vec<&UserId> =
            super::unknown(users, |u| w.known.awarded.contains_key(u.as_str()));
        for chunk in users.chunks(500) {
            let list = self.backend.json_list(1);
            let sql = format!("SELECT user_id, code FROM badge_awards WHERE user_id IN ({list})");
            let query = sqlx::query_as::<_, (String, String)>(sqlx::AssertSqlSafe(sql))
                .bind(super::json_array(chunk))
                .bind(chunk.len() as i64);
            let mut held: HashMap<String, BTreeSet<String>> = HashMap::new();
            for (user, code) in query.fetch_all(w.conn().await?).await? {
                held.entry(user).or_default().insert(code);
            }
            // And the XP their badges brought, which an award grants with the badge.
            let sql = format!(
                "SELECT user_id, ref_id FROM xp_events WHERE source = 'badge' AND user_id IN ({list})"
            );
            let query = sqlx::query_as::<_, (String, String)>(sqlx::AssertSqlSafe(sql))
                .bind(super::json_array(chunk))
                .bind(chunk.len() as i64);
            for (user, code) in query.fetch_all(w.conn().await?).await? {
                w.learn(|k| &mut k.xp, (user, "badge".to_owned(), code), true);
            }
            for user in chunk {
                let codes = held.remove(user.as_str()).unwrap_or_default();
                w.learn(|k| &mut k.awarded, user.to_string(), Arc::new(codes));
                w.learn(
                    |k| &mut k.xp_sources,
                    (user.to_string(), "badge".to_owned()),
                    (),
                );
            }
        }
        Ok(())
    }

    /// `user`'s badges, oldest award first.
    pub async fn profile_badges(&self, user: &UserId) -> StoreResult<Vec<HeldBadgeRow>> {
        Ok(sqlx::query_as(
            "SELECT a.code, b.name, a.awarded_at FROM badge_awards a JOIN badges b ON b.code = a.code
             WHERE a.user_id = $1 ORDER BY a.awarded_at, a.code",
        )
        .bind(user.as_str())
        .fetch_all(self.pool())
        .await?)
    }
}
