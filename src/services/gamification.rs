//! XP, levels, reputation and leaderboards (rules in `hub_rooms::gamification`).
//!
//! - XP is granted inside the transaction of what earned it; a level-up notifies the user
//!   (`level_up`, stored in that transaction) and, once committed, writes `level.up` in the
//!   feed of each of their ventures.
//! - `reputation-daily` folds every UTC day up to yesterday into each user's reputation, in
//!   batches of 100 users; a user's last folded day is stored, so a run that is late, missed
//!   or repeated folds each day exactly once.
//! - A venture's leaderboard is pushed to its room as `leaderboard` when a member's XP or
//!   reputation changes, at most once per throttle period per ordering (the last change always
//!   gets out).

use super::Services;
use super::effects::{Effects, FeedTo};
use crate::store::{BoardBy, StoreResult, WriteTx, XpChange};
use hub_protocol::gamification::{BadgeCount, GamificationStatus, Leaderboard, LeaderboardEntry};
use hub_protocol::notifications::{LevelUpData, NotificationBody};
use hub_protocol::realtime::server;
use hub_protocol::{RoomId, UserId, VentureId};
use hub_rooms::fields::FieldError;
use hub_rooms::gamification::{DayGain, next_rep, utc_day};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Users read at a time by the jobs that walk every user.
pub const BATCH: u32 = 100;
/// The most days one run folds for a user (older ones just decay).
const MAX_FOLD_DAYS: i64 = 3660;
/// Lines in a pushed leaderboard.
pub const PUSHED_LINES: u32 = 50;

/// Gamification settings.
#[derive(Debug, Clone)]
pub struct GamificationConfig {
    /// The least time between two `leaderboard` pushes of one venture and ordering.
    pub leaderboard_throttle: Duration,
}

impl Default for GamificationConfig {
    fn default() -> Self {
        GamificationConfig {
            leaderboard_throttle: Duration::from_secs(2),
        }
    }
}

/// When each leaderboard was last pushed, and which have a push waiting.
#[derive(Default)]
pub struct Boards {
    state: Mutex<HashMap<(VentureId, BoardBy), (Option<Instant>, bool)>>,
}

impl Services {
    /// Grants `amount` XP to `user` for (`source`, `ref_id`) inside `w`, once per pair; a level
    /// gained is told (stored now, sent after the commit).
    pub async fn grant_xp(
        &self,
        w: &mut WriteTx,
        fx: &mut Effects,
        user: &UserId,
        source: &str,
        ref_id: &str,
        amount: i64,
    ) -> StoreResult<XpChange> {
        let change = self.store.add_xp(w, user, source, ref_id, amount).await?;
        if change.granted > 0 {
            metrics::counter!("hub_xp_granted_total", "source" => source.to_owned())
                .increment(change.granted as u64);
            fx.board(user, BoardBy::Xp);
        }
        if change.level > change.level_before {
            let data = LevelUpData {
                level: change.level,
                previous_level: change.level_before,
                xp: change.xp,
            };
            self.note(w, fx, user, NotificationBody::LevelUp(data))
                .await?;
            fx.feed(
                FeedTo::VenturesOf(user.clone()),
                Some(user),
                "level.up",
                ("user", user.as_str()),
                json!({"level": change.level, "previous_level": change.level_before, "xp": change.xp}),
            );
        }
        Ok(change)
    }

    /// `reputation-daily`: folds each UTC day up to yesterday into every user's reputation, then
    /// evaluates their badges. Answers what it did.
    pub async fn reputation_daily(&self) -> StoreResult<serde_json::Value> {
        let yesterday = utc_day(self.clock.now_ms()) - 1;
        let (mut users, mut days, mut awarded) = (0u64, 0u64, 0u64);
        let mut after: Option<String> = None;
        loop {
            let batch = self.store.users_after(after.as_deref(), BATCH).await?;
            let Some(last) = batch.last() else { break };
            after = Some(last.user.to_string());
            for row in batch {
                let mut w = self.store.begin_write().await?;
                let mut fx = Effects::default();
                self.store.lock_users(&mut w, &[&row.user]).await?;
                let (rep, last_day) = self.store.lock_rep(&mut w, &row.user).await?;
                let first = last_day
                    .map(|d| d + 1)
                    .unwrap_or_else(|| utc_day(row.joined_ms))
                    .max(yesterday - MAX_FOLD_DAYS);
                if first <= yesterday {
                    let gains = self
                        .store
                        .day_gains(&mut w, &row.user, first, yesterday)
                        .await?;
                    let mut rep_now = rep;
                    for day in first..=yesterday {
                        let g = gains.get(&day).cloned().unwrap_or_default();
                        rep_now = next_rep(
                            rep_now,
                            &DayGain {
                                xp: g.xp,
                                endorsements_weighted: g.endorsements_weight_milli as f64 / 1000.0,
                                badges: g.badges,
                            },
                        );
                    }
                    self.store
                        .set_rep(&mut w, &row.user, rep_now, yesterday)
                        .await?;
                    days += (yesterday - first + 1) as u64;
                    users += 1;
                    if rep_now != rep {
                        fx.board(&row.user, BoardBy::Reputation);
                    }
                }
                awarded += self
                    .evaluate_badges(&mut w, &mut fx, &row.user)
                    .await?
                    .len() as u64;
                self.finish(w, fx).await?;
            }
        }
        Ok(
            json!({"users": users, "days_folded": days, "badges_awarded": awarded, "through_day": yesterday}),
        )
    }

