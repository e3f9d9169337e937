//! Reputation, leaderboards and the operators' view of gamification (rules in
//! `hub_rooms::gamification`; XP and levels are granted by [`super::xp`], pushed leaderboards
//! are [`super::leaderboards`]'s).
//!
//! - `reputation-daily` folds every UTC day up to yesterday into each user's reputation, in
//!   batches of 100 users; a user's last folded day is stored, so a run that is late, missed
//!   or repeated folds each day exactly once.
//! - A venture's leaderboard is read by its members (and privileged accounts), `xp` or
//!   `reputation` first.

use super::access::{Access, Caller};
use super::after_commit::AfterCommit;
use super::badges::{BATCH, Badges};
use super::effects::Effects;
use super::jobs::{BADGES_HOURLY, JobBoard, REPUTATION_DAILY};
use super::leaderboards::Leaderboards;
use super::profiles::ProfileError;
use crate::clock::SharedClock;
use crate::store::{BoardBy, Store, StoreResult};
use hub_protocol::VentureId;
use hub_protocol::gamification::{BadgeCount, GamificationStatus, Leaderboard};
use hub_rooms::fields::FieldError;
use hub_rooms::gamification::{DayGain, next_rep, utc_day};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

/// The most days one run folds for a user (older ones just decay).
const MAX_FOLD_DAYS: i64 = 3660;

/// Gamification settings.
#[derive(Debug, Clone)]
pub struct GamificationConfig {
    /// The least time between two `leaderboard` pushes of one venture and ordering.
    pub leaderboard_throttle: Duration,
}

impl GamificationConfig {
    /// The defaults (the flags of [`GamificationArgs`] start from them).
    pub const DEFAULT: GamificationConfig = GamificationConfig {
        leaderboard_throttle: Duration::from_secs(2),
    };
}

impl Default for GamificationConfig {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Gamification flags.
#[derive(Debug, Clone, clap::Args)]
pub struct GamificationArgs {
    /// The least time between two live `leaderboard` pushes of one venture.
    #[arg(long, env = "HUB_LEADERBOARD_THROTTLE", default_value_t = GamificationConfig::DEFAULT.leaderboard_throttle.into())]
    pub leaderboard_throttle: humantime::Duration,
}

impl GamificationArgs {
    pub fn resolve(&self) -> GamificationConfig {
        GamificationConfig {
            leaderboard_throttle: *self.leaderboard_throttle,
        }
    }
}

/// Reputation, the venture leaderboards as members ask for them, and the operators' view.
#[derive(Clone)]
pub struct Gamification {
    store: Store,
    access: Access,
    badges: Badges,
    leaderboards: Leaderboards,
    after: AfterCommit,
    jobs: Arc<JobBoard>,
    clock: SharedClock,
}

impl Gamification {
    pub fn new(
        store: Store,
        access: Access,
        badges: Badges,
        leaderboards: Leaderboards,
        after: AfterCommit,
        jobs: Arc<JobBoard>,
        clock: SharedClock,
    ) -> Gamification {
        Gamification {
            store,
            access,
            badges,
            leaderboards,
            after,
            jobs,
            clock,
        }
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
                    .badges
                    .evaluate(&mut w, &mut fx, &row.user)
                    .await?
                    .len() as u64;
                self.after.finish(w, fx).await?;
            }
        }
        Ok(
            json!({"users": users, "days_folded": days, "badges_awarded": awarded, "through_day": yesterday}),
        )
    }

    /// The venture's leaderboard as a member (or a privileged account) asks for it: `by` is
    /// `xp` (the default) or `reputation`, `limit` 1 to 100 (50 by default).
    pub async fn venture_leaderboard(
        &self,
        caller: Caller<'_>,
        venture: &VentureId,
        by: Option<&str>,
        limit: Option<u32>,
    ) -> Result<Leaderboard, ProfileError> {
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
        Ok(self.leaderboards.read(venture, by, limit).await?)
    }

    /// The operators' view: counts, each badge's awards, and the gamification jobs.
    pub async fn status(&self) -> StoreResult<GamificationStatus> {
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
        Ok(GamificationStatus {
            users,
            private_profiles,
            xp_total,
            badges_awarded,
            badges,
            jobs: self.jobs.statuses_of(&[REPUTATION_DAILY, BADGES_HOURLY]),
        })
    }
}
