//! XP, levels, reputation, the facts badge rules read (`user_stats`) and leaderboards. A
//! profile row and a stats row are created on first use with the defaults; XP is a ledger
//! (`xp_events`, one grant per user, source and ref) whose sum is the profile's `xp`, changed
//! under the profile's row lock in the caller's transaction.

use super::behind::{StatRow, XpRow};
use super::{Standing, Store, StoreError, StoreResult, WriteTx, new_id};
use hub_protocol::{UserId, VentureId};
use hub_rooms::badges::Metrics;
use hub_rooms::gamification::{Rep, level_for, utc_day};

/// What an XP grant changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct XpChange {
    pub granted: i64,
    pub xp: i64,
    pub level_before: u32,
    pub level: u32,
}

/// A counter of `user_stats`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stat {
    TasksAccepted,
    CriticalBugs,
    HelpfulReviews,
    Reviews,
    ReviewsAgreed,
    DeviceCompliantDays,
    PolicyViolations,
    EndorsementsReceived,
    EndorsementRatingSum,
    EquityConversions,
    FirstWindowConversions,
}

impl Stat {
    fn column(self) -> &'static str {
        match self {
            Stat::TasksAccepted => "tasks_accepted",
            Stat::CriticalBugs => "critical_bugs",
            Stat::HelpfulReviews => "helpful_reviews",
            Stat::Reviews => "reviews",
            Stat::ReviewsAgreed => "reviews_agreed",
            Stat::DeviceCompliantDays => "device_compliant_days",
            Stat::PolicyViolations => "policy_violations",
            Stat::EndorsementsReceived => "endorsements_received",
            Stat::EndorsementRatingSum => "endorsement_rating_sum",
            Stat::EquityConversions => "equity_conversions",
            Stat::FirstWindowConversions => "first_window_conversions",
        }
    }
}

/// A user as the reputation job sees them.
#[derive(Debug, Clone)]
pub struct RepRow {
    pub user: UserId,
    pub joined_ms: i64,
    pub rep: Rep,
    pub rep_day: Option<i64>,
}

/// One UTC day's gains of a user, from the ledgers.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DayRow {
    pub xp: i64,
    pub endorsements_weight_milli: i64,
    pub badges: i64,
}

/// A leaderboard line before ranking.
#[derive(Debug, Clone)]
pub struct BoardRow {
    pub user: UserId,
    pub name: String,
    pub level: u32,
    pub xp: i64,
    pub rep: Rep,
}

/// Which way a leaderboard orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BoardBy {
    Xp,
    Reputation,
}

impl BoardBy {
    pub fn as_str(self) -> &'static str {
        match self {
            BoardBy::Xp => "xp",
            BoardBy::Reputation => "reputation",
        }
    }

    pub fn parse(s: &str) -> Option<BoardBy> {
        match s {
            "xp" => Some(BoardBy::Xp),
            "reputation" => Some(BoardBy::Reputation),
            _ => None,
        }
    }
}

/// A stats writer changed one row, or the user had none (a caller that skipped
/// [`Store::ensure_profile`]).
fn stats_written(changed: u64) -> StoreResult<()> {
    if changed == 1 {
        Ok(())
    } else {
        // A bug of the caller's: internal, logged where it is answered.
        Err(StoreError::Db(sqlx::Error::RowNotFound))
    }
}

/// Users per statement of [`Store::ensure_profiles`].
const PROFILE_CHUNK: usize = 500;

impl Store {
    /// Makes sure `user` exists with a profile and a stats row (the defaults).
    pub async fn ensure_profile(&self, w: &mut WriteTx, user: &UserId) -> StoreResult<()> {
        if w.known.profiles.contains_key(user.as_str()) {
            return Ok(());
        }
        self.ensure_user(w, user).await?;
        let now = self.now_ms();
        sqlx::query(
            "INSERT INTO profiles (user_id, updated_at) VALUES ($1, $2) ON CONFLICT (user_id) DO NOTHING",
        )
        .bind(user.as_str())
        .bind(now)
        .execute(w.conn().await?)
        .await?;
        sqlx::query(
            "INSERT INTO user_stats (user_id) VALUES ($1) ON CONFLICT (user_id) DO NOTHING",
        )
        .bind(user.as_str())
        .execute(w.conn().await?)
        .await?;
        w.learn(|k| &mut k.profiles, user.as_str().to_owned(), ());
        Ok(())
    }

