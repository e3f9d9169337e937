//! XP, levels, reputation and leaderboards, as clients see them.

use crate::ids::{UserId, VentureId};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

/// `GET /api/v1/ventures/{id}/leaderboard?by=xp|reputation`, and the live `leaderboard` event to
/// the venture's room when it changes (at most once per throttle period per ordering).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
pub struct Leaderboard {
    pub venture_id: VentureId,
    /// `xp` or `reputation`.
    pub by: String,
    pub entries: Vec<LeaderboardEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
pub struct LeaderboardEntry {
    /// From 1; ties share a rank.
    pub rank: u32,
    pub user_id: UserId,
    pub name: String,
    pub level: u32,
    #[ts(type = "number")]
    pub xp: i64,
    pub rep_score: f64,
}

/// `GET /api/debug/gamification/status` (admin/system).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
pub struct GamificationStatus {
    #[ts(type = "number")]
    pub users: i64,
    #[ts(type = "number")]
    pub private_profiles: i64,
    #[ts(type = "number")]
    pub xp_total: i64,
    #[ts(type = "number")]
    pub badges_awarded: i64,
    pub badges: Vec<BadgeCount>,
    /// The gamification jobs (`reputation-daily`, `badges-hourly`) on the node asked.
    pub jobs: Vec<crate::audit::JobStatus>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
pub struct BadgeCount {
    pub code: String,
    #[ts(type = "number")]
    pub awarded_count: i64,
}
