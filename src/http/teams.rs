//! Teams: create inside a venture, read one, manage members. Venture owners and admins manage
//! every team of their venture; team owners and admins manage their own team.

use super::ventures::{caller, check_user_id, clean_name, member_view, team_view, visible_venture};
use super::{ApiJson, ApiPath};
use crate::auth::Identity;
use crate::error::AppError;
use crate::state::Core;
use crate::store::{Group, Removed, Requester, SetOutcome, Store, StoreError, TeamRow};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use hub_protocol::rest::{CreateTeam, MemberSet, PutMember, Team, TeamDetail};
use hub_protocol::{Role, TeamId, UserId, VentureId};
use hub_rooms::RoomName;
use serde_json::json;

pub async fn create(
    State(core): State<Core>,
    who: Identity,
    ApiPath(venture): ApiPath<VentureId>,
    ApiJson(body): ApiJson<CreateTeam>,
) -> Result<(StatusCode, Json<Team>), AppError> {
    let name = clean_name("name", &body.name)?;
    let (_, role) = visible_venture(&core, &who, &venture).await?;
    if !who.role.is_privileged() && !role.is_some_and(Role::can_manage) {
        return Err(AppError::forbidden(
            "only owners and admins of the venture create teams",
        ));
    }
    let row = core
        .store
        .create_team(&venture, &who.user_id, &name)
        .await?;
    core.services
        .record_activity(
            &venture,
            Some(&who.user_id),
            "team.created",
            ("team", row.id.as_str()),
            json!({"name": row.name}),
        )
        .await;
    Ok((StatusCode::CREATED, Json(team_view(row, Some(Role::Owner)))))
}

/// The team and the caller's role in it (see [`crate::services::access::Access::team`]).
async fn visible_team(
    core: &Core,
    who: &Identity,
    id: &TeamId,
) -> Result<(TeamRow, Option<Role>), AppError> {
    Ok(core.services.access.team(caller(who), id).await?)
}

pub async fn get(
    State(core): State<Core>,
    who: Identity,
    ApiPath(id): ApiPath<TeamId>,
) -> Result<Json<TeamDetail>, AppError> {
    let (team, role) = visible_team(&core, &who, &id).await?;
    let members = core
        .store
        .members(&Store::team_group(&team))
        .await?
        .into_iter()
        .map(member_view)
        .collect();
    Ok(Json(TeamDetail {
        team: team_view(team, role),
        members,
    }))
}

pub async fn put_member(
    State(core): State<Core>,
    who: Identity,
    ApiPath(id): ApiPath<TeamId>,
    ApiJson(body): ApiJson<PutMember>,
) -> Result<(StatusCode, Json<MemberSet>), AppError> {
    check_user_id(&body.user_id)?;
    let (team, _) = visible_team(&core, &who, &id).await?;
    let by = Requester {
        user: &who.user_id,
        privileged: who.role.is_privileged(),
    };
    let group: Group = Store::team_group(&team);
    let before = core
        .services
        .watch_roles(&body.user_id, vec![RoomName::Team(team.id.clone())])
        .await?;
    let outcome = core
        .store
        .set_member(&group, by, &body.user_id, body.role)
        .await?;
    core.services
        .follow_roles(before, "no longer allowed in the team")
        .await?;
    if let SetOutcome::Added(member) = &outcome {
        core.services
            .member_joined(
                &team.venture_id,
                Some(&team.id),
                &member.user_id,
                member.role,
                &who.user_id,
            )
            .await;
    }
    Ok(super::ventures::member_set(&core, outcome).await)
}

pub async fn remove_member(
    State(core): State<Core>,
    who: Identity,
    ApiPath((id, user)): ApiPath<(TeamId, UserId)>,
) -> Result<StatusCode, AppError> {
    let (team, _) = visible_team(&core, &who, &id).await?;
    let by = Requester {
        user: &who.user_id,
        privileged: who.role.is_privileged(),
    };
    let removed = core
        .store
        .remove_member(&Store::team_group(&team), by, &user)
        .await
        .map_err(|e| match e {
            StoreError::NotFound => AppError::not_found("no such member or invitation"),
            other => other.into(),
        })?;
    if removed == Removed::Invitation {
        return Ok(StatusCode::NO_CONTENT);
    }
    // Venture owners and admins keep the team room through their venture role.
    let room = RoomName::Team(team.id.clone());
    if core
        .services
        .access
        .room_role(&user, &room)
        .await?
        .is_none()
    {
        core.services
            .remove_user_from_rooms(&user, vec![room.id()], "removed from the team")
            .await;
    }
    core.services
        .member_left(&team.venture_id, Some(&team.id), &user, &who.user_id)
        .await;
    Ok(StatusCode::NO_CONTENT)
}