    /// Raises `user`'s reputation to `milli` thousandths when it is below (the development
    /// demo's sample task; nothing else changes a reputation but the daily fold).
    pub async fn dev_raise_reputation(&self, user: &UserId, milli: i64) -> StoreResult<()> {
        let mut w = self.begin_write().await?;
        self.ensure_profile(&mut w, user).await?;
        sqlx::query(
            "UPDATE profiles SET rep_milli = $2, updated_at = $3 WHERE user_id = $1 AND rep_milli < $2",
        )
        .bind(user.as_str())
        .bind(milli)
        .bind(self.now_ms())
        .execute(w.conn().await?)
        .await?;
        Ok(w.commit().await?)
    }

    /// [`Store::ensure_profile`] for many users at once: three statements, however many (a
    /// batch of domain writes makes sure of its users' rows before its first write).
    pub async fn ensure_profiles(&self, w: &mut WriteTx, users: &[&UserId]) -> StoreResult<()> {
        let users: Vec<&UserId> =
            super::unknown(users, |u| w.known.profiles.contains_key(u.as_str()));
        let now = self.now_ms();
        for chunk in users.chunks(PROFILE_CHUNK) {
            // $1: the users, as a JSON array, $2 how many; $3: the time, where a statement has
            // one. `WHERE true` lets SQLite read the `ON CONFLICT` as the insert's.
            let list = self.backend.json_list(1);
            for (sql, timed) in [
                (
                    format!(
                        "INSERT INTO users (id, name, created_at, updated_at)
                         SELECT value, value, $3, $3 FROM ({list}) AS x WHERE true
                         ON CONFLICT (id) DO NOTHING"
                    ),
                    true,
                ),
                (
                    format!(
                        "INSERT INTO profiles (user_id, updated_at)
                         SELECT value, $3 FROM ({list}) AS x WHERE true
                         ON CONFLICT (user_id) DO NOTHING"
                    ),
                    true,
                ),
                (
                    format!(
                        "INSERT INTO user_stats (user_id)
                         SELECT value FROM ({list}) AS x WHERE true
                         ON CONFLICT (user_id) DO NOTHING"
                    ),
                    false,
                ),
            ] {
                let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(super::json_array(chunk))
                    .bind(chunk.len() as i64);
                if timed {
                    query = query.bind(now);
                }
                query.execute(w.conn().await?).await?;
            }
            for user in chunk {
                w.learn(|k| &mut k.profiles, user.as_str().to_owned(), ());
            }
        }
        Ok(())
    }

    /// Grants `amount` XP to `user` for (`source`, `ref_id`), once: a second grant for the same
    /// pair changes nothing (and answers 0 granted). The grant and the profile's move wait in
    /// the transaction's buffer (see `behind`).
    pub async fn add_xp(
        &self,
        w: &mut WriteTx,
        user: &UserId,
        source: &str,
        ref_id: &str,
        amount: i64,
    ) -> StoreResult<XpChange> {
        self.fault("add_xp")?;
        self.ensure_profile(w, user).await?;
        let standing = self.standing(w, user).await?.ok_or(StoreError::NotFound)?;
        let xp = standing.xp;
        let level_before = level_for(xp);
        let unchanged = XpChange {
            granted: 0,
            xp,
            level_before,
            level: level_before,
        };
        if amount <= 0 {
            return Ok(unchanged);
        }
        let key = (user.to_string(), source.to_owned(), ref_id.to_owned());
        let every_grant_known = w
            .known
            .xp_sources
            .contains_key(&(key.0.clone(), key.1.clone()));
        let granted = match w.known.xp.get(&key) {
            Some(granted) => *granted,
            None if every_grant_known => false,
            None => {
                let found: Option<(i64,)> = sqlx::query_as(
                    "SELECT 1 FROM xp_events WHERE user_id = $1 AND source = $2 AND ref_id = $3",
                )
                .bind(user.as_str())
                .bind(source)
                .bind(ref_id)
                .fetch_optional(w.conn().await?)
                .await?;
                found.is_some()
            }
        };
        if granted {
            return Ok(unchanged);
        }
        let after = xp.saturating_add(amount);
        let level = level_for(after);
        let at = self.now_ms();
        w.pending.xp.push(XpRow {
            id: new_id(),
            user_id: user.to_string(),
            source: source.to_owned(),
            ref_id: ref_id.to_owned(),
            amount,
            created_at: at,
            xp_after: after,
            level_after: i64::from(level),
        });
        w.learn(|k| &mut k.xp, key, true);
        let mut standing = standing;
        standing.xp = after;
        w.learn(|k| &mut k.standing, user.to_string(), standing);
        Ok(XpChange {
            granted: amount,
            xp: after,
            level_before,
            level,
        })
    }

