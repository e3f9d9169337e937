//! `/api/v1/invitations`: the caller's pending invitations to ventures and teams, accepted or
//! declined by the invitee alone (someone else's invitation is `404`).

use super::ApiPath;
use crate::auth::Identity;
use crate::error::AppError;
use crate::state::Core;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use hub_protocol::InvitationId;
use hub_protocol::rest::{InvitationList, Member};

/// `GET /api/v1/invitations`.
pub async fn list(
    State(core): State<Core>,
    who: Identity,
) -> Result<Json<InvitationList>, AppError> {
    Ok(Json(InvitationList {
        invitations: core.services.groups.invitations_of(&who.user_id).await?,
    }))
}

/// `POST /api/v1/invitations/{id}/accept`: `201` the membership.
pub async fn accept(
    State(core): State<Core>,
    who: Identity,
    ApiPath(id): ApiPath<InvitationId>,
) -> Result<(StatusCode, Json<Member>), AppError> {
    let member = core
        .services
        .groups
        .invitation_accept(&who.user_id, &id)
        .await?;
    Ok((StatusCode::CREATED, Json(member)))
}

/// `POST /api/v1/invitations/{id}/decline`: `204`.
pub async fn decline(
    State(core): State<Core>,
    who: Identity,
    ApiPath(id): ApiPath<InvitationId>,
) -> Result<StatusCode, AppError> {
    core.services
        .groups
        .invitation_decline(&who.user_id, &id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
