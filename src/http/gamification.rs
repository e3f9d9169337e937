//! Leaderboards (venture members) and the operators' gamification status.

use super::ApiPath;
use super::ventures::caller;
use crate::auth::Identity;
use crate::error::AppError;
use crate::state::Core;
use axum::Json;
use axum::extract::{Query, State};
use hub_protocol::VentureId;
use hub_protocol::gamification::{GamificationStatus, Leaderboard};
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
    let board = core
        .services
        .gamification
        .venture_leaderboard(caller(&who), &id, q.by.as_deref(), q.limit)
        .await?;
    Ok(Json(board))
}

/// `GET /api/debug/gamification/status` (admin/system).
pub async fn status(
    State(core): State<Core>,
    who: Identity,
) -> Result<Json<GamificationStatus>, AppError> {
    super::debug::operator(&who)?;
    Ok(Json(core.services.gamification.status().await?))
}