    /// A member's standing in `venture` changed: its room hears the leaderboard soon (at once,
    /// or when the throttle period since the last push ends).
    pub fn leaderboard_changed(&self, venture: &VentureId, by: BoardBy) {
        let Some(this) = self.me() else { return };
        let key = (venture.clone(), by);
        let throttle = self.gamification.leaderboard_throttle;
        let wait = {
            let mut state = self.boards.state.lock().unwrap_or_else(|e| e.into_inner());
            let entry = state.entry(key.clone()).or_insert((None, false));
            if entry.1 {
                return;
            }
            entry.1 = true;
            entry
                .0
                .map(|last| throttle.saturating_sub(last.elapsed()))
                .unwrap_or_default()
        };
        tokio::spawn(async move {
            if !wait.is_zero() {
                tokio::time::sleep(wait).await;
            }
            {
                let mut state = this.boards.state.lock().unwrap_or_else(|e| e.into_inner());
                state.insert(key.clone(), (Some(Instant::now()), false));
            }
            match this.leaderboard(&key.0, key.1, PUSHED_LINES).await {
                Ok(board) => {
                    let room = RoomId::from(format!("venture:{}", key.0));
                    this.notify
                        .to_room(&room, server::LeaderboardEvent, &board, Default::default())
                        .await;
                }
                Err(e) => tracing::warn!(venture = %key.0, error = %e, "cannot read a leaderboard"),
            }
        });
    }

    /// The venture's leaderboard as a member (or a privileged account) asks for it: `by` is
    /// `xp` (the default) or `reputation`, `limit` 1 to 100 (50 by default).
    pub async fn venture_leaderboard(
        &self,
        caller: super::access::Caller<'_>,
        venture: &VentureId,
        by: Option<&str>,
        limit: Option<u32>,
    ) -> Result<Leaderboard, super::profiles::ProfileError> {
        self.access.venture(caller, venture).await?;
        let by = match by {
            None => BoardBy::Xp,
            Some(s) => BoardBy::parse(s)
                .ok_or_else(|| FieldError::new("by", "must be xp or reputation"))?,
        };
        let limit = limit.unwrap_or(50);
        if !(1..=100).contains(&limit) {
            return Err(FieldError::new("limit", "1 to 100").into());
        }
        Ok(self.leaderboard(venture, by, limit).await?)
    }

    /// The operators' view: counts, each badge's awards, and the gamification jobs.
    pub async fn gamification_status(&self) -> StoreResult<GamificationStatus> {
        let (users, private_profiles, xp_total, badges_awarded) =
            self.store.gamification_counts().await?;
        let badges = self
            .store
            .badges()
            .await?
            .into_iter()
            .map(|b| BadgeCount {
                code: b.code,
                awarded_count: b.awarded_count,
            })
            .collect();
        use super::jobs::{BADGES_HOURLY, REPUTATION_DAILY};
        Ok(GamificationStatus {
            users,
            private_profiles,
            xp_total,
            badges_awarded,
            badges,
            jobs: self.job_statuses(&[REPUTATION_DAILY, BADGES_HOURLY]),
        })
    }

    /// `venture`'s members best first by `by`, ranked (ties share a rank).
    pub async fn leaderboard(
        &self,
        venture: &VentureId,
        by: BoardBy,
        limit: u32,
    ) -> StoreResult<Leaderboard> {
        let rows = self.store.leaderboard(venture, by, limit).await?;
        let mut entries: Vec<LeaderboardEntry> = Vec::with_capacity(rows.len());
        let mut last: Option<(i64, u32)> = None;
        for (i, row) in rows.into_iter().enumerate() {
            let value = match by {
                BoardBy::Xp => row.xp,
                BoardBy::Reputation => row.rep.0,
            };
            // Equal values share a rank (1, 2, 2, 4).
            let rank = match last {
                Some((v, r)) if v == value => r,
                _ => i as u32 + 1,
            };
            last = Some((value, rank));
            entries.push(LeaderboardEntry {
                rank,
                user_id: row.user,
                name: row.name,
                level: row.level,
                xp: row.xp,
                rep_score: row.rep.score(),
            });
        }
        Ok(Leaderboard {
            venture_id: venture.clone(),
            by: by.as_str().to_owned(),
            entries,
        })
    }
}
