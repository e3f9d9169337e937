//! Teams: create inside a venture, read one, manage members. Venture owners and admins manage
//! every team of their venture; team owners and admins manage their own team.

use super::ventures::{caller, member_set};
use super::{ApiJson, ApiPath};
use crate::auth::Identity;
use crate::error::AppError;
use crate::state::Core;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use hub_protocol::rest::{CreateTeam, MemberSet, PutMember, Team, TeamDetail};
use hub_protocol::{TeamId, UserId, VentureId};

pub async fn create(
    State(core): State<Core>,
    who: Identity,
    ApiPath(venture): ApiPath<VentureId>,
    ApiJson(body): ApiJson<CreateTeam>,
) -> Result<(StatusCode, Json<Team>), AppError> {
    let team = core
        .services
        .groups
        .team_create(caller(&who), &venture, &body.name)
        .await?;
    Ok((StatusCode::CREATED, Json(team)))
}

pub async fn get(
    State(core): State<Core>,
    who: Identity,
    ApiPath(id): ApiPath<TeamId>,
) -> Result<Json<TeamDetail>, AppError> {
    Ok(Json(
        core.services.groups.team_detail(caller(&who), &id).await?,
    ))
}

pub async fn put_member(
    State(core): State<Core>,
    who: Identity,
    ApiPath(id): ApiPath<TeamId>,
    ApiJson(body): ApiJson<PutMember>,
) -> Result<(StatusCode, Json<MemberSet>), AppError> {
    let set = core
        .services
        .groups
        .team_member_set(caller(&who), &id, &body.user_id, body.role)
        .await?;
    Ok(member_set(set))
}

pub async fn remove_member(
    State(core): State<Core>,
    who: Identity,
    ApiPath((id, user)): ApiPath<(TeamId, UserId)>,
) -> Result<StatusCode, AppError> {
    core.services
        .groups
        .team_member_remove(caller(&who), &id, &user)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
