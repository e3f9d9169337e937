//! Leaderboards (venture members) and the operators' gamification status.

use super::ApiPath;
use crate::auth::Identity;
use crate::error::AppError;
use crate::state::Core;
use crate::store::BoardBy;
use axum::Json;
use axum::extract::{Query, State};
use hub_protocol::VentureId;
use hub_protocol::gamification::{BadgeCount, GamificationStatus, Leaderboard};
use hub_rooms::fields::FieldError;
use serde::Deserialize;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BoardQuery {
    by: Option<String>,
    limit: Option<u32>,
}

/// `GET /api/v1/ventures/{id}/leaderboard?by=xp|reputation&limit=` (members; `limit` 1–100,
/// 50 by default).
pub async fn leaderboard(
    State(core): State<Core>,
    who: Identity,
    ApiPath(id): ApiPath<VentureId>,
    Query(q): Query<BoardQuery>,
) -> Result<Json<Leaderboard>, AppError> {
    super::ventures::visible_venture(&core, &who, &id).await?;
    let by = match q.by.as_deref() {
        None => BoardBy::Xp,
        Some(s) => {
            BoardBy::parse(s).ok_or_else(|| FieldError::new("by", "must be xp or reputation"))?
        }
    };
    let limit = q.limit.unwrap_or(50);
    if !(1..=100).contains(&limit) {
        return Err(FieldError::new("limit", "1 to 100").into());
    }
    Ok(Json(core.services.leaderboard(&id, by, limit).await?))
}

/// `GET /api/debug/gamification/status` (admin/system).
pub async fn status(
    State(core): State<Core>,
    who: Identity,
) -> Result<Json<GamificationStatus>, AppError> {
    super::debug::operator(&who)?;
    let (users, private_profiles, xp_total, badges_awarded) =
        core.store.gamification_counts().await?;
    let badges = core
        .store
        .badges()
        .await?
        .into_iter()
        .map(|b| BadgeCount {
            code: b.code,
            awarded_count: b.awarded_count,
        })
        .collect();
    use crate::services::jobs::{BADGES_HOURLY, REPUTATION_DAILY};
    Ok(Json(GamificationStatus {
        users,
        private_profiles,
        xp_total,
        badges_awarded,
        badges,
        jobs: core
            .services
            .job_statuses(&[REPUTATION_DAILY, BADGES_HOURLY]),
    }))
}
