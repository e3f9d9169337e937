//! `/api/v1/invitations`: the caller's pending invitations to ventures and teams, accepted or
//! declined by the invitee alone (someone else's invitation is `404`).

use super::ApiPath;
use super::ventures::member_view;
use crate::auth::Identity;
use crate::error::AppError;
use crate::services::members::invitation_view;
use crate::state::Core;
use crate::store::StoreError;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use hub_protocol::rest::{InvitationList, Member};
use hub_rooms::RoomName;

fn not_found(e: StoreError) -> AppError {
    match e {
        StoreError::NotFound => AppError::not_found("no such invitation"),
        other => other.into(),
    }
}

/// `GET /api/v1/invitations`.
pub async fn list(
    State(core): State<Core>,
    who: Identity,
) -> Result<Json<InvitationList>, AppError> {
    let invitations = core.store.invitations_of(&who.user_id).await?;
    Ok(Json(InvitationList {
        invitations: invitations.iter().map(invitation_view).collect(),
    }))
}

/// `POST /api/v1/invitations/{id}/accept`: `201` the membership.
pub async fn accept(
    State(core): State<Core>,
    who: Identity,
    ApiPath(id): ApiPath<String>,
) -> Result<(StatusCode, Json<Member>), AppError> {
    // The rooms whose roles change for the user's live sockets.
    let mine = core
        .store
        .own_invitation(&id, &who.user_id)
        .await
        .map_err(not_found)?;
    let mut rooms = vec![RoomName::Venture(mine.venture_id.clone())];
    match &mine.team_id {
        Some(team) => rooms = vec![RoomName::Team(team.clone())],
        None => {
            for team in core.store.teams_of_venture(&mine.venture_id).await? {
                rooms.push(RoomName::Team(team.id));
            }
        }
    }
    let before = core.services.watch_roles(&who.user_id, rooms).await?;
    let (invitation, member) = core
        .store
        .accept_invitation(&id, &who.user_id)
        .await
        .map_err(not_found)?;
    core.services.follow_roles(before, "").await?;
    core.services
        .member_joined(
            &invitation.venture_id,
            invitation.team_id.as_ref(),
            &who.user_id,
            member.role,
            &invitation.invited_by,
        )
        .await;
    Ok((StatusCode::CREATED, Json(member_view(member))))
}

/// `POST /api/v1/invitations/{id}/decline`: `204`.
pub async fn decline(
    State(core): State<Core>,
    who: Identity,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, AppError> {
    core.store
        .decline_invitation(&id, &who.user_id)
        .await
        .map_err(not_found)?;
    Ok(StatusCode::NO_CONTENT)
}