    /// Reads which of the XP grants `keys` (user, source, ref) are stored into `w`, in one
    /// statement per 500.
    pub async fn load_xp(&self, w: &mut WriteTx, keys: &[(&str, &str, &str)]) -> StoreResult<()> {
        let mut keys: Vec<(&str, &str, &str)> = keys
            .iter()
            .copied()
            .filter(|(u, s, r)| {
                !w.known
                    .xp
                    .contains_key(&((*u).to_owned(), (*s).to_owned(), (*r).to_owned()))
            })
            .collect();
        keys.sort();
        keys.dedup();
        for chunk in keys.chunks(500) {
            let rows = self.backend.json_rows(
                1,
                &[("user_id", "text"), ("source", "text"), ("ref_id", "text")],
            );
            let sql = format!(
                "SELECT r.user_id, r.source, r.ref_id FROM ({rows}) AS r
                 WHERE EXISTS (SELECT 1 FROM xp_events x
                   WHERE x.user_id = r.user_id AND x.source = r.source AND x.ref_id = r.ref_id)"
            );
            let keys: Vec<serde_json::Value> = chunk
                .iter()
                .map(|(u, s, r)| serde_json::json!({"user_id": u, "source": s, "ref_id": r}))
                .collect();
            let query = sqlx::query_as::<_, (String, String, String)>(sqlx::AssertSqlSafe(sql))
                .bind(serde_json::Value::from(keys).to_string())
                .bind(chunk.len() as i64);
            let found: std::collections::HashSet<(String, String, String)> = query
                .fetch_all(w.conn().await?)
                .await?
                .into_iter()
                .collect();
            for (u, s, r) in chunk {
                let key = ((*u).to_owned(), (*s).to_owned(), (*r).to_owned());
                let stored = found.contains(&key);
                w.learn(|k| &mut k.xp, key, stored);
            }
        }
        Ok(())
    }

    /// What `w` knows of `user`'s standing, read on first use (with the users of the batch,
    /// see [`Store::load_standing`]); `None` for a user without a profile.
    pub(super) async fn standing(
        &self,
        w: &mut WriteTx,
        user: &UserId,
    ) -> StoreResult<Option<Standing>> {
        if let Some(s) = w.known.standing.get(user.as_str()) {
            return Ok(Some(s.clone()));
        }
        self.load_standing(w, &[user]).await?;
        Ok(w.known.standing.get(user.as_str()).cloned())
    }

    /// Reads the counters, XP, reputation and join time of `users` into `w`, in one statement
    /// per 500 users; the profile rows are locked on Postgres. Users without a profile are
    /// left out.
    pub async fn load_standing(&self, w: &mut WriteTx, users: &[&UserId]) -> StoreResult<()> {
        let users: Vec<&UserId> =
            super::unknown(users, |u| w.known.standing.contains_key(u.as_str()));
        let lock = match self.backend {
            super::Backend::Postgres => " FOR UPDATE OF p",
            super::Backend::Sqlite => "",
        };
        for chunk in users.chunks(PROFILE_CHUNK) {
            let list = self.backend.json_list(1);
            let sql = format!(
                "SELECT s.user_id, s.tasks_accepted, s.critical_bugs, s.helpful_reviews, s.reviews,
                        s.reviews_agreed, s.kyc_status, s.device_compliant_days, s.policy_violations,
                        s.endorsements_received, s.endorsement_rating_sum, s.equity_conversions,
                        s.first_window_conversions, s.device_last_compliant, u.created_at, p.xp,
                        p.rep_milli
                 FROM user_stats s JOIN users u ON u.id = s.user_id
                 JOIN profiles p ON p.user_id = s.user_id
                 WHERE s.user_id IN ({list}){lock}"
            );
            let query = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(super::json_array(chunk))
                .bind(chunk.len() as i64);
            let rows = query.fetch_all(w.conn().await?).await?;
            for row in rows {
                use sqlx::Row;
                let user: String = row.try_get(0)?;
                let standing = Standing {
                    metrics: Metrics {
                        tasks_accepted: row.try_get(1)?,
                        days_since_join: 0,
                        critical_bugs: row.try_get(2)?,
                        helpful_reviews: row.try_get(3)?,
                        reviews: row.try_get(4)?,
                        reviews_agreed: row.try_get(5)?,
                        kyc_status: row.try_get(6)?,
                        device_compliant_days: row.try_get(7)?,
                        policy_violations: row.try_get(8)?,
                        endorsements_received: row.try_get(9)?,
                        endorsement_rating_sum: row.try_get(10)?,
                        equity_conversions: row.try_get(11)?,
                        first_window_conversions: row.try_get(12)?,
                    },
                    device_last_compliant: row.try_get(13)?,
                    joined_ms: row.try_get(14)?,
                    xp: row.try_get(15)?,
                    rep_milli: row.try_get(16)?,
                };
                w.learn(|k| &mut k.profiles, user.clone(), ());
                w.learn(|k| &mut k.standing, user, standing);
            }
        }
        Ok(())
    }

