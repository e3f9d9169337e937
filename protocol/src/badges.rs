//! Badges (`/api/v1/badges`): a catalog of rules, evaluated against what the hub knows of each
//! user; one award per user and badge.

use crate::ids::UserId;
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

/// A badge of the catalog.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
pub struct Badge {
    /// 1 to 40 characters of `a-z`, `0-9`, `_` and `-`.
    pub code: String,
    pub name: String,
    pub description: String,
    /// `{"type": "THRESHOLD", "conditions": [...]}`, `{"type": "COMPOSITE", "all" | "any": [...]}`
    /// or `{"type": "MANUAL"}` (see the README).
    #[ts(type = "Record<string, unknown>")]
    pub rule: serde_json::Value,
    #[ts(type = "number")]
    pub awarded_count: i64,
}

/// `GET /api/v1/badges`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
pub struct BadgeList {
    pub badges: Vec<Badge>,
}

/// `POST /api/v1/badges` (admin).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
pub struct CreateBadge {
    pub code: String,
    /// 1 to 80 characters.
    pub name: String,
    /// At most 280 characters.
    #[serde(default)]
    pub description: String,
    #[ts(type = "Record<string, unknown>")]
    pub rule: serde_json::Value,
}

/// `PATCH /api/v1/badges/{code}` (admin): any of these.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, TS, ToSchema)]
pub struct PatchBadge {
    #[serde(default)]
    #[ts(optional)]
    pub name: Option<String>,
    #[serde(default)]
    #[ts(optional)]
    pub description: Option<String>,
    #[serde(default)]
    #[ts(optional, type = "Record<string, unknown>")]
    pub rule: Option<serde_json::Value>,
}

/// `POST /api/v1/badges/{code}/award` (admin).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
pub struct AwardBadge {
    pub user_id: UserId,
    /// At most 280 characters.
    #[serde(default)]
    #[ts(optional)]
    pub reason: Option<String>,
}

/// The answer to an award: `201` with `awarded: true` the first time, `200` with
/// `awarded: false` when the user already had it (nothing changes).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
pub struct BadgeAward {
    pub code: String,
    pub user_id: UserId,
    pub awarded: bool,
    pub reason: String,
    pub awarded_at: String,
}

/// `POST /api/v1/badges/evaluate {user_id?}`: evaluates one user's badges now (mine when
/// `user_id` is absent; anyone's for an operator).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, TS, ToSchema)]
pub struct EvaluateBadges {
    #[serde(default)]
    #[ts(optional)]
    pub user_id: Option<UserId>,
}

/// What an evaluation awarded: the codes of the badges earned now (empty when none).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
pub struct BadgesEvaluated {
    pub user_id: UserId,
    pub awarded: Vec<String>,
}
