//! Badges: the public catalog, and its management and manual awards by admins.

use super::{ApiJson, ApiPath};
use crate::auth::Identity;
use crate::error::AppError;
use crate::state::Core;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use hub_protocol::badges::{AwardBadge, Badge, BadgeAward, BadgeList, CreateBadge, PatchBadge};

/// `GET /api/v1/badges`.
pub async fn list(State(core): State<Core>) -> Result<Json<BadgeList>, AppError> {
    Ok(Json(BadgeList {
        badges: core.services.badges.catalog().await?,
    }))
}

/// `POST /api/v1/badges` (admin).
pub async fn create(
    State(core): State<Core>,
    who: Identity,
    ApiJson(body): ApiJson<CreateBadge>,
) -> Result<(StatusCode, Json<Badge>), AppError> {
    super::debug::operator(&who)?;
    Ok((
        StatusCode::CREATED,
        Json(core.services.badges.create(&body).await?),
    ))
}

/// `PATCH /api/v1/badges/{code}` (admin).
pub async fn patch(
    State(core): State<Core>,
    who: Identity,
    ApiPath(code): ApiPath<String>,
    ApiJson(body): ApiJson<PatchBadge>,
) -> Result<Json<Badge>, AppError> {
    super::debug::operator(&who)?;
    Ok(Json(core.services.badges.patch(&code, &body).await?))
}

/// `POST /api/v1/badges/{code}/award` (admin): `201` when awarded, `200` when the user already
/// had it.
pub async fn award(
    State(core): State<Core>,
    who: Identity,
    ApiPath(code): ApiPath<String>,
    ApiJson(body): ApiJson<AwardBadge>,
) -> Result<(StatusCode, Json<BadgeAward>), AppError> {
    super::debug::operator(&who)?;
    let award = core
        .services
        .badges
        .award_by_hand(&code, &body.user_id, body.reason.as_deref(), &who.user_id)
        .await?;
    let status = if award.awarded {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(award)))
}