    /// XP `user` got from `source` between `from_ms` (inclusive) and `to_ms` (exclusive).
    pub async fn xp_from_between(
        &self,
        w: &mut WriteTx,
        user: &UserId,
        source: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> StoreResult<i64> {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM xp_events
             WHERE user_id = $1 AND source = $2 AND created_at >= $3 AND created_at < $4",
        )
        .bind(user.as_str())
        .bind(source)
        .bind(from_ms)
        .bind(to_ms)
        .fetch_one(w.conn().await?)
        .await?;
        Ok(n)
    }

    /// Adds `by` to a counter of `user`'s stats. Like every stats writer, it needs the user's
    /// rows ([`Store::ensure_profile`], done by whatever brought the user in: an event, a
    /// wallet, an award); a missing row is an error, never a lost count.
    pub async fn bump_stat(
        &self,
        w: &mut WriteTx,
        user: &UserId,
        stat: Stat,
        by: i64,
    ) -> StoreResult<()> {
        self.fault("bump_stat")?;
        let column = stat.column();
        // A user whose rows this transaction knows: the bump waits in the buffer.
        if let Some(mut standing) = w.known.standing.get(user.as_str()).cloned() {
            let m = &mut standing.metrics;
            let counter = match stat {
                Stat::TasksAccepted => &mut m.tasks_accepted,
                Stat::CriticalBugs => &mut m.critical_bugs,
                Stat::HelpfulReviews => &mut m.helpful_reviews,
                Stat::Reviews => &mut m.reviews,
                Stat::ReviewsAgreed => &mut m.reviews_agreed,
                Stat::DeviceCompliantDays => &mut m.device_compliant_days,
                Stat::PolicyViolations => &mut m.policy_violations,
                Stat::EndorsementsReceived => &mut m.endorsements_received,
                Stat::EndorsementRatingSum => &mut m.endorsement_rating_sum,
                Stat::EquityConversions => &mut m.equity_conversions,
                Stat::FirstWindowConversions => &mut m.first_window_conversions,
            };
            *counter = counter.saturating_add(by);
            w.pending.stats.push(StatRow {
                user: user.to_string(),
                column,
                by,
            });
            w.learn(|k| &mut k.standing, user.to_string(), standing);
            return Ok(());
        }
        let sql = format!("UPDATE user_stats SET {column} = {column} + $2 WHERE user_id = $1");
        let changed = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(user.as_str())
            .bind(by)
            .execute(w.conn().await?)
            .await?
            .rows_affected();
        stats_written(changed)
    }

    /// Records `user`'s latest KYC status (see [`Store::bump_stat`]).
    pub async fn set_kyc(&self, w: &mut WriteTx, user: &UserId, status: &str) -> StoreResult<()> {
        w.forget(|k| &mut k.standing, &user.to_string());
        let changed = sqlx::query("UPDATE user_stats SET kyc_status = $2 WHERE user_id = $1")
            .bind(user.as_str())
            .bind(status)
            .execute(w.conn().await?)
            .await?
            .rows_affected();
        stats_written(changed)
    }

    /// Records a device report of `date` (`YYYY-MM-DD`): a compliant day counts, and the
    /// latest report by date is kept (see [`Store::bump_stat`]).
    pub async fn device_report(
        &self,
        w: &mut WriteTx,
        user: &UserId,
        date: &str,
        compliant: bool,
    ) -> StoreResult<()> {
        w.forget(|k| &mut k.standing, &user.to_string());
        let changed = sqlx::query(
            "UPDATE user_stats SET
                 device_compliant_days = device_compliant_days + $3,
                 device_last_compliant = CASE WHEN device_last_date IS NULL OR device_last_date <= $2
                     THEN $4 ELSE device_last_compliant END,
                 device_last_date = CASE WHEN device_last_date IS NULL OR device_last_date <= $2
                     THEN $2 ELSE device_last_date END
             WHERE user_id = $1",
        )
        .bind(user.as_str())
        .bind(date)
        .bind(i64::from(compliant))
        .bind(i64::from(compliant))
        .execute(w.conn().await?)
        .await?
        .rows_affected();
        stats_written(changed)
    }

    /// What badge rules read of `user` (defaults for a user without stats), as of now.
    pub async fn metrics(&self, w: &mut WriteTx, user: &UserId) -> StoreResult<Metrics> {
        let days_since = |joined: Option<i64>| {
            joined
                .map(|at| utc_day(self.now_ms()) - utc_day(at))
                .unwrap_or(0)
                .max(0)
        };
        if let Some(standing) = self.standing(w, user).await? {
            return Ok(Metrics {
                days_since_join: days_since(standing.joined_ms),
                ..standing.metrics
            });
        }
        // No stats row: the join time alone.
        let joined: Option<i64> = sqlx::query_scalar("SELECT created_at FROM users WHERE id = $1")
            .bind(user.as_str())
            .fetch_optional(w.conn().await?)
            .await?;
        Ok(Metrics {
            days_since_join: days_since(joined),
            kyc_status: "NONE".into(),
            ..Metrics::default()
        })
    }

    /// Up to `limit` users after `after` (by id), for the jobs that walk every user.
    pub async fn users_after(&self, after: Option<&str>, limit: u32) -> StoreResult<Vec<RepRow>> {
        let rows: Vec<(String, i64, Option<i64>, Option<i64>)> = sqlx::query_as(
            "SELECT u.id, u.created_at, p.rep_milli, p.rep_day FROM users u
             LEFT JOIN profiles p ON p.user_id = u.id
             WHERE ($1 IS NULL OR u.id > $1) ORDER BY u.id LIMIT $2",
        )
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, joined_ms, rep, rep_day)| RepRow {
                user: UserId(id),
                joined_ms,
                rep: Rep(rep.unwrap_or(0)),
                rep_day,
            })
            .collect())
    }

    /// `user`'s gains per UTC day in `from_day..=to_day`.
    pub async fn day_gains(
        &self,
        w: &mut WriteTx,
        user: &UserId,
        from_day: i64,
        to_day: i64,
    ) -> StoreResult<std::collections::BTreeMap<i64, DayRow>> {
        let (from, to) = (
            hub_rooms::gamification::day_start_ms(from_day),
            hub_rooms::gamification::day_start_ms(to_day + 1),
        );
        let mut days: std::collections::BTreeMap<i64, DayRow> = Default::default();
        let per_day = |table: &str, time: &str, value: &str| {
            format!(
                "SELECT CAST({time} / 86400000 AS BIGINT), CAST(SUM({value}) AS BIGINT) FROM {table}
                 WHERE user_id = $1 AND {time} >= $2 AND {time} < $3 GROUP BY {time} / 86400000"
            )
        };
        for (i, sql) in [
            per_day("xp_events", "created_at", "amount"),
            per_day("endorsements", "created_at", "weight_milli"),
            per_day("badge_awards", "awarded_at", "1"),
        ]
        .into_iter()
        .enumerate()
        {
            let rows: Vec<(i64, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(user.as_str())
                .bind(from)
                .bind(to)
                .fetch_all(w.conn().await?)
                .await?;
            for (day, value) in rows {
                let d = days.entry(day).or_default();
                match i {
                    0 => d.xp = value,
                    1 => d.endorsements_weight_milli = value,
                    _ => d.badges = value,
                }
            }
        }
        Ok(days)
    }

    /// Locks `user`'s profile and reads its reputation and the last day folded into it.
    pub async fn lock_rep(
        &self,
        w: &mut WriteTx,
        user: &UserId,
    ) -> StoreResult<(Rep, Option<i64>)> {
        self.ensure_profile(w, user).await?;
        let sql = format!(
            "SELECT rep_milli, rep_day FROM profiles WHERE user_id = $1{}",
            self.for_update()
        );
        let (rep, day): (i64, Option<i64>) = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(user.as_str())
            .fetch_one(w.conn().await?)
            .await?;
        Ok((Rep(rep), day))
    }

    pub async fn set_rep(
        &self,
        w: &mut WriteTx,
        user: &UserId,
        rep: Rep,
        day: i64,
    ) -> StoreResult<()> {
        w.forget(|k| &mut k.standing, &user.to_string());
        sqlx::query(
            "UPDATE profiles SET rep_milli = $2, rep_day = $3, updated_at = $4 WHERE user_id = $1",
        )
        .bind(user.as_str())
        .bind(rep.0)
        .bind(day)
        .bind(self.now_ms())
        .execute(w.conn().await?)
        .await?;
        Ok(())
    }

    /// `user`'s reputation (0 without a profile).
    pub async fn rep_of(&self, user: &UserId) -> StoreResult<Rep> {
        let row: Option<(i64,)> =
            sqlx::query_as("SELECT rep_milli FROM profiles WHERE user_id = $1")
                .bind(user.as_str())
                .fetch_optional(self.pool())
                .await?;
        Ok(Rep(row.map(|(r,)| r).unwrap_or(0)))
    }

    /// The members of `venture` whose profile is public, best first by `by` (ties by user id),
    /// at most `limit`: a private profile's level, XP and reputation are shown to nobody else,
    /// and a board (pushed live to the whole room) is the same for everyone.
    pub async fn leaderboard(
        &self,
        venture: &VentureId,
        by: BoardBy,
        limit: u32,
    ) -> StoreResult<Vec<BoardRow>> {
        let order = match by {
            BoardBy::Xp => "COALESCE(p.xp, 0) DESC, COALESCE(p.rep_milli, 0) DESC",
            BoardBy::Reputation => "COALESCE(p.rep_milli, 0) DESC, COALESCE(p.xp, 0) DESC",
        };
        let sql = format!(
            "SELECT m.user_id, u.name, COALESCE(p.level, 1), COALESCE(p.xp, 0), COALESCE(p.rep_milli, 0)
             FROM venture_members m JOIN users u ON u.id = m.user_id
             LEFT JOIN profiles p ON p.user_id = m.user_id
             WHERE m.venture_id = $1 AND COALESCE(p.is_public, 1) <> 0
             ORDER BY {order}, m.user_id LIMIT $2"
        );
        let rows: Vec<(String, String, i64, i64, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(venture.as_str())
            .bind(i64::from(limit))
            .fetch_all(self.pool())
            .await?;
        Ok(rows
            .into_iter()
            .map(|(user, name, level, xp, rep)| BoardRow {
                user: UserId(user),
                name,
                level: u32::try_from(level).unwrap_or(1),
                xp,
                rep: Rep(rep),
            })
            .collect())
    }

    /// The ventures of each of `users` (one statement per 500 users); a user of none is left
    /// out.
    pub async fn venture_ids_of_many(
        &self,
        users: &[&UserId],
    ) -> StoreResult<std::collections::HashMap<UserId, Vec<VentureId>>> {
        let mut users: Vec<&UserId> = users.to_vec();
        users.sort();
        users.dedup();
        let mut out: std::collections::HashMap<UserId, Vec<VentureId>> = Default::default();
        for chunk in users.chunks(500) {
            let list = self.backend.json_list(1);
            let sql = format!(
                "SELECT user_id, venture_id FROM venture_members WHERE user_id IN ({list})
                 ORDER BY user_id, venture_id"
            );
            let query = sqlx::query_as::<_, (String, String)>(sqlx::AssertSqlSafe(sql))
                .bind(super::json_array(chunk))
                .bind(chunk.len() as i64);
            for (user, venture) in query.fetch_all(self.pool()).await? {
                out.entry(UserId(user))
                    .or_default()
                    .push(VentureId(venture));
            }
        }
        Ok(out)
    }

    /// Counts for the operators' status: users, private profiles, XP granted, awards.
    pub async fn gamification_counts(&self) -> StoreResult<(i64, i64, i64, i64)> {
        let (users,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM users")
            .fetch_one(self.pool())
            .await?;
        let (private,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM profiles WHERE is_public = 0")
                .fetch_one(self.pool())
                .await?;
        let (xp,): (i64,) =
            sqlx::query_as("SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM xp_events")
                .fetch_one(self.pool())
                .await?;
        let (awards,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM badge_awards")
            .fetch_one(self.pool())
            .await?;
        Ok((users, private, xp, awards))
    }
}
